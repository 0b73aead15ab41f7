import { isPyTorchJob } from './manifests';
import { formatQuantity, podRequests, ResourceAmounts, sortResourceNames, sumAmounts, timesPods } from './pod-requests';
import {
  COSCHEDULING_SCHEDULER_NAME, GANG_SCHEDULER_FLAG, KAI_QUEUE_LABEL, KAI_SCHEDULER_NAME, KUEUE_BATCH_JOB_FRAMEWORK, KUEUE_JOB_POD_SET,
  KUEUE_PRIORITY_LABEL, KUEUE_PYTORCHJOB_FRAMEWORK, KUEUE_QUEUE_LABEL, KUEUE_TRAINJOB_FRAMEWORK, VOLCANO_QUEUE_ANNOTATION, VOLCANO_SCHEDULER_NAME,
} from '../rules/facts';
import { replicaCount } from '../rules/operator-env';
import { isObject, Json } from '../rules/problem';
import { trainerReplicatedJob } from '../rules/trainjob';

/** Resource quantities by resource name, in the order they are shown: `{ cpu: '8', memory: '48Gi' }`. */
export type Quantities = { readonly [resource: string]: string };

/** One pod set of a job, as Kueue admits it and a gang scheduler counts it. */
export interface PodSetSummary {
  /** Kueue's name for it: the replica type in lower case (`master`, `worker`), or `main` for a batch/v1 Job. */
  readonly name: string;
  readonly pods: number;
  /** What each pod requests, as the scheduler and the queue count it (limits where requests are omitted, sidecars and init containers included). */
  readonly requestsPerPod: Quantities;
}

/** A queue or gang scheduler the manifest is written for. */
export interface SchedulerSummary {
  /** `Kueue`, `Volcano`, `scheduler-plugins coscheduling`, `KAI`, or `a gang scheduler` when only the operator's flag says which. */
  readonly scheduler: string;
  /** What the manifest tells it: `LocalQueue team-a, WorkloadPriorityClass high`. */
  readonly settings: string;
  /** What the training operator or the scheduler's controller must be started with: a manifest alone cannot make it happen. */
  readonly needs: string;
  /** Whether it admits the job from a queue with a quota, rather than only starting the pods together. */
  readonly queues: boolean;
}

/** What a queue or gang scheduler sees of a job. */
export interface SchedulingSummary {
  readonly schedulers: SchedulerSummary[];
  /** In Kueue's order: Master, then Worker. */
  readonly podSets: PodSetSummary[];
  /** Every pod set's pods times its requests per pod, added up: what a queue's quota must admit at once. */
  readonly total: { readonly pods: number; readonly requests: Quantities };
}

/** Kueue's order of a PyTorchJob's pod sets (and Volcano's tasks): Master, then Worker. */
const REPLICA_ORDER = ['Master', 'Worker'];

/** The queue or gang scheduler a job is written for, and its pod sets as they see them; undefined when it names none. */
export function describeScheduling(job: Json): SchedulingSummary | undefined {
  const pyTorchJob = isPyTorchJob(job);
  const podSets: PodSet[] = pyTorchJob ? replicaPodSets(job) : [{ name: KUEUE_JOB_POD_SET, pods: 1, template: job.spec?.template }];
  const labels: Json = isObject(job.metadata?.labels) ? job.metadata.labels : {};
  const specs = podSets.map(p => (isObject(p.template) && isObject(p.template.spec) ? p.template.spec : {}));
  const schedulerName = specs.map(spec => spec.schedulerName).find((name): name is string => typeof name === 'string');
  const policy: Json | undefined = pyTorchJob && isObject(job.spec?.runPolicy?.schedulingPolicy) ? job.spec.runPolicy.schedulingPolicy : undefined;
  const pods = podSets.reduce((sum: number, p) => sum + p.pods, 0);
  const schedulers = [
    kueue(labels, pyTorchJob ? KUEUE_PYTORCHJOB_NEEDS : KUEUE_BATCH_JOB_NEEDS, policy, specs),
    kai(labels, schedulerName),
    gang(schedulerName, policy, pods, pyTorchJob),
  ].filter((s): s is SchedulerSummary => s !== undefined);
  return summarize(schedulers, podSets);
}

