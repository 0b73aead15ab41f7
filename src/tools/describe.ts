import { isPyTorchJob, isTrainJob } from './manifests';
import { describeScheduling, describeTrainJobScheduling, formatQuantities, SchedulingSummary } from './scheduling';
import { formatTable } from './table';
import { TRAINER_CONTAINER_NAME, TRAINER_JOB_NAME, TRAINER_MASTER_PORT, TRAINING_CONTAINER_NAME } from '../rules/facts';
import { replicaCount, trainingPort } from '../rules/operator-env';
import { gpuCount, trainingContainer } from '../rules/pod-template';
import { isObject, Json } from '../rules/problem';
import { parseQuantity } from '../rules/quantity';
import { commandLine, torchrunFlag } from '../rules/torchrun';
import {
  runtimeRefOf, trainerReplicatedJob, trainJobMasterAddress, trainJobNodes, trainJobNodeTemplate, trainJobPodHost, trainJobProcPerNode,
} from '../rules/trainjob';

/** One replica type of a job, as a cluster will run it. */
export interface ReplicaSummary {
  readonly type: string;
  readonly pods: number;
  /** How many pods an elastic job runs, when it is a range, e.g. `2 to 4`. */
  readonly podRange?: string;
  /** Training processes per pod as written: a count, or `auto`/`cpu`/`gpu` when torchrun decides on the node. */
  readonly processesPerPod: string;
  /** The processes per pod as a number when it is known: written, or one per GPU for `auto` and `gpu` on CUDA GPUs. */
  readonly processCount?: number;
  readonly gpusPerPod: number;
  readonly cpuPerPod?: string;
  readonly memoryPerPod?: string;
  /** The pods' names up to their index when the controller names them so: `resnet-node-0-` for a TrainJob's nodes. */
  readonly podNamePrefix?: string;
}

/** What a resource quota must admit for an elastic job, which the range of nodes torchrun accepts does not say. */
export interface QuotaSummary {
  /** The most pods the operator runs at once, all replica types together. */
  readonly pods: number;
  readonly gpus: number;
  /** Where the Worker count comes from. */
  readonly reason: string;
}

/** What a training job will be on a cluster. */
export interface JobSummary {
  readonly kind: string;
  readonly name: string;
  readonly replicas: ReplicaSummary[];
  /** Total processes (ranks): `4`, or `4 to 8` for an elastic range; `3 × auto` when torchrun decides on the node. */
  readonly worldSize: string;
  /** Where the processes meet: `host:port` and how. */
  readonly rendezvous: string;
  readonly totalPods: string;
  readonly totalGpus: string;
  /** Elastic jobs only. */
  readonly quota?: QuotaSummary;
  /** The queue or gang scheduler the job is written for, and what it sees; undefined when the job names none. */
  readonly scheduling?: SchedulingSummary;
  /** A TrainJob's runtime, and whether the files hold it. */
  readonly runtime?: string;
}

/**
 * Summarizes a PyTorchJob, a single-node torchrun Job, or a TrainJob with its runtime.
 * @param findRuntime the runtime a TrainJob names among the objects read beside it (`runtimeFinder`)
 */
export function describeJob(job: Json, findRuntime: (job: Json) => Json | undefined = () => undefined): JobSummary {
  if (isTrainJob(job)) return describeTrainJob(job, findRuntime(job));
  const scheduling = describeScheduling(job);
  return scheduling === undefined ? describeTraining(job) : { ...describeTraining(job), scheduling };
}

/**
 * A TrainJob as Trainer v2.3 runs it: its nodes are the pods of the runtime's trainer job, which the JobSet names
 * `<job>-node-0-<rank>`, each with the processes of `PET_NPROC_PER_NODE`, meeting at node 0 on the torch plugin's port.
 * Without its runtime, what the TrainJob alone says: its trainer, and one node unless it writes `numNodes`.
 */
