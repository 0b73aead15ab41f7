import {
  COSCHEDULING_SCHEDULER_NAME, KAI_QUEUE_LABEL, KAI_SCHEDULER_NAME, KUEUE_QUEUE_LABEL, KUEUE_TOPOLOGY_ANNOTATIONS, VOLCANO_SCHEDULER_NAME,
} from './facts';
import { elasticNodeRange, replicaCount } from './operator-env';
import { isObject, isWholeNumber, Json, Problem, ProblemKind, Severity, show } from './problem';

const OPERATIONAL = ProblemKind.OPERATIONAL;
/** Schedulers that start a job's pods all at once or not at all. */
const GANG_SCHEDULERS = [VOLCANO_SCHEDULER_NAME, COSCHEDULING_SCHEDULER_NAME, KAI_SCHEDULER_NAME];
const PLACEMENTS = [KUEUE_TOPOLOGY_ANNOTATIONS.required, KUEUE_TOPOLOGY_ANNOTATIONS.preferred, KUEUE_TOPOLOGY_ANNOTATIONS.unconstrained];

/** What Kueue, Volcano, scheduler-plugins and KAI read from a PyTorchJob, checked for what they would not do as meant. */
export function checkPyTorchJobScheduling(job: Json): Problem[] {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  const replicaSpecs: Json = isObject(spec.pytorchReplicaSpecs) ? spec.pytorchReplicaSpecs : {};
  const labels: Json = isObject(job.metadata?.labels) ? job.metadata.labels : {};
  const problems = checkQueues(labels);
  const elastic: Json | undefined = isObject(spec.elasticPolicy) ? spec.elasticPolicy : undefined;
  const range = elastic && elasticNodeRange(elastic, replicaCount(replicaSpecs.Worker));
  if (labels[KUEUE_QUEUE_LABEL] !== undefined && range && range.min < range.max) {
    problems.push({
      path: `metadata.labels[${KUEUE_QUEUE_LABEL}]`,
      message: `${show(labels[KUEUE_QUEUE_LABEL])} queues an elastic job (${range.min} to ${range.max} nodes), which Kueue does not admit: a change of the Worker count `
        + 'suspends and requeues the whole job; give a fixed node count (minReplicas equal to maxReplicas)',
      kind: OPERATIONAL,
    });
  }
  const templates = Object.entries(replicaSpecs).map(([type, replica]) => ({
    path: `spec.pytorchReplicaSpecs[${type}].template`,
    template: isObject(replica) ? replica.template : undefined,
  }));
  const policy: Json | undefined = isObject(spec.runPolicy?.schedulingPolicy) ? spec.runPolicy.schedulingPolicy : undefined;
  problems.push(...checkSchedulerNames(templates, policy !== undefined), ...templates.flatMap(t => checkTopology(t.template, t.path, labels)));
  if (policy) {
    const pods = Object.values(replicaSpecs).reduce((sum: number, replica) => sum + replicaCount(replica), 0);
    problems.push(...checkSchedulingPolicy(policy, pods, range?.min, schedulerOf(templates)));
  }
  return problems;
}

/** What Kueue and KAI read from a single-node torchrun Job. */
export function checkBatchJobScheduling(job: Json): Problem[] {
  const labels: Json = isObject(job.metadata?.labels) ? job.metadata.labels : {};
  return [...checkQueues(labels), ...checkTopology(job.spec?.template, 'spec.template', labels)];
}

/** Two queueing systems would both hold the job back and each admit it on its own. */
function checkQueues(labels: Json): Problem[] {
  if (labels[KUEUE_QUEUE_LABEL] === undefined || labels[KAI_QUEUE_LABEL] === undefined) return [];
  return [{
    path: `metadata.labels[${KAI_QUEUE_LABEL}]`,
    message: `${show(labels[KAI_QUEUE_LABEL])} queues the job in KAI, and ${KUEUE_QUEUE_LABEL} in Kueue: each would admit it on its own quota; choose one`,
    kind: OPERATIONAL,
  }];
}

interface PodTemplate {
  readonly path: string;
  readonly template: unknown;
}

function schedulerNameOf(template: unknown): unknown {
  return isObject(template) && isObject(template.spec) ? template.spec.schedulerName : undefined;
}

/** The one scheduler the pods name, if they all name the same. */
function schedulerOf(templates: readonly PodTemplate[]): string | undefined {
  const names = new Set(templates.map(t => schedulerNameOf(t.template)));
  const [name] = names;
  return names.size === 1 && typeof name === 'string' ? name : undefined;
}

/**
 * A gang is scheduled by one scheduler: pods that ask for another are never part of it, and the gang never completes.
 * Without gang scheduling, two schedulers for one job work, if oddly.
 */
