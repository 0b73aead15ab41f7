import { isPyTorchJob } from './manifests';
import { formatTable } from './table';
import { replicaCount, trainingPort } from '../rules/operator-env';
import { gpuCount, trainingContainer } from '../rules/pod-template';
import { isObject, Json } from '../rules/problem';
import { commandLine, torchrunFlag } from '../rules/torchrun';

/** One replica type of a job, as a cluster will run it. */
export interface ReplicaSummary {
  readonly type: string;
  readonly pods: number;
  /** How many pods an elastic job runs, when it is a range, e.g. `2 to 4`. */
  readonly podRange?: string;
  /** Training processes per pod: a count, or `auto`/`cpu`/`gpu` when torchrun decides on the node. */
  readonly processesPerPod: string;
  readonly gpusPerPod: number;
  readonly cpuPerPod?: string;
  readonly memoryPerPod?: string;
}

/** What a training job will be on a cluster. */
export interface JobSummary {
  readonly kind: string;
  readonly name: string;
  readonly replicas: ReplicaSummary[];
  /** Total processes (ranks): `4`, or `4-8` for an elastic range; with `auto`-style counts, per process per pod. */
  readonly worldSize: string;
  /** Where the processes meet: `host:port` and how. */
  readonly rendezvous: string;
  readonly totalPods: string;
  readonly totalGpus: string;
}

/** Summarizes a PyTorchJob or single-node torchrun Job. */
export function describeJob(job: Json): JobSummary {
  const name = String(job.metadata?.name ?? '(no name)');
  if (!isPyTorchJob(job)) {
    const container = trainingContainer(job.spec?.template) ?? {};
    const nproc = torchrunFlag(commandLine(container), 'nproc_per_node') ?? '1';
    const replica = summarizeReplica('Job', 1, job.spec?.template, nproc);
    return {
      kind: 'Job',
      name,
      replicas: [replica],
      worldSize: multiply(1, nproc),
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
      worldSize: multiply(pods, nproc),
      rendezvous: `${name}-master-0:${trainingPort(spec.pytorchReplicaSpecs?.Master)} (static: MASTER_ADDR and RANK from the operator)`,
      totalPods: String(pods),
      totalGpus: String(gpus),
    };
  }
  const workers = replicas.find(r => r.type === 'Worker');
  const min = Number(elastic.minReplicas ?? elastic.maxReplicas ?? workers?.pods ?? 1);
  const max = Number(elastic.maxReplicas ?? elastic.minReplicas ?? workers?.pods ?? 1);
  const gpusPerPod = workers?.gpusPerPod ?? 0;
  const range = min === max ? undefined : `${min} to ${max}`;
  return {
    kind: 'PyTorchJob',
    name,
    replicas: replicas.map(r => (r === workers && range ? { ...r, podRange: range } : r)),
    worldSize: min === max ? multiply(min, nproc) : `${multiply(min, nproc)} to ${multiply(max, nproc)}`,
    rendezvous: `${elastic.rdzvHost ?? `${name}-worker-0`}:${elastic.rdzvPort ?? trainingPort(spec.pytorchReplicaSpecs?.Worker)} (${elastic.rdzvBackend ?? 'c10d'}, elastic)`,
    totalPods: range ?? String(max),
    totalGpus: min === max ? String(max * gpusPerPod) : `${min * gpusPerPod} to ${max * gpusPerPod}`,
  };
}

/** The summary as a table a person reads at a glance. */
export function formatSummary(summary: JobSummary): string {
  const rows = [
    ['REPLICA', 'PODS', 'PROCESSES/POD', 'GPUS/POD', 'CPU/POD', 'MEMORY/POD'],
    ...summary.replicas.map(r => [r.type, r.podRange ?? String(r.pods), r.processesPerPod, String(r.gpusPerPod), r.cpuPerPod ?? '-', r.memoryPerPod ?? '-']),
  ];
  const table = formatTable(rows);
  return [
    `${summary.kind} ${summary.name}`,
    ...table,
    `pods: ${summary.totalPods}   GPUs: ${summary.totalGpus}   world size: ${summary.worldSize}`,
    `rendezvous: ${summary.rendezvous}`,
  ].join('\n') + '\n';
}

/** A Mermaid flowchart of the pods and where they meet, for a README or a design review. */
export function formatMermaid(summary: JobSummary): string {
  const lines = ['flowchart LR', `  rdzv(["rendezvous<br/>${summary.rendezvous.split(' (')[0]}"])`];
  for (const replica of summary.replicas) {
    const id = replica.type.toLowerCase();
    const shown = Math.min(replica.pods, 3);
    for (let i = 0; i < shown; i++) {
      const podName = replica.type === 'Job' ? `${summary.name} pod` : `${summary.name}-${id}-${i}`;
      lines.push(`  ${id}${i}["${podName}<br/>${replica.processesPerPod} process(es), ${replica.gpusPerPod} GPU(s)"] --- rdzv`);
    }
    if (replica.pods > shown) lines.push(`  ${id}more["… ${replica.pods - shown} more ${id} pod(s)"] --- rdzv`);
  }
  return lines.join('\n') + '\n';
}

function summarizeReplica(type: string, pods: number, template: unknown, nproc: string): ReplicaSummary {
  const resources: Json = isObject(trainingContainer(template)?.resources) ? trainingContainer(template)!.resources : {};
  const pick = (name: string): string | undefined => resources.limits?.[name] ?? resources.requests?.[name];
  const gpus = gpuCount(resources);
  const shown = (name: string) => (pick(name) === undefined ? undefined : String(pick(name)));
  return { type, pods, processesPerPod: nproc, gpusPerPod: gpus, cpuPerPod: shown('cpu'), memoryPerPod: shown('memory') };
}


/** `pods × processes`, or a formula when torchrun decides the count on the node. */
function multiply(pods: number, nproc: string): string {
  return /^\d+$/.test(nproc) ? String(pods * Number(nproc)) : `${pods} × ${nproc}`;
}
