import { ApiObjectMetadata } from 'cdk8s';
import { fieldsOf, mergePodOptions, setsPodOptions } from './merge';
import { renderResourceList } from './resources';
import { wholeSeconds } from './units';
import { PodOptions } from '../pod-options';
import { KAI_QUEUE_LABEL, KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL, KUEUE_TOPOLOGY_ANNOTATIONS } from '../rules/facts';
import { isLabelValue, LABEL_VALUE_RULE } from '../rules/names';
import { withFields } from '../rules/objects';
import { KueueTopology, Scheduling } from '../scheduling';

/** The shape of the job that scheduling depends on. */
export interface ScheduledShape {
  /** Pods per pod set, by Kueue's pod-set name (the replica type in lower case, or `main` for a Job). */
  readonly podSets: { readonly [podSet: string]: number };
  /** The node range of an elastic job; undefined for a fixed size. */
  readonly elasticRange?: { readonly min: number; readonly max: number };
  /** A batch/v1 Job: no operator, so no PodGroup and no pod-set topology. */
  readonly batchJob: boolean;
  /** The job's pod options and each replica's, for the scheduler name they may already ask for. */
  readonly jobOptions: PodOptions;
  readonly replicaOptions: { readonly [podSet: string]: PodOptions };
}

/** What a `Scheduling` writes into the job: labels on the object, fields of the pods, the operator's scheduling policy. */
export interface ScheduledJob {
  /** Labels of the job object. */
  readonly jobLabels: { readonly [key: string]: string };
  /** Options every pod gets over the job's own: the scheduler name, the queue label. */
  readonly podOptions: PodOptions;
  /** `runPolicy.schedulingPolicy`. */
  readonly schedulingPolicy?: object;
  /**
   * Annotations of one pod set's template (Kueue's topology).
   * @param group the value that groups the pod sets, when they are placed as one unit
   */
  podSetAnnotations(podSet: string, group: string): { [key: string]: string } | undefined;
}

const NOTHING: ScheduledJob = { jobLabels: {}, podOptions: {}, podSetAnnotations: () => undefined };

/**
 * Renders a job's scheduling, refusing what its controller would not do as meant, with the field and the rule.
 * Rendered when the job is built: it depends on the props alone.
 */
export function renderScheduling(scheduling: Scheduling | undefined, shape: ScheduledShape): ScheduledJob {
  if (scheduling === undefined) return NOTHING;
  checkSchedulerName(scheduling, shape);
  const settings = scheduling._options;
  const jobLabels: { [key: string]: string } = {};
  let podOptions: PodOptions = { schedulerName: scheduling.schedulerName };
  if (settings.kueue) {
    const kueue = settings.kueue;
    jobLabels[KUEUE_QUEUE_LABEL] = labelValue(kueue.queueName, 'scheduling.queueName');
    if (kueue.priorityClass !== undefined) jobLabels[KUEUE_PRIORITY_LABEL] = labelValue(kueue.priorityClass, 'scheduling.priorityClass');
    if (shape.elasticRange && shape.elasticRange.min < shape.elasticRange.max) {
      throw new Error(`scheduling: Kueue cannot run an elastic node range (${shape.elasticRange.min} to ${shape.elasticRange.max}): it does not admit elastic `
        + 'PyTorchJobs, and a change of the Worker count suspends and requeues the whole job; give a fixed node count');
    }
    return { jobLabels, podOptions, podSetAnnotations: topologyAnnotations(kueue, shape) };
  }
  if (settings.kai) {
    const queue = labelValue(settings.kai.queue, 'scheduling.queue');
    jobLabels[KAI_QUEUE_LABEL] = queue;
    podOptions = withFields(podOptions, { podLabels: { [KAI_QUEUE_LABEL]: queue } });
    return { jobLabels, podOptions, podSetAnnotations: () => undefined };
  }
  const gang = settings.gang ?? {};
  const pods = Object.values(shape.podSets).reduce((sum, count) => sum + count, 0);
  if (shape.batchJob) {
    const field = (['minAvailable', 'queue', 'priorityClass', 'minResources', 'scheduleTimeout'] as const).find(name => gang[name] !== undefined);
    if (field) {
      throw new Error(`scheduling.${field}: cannot be honoured by a single-node job, which is a batch/v1 Job of one pod: `
        + 'there is no gang, and no operator to make a PodGroup; give only the scheduler');
    }
    return { jobLabels, podOptions, podSetAnnotations: () => undefined };
  }
  const minimum = shape.elasticRange?.min ?? pods;
  const minAvailable = gang.minAvailable ?? minimum;
  if (!Number.isInteger(minAvailable) || minAvailable < minimum || minAvailable > pods) {
    throw new Error(`scheduling.minAvailable: ${minAvailable} must be a whole number from ${minimum} to ${pods}: `
      + (minAvailable > pods ? `the job has ${pods} pods, so the gang would never be complete`
        : `fewer than ${shape.elasticRange ? 'the elastic minimum' : 'every pod'} would start a training that waits for the rest`));
  }
  const schedulingPolicy = {
    minAvailable,
    queue: gang.queue,
    priorityClass: gang.priorityClass,
    scheduleTimeoutSeconds: gang.scheduleTimeout && wholeSeconds(gang.scheduleTimeout, 'scheduling.scheduleTimeout'),
    minResources: renderResourceList(gang.minResources),
  };
  return { jobLabels, podOptions, schedulingPolicy, podSetAnnotations: () => undefined };
}