function describeTrainJob(job: Json, runtime: Json | undefined): JobSummary {
  const name = String(job.metadata?.name ?? '(no name)');
  const ref = runtimeRefOf(job);
  const nodes = trainJobNodes(job, runtime);
  const template = trainJobNodeTemplate(job, runtime);
  const nodeJob = trainerReplicatedJob(runtime)?.name ?? TRAINER_JOB_NAME;
  const replica: ReplicaSummary = {
    ...summarizeReplica(nodeJob, nodes, template, trainJobProcPerNode(job), TRAINER_CONTAINER_NAME),
    podNamePrefix: trainJobPodHost(name, 0).replace(/0$/, ''),
  };
  const unwritten = runtime === undefined && job.spec?.trainer?.numNodes === undefined ? ', and one node is assumed for its mlPolicy.numNodes' : '';
  const scheduling = describeTrainJobScheduling(job, runtime, nodes, template);
  return {
    kind: 'TrainJob',
    name,
    runtime: runtime ? `${ref.kind} ${String(ref.name)}`
      : `${ref.kind} ${String(ref.name)} is not in the files: described from the TrainJob alone${unwritten}`,
    replicas: [replica],
    worldSize: worldSize([replica]),
    rendezvous: `${trainJobMasterAddress(name)}:${TRAINER_MASTER_PORT} (static: PET_MASTER_ADDR and PET_NODE_RANK from the torch plugin)`,
    totalPods: String(nodes),
    totalGpus: String(nodes * replica.gpusPerPod),
    ...scheduling === undefined ? {} : { scheduling },
  };
}

function describeTraining(job: Json): JobSummary {
  const name = String(job.metadata?.name ?? '(no name)');
  if (!isPyTorchJob(job)) {
    const container = trainingContainer(job.spec?.template) ?? {};
    const nproc = torchrunFlag(commandLine(container), 'nproc_per_node') ?? '1';
    const replica = summarizeReplica('Job', 1, job.spec?.template, nproc);
    return {
      kind: 'Job',
      name,
      replicas: [replica],
      worldSize: worldSize([replica]),
      rendezvous: 'localhost (torchrun --standalone, inside the pod)',
      totalPods: '1',
      totalGpus: String(replica.gpusPerPod),
    };
  }
  const spec: Json = job.spec ?? {};
  const nproc = String(spec.nprocPerNode ?? spec.elasticPolicy?.nProcPerNode ?? 'auto');
  const replicas = Object.entries(isObject(spec.pytorchReplicaSpecs) ? spec.pytorchReplicaSpecs : {})
    .map(([type, replica]) => summarizeReplica(type, replicaCount(replica), (replica as Json)?.template, nproc));
  const pods = replicas.reduce((sum, r) => sum + r.pods, 0);
  const gpus = replicas.reduce((sum, r) => sum + r.pods * r.gpusPerPod, 0);
  const elastic: Json | undefined = isObject(spec.elasticPolicy) ? spec.elasticPolicy : undefined;
  if (!elastic) {
    return {
      kind: 'PyTorchJob',
      name,
      replicas,
      worldSize: worldSize(replicas),
      rendezvous: `${name}-master-0:${trainingPort(spec.pytorchReplicaSpecs?.Master)} (static: MASTER_ADDR and RANK from the operator)`,
      totalPods: String(pods),
      totalGpus: String(gpus),
    };
  }
  const workers = replicas.find(r => r.type === 'Worker');
  // The operator's defaults: each bound from the other, or both from the Worker count (itself 1 when omitted).
  const min = Number(elastic.minReplicas ?? elastic.maxReplicas ?? workers?.pods ?? 1);
  const max = Number(elastic.maxReplicas ?? elastic.minReplicas ?? workers?.pods ?? 1);
  const gpusPerPod = workers?.gpusPerPod ?? 0;
  const range = min === max ? undefined : `${min} to ${max}`;
  const nodes = (count: number): string => worldSize(workers ? [{ ...workers, pods: count }] : []);
  return {
    kind: 'PyTorchJob',
    name,
    replicas: replicas.map(r => (r === workers && range ? { ...r, podRange: range } : r)),
    worldSize: min === max ? nodes(min) : `${nodes(min)} to ${nodes(max)}`,
    rendezvous: `${elastic.rdzvHost ?? `${name}-worker-0`}:${elastic.rdzvPort ?? trainingPort(spec.pytorchReplicaSpecs?.Worker)} (${elastic.rdzvBackend ?? 'c10d'}, elastic)`,
    totalPods: range ?? String(max),
    totalGpus: min === max ? String(max * gpusPerPod) : `${min * gpusPerPod} to ${max * gpusPerPod}`,
    quota: elasticQuota(replicas, elastic, min, max),
  };
}

