import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { PodOptions } from './pod-options';
import { CheckedApiObject } from './render/checked-object';
import { podModel } from './render/model';
import { checkPlacementValues } from './render/placement';
import { scheduledOptions } from './render/scheduling';
import { addRuntimeObject, jobRestartPolicy, renderTrainerScheduling, RuntimeModel } from './render/trainjob';
import { RestartPolicy } from './restart-policy';
import { CLUSTER_TRAINING_RUNTIME_KIND, TRAINER_CONTAINER_NAME, TRAINING_RUNTIME_KIND } from './rules/facts';
import { Scheduling } from './scheduling';

/**
 * A Kubeflow Trainer v2 runtime that a TrainJob can name: one made in this app, or one that exists on the cluster.
 */
export interface ITrainingRuntime {
  /** The runtime's name, which the TrainJob's `runtimeRef` names. */
  readonly runtimeName: string;
  /** `TrainingRuntime` (looked up in the TrainJob's namespace) or `ClusterTrainingRuntime`. */
  readonly runtimeKind: string;
}

class ExistingRuntime implements ITrainingRuntime {
  public constructor(public readonly runtimeKind: string, public readonly runtimeName: string) {}
}

/** A runtime that exists on the cluster, outside this app. */
export class TrainingRuntimeRef {
  /**
   * A ClusterTrainingRuntime, such as the built-in `torch-distributed`.
   * @param name the runtime's name
   */
  public static clusterRuntime(name: string): ITrainingRuntime {
    return new ExistingRuntime(CLUSTER_TRAINING_RUNTIME_KIND, name);
  }

  /**
   * A TrainingRuntime in the TrainJob's namespace.
   * @param name the runtime's name
   */
  public static namespacedRuntime(name: string): ITrainingRuntime {
    return new ExistingRuntime(TRAINING_RUNTIME_KIND, name);
  }

  private constructor() {}
}

/**
 * Settings of a torch runtime: one replicated job `node` whose pods run the container `node`, into which Trainer's
 * torch plugin injects torchrun's `PET_*` variables. What every TrainJob on it shares goes here; what each job sets
 * itself (image, command, env, resources, nodes) goes in the TrainJob.
 */
export interface TrainingRuntimeProps extends PodOptions {
  /**
   * Metadata of the runtime: name, namespace (a TrainingRuntime only), labels and annotations.
   * @default - a name generated from the construct path
   * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Image of the `node` container, for TrainJobs that set none.
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image: string;

  /**
   * Nodes of a TrainJob that sets no `numNodes` (`mlPolicy.numNodes`).
   * @default 1
   * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
   */
  readonly numNodes?: number;

  /**
   * The gang scheduler of the pods: Volcano or coscheduling (a `podGroupPolicy`, and the scheduler name in the
   * template, which Trainer v2 never sets), or KAI. Kueue's queue goes on the TrainJob instead.
   * @default - the cluster's default scheduler places each pod as it comes
   * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/job-scheduling/
   */
  readonly scheduling?: Scheduling;

  /**
   * What the kubelet does when the training container exits with an error: restart it in the pod (`ON_FAILURE`) or
   * let the Job make a new pod (`NEVER`).
   * @default RestartPolicy.ON_FAILURE
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#handling-pod-and-container-failures
   */
  readonly restartPolicy?: RestartPolicy;

  /**
   * Pod failures before the `node` Job, and so the TrainJob, fails.
   * @default - the Job's default, 6
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
   */
  readonly backoffLimit?: number;
}

/**
 * What the two runtime constructs share: the object they write, checked with the runtime webhook's rules, and what
 * a TrainJob in the same app reads from it to check its patches.
 */
export abstract class TrainingRuntimeBase extends Construct implements ITrainingRuntime {
  public abstract readonly runtimeKind: string;
  private object?: CheckedApiObject;

  protected constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  /** The runtime object, for JSON patches; patches are checked like everything else. */
  public get apiObject(): ApiObject {
    return this.object!;
  }

  public get runtimeName(): string {
    return this.object!.name;
  }

  /**
   * The checked object: a TrainJob of this app that names the runtime is checked against it and written after it.
   * @internal
   */
  public _checkedObject(): CheckedApiObject {
    return this.object!;
  }

  /** @internal */
  protected _addObject(metadata: ApiObjectMetadata | undefined, model: () => RuntimeModel): void {
    this.object = addRuntimeObject(this, this.runtimeKind, metadata, model);
  }
}

function modelOf(props: TrainingRuntimeProps): () => RuntimeModel {
  checkPlacementValues(props, '');
  const numNodes = props.numNodes ?? 1;
  if (!Number.isInteger(numNodes) || numNodes < 1) throw new Error(`numNodes: ${numNodes} must be a whole number of at least 1`);
  if (props.backoffLimit !== undefined && (!Number.isInteger(props.backoffLimit) || props.backoffLimit < 0)) {
    throw new Error(`backoffLimit: ${props.backoffLimit} must be a whole number of at least 0`);
  }
  if (props.scheduling?._options.kueue) {
    throw new Error('scheduling: Kueue admits the TrainJob, not its runtime: give Scheduling.kueue() to the TrainJob');
  }
  const restartPolicy = jobRestartPolicy(props.restartPolicy, 'restartPolicy');
  const scheduled = renderTrainerScheduling(props.scheduling, numNodes, props);
  const { metadata, image, numNodes: _n, scheduling, restartPolicy: _r, backoffLimit, ...options } = props;
  return () => ({
    pod: podModel({
      options: scheduledOptions(options, scheduled.podOptions), image, containerName: TRAINER_CONTAINER_NAME, restartPolicy, ownPods: {},
    }),
    numNodes,
    podGroupPolicy: scheduled.podGroupPolicy,
    templateAnnotations: scheduled.templateAnnotations,
    backoffLimit,
  });
}

/**
 * A Kubeflow Trainer v2 TrainingRuntime (`trainer.kubeflow.org/v1alpha1`) with a torch policy, for the TrainJobs of
 * its namespace.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
 */
export class TrainingRuntime extends TrainingRuntimeBase {
  public readonly runtimeKind = TRAINING_RUNTIME_KIND;

  public constructor(scope: Construct, id: string, props: TrainingRuntimeProps) {
    super(scope, id);
    this._addObject(props.metadata, modelOf(props));
  }
}

/**
 * A Kubeflow Trainer v2 ClusterTrainingRuntime (`trainer.kubeflow.org/v1alpha1`) with a torch policy, for the
 * TrainJobs of every namespace.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
 */
export class ClusterTrainingRuntime extends TrainingRuntimeBase {
  public readonly runtimeKind = CLUSTER_TRAINING_RUNTIME_KIND;

  public constructor(scope: Construct, id: string, props: TrainingRuntimeProps) {
    super(scope, id);
    if (props.metadata?.namespace !== undefined) throw new Error('metadata.namespace: a ClusterTrainingRuntime belongs to no namespace');
    this._addObject(props.metadata, modelOf(props));
  }
}
