import { Duration } from 'cdk8s';
import { Resources } from './resources';

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
 * How the operator runs, retries, schedules and cleans up the job.
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
   * Create the job suspended: no pods until `suspend` is set to false (Kueue admits jobs this way).
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

  /**
   * Gang scheduling: the minimum number of pods that must be schedulable together.
   * @default - the operator counts every replica
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/job-scheduling/
   */
  readonly minAvailable?: number;

  /**
   * Gang scheduling: the Volcano queue; immutable once the job exists.
   * @default - the scheduler's default queue
   * @see https://volcano.sh/en/docs/queue/
   */
  readonly queue?: string;

  /**
   * Gang scheduling: the PodGroup's priority class (Volcano).
   * @default - none
   * @see https://volcano.sh/en/docs/podgroup/
   */
  readonly priorityClass?: string;

  /**
   * Gang scheduling: how long the scheduler-plugins coscheduler waits for the whole gang.
   * @default - the scheduler's default
   * @see https://github.com/kubernetes-sigs/scheduler-plugins/blob/master/pkg/coscheduling/README.md
   */
  readonly scheduleTimeout?: Duration;

  /**
   * Gang scheduling: the resources the whole gang needs before it starts.
   * @default - computed by the operator from the first `minAvailable` pods
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/job-scheduling/
   */
  readonly minResources?: Resources;
}

/**
 * The run policy of a job: cleanup, retries, deadlines, suspension and gang scheduling.
 */
export class RunPolicy {
  public constructor(
    /** The run policy's settings. */
    public readonly props: RunPolicyProps = {},
  ) {}
}