/**
 * torchrun's node range only says how many pods the training accepts: the operator creates the pods of
 * `Worker.replicas`, all of them, and with `elasticPolicy.metrics` an autoscaler moves that count between the
 * minimum and the maximum. The other replicas (a Master, which the webhook allows) run beside them.
 */
function elasticQuota(replicas: readonly ReplicaSummary[], elastic: Json, min: number, max: number): QuotaSummary {
  const workers = replicas.find(r => r.type === 'Worker');
  const written = workers?.pods ?? 0;
  // The operator creates the autoscaler whenever metrics are written, even an empty list.
  const autoscaled = elastic.metrics !== undefined && elastic.metrics !== null;
  const workerPods = autoscaled ? Math.max(written, max) : written;
  const others = replicas.filter(r => r !== workers);
  return {
    pods: workerPods + others.reduce((sum, r) => sum + r.pods, 0),
    gpus: workerPods * (workers?.gpusPerPod ?? 0) + others.reduce((sum, r) => sum + r.pods * r.gpusPerPod, 0),
    reason: autoscaled
      ? `an autoscaler scales Worker.replicas, ${written} as written, between ${min} and ${max}`
      : `the operator creates the ${written} pod(s) of Worker.replicas; without elasticPolicy.metrics nothing scales them`,
  };
}

/** The summary as a table a person reads at a glance. */
export function formatSummary(summary: JobSummary): string {
  const rows = [
    ['REPLICA', 'PODS', 'PROCESSES/POD', 'GPUS/POD', 'CPU/POD', 'MEMORY/POD'],
    ...summary.replicas.map(r => [r.type, r.podRange ?? String(r.pods), processes(r), String(r.gpusPerPod), r.cpuPerPod ?? '-', r.memoryPerPod ?? '-']),
  ];
  const table = formatTable(rows);
  const quota = summary.quota;
  return [
    `${summary.kind} ${summary.name}`,
    ...summary.runtime === undefined ? [] : [`runtime: ${summary.runtime}`],
    ...table,
    ...summary.replicas.filter(r => r.podNamePrefix !== undefined).map(r => `${r.type} pods: ${podNames(r)}`),
    `pods: ${summary.totalPods}   GPUs: ${summary.totalGpus}   world size: ${summary.worldSize}`,
    ...quota ? [`quota must admit: ${quota.pods} pods, ${quota.gpus} GPUs (${quota.reason})`] : [],
    `rendezvous: ${summary.rendezvous}`,
    ...summary.scheduling ? formatScheduling(summary.scheduling) : [],
  ].join('\n') + '\n';
}

/** Each scheduler with what it needs, then the pod sets it sees and their total. */
function formatScheduling(scheduling: SchedulingSummary): string[] {
  const podSets = formatTable([
    ['POD SET', 'PODS', 'REQUESTS/POD'],
    ...scheduling.podSets.map(p => [p.name, String(p.pods), formatQuantities(p.requestsPerPod) || '-']),
  ]);
  const total = scheduling.total;
  const admit = scheduling.schedulers.some(s => s.queues) ? 'queue quota must admit' : 'the gang needs at once';
  return [
    ...scheduling.schedulers.flatMap(s => [`scheduling: ${s.scheduler}: ${s.settings}`, `needs: ${s.needs}`]),
    ...podSets,
    `${admit}: ${[`${total.pods} ${total.pods === 1 ? 'pod' : 'pods'}`, formatQuantities(total.requests)].filter(part => part !== '').join(', ')}`,
  ];
}

