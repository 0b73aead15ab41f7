import { ApiObject } from 'cdk8s';
import { EnvValue, NodeTaintQuery } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ContainerOptions } from './container';
import { PodOptions } from './pod-options';
import { CheckedApiObject } from './render/checked-object';
import { fieldsOf, mergePodOptions } from './render/merge';
import { checkPlacementValues } from './render/placement';
import { TrainingJobProps } from './training-job-props';
import { VolumeMount } from './volume';

/**
 * What the two job constructs share: the object they write and the methods with which platform code amends every
 * pod of a job after it was built (an Aspect-like pass over an app, say). Amendments are rendered when the app is
 * synthesized, so they count wherever they are made; each adds to the job level, under every replica's own settings.
 */
export abstract class TrainingJob extends Construct {
  private readonly props: TrainingJobProps;
  private amendments: PodOptions = {};
  private object?: CheckedApiObject;
  private runtime?: CheckedApiObject;

  protected constructor(scope: Construct, id: string, props: TrainingJobProps) {
    super(scope, id);
    checkPlacementValues(props, '');
    this.props = props;
  }

  /** The job object (a PyTorchJob or a Job), for JSON patches; patches are checked like everything else. */
  public get apiObject(): ApiObject {
    return this.object!;
  }

  /** The job's name, which prefixes its pods and Services. */
  public get name(): string {
    return this.apiObject.name;
  }

  /**
   * Adds a variable to the training container of every pod.
   * @param name a name not yet set by the job's `env` or an earlier call
   * @param value the value, or a reference to a Secret or ConfigMap key
   */
  public addEnv(name: string, value: EnvValue): void {
    this.amendMap('env', 'addEnv', name, value);
  }

  /**
   * Mounts a volume into the training container of every pod.
   * @param mount the volume and a path not mounted yet
   */
  public addVolumeMount(mount: VolumeMount): void {
    this.amend({ volumeMounts: [mount] }, 'addVolumeMount');
  }

  /**
   * Lets every pod tolerate a taint.
   * @param toleration the taint query, such as `NodeTaintQuery.exists('nvidia.com/gpu')`
   */
  public addToleration(toleration: NodeTaintQuery): void {
    this.amend({ tolerations: [toleration] }, 'addToleration');
  }

  /**
   * Requires every pod's node to carry a label.
   * @param label a label not yet selected on
   * @param value its value
   */
  public addNodeSelector(label: string, value: string): void {
    this.amendMap('nodeSelector', 'addNodeSelector', label, value);
  }

  /**
   * Adds an init container to every pod, run after those given before.
   * @param container a container whose name the pods do not have yet
   */
  public addInitContainer(container: ContainerOptions): void {
    this.amend({ initContainers: [container] }, 'addInitContainer');
  }

  /**
   * Adds a native sidecar (an init container with `restartPolicy: Always`) to every pod.
   * @param container a container whose name the pods do not have yet
   */
  public addSidecar(container: ContainerOptions): void {
    this.amend({ sidecars: [container] }, 'addSidecar');
  }

  /**
   * Adds a main container beside `pytorch` to every pod.
   * @param container a container whose name the pods do not have yet
   */
  public addContainer(container: ContainerOptions): void {
    this.amend({ containers: [container] }, 'addContainer');
  }

  /**
   * Adds a label to every pod.
   * @param key a label key not set yet
   * @param value its value
   */
  public addPodLabel(key: string, value: string): void {
    this.amendMap('podLabels', 'addPodLabel', key, value);
  }

  /**
   * Adds an annotation to every pod.
   * @param key an annotation key not set yet
   * @param value its value
   */
  public addPodAnnotation(key: string, value: string): void {
    this.amendMap('podAnnotations', 'addPodAnnotation', key, value);
  }

  /**
   * The job-level pod options with the amendments merged over them, as the renderers take them.
   * @internal
   */
  protected _jobPodOptions(): PodOptions {
    // Most jobs are never amended: they skip the merge.
    return Object.keys(this.amendments).length > 0 ? mergePodOptions(this.props, this.amendments, fieldsOf('amendments')) : this.props;
  }

  /**
   * The Trainer v2 runtime object made for the job (named like its TrainJob, written before it), for JSON patches,
   * which are checked like everything else; undefined for the training operator, or when the job runs on an existing
   * runtime.
   */
  public get trainingRuntime(): ApiObject | undefined {
    return this.runtime;
  }

  /** @internal */
  protected _setApiObject(apiObject: CheckedApiObject, runtime?: CheckedApiObject): void {
    this.object = apiObject;
    this.runtime = runtime;
    if (runtime) apiObject.invalidates(runtime);
  }

  private amend(options: PodOptions, method: string): void {
    // Merged over the props and the earlier amendments now only to refuse a collision at the call that makes it,
    // with the index of this call's entry in the message (not of its place among all amendments).
    const byMethod = () => method;
    mergePodOptions(mergePodOptions(this.props, this.amendments, byMethod), options, byMethod);
    this.amendments = mergePodOptions(this.amendments, options, byMethod);
    this.object?.invalidate();
  }

  private amendMap<K extends 'env' | 'nodeSelector' | 'podLabels' | 'podAnnotations'>(field: K, method: string, key: string, value: NonNullable<PodOptions[K]>[string]): void {
    // Own keys only: every plain object inherits `constructor`, `valueOf` and the like, which are valid keys too.
    if (hasKey(this.props[field], key) || hasKey(this.amendments[field], key)) {
      throw new Error(`${method}: ${JSON.stringify(key)} is already set on this job: each key is set once, so that the order of amendments does not matter`);
    }
    this.amendments = { ...this.amendments, [field]: { ...this.amendments[field], [key]: value } };
    this.object?.invalidate();
  }
}

function hasKey(map: object | undefined, key: string): boolean {
  return map !== undefined && Object.prototype.hasOwnProperty.call(map, key);
}
