/** Who restarts a failed pod on a cluster, which decides how long the pod waits before it runs again. */
export enum Restarter {
  /** The kubelet restarts the container in place (restart policy `OnFailure` or `Always`), in CrashLoopBackOff. */
  KUBELET = 'kubelet',
  /** The Job controller replaces a failed pod of a Job whose pods do not restart (`Never`). */
  JOB_CONTROLLER = 'Job controller',
  /** The training operator deletes a pod that failed with a retryable code (`ExitCode`) and creates it again. */
  TRAINING_OPERATOR = 'training operator',
}

/** Waits before restarts: the first one, doubled at each restart in a row, up to the longest. */
interface Backoff {
  readonly firstMs: number;
  readonly longestMs: number;
  /** A pod that ran at least this long before it failed starts over at the first wait. */
  readonly resetAfterMs?: number;
}

/**
 * The kubelet's CrashLoopBackOff (10 s doubling to 5 minutes, reset once a container has run 10 minutes) and the Job
 * controller's back-off for failed pods (10 s doubling to 6 minutes). A pod the training operator creates again is a
 * new pod, which no back-off holds back.
 */
const BACKOFFS: { readonly [restarter in Restarter]: Backoff } = {
  [Restarter.KUBELET]: { firstMs: 10_000, longestMs: 300_000, resetAfterMs: 600_000 },
  [Restarter.JOB_CONTROLLER]: { firstMs: 10_000, longestMs: 360_000 },
  [Restarter.TRAINING_OPERATOR]: { firstMs: 0, longestMs: 0 },
};

/** The first wait of the kubelet and of the Job controller, which `firstDelayMs` replaces. */
export const DEFAULT_FIRST_DELAY_MS = BACKOFFS[Restarter.KUBELET].firstMs;

/** The waits of one pod's restarts. */
export class RestartBackoff {
  private readonly backoff: Backoff;
  /** The last wait; undefined before the first restart in a row. */
  private lastDelayMs?: number;

  /**
   * @param firstDelayMs the first wait instead of the cluster's 10 s; every other duration of the back-off scales with it,
   * so that a quick local iteration keeps the cluster's proportions
   */
  public constructor(restarter: Restarter, firstDelayMs = DEFAULT_FIRST_DELAY_MS) {
    const backoff = BACKOFFS[restarter];
    const scale = firstDelayMs / DEFAULT_FIRST_DELAY_MS;
    this.backoff = {
      firstMs: backoff.firstMs * scale,
      longestMs: backoff.longestMs * scale,
      resetAfterMs: backoff.resetAfterMs === undefined ? undefined : backoff.resetAfterMs * scale,
    };
  }

  /** How long to wait before the next start of a pod that just failed after running `ranMs`. */
  public next(ranMs: number): number {
    if (this.backoff.resetAfterMs !== undefined && ranMs >= this.backoff.resetAfterMs) this.lastDelayMs = undefined;
    this.lastDelayMs = this.lastDelayMs === undefined ? this.backoff.firstMs : Math.min(2 * this.lastDelayMs, this.backoff.longestMs);
    return this.lastDelayMs;
  }
}
