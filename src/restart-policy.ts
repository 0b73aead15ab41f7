/**
 * What the training operator does when a replica's pod fails.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
 */
export enum RestartPolicy {
  /** Restart the pod whatever its exit status. */
  ALWAYS = 'Always',
  /** Restart the pod when it fails; the run policy's backoff limit bounds the restarts. */
  ON_FAILURE = 'OnFailure',
  /** Never restart: one failed pod fails the job. */
  NEVER = 'Never',
  /** Recreate the pod only when the `pytorch` container exits with code 128 or above (a signal); 1 to 127 fail the job. */
  EXIT_CODE = 'ExitCode',
}
