import { NodeTaintQuery } from 'cdk8s-plus-28';
import { Resources } from './resources';
import { RestartPolicy } from './restart-policy';

/**
 * Settings of one replica type (Master or Worker). Anything left unset is inherited from the job.
 */
export interface ReplicaProps {
  /**
   * Container image of this replica's `pytorch` container.
   * @default - the job's image
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image?: string;

  /**
   * Resource requests; each key set here replaces the job's, the others are inherited.
   * @default - the job's requests
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly requests?: Resources;

  /**
   * Resource limits; each key set here replaces the job's, the others are inherited.
   * @default - the job's limits
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly limits?: Resources;

  /**
   * What the operator does when one of this replica's pods fails.
   * Written explicitly, so the manifest does not depend on the operator's default (`OnFailure`, which its CRD text misstates).
   * @default RestartPolicy.ON_FAILURE
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
   */
  readonly restartPolicy?: RestartPolicy;

  /**
   * Node labels this replica's pods must match, merged key by key over the job's node selector.
   * @default - the job's node selector
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodeselector
   */
  readonly nodeSelector?: { [label: string]: string };

  /**
   * Taints this replica's pods tolerate, in addition to the job's tolerations.
   * @default - the job's tolerations only
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
   */
  readonly tolerations?: NodeTaintQuery[];
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
