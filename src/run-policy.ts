import { Duration } from 'cdk8s';

/**
 * Which pods the operator deletes when the job finishes.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/reference/distributed-training/
 */
export enum CleanPodPolicy {
  /** Keep every pod, for their logs and status. */
  NONE = 'None',
  /** Delete the pods that are still running (for example workers waiting on a finished master). */
  RUNNING = 'Running',
  /** Delete every pod. */
  ALL = 'All',
}

/**
 * The controller that owns the job.
 *
 * @see https://kueue.sigs.k8s.io/docs/concepts/multikueue/
 */
export enum ManagedBy {
  /** The Kubeflow training operator reconciles the job. */
  TRAINING_OPERATOR = 'kubeflow.org/training-operator',
  /** Kueue's MultiKueue dispatches the job to a worker cluster; the local operator leaves it alone. */
  MULTIKUEUE = 'kueue.x-k8s.io/multikueue',
}

/**
 * How the operator runs, retries and cleans up the job. Queues and gang scheduling are `Scheduling`'s.
 */
export interface RunPolicyProps {
  /**
   * Which pods to delete when the job finishes.
   * Written explicitly; the operator's default is `None`.
   * @default CleanPodPolicy.NONE
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/reference/distributed-training/
   */
  readonly cleanPodPolicy?: CleanPodPolicy;

  /**
   * How long to keep the finished job before it is deleted; zero deletes it at once.
   * @default - kept until deleted by hand
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/
   */
  readonly ttlAfterFinished?: Duration;

  /**
   * How long the job may be active before the operator fails it.
   * @default - no deadline
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
   */
  readonly activeDeadline?: Duration;

  /**
   * Number of pod restarts (under `OnFailure`, `Always` or `ExitCode`) before the job fails; 0 fails it at the first.
   * Unlike the Flyte plugin, 0 is written.
   * @default - no limit
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/reference/distributed-training/
   */
  readonly backoffLimit?: number;

  /**
   * Create the job suspended: no pods until `suspend` is set to false. Not needed for Kueue, whose webhook suspends the jobs it queues.
   * @default - not written (not suspended)
   * @see https://kueue.sigs.k8s.io/docs/tasks/run/kubeflow/pytorchjobs/
   */
  readonly suspend?: boolean;

  /**
   * The controller that owns the job.
   * @default - not written (the training operator)
   * @see https://kueue.sigs.k8s.io/docs/concepts/multikueue/
   */
  readonly managedBy?: ManagedBy;
}

/**
 * The run policy of a job: cleanup, retries, deadlines and suspension.
 */
export class RunPolicy {
  public constructor(
    /** The run policy's settings. */
    public readonly props: RunPolicyProps = {},
  ) {}
}
