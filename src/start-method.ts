/**
 * How torchrun starts the training processes of a pod.
 *
 * @see https://pytorch.org/docs/stable/elastic/run.html
 */
export enum StartMethod {
  /** A fresh interpreter per process: safe with CUDA, the Flyte plugin's default. */
  SPAWN = 'spawn',
  /** A fork of the launcher: fastest start, unsafe once CUDA is initialised. */
  FORK = 'fork',
  /** Forks of a clean server process. */
  FORKSERVER = 'forkserver',
}