/**
 * A TrainJob's schedulers and pod sets: Kueue reads the TrainJob's labels, and its pod sets are the JobSet's
 * replicated jobs, the trainer's with one pod per node; the gang is the runtime's podGroupPolicy, whose PodGroup
 * counts every pod of every replicated job.
 * @param runtime the runtime the TrainJob names, when the files hold it
 * @param nodeTemplate the trainer's pod template, the TrainJob's trainer merged in
 */
export function describeTrainJobScheduling(job: Json, runtime: Json | undefined, nodes: number, nodeTemplate: Json): SchedulingSummary | undefined {
  const trainer = trainerReplicatedJob(runtime);
  const written: unknown = runtime?.spec?.template?.spec?.replicatedJobs;
  const replicatedJobs: Json[] = Array.isArray(written) ? written.filter(isObject) : [];
  const podSets: PodSet[] = trainer === undefined ? [{ name: TRAINER_POD_SET, pods: nodes, template: nodeTemplate }]
    : replicatedJobs.map(replicated => (replicated === trainer ? { name: String(replicated.name), pods: nodes, template: nodeTemplate } : {
      name: String(replicated.name),
      pods: wholeOr(replicated.replicas, 1) * wholeOr(replicated.template?.spec?.parallelism, 1),
      template: replicated.template?.spec?.template,
    }));
  const labels: Json = isObject(job.metadata?.labels) ? job.metadata.labels : {};
  const specs = podSets.map(p => (isObject(p.template) && isObject(p.template.spec) ? p.template.spec : {}));
  const schedulerName = specs.map(spec => spec.schedulerName).find((name): name is string => typeof name === 'string');
  const pods = podSets.reduce((sum: number, p) => sum + p.pods, 0);
  const schedulers = [
    kueue(labels, KUEUE_TRAINJOB_NEEDS, undefined, specs),
    kai(labels, schedulerName),
    podGroup(runtime, schedulerName, pods),
  ].filter((s): s is SchedulerSummary => s !== undefined);
  return summarize(schedulers, podSets);
}

/** Kueue's name for a TrainJob's trainer pod set, which the runtime's trainer job bears. */
const TRAINER_POD_SET = 'node';

const KUEUE_PYTORCHJOB_NEEDS = `Kueue's ${KUEUE_PYTORCHJOB_FRAMEWORK} integration enabled (integrations.frameworks), which Kueue v0.19 turned off by default`;
const KUEUE_BATCH_JOB_NEEDS = `Kueue's ${KUEUE_BATCH_JOB_FRAMEWORK} integration enabled (integrations.frameworks), as it is by default`;
const KUEUE_TRAINJOB_NEEDS = `Kueue's ${KUEUE_TRAINJOB_FRAMEWORK} integration enabled (integrations.frameworks), as it is by default, `
  + 'in Kueue v0.17 or later, the first to write Trainer v2.2\'s runtime patches';

function wholeOr(value: unknown, otherwise: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : otherwise;
}

/**
 * Trainer v2 makes a PodGroup named after the TrainJob when its runtime has a podGroupPolicy, counting every pod; it
 * never sets a scheduler name, so the gang forms only when the runtime's pod templates name the scheduler.
 */
