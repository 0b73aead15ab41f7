/**
 * How many training processes torchrun starts in each pod (`spec.nprocPerNode`).
 *
 * @see https://pytorch.org/docs/stable/elastic/run.html
 */
export class NprocPerNode {
  /** One process per GPU when the pod has GPUs, otherwise one per CPU. */
  public static readonly AUTO = new NprocPerNode('auto');
  /** One process per CPU. */
  public static readonly CPU = new NprocPerNode('cpu');
  /** One process per GPU. */
  public static readonly GPU = new NprocPerNode('gpu');

  /**
   * A fixed number of processes.
   * @param count at least 1
   */
  public static count(count: number): NprocPerNode {
    return new NprocPerNode(String(count));
  }

  private constructor(
    /** The value as written to the manifest. */
    public readonly value: string,
  ) {}
}
