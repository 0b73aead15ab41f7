import { PodOptions } from './pod-options';
import { RestartPolicy } from './restart-policy';

/**
 * Settings of one replica type (Master or Worker): every pod option, merged over the job's as `PodOptions` says.
 */
export interface ReplicaProps extends PodOptions {
  /**
   * Container image of this replica's `pytorch` container.
   * @default - the job's image
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image?: string;

  /**
   * What the operator does when one of this replica's pods fails.
   * Written explicitly, so the manifest does not depend on the operator's default (`OnFailure`, which its CRD text misstates).
   * @default RestartPolicy.ON_FAILURE
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
   */
  readonly restartPolicy?: RestartPolicy;
}

/**
 * Settings of the Master replica.
 */
export interface MasterProps extends ReplicaProps {}

/**
 * Settings of the Worker replicas.
 */
export interface WorkerProps extends ReplicaProps {
  /**
   * Number of worker pods. The operator rejects fewer than 1.
   * @default 1
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
   */
  readonly replicas?: number;
}

/**
 * The Master replica of a PyTorchJob: always exactly one pod, with rank 0, whose address
 * the operator gives every pod as `MASTER_ADDR`.
 */
export class Master {
  /** Exactly one pod: the operator's webhook requires it and rejects an omitted count. */
  public readonly replicas = 1;

  public constructor(
    /** Settings of the Master replica. */
    public readonly props: MasterProps = {},
  ) {}
}

/**
 * The Worker replicas of a PyTorchJob.
 */
export class Worker {
  /** Number of worker pods. */
  public readonly replicas: number;

  public constructor(
    /** Settings of the Worker replicas. */
    public readonly props: WorkerProps = {},
  ) {
    this.replicas = props.replicas ?? 1;
  }
}