function checkSchedulerNames(templates: readonly PodTemplate[], gangPolicy: boolean): Problem[] {
  const [first, ...others] = templates;
  const other = first && others.find(t => schedulerNameOf(t.template) !== schedulerNameOf(first.template));
  if (!other) return [];
  const names = [schedulerNameOf(first.template), schedulerNameOf(other.template)];
  const gang = gangPolicy || names.some(name => GANG_SCHEDULERS.includes(name as string));
  return [{
    path: `${other.path}.spec.schedulerName`,
    message: `${show(names[1])} differs from ${first.path}.spec.schedulerName ${show(names[0])}: `
      + (gang ? 'a gang is scheduled by one scheduler, and the pods that ask for another never join it' : 'the pods of one job are placed by two schedulers'),
    kind: OPERATIONAL,
    ...gang ? {} : { severity: Severity.WARNING },
  }];
}

/**
 * The operator's PodGroup: its `minMember` must be reachable, and not below what the training needs to start.
 * Volcano and scheduler-plugins each read their own fields; which one runs is the operator's `--gang-scheduler-name`,
 * so only a scheduler the pods name outright tells that a field is read by no one.
 */
function checkSchedulingPolicy(policy: Json, pods: number, elasticMinimum: number | undefined, scheduler: string | undefined): Problem[] {
  const path = 'spec.runPolicy.schedulingPolicy';
  const problems: Problem[] = [];
  const minAvailable = policy.minAvailable;
  if (isWholeNumber(minAvailable, 1) && minAvailable > pods) {
    problems.push({ path: `${path}.minAvailable`, message: `${minAvailable} is above the job's ${pods} pods: the gang would never be complete, and no pod would start`, kind: OPERATIONAL });
  }
  if (isWholeNumber(minAvailable, 1) && elasticMinimum !== undefined && minAvailable < elasticMinimum) {
    problems.push({
      path: `${path}.minAvailable`,
      message: `${minAvailable} is below elasticPolicy.minReplicas ${elasticMinimum}: the gang would start fewer nodes than the rendezvous waits for`,
      kind: OPERATIONAL,
    });
  }
  const volcanoFields = ['queue', 'priorityClass'].filter(field => policy[field] !== undefined);
  if (scheduler !== undefined && scheduler !== VOLCANO_SCHEDULER_NAME) {
    problems.push(...volcanoFields.map(field => ({
      path: `${path}.${field}`,
      message: `${show(policy[field])} is read by Volcano only, but the pods ask for the scheduler ${show(scheduler)}`,
      kind: OPERATIONAL,
    })));
  }
  if (scheduler === VOLCANO_SCHEDULER_NAME && policy.scheduleTimeoutSeconds !== undefined) {
    problems.push({
      path: `${path}.scheduleTimeoutSeconds`,
      message: `${show(policy.scheduleTimeoutSeconds)} is read by scheduler-plugins coscheduling only, but the pods ask for Volcano`,
      kind: OPERATIONAL,
    });
  }
  return problems;
}

/** Kueue's topology annotations on one pod set: one placement, slices given whole, and a queue that reads them. */
function checkTopology(template: unknown, path: string, labels: Json): Problem[] {
  const annotations: Json = isObject(template) && isObject(template.metadata?.annotations) ? template.metadata.annotations : {};
  const at = (key: string) => `${path}.metadata.annotations[${key}]`;
  const problems: Problem[] = [];
  const placements = PLACEMENTS.filter(key => annotations[key] !== undefined);
  if (placements.length > 1) {
    problems.push({ path: at(placements[1]), message: `is set beside ${placements[0]}: Kueue takes one of required, preferred or unconstrained topology per pod set`, kind: OPERATIONAL });
  }
  const sliceLevel = annotations[KUEUE_TOPOLOGY_ANNOTATIONS.sliceLevel];
  const sliceSize = annotations[KUEUE_TOPOLOGY_ANNOTATIONS.sliceSize];
  if ((sliceLevel === undefined) !== (sliceSize === undefined)) {
    const { sliceLevel: levelKey, sliceSize: sizeKey } = KUEUE_TOPOLOGY_ANNOTATIONS;
    const [given, missing] = sliceLevel === undefined ? [sizeKey, levelKey] : [levelKey, sizeKey];
    problems.push({ path: at(given), message: `is set without ${missing}: Kueue takes a slice's level and size together`, kind: OPERATIONAL });
  } else if (sliceSize !== undefined && !/^[1-9]\d*$/.test(String(sliceSize))) {
    problems.push({ path: at(KUEUE_TOPOLOGY_ANNOTATIONS.sliceSize), message: `${show(sliceSize)} is not a pod count: a whole number of at least 1`, kind: OPERATIONAL });
  }
  const topologyKey = Object.values(KUEUE_TOPOLOGY_ANNOTATIONS).find(key => annotations[key] !== undefined);
  if (topologyKey !== undefined && labels[KUEUE_QUEUE_LABEL] === undefined) {
    problems.push({
      path: at(topologyKey),
      message: `is read by Kueue only from a job it manages, and the job has no ${KUEUE_QUEUE_LABEL} label: it has no effect unless the namespace's default LocalQueue takes the job`,
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    });
  }
  return problems;
}