/** `job-node-0-0, job-node-0-1`, or the first and the last of more than three. */
function podNames(replica: ReplicaSummary): string {
  const name = (index: number) => `${replica.podNamePrefix}${index}`;
  if (replica.pods <= 3) return Array.from({ length: replica.pods }, (_, i) => name(i)).join(', ');
  return `${name(0)}, ${name(1)}, … ${name(replica.pods - 1)}`;
}

/** `8`, or `8 (gpu)` when torchrun counts the processes from the pod's GPUs. */
function processes(replica: ReplicaSummary): string {
  const count = replica.processCount;
  return count === undefined || String(count) === replica.processesPerPod ? replica.processesPerPod : `${count} (${replica.processesPerPod})`;
}

/** A Mermaid flowchart of the pods and where they meet, for a README or a design review. */
export function formatMermaid(summary: JobSummary): string {
  const lines = ['flowchart LR', `  rdzv(["rendezvous<br/>${summary.rendezvous.split(' (')[0]}"])`];
  for (const replica of summary.replicas) {
    const id = replica.type.toLowerCase();
    const shown = Math.min(replica.pods, 3);
    for (let i = 0; i < shown; i++) {
      const podName = replica.podNamePrefix !== undefined ? `${replica.podNamePrefix}${i}`
        : replica.type === 'Job' ? `${summary.name} pod` : `${summary.name}-${id}-${i}`;
      lines.push(`  ${id}${i}["${podName}<br/>${replica.processesPerPod} process(es), ${replica.gpusPerPod} GPU(s)"] --- rdzv`);
    }
    if (replica.pods > shown) lines.push(`  ${id}more["… ${replica.pods - shown} more ${id} pod(s)"] --- rdzv`);
  }
  return lines.join('\n') + '\n';
}

function summarizeReplica(type: string, pods: number, template: unknown, nproc: string, container = TRAINING_CONTAINER_NAME): ReplicaSummary {
  const trainer = namedContainer(template, container);
  const resources: Json = isObject(trainer?.resources) ? trainer!.resources : {};
  const pick = (name: string): string | undefined => resources.limits?.[name] ?? resources.requests?.[name];
  const gpus = gpuCount(resources);
  const shown = (name: string) => (pick(name) === undefined ? undefined : String(pick(name)));
  return {
    type,
    pods,
    processesPerPod: nproc,
    processCount: processCount(nproc, resources, gpus),
    gpusPerPod: gpus,
    cpuPerPod: shown('cpu'),
    memoryPerPod: shown('memory'),
  };
}

/**
 * The devices torch.cuda counts, so that torchrun's `auto` and `gpu` start one process for each: NVIDIA GPUs and MIG
 * slices, and AMD GPUs (ROCm). On other accelerators, or none, `auto` counts the node's CPUs, which a manifest does not say.
 */
const CUDA_DEVICE = /^nvidia\.com\/(gpu$|mig-)|^amd\.com\/gpu$/;

function processCount(nproc: string, resources: Json, gpus: number): number | undefined {
  if (/^\d+$/.test(nproc)) return Number(nproc);
  if (nproc !== 'auto' && nproc !== 'gpu') return undefined;
  const cudaDevices = Math.max(...[resources.requests, resources.limits].map(list => Object.entries(isObject(list) ? list : {})
    .filter(([name]) => CUDA_DEVICE.test(name))
    .reduce((sum, [, value]) => sum + (parseQuantity(value) ?? 0), 0)));
  return cudaDevices > 0 && cudaDevices === gpus ? gpus : undefined;
}

/** Total processes when every replica's count is known; otherwise `pods × nproc`, which torchrun resolves on the node. */
function worldSize(replicas: readonly ReplicaSummary[]): string {
  if (replicas.every(r => r.processCount !== undefined)) return String(replicas.reduce((sum, r) => sum + r.pods * r.processCount!, 0));
  return `${replicas.reduce((sum, r) => sum + r.pods, 0)} × ${replicas[0].processesPerPod}`;
}

function namedContainer(template: unknown, name: string): Json | undefined {
  const containers: unknown = isObject(template) && isObject(template.spec) ? template.spec.containers : undefined;
  return Array.isArray(containers) ? containers.find((c): c is Json => isObject(c) && c.name === name) : undefined;
}
