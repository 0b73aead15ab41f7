import { ApiObject, ApiObjectMetadata, Duration } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CheckedApiObject } from './render/checked-object';
import { addTrainJobObject, dependOnRuntime, runtimeObjectOf } from './render/trainer-target';
import { renderRuntimePatch, renderTrainerScheduling } from './render/trainjob';
import { wholeSeconds } from './render/units';
import { Resources } from './resources';
import { withFields } from './rules/objects';
import { RuntimePatch } from './runtime-patch';
import { Scheduling } from './scheduling';
import { ITrainingRuntime } from './training-runtime';

/**
 * Settings of a TrainJob: the runtime it runs on, and what it sets itself in the runtime's `node` container.
 */
export interface TrainJobProps {
  /**
   * Metadata of the TrainJob: name, namespace, labels and annotations.
   * @default - a name generated from the construct path, short enough for the pods' host names
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * The runtime: a TrainingRuntime or ClusterTrainingRuntime of this app (written before the TrainJob, and its
   * replicated jobs and containers checked against the patches), or `TrainingRuntimeRef` for one on the cluster.
   * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
   */
  readonly runtime: ITrainingRuntime;

  /**
   * Image of the `node` container.
   * @default - the runtime's
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image?: string;

  /**
   * Command of the `node` container, such as `['torchrun', 'train.py']`: torchrun reads the `PET_*` variables the
   * torch plugin injects.
   * @default - the runtime's
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly command?: string[];

  /**
   * Arguments of the command.
   * @default - the runtime's
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/
   */
  readonly args?: string[];

  /**
   * Variables of the `node` container; the torch plugin's `PET_*` names are reserved.
   * @default - none
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/
   */
  readonly env?: { [name: string]: EnvValue };

  /**
   * Nodes (pods) the job runs on.
   * @default - the runtime's `mlPolicy.numNodes`
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/
   */
  readonly numNodes?: number;

  /**
   * Processes per node, which torchrun starts (`PET_NPROC_PER_NODE`): a whole number in v2.3.
   * @default - `auto`: one per GPU of the node's resources, or the CPU count without a GPU
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly numProcPerNode?: number;

  /**
   * Resources each node requests (`resourcesPerNode.requests`), merged over the runtime's.
   * @default - the runtime's
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly requests?: Resources;

  /**
   * Resource limits of each node (`resourcesPerNode.limits`), merged over the runtime's.
   * @default - the runtime's
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly limits?: Resources;

  /**
   * What the TrainJob adds to the runtime's pods, each under its own manager.
   * @default - none
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/runtime-patches/
   */
  readonly runtimePatches?: RuntimePatch[];

  /**
   * Create the TrainJob suspended: no pods until it is resumed. Kueue suspends and resumes TrainJobs itself.
   * @default false
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/
   */
  readonly suspend?: boolean;

  /**
   * How long the TrainJob may run before it is failed (`activeDeadlineSeconds`), in whole seconds.
   * @default - no deadline
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/
   */
  readonly activeDeadline?: Duration;

  /**
   * The Kueue queue that admits the TrainJob (its queue and priority labels). Gang schedulers belong to the runtime.
   * @default - no queue
   * @see https://kueue.sigs.k8s.io/docs/tasks/run/trainjobs/
   */
  readonly scheduling?: Scheduling;
}

/**
 * A Kubeflow Trainer v2.3 TrainJob (`trainer.kubeflow.org/v1alpha1`): a torch runtime's pods with this job's image,
 * command, environment, nodes and resources, checked at synth time with the webhook's rules.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/user-guides/
 */
export class TrainJob extends Construct {
  /** The runtime the TrainJob runs on. */
  public readonly runtime: ITrainingRuntime;
  private readonly object: CheckedApiObject;

  public constructor(scope: Construct, id: string, props: TrainJobProps) {
    super(scope, id);
    this.runtime = props.runtime;
    const numNodes = props.numNodes;
    if (numNodes !== undefined && (!Number.isInteger(numNodes) || numNodes < 1)) throw new Error(`numNodes: ${numNodes} must be a whole number of at least 1`);
    const nproc = props.numProcPerNode;
    if (nproc !== undefined && (!Number.isInteger(nproc) || nproc < 1)) throw new Error(`numProcPerNode: ${nproc} must be a whole number of at least 1`);
    const kind = props.scheduling?.kind;
    if (props.scheduling && !props.scheduling._options.kueue) {
      throw new Error(`scheduling: ${kind} schedules the runtime's pods: give it to the runtime (its podGroupPolicy and scheduler name), not the TrainJob`);
    }
    const scheduled = renderTrainerScheduling(props.scheduling, numNodes ?? 1, {});
    const patches = (props.runtimePatches ?? []).map((patch, i) => {
      const { manager, replicatedJob, ...options } = patch.props;
      void replicatedJob;
      return renderRuntimePatch(manager, patch.replicatedJob, options, `runtimePatches[${i}]`, false);
    });
    if (scheduled.podOptions.podAnnotations) {
      throw new Error('scheduling.topology: Kueue reads the topology from the runtime\'s pod template: give the annotations to the runtime\'s podAnnotations');
    }
    const activeDeadlineSeconds = props.activeDeadline && wholeSeconds(props.activeDeadline, 'activeDeadline');
    const metadata = withFields(props.metadata, { labels: { ...props.metadata?.labels, ...scheduled.jobLabels } });
    this.object = addTrainJobObject(this, metadata, numNodes ?? 1, () => runtimeObjectOf(props.runtime), () => ({
      runtime: props.runtime,
      trainer: {
        image: props.image,
        command: props.command,
        args: props.args,
        env: props.env,
        numNodes,
        numProcPerNode: nproc,
        requests: props.requests,
        limits: props.limits,
      },
      patches,
      suspend: props.suspend,
      activeDeadlineSeconds,
    }));
    dependOnRuntime(this.object, runtimeObjectOf(props.runtime));
  }

  /** The TrainJob object, for JSON patches; patches are checked like everything else. */
  public get apiObject(): ApiObject {
    return this.object;
  }

  /** The TrainJob's name, which prefixes its JobSet and pods. */
  public get name(): string {
    return this.object.name;
  }
}
