import { cpus, totalmem } from 'os';
import { isTrainJob, LoadedManifest } from './manifests';
import { PodPlan } from './plan';
import { checkManifest } from './validate';
import { replicaCount } from '../rules/operator-env';
import { formatProblem, isError, isObject, Json, severityOf, UnusableInputError } from '../rules/problem';
import { parseQuantity } from '../rules/quantity';
import { CrdSchema } from '../rules/schema';
import { torchrunArgsStart, torchrunFlag } from '../rules/torchrun';
import { trainJobNodes } from '../rules/trainjob';

/** The most pods a node runs: the kubelet's default `maxPods`. The whole job runs on this one machine. */
export const MAX_PODS = 110;

/**
 * Memory counted for each process of the world: a process that imports torch takes about 224 MiB before it trains
 * (Debian's torch 1.13 on CPU), so a machine holds at most its memory over this many processes.
 */
export const MEMORY_PER_PROCESS = 256 * 2 ** 20;

/** Problems shown when the rules refuse a job: enough to see why; `kfpytorch validate` lists them all. */
const MAX_PROBLEMS_SHOWN = 10;

/**
 * Applies the rules and the schema of `kfpytorch validate` to the job: each problem is written as one line, and errors
 * refuse the job.
 * @param runtime the runtime a TrainJob names, when the files hold it
 */
export function checkJobRules(job: LoadedManifest, write: (line: string) => void, runtime?: Json): void {
  const problems = checkManifest(job.manifest, CrdSchema.bundled(), () => runtime) ?? [];
  const errors = problems.filter(isError);
  const shown = errors.length > 0 ? errors : problems;
  for (const problem of shown.slice(0, MAX_PROBLEMS_SHOWN)) {
    write(`${job.file}:${job.document}: ${formatProblem(problem)} (${problem.kind}, ${severityOf(problem)})`);
  }
  if (shown.length > MAX_PROBLEMS_SHOWN) write(`${job.file}:${job.document}: ${shown.length - MAX_PROBLEMS_SHOWN} more (kfpytorch validate lists them all)`);
  if (errors.length > 0) throw new UnusableInputError(`${jobLabel(job.manifest)}: ${errors.length} error(s): nothing was started`);
}

/** Refuses a job of more pods than a node runs, before they are planned (`replicas: 1e9` would fill the memory). */
export function checkPodCount(job: Json, runtime?: Json): void {
  const replicaSpecs = isObject(job.spec?.pytorchReplicaSpecs) ? job.spec.pytorchReplicaSpecs : undefined;
  const pods = isTrainJob(job) ? trainJobNodes(job, runtime)
    : replicaSpecs ? Object.values(replicaSpecs).reduce((sum: number, replica) => sum + replicaCount(replica), 0) : 1;
  if (pods > MAX_PODS) {
    throw new UnusableInputError(`${jobLabel(job)} has ${pods} pods, and a node runs at most ${MAX_PODS} (the kubelet's default maxPods): `
      + 'the runner runs every pod on this machine');
  }
}

/**
 * Refuses a world of more processes than this machine's memory holds at MEMORY_PER_PROCESS each.
 *
 * @param gpus how many GPUs each pod sees, from which torchrun's `auto` and `gpu` count its processes
 */
export function checkWorldSize(job: Json, pods: readonly PodPlan[], gpus: ReadonlyMap<string, number>): void {
  const world = pods.reduce((sum, pod) => sum + processes(pod, gpus.get(pod.name) ?? 0), 0);
  const most = Math.floor(totalmem() / MEMORY_PER_PROCESS);
  if (world > most) {
    throw new UnusableInputError(`${jobLabel(job)} starts ${world} processes, and this machine's ${gib(totalmem())} holds at most ${most}, `
      + `at ${MEMORY_PER_PROCESS / 2 ** 20} MiB each (a process that imports torch takes about that before it trains)`);
  }
}

/** One line when the pods' CPU or memory requests add up to more than this machine has: they run all the same. */
export function resourceNote(pods: readonly PodPlan[]): string | undefined {
  const requested = (resource: string) => pods.reduce((sum, pod) => sum + request(pod.resources, resource), 0);
  const cpu = requested('cpu');
  const memory = requested('memory');
  const over = [
    ...cpu > cpus().length ? [{ requested: `${Number(cpu.toFixed(3))} CPUs`, available: `${cpus().length} CPUs` }] : [],
    ...memory > totalmem() ? [{ requested: `${gib(memory)} of memory`, available: gib(totalmem()) }] : [],
  ];
  if (over.length === 0) return undefined;
  const list = (key: 'requested' | 'available') => over.map(resource => resource[key]).join(' and ');
  return `note: the pods request ${list('requested')}, and this machine has ${list('available')}: they share what there is`;
}

/** `PyTorchJob mnist`, as messages name a job. */
export function jobLabel(job: Json): string {
  return `${job.kind} ${job.metadata?.name ?? '(no name)'}`;
}

/** The processes a pod starts: torchrun's count (its `auto` and `cpu` count this machine's CPUs), or one. */
function processes(pod: PodPlan, gpus: number): number {
  if (torchrunArgsStart(pod.argv) === undefined) return 1;
  const nproc = torchrunFlag(pod.argv, 'nproc_per_node') ?? pod.env.filter(([name]) => name === 'PET_NPROC_PER_NODE').pop()?.[1] ?? '1';
  if (/^\d+$/.test(nproc)) return Number(nproc);
  if (nproc === 'gpu' || (nproc === 'auto' && gpus > 0)) return gpus;
  return cpus().length;
}

/** A container's request of a resource, which the limit stands for when only the limit is written. */
function request(resources: Json, resource: string): number {
  const requests = isObject(resources.requests) ? resources.requests : {};
  const limits = isObject(resources.limits) ? resources.limits : {};
  return parseQuantity(requests[resource] ?? limits[resource]) ?? 0;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