function podGroup(runtime: Json | undefined, schedulerName: string | undefined, pods: number): SchedulerSummary | undefined {
  const policy: Json | undefined = isObject(runtime?.spec?.podGroupPolicy) ? runtime!.spec.podGroupPolicy : undefined;
  if (policy === undefined) return undefined;
  const volcano = isObject(policy.volcano);
  const timeout = policy.coscheduling?.scheduleTimeoutSeconds;
  const queue = runtime!.spec?.template?.metadata?.annotations?.[VOLCANO_QUEUE_ANNOTATION];
  const settings = [
    `schedulerName ${schedulerName ?? '(none)'}`,
    `minMember ${pods} of ${pods} pods (every pod of every replicated job)`,
    ...timeout === undefined ? [] : [`scheduleTimeoutSeconds ${timeout}`],
    ...volcano && queue !== undefined ? [`queue ${queue}`] : [],
  ];
  const wanted = volcano ? VOLCANO_SCHEDULER_NAME : COSCHEDULING_SCHEDULER_NAME;
  return {
    scheduler: volcano ? 'Volcano' : 'scheduler-plugins coscheduling',
    settings: settings.join(', '),
    needs: schedulerName === undefined
      ? `the pods to ask for the gang scheduler (schedulerName ${wanted}, or its own name), which Trainer v2 never sets: without it the default scheduler ignores the PodGroup`
      : `${volcano ? 'Volcano' : 'the scheduler-plugins scheduler'} installed: Trainer makes the PodGroup from the runtime's podGroupPolicy`,
    queues: volcano,
  };
}

function summarize(schedulers: readonly SchedulerSummary[], podSets: readonly PodSet[]): SchedulingSummary | undefined {
  if (schedulers.length === 0) return undefined;
  const pods = podSets.reduce((sum: number, p) => sum + p.pods, 0);
  const requests = podSets.map(p => podRequests(p.template));
  return {
    schedulers: [...schedulers],
    podSets: podSets.map((p, i) => ({ name: p.name, pods: p.pods, requestsPerPod: quantities(requests[i]) })),
    total: { pods, requests: quantities(sumAmounts(podSets.map((p, i) => timesPods(requests[i], p.pods)))) },
  };
}

interface PodSet {
  readonly name: string;
  readonly pods: number;
  readonly template: unknown;
}

function replicaPodSets(job: Json): PodSet[] {
  const replicaSpecs: Json = isObject(job.spec?.pytorchReplicaSpecs) ? job.spec.pytorchReplicaSpecs : {};
  const types = [...REPLICA_ORDER.filter(type => type in replicaSpecs), ...Object.keys(replicaSpecs).filter(type => !REPLICA_ORDER.includes(type))];
  // Kueue names a pod set after its replica type in lower case, as the operator's replica-type label does.
  return types.map(type => ({ name: type.toLowerCase(), pods: replicaCount(replicaSpecs[type]), template: replicaSpecs[type]?.template }));
}

/** Kueue reads the job's own labels; without a priority label it falls back to the pods' PriorityClass. */
function kueue(labels: Json, needs: string, policy: Json | undefined, specs: readonly Json[]): SchedulerSummary | undefined {
  const queue = labels[KUEUE_QUEUE_LABEL];
  if (queue === undefined) return undefined;
  const podPriority = policy?.priorityClass ?? specs.map(spec => spec.priorityClassName).find(name => name !== undefined);
  const priority = labels[KUEUE_PRIORITY_LABEL] !== undefined ? `WorkloadPriorityClass ${labels[KUEUE_PRIORITY_LABEL]}`
    : podPriority !== undefined ? `priority of PriorityClass ${podPriority}` : undefined;
  return {
    scheduler: 'Kueue',
    settings: [`LocalQueue ${queue}`, ...priority === undefined ? [] : [priority]].join(', '),
    needs,
    queues: true,
  };
}