/** Two schedulers cannot both place the pods: the one the Scheduling names wins, or it is refused. */
function checkSchedulerName(scheduling: Scheduling, shape: ScheduledShape): void {
  const wanted = scheduling.schedulerName;
  const levels: Array<[string, PodOptions]> = [['schedulerName', shape.jobOptions],
    ...Object.entries(shape.replicaOptions).map(([podSet, options]): [string, PodOptions] => [`${podSet}.schedulerName`, options])];
  for (const [field, options] of levels) {
    if (options.schedulerName !== undefined && options.schedulerName !== wanted) {
      throw new Error(`${field}: ${JSON.stringify(options.schedulerName)} contradicts Scheduling.${scheduling.kind}(), whose pods `
        + `${wanted === undefined ? 'the cluster\'s default scheduler places' : `ask for ${JSON.stringify(wanted)}`}: a job has one scheduler`);
    }
  }
}

function labelValue(value: string, field: string): string {
  if (!isLabelValue(value) || value === '') throw new Error(`${field}: ${JSON.stringify(value)} is not a label value: ${LABEL_VALUE_RULE}, and not empty`);
  return value;
}

/** Kueue's topology-aware scheduling, per pod set. A Job gets the queue and priority labels only. */
function topologyAnnotations(kueue: NonNullable<Scheduling['_options']['kueue']>, shape: ScheduledShape): ScheduledJob['podSetAnnotations'] {
  const given: Array<[string, KueueTopology | undefined]> = [['topology', kueue.topology], ['masterTopology', kueue.masterTopology], ['workerTopology', kueue.workerTopology]];
  const set = given.filter(([, topology]) => topology !== undefined);
  if (shape.batchJob && (set.length > 0 || kueue.groupPodSets)) {
    throw new Error(`scheduling.${set[0]?.[0] ?? 'groupPodSets'}: a single-node job is a batch/v1 Job, which Kueue admits as one pod set: `
      + 'it takes the queue and priority labels only');
  }
  if (kueue.masterTopology !== undefined && shape.podSets.master === undefined) {
    throw new Error('scheduling.masterTopology: the job has no Master: use topology');
  }
  const fieldFor = (podSet: string) => (podSet === 'master' && kueue.masterTopology ? 'masterTopology'
    : podSet === 'worker' && kueue.workerTopology ? 'workerTopology' : 'topology');
  const forPodSet = (podSet: string) => kueue[fieldFor(podSet)];
  for (const [podSet, count] of Object.entries(shape.podSets)) {
    const slices = forPodSet(podSet)?.slices;
    if (slices && (!Number.isInteger(slices.sliceSize) || slices.sliceSize < 1 || count % slices.sliceSize !== 0)) {
      throw new Error(`scheduling.${fieldFor(podSet)}.sliceSize: ${slices.sliceSize} must be a whole number that divides the ${count} pods of pod set ${JSON.stringify(podSet)}`);
    }
  }
  return (podSet, group) => {
    const topology = forPodSet(podSet);
    const annotations: { [key: string]: string } = {};
    if (topology) {
      const key = KUEUE_TOPOLOGY_ANNOTATIONS[topology.mode as 'required' | 'preferred' | 'unconstrained'];
      annotations[key] = topology.level ?? 'true';
      if (topology.slices) {
        annotations[KUEUE_TOPOLOGY_ANNOTATIONS.sliceLevel] = topology.slices.sliceLevel;
        annotations[KUEUE_TOPOLOGY_ANNOTATIONS.sliceSize] = String(topology.slices.sliceSize);
      }
    }
    if (kueue.groupPodSets) annotations[KUEUE_TOPOLOGY_ANNOTATIONS.group] = group;
    return Object.keys(annotations).length > 0 ? annotations : undefined;
  };
}

/** The job's metadata with the scheduling's labels; a label the user gave another value is refused. */
export function scheduledMetadata(metadata: ApiObjectMetadata | undefined, scheduled: ScheduledJob): ApiObjectMetadata | undefined {
  const labels = Object.entries(scheduled.jobLabels);
  if (labels.length === 0) return metadata;
  for (const [key, value] of labels) {
    const given = metadata?.labels?.[key];
    if (given !== undefined && given !== value) {
      throw new Error(`metadata.labels[${key}]: ${JSON.stringify(given)} contradicts the scheduling, which writes ${JSON.stringify(value)}`);
    }
  }
  return withFields(metadata, { labels: { ...scheduled.jobLabels, ...metadata?.labels } });
}

/**
 * Pod options with the scheduling's merged over them (the scheduler name, a queue label, a pod set's annotations):
 * its labels and annotations win over the user's of the same key, which the scheduler would not read otherwise.
 */
export function scheduledOptions<T extends PodOptions>(options: T, over: PodOptions | undefined): T {
  return over !== undefined && setsPodOptions(over) ? mergePodOptions(options, over, fieldsOf('scheduling')) as T : options;
}

/** A replica's pod options with its pod set's annotations (Kueue's topology) over them. */
export function podSetOptions<T extends PodOptions>(options: T, scheduled: ScheduledJob, podSet: string, group: string): T {
  const podAnnotations = scheduled.podSetAnnotations(podSet, group);
  return scheduledOptions(options, podAnnotations && { podAnnotations });
}