/** KAI takes the pods that ask for it, and groups them itself: no operator flag is involved. */
function kai(labels: Json, schedulerName: string | undefined): SchedulerSummary | undefined {
  const queue = labels[KAI_QUEUE_LABEL];
  if (queue === undefined && schedulerName !== KAI_SCHEDULER_NAME) return undefined;
  const missing = [
    ...schedulerName === KAI_SCHEDULER_NAME ? [] : [`the pods to ask for schedulerName ${KAI_SCHEDULER_NAME}`],
    ...queue === undefined ? [`the job's ${KAI_QUEUE_LABEL} label`] : [],
  ];
  return {
    scheduler: 'KAI',
    settings: `queue ${queue ?? '(none)'}, schedulerName ${schedulerName ?? '(none)'}`,
    needs: `no operator flag: KAI's pod grouper gangs the job's pods${missing.length > 0 ? `; but it needs ${missing.join(' and ')}` : ''}`,
    queues: true,
  };
}

/**
 * The operator's gang scheduling: Volcano when the pods ask for it, scheduler-plugins when they ask for another
 * scheduler and the job has a scheduling policy. Which one runs is the operator's flag, which the manifest cannot set.
 */
function gang(schedulerName: string | undefined, policy: Json | undefined, pods: number, pyTorchJob: boolean): SchedulerSummary | undefined {
  const volcano = schedulerName === VOLCANO_SCHEDULER_NAME;
  // A scheduler of one's own without a scheduling policy need not be a gang scheduler at all.
  const pluginsOrUnnamed = !volcano && schedulerName !== KAI_SCHEDULER_NAME
    && (policy !== undefined || schedulerName === COSCHEDULING_SCHEDULER_NAME);
  if (!volcano && !pluginsOrUnnamed) return undefined;
  const scheduler = volcano ? 'Volcano' : schedulerName === undefined ? 'a gang scheduler' : 'scheduler-plugins coscheduling';
  if (!pyTorchJob) {
    return { scheduler, settings: `schedulerName ${schedulerName}`, needs: 'nothing more: a Job\'s one pod is no gang, and no training operator takes part', queues: volcano };
  }
  // The operator's PodGroup takes minAvailable, or every pod of the job.
  const minAvailable = policy?.minAvailable === undefined ? `${pods} of ${pods} pods (not written: every pod)` : `${policy.minAvailable} of ${pods} pods`;
  const written = (['queue', 'priorityClass', 'scheduleTimeoutSeconds'] as const).filter(field => policy?.[field] !== undefined).map(field => `${field} ${policy![field]}`);
  const minResources = isObject(policy?.minResources) ? [`minResources ${formatQuantities(writtenQuantities(policy!.minResources))}`] : [];
  const flag = schedulerName === undefined
    ? `${GANG_SCHEDULER_FLAG}=${VOLCANO_SCHEDULER_NAME}, which also gives the pods schedulerName ${VOLCANO_SCHEDULER_NAME}, `
      + `or ${GANG_SCHEDULER_FLAG}=<the scheduler-plugins scheduler's name>, which the pods then ask for`
    : `${GANG_SCHEDULER_FLAG}=${schedulerName}`;
  return {
    scheduler,
    settings: [...schedulerName === undefined ? [] : [`schedulerName ${schedulerName}`], `minAvailable ${minAvailable}`, ...written, ...minResources].join(', '),
    needs: `the training operator started with ${flag}; without it there is no PodGroup and no gang`,
    queues: volcano,
  };
}

/** Amounts as quantities, in kubectl's order of resources. */
function quantities(amounts: ResourceAmounts): Quantities {
  return Object.fromEntries(sortResourceNames(amounts.keys()).map(name => [name, formatQuantity(name, amounts.get(name)!)]));
}

/** A resource list as written, in kubectl's order of resources. */
function writtenQuantities(list: Json): Quantities {
  return Object.fromEntries(sortResourceNames(Object.keys(list)).map(name => [name, String(list[name])]));
}

/** `cpu 8, memory 48Gi, nvidia.com/gpu 1`. */
export function formatQuantities(list: Quantities): string {
  return Object.entries(list).map(([name, quantity]) => `${name} ${quantity}`).join(', ');
}
