import { spawnSync } from 'child_process';
import { isObject, Json, UnusableInputError } from '../rules/problem';
import { parseQuantity } from '../rules/quantity';

/** A kind of GPU: the resources its device plugin offers, and the variable that gives a process some of them. */
interface GpuKind {
  readonly resource: RegExp;
  readonly visibleDevices: string;
}

const GPU_KINDS: readonly GpuKind[] = [
  // MIG slices too: CUDA_VISIBLE_DEVICES takes their UUIDs.
  { resource: /^nvidia\.com\/(gpu|mig-.+)$/, visibleDevices: 'CUDA_VISIBLE_DEVICES' },
  { resource: /^amd\.com\/gpu$/, visibleDevices: 'ROCR_VISIBLE_DEVICES' },
  { resource: /^gpu\.intel\.com\/(i915|xe)$/, visibleDevices: 'ZE_AFFINITY_MASK' },
];

/**
 * What a pod that asks for no GPU is given: an empty CUDA_VISIBLE_DEVICES, with which CUDA (and ROCm's HIP, which
 * reads it too) shows no device, as a cluster's pod without a GPU limit sees none.
 */
const NO_GPU: readonly [string, string] = ['CUDA_VISIBLE_DEVICES', ''];

/**
 * Variables of the caller's shell that choose devices: the runner decides what each pod sees. HIP_VISIBLE_DEVICES
 * counts within what ROCR_VISIBLE_DEVICES leaves, so the caller's would pick from the pod's share.
 */
export const DEVICE_SELECTION_ENV: ReadonlySet<string> = new Set([...GPU_KINDS.map(kind => kind.visibleDevices), 'HIP_VISIBLE_DEVICES']);

/** The command that lists this machine's NVIDIA GPUs. */
const LIST_GPUS = ['nvidia-smi', '-L'];
const LIST_GPUS_TIMEOUT_MS = 10_000;

/** Where the GPUs a run divides come from. */
export interface GpuOptions {
  /** The GPUs to divide among the pods, as `--gpus` names them; without it, the NVIDIA GPUs `nvidia-smi -L` lists. */
  readonly gpus?: readonly string[];
  /** Run a job that asks for GPUs on CPU: no pod sees a GPU. */
  readonly cpuOnly?: boolean;
}

/** A pod and its `pytorch` container's resources, as written. */
export interface PodResources {
  readonly name: string;
  readonly resources: Json;
}

/** What each pod is given, and what to tell the user about it. */
export interface GpuAssignment {
  /** For each pod, the variable that shows it its GPUs, or hides them all. */
  readonly env: ReadonlyMap<string, readonly [string, string]>;
  /** How many GPUs each pod sees. */
  readonly counts: ReadonlyMap<string, number>;
  /** One line: which pod has which GPUs, or that a GPU job runs on CPU. */
  readonly note?: string;
}

/**
 * Divides the GPUs among the pods by their GPU limits, in pod order, as a device plugin gives each container its own
 * devices; refuses a job that needs more GPUs than there are, or that mixes kinds of GPU.
 *
 * @param job the job's kind and name, for messages
 */
export function divideGpus(job: string, pods: readonly PodResources[], options: GpuOptions): GpuAssignment {
  const demands = pods.map(pod => ({ pod: pod.name, ...gpuDemand(pod.resources) }));
  const asked = demands.filter(demand => demand.count > 0);
  const resources = [...new Set(asked.map(demand => demand.resource))];
  const kinds = [...new Set(asked.map(demand => demand.kind))];
  if (kinds.length > 1) throw new UnusableInputError(`${job} asks for ${resources.join(' and ')}: the runner gives one kind of GPU per run`);
  const total = asked.reduce((sum, demand) => sum + demand.count, 0);
  const hidden = { env: new Map(pods.map(pod => [pod.name, NO_GPU])), counts: new Map(pods.map(pod => [pod.name, 0])) };
  if (total === 0) return hidden;
  const asks = `${job} asks for ${total} ${resources.join(', ')}`;
  if (options.cpuOnly) return { ...hidden, note: `${asks}: running on CPU (--no-gpus), with no GPU in any pod` };

  const kind = kinds[0]!;
  const available = options.gpus ? { gpus: options.gpus, source: `--gpus names ${options.gpus.length}` } : listGpus(kind);
  if (available.gpus.length < total) {
    throw new UnusableInputError(`${asks}, and ${available.source}: name the GPUs with --gpus 0,1,…, or run it on CPU with --no-gpus`);
  }
  const env = new Map<string, readonly [string, string]>();
  const counts = new Map<string, number>();
  const shares: string[] = [];
  let next = 0;
  for (const demand of demands) {
    const share = available.gpus.slice(next, next + demand.count);
    next += share.length;
    env.set(demand.pod, share.length > 0 ? [kind.visibleDevices, share.join(',')] : NO_GPU);
    counts.set(demand.pod, share.length);
    if (share.length > 0) shares.push(`${demand.pod} ${share.join(',')}`);
  }
  return { env, counts, note: `GPUs (${kind.visibleDevices}): ${shares.join('; ')}` };
}

/** The GPUs `--gpus` names: IDs or UUIDs, comma-separated, each once. */
export function parseGpuList(list: string): string[] {
  const gpus = list.split(',').map(gpu => gpu.trim());
  const refuse = (why: string) => new UnusableInputError(`--gpus ${JSON.stringify(list)}: ${why}: name GPUs as nvidia-smi -L shows them, such as 0,1, or run on CPU with --no-gpus`);
  if (gpus.some(gpu => gpu === '')) throw refuse('an empty GPU ID');
  const repeated = gpus.find((gpu, i) => gpus.indexOf(gpu) !== i);
  if (repeated !== undefined) throw refuse(`${repeated} is named twice`);
  return gpus;
}

/** The GPU resource a container asks for (its limit, which a device plugin allocates by), and how many. */
function gpuDemand(resources: Json): { resource: string; kind?: GpuKind; count: number } {
  for (const list of [resources.limits, resources.requests]) {
    for (const [resource, value] of Object.entries(isObject(list) ? list : {})) {
      const kind = GPU_KINDS.find(k => k.resource.test(resource));
      const count = parseQuantity(value) ?? 0;
      if (kind && count > 0) return { resource, kind, count };
    }
  }
  return { resource: '', count: 0 };
}

/**
 * This machine's NVIDIA GPUs by UUID, which the device plugin hands out too, and which, unlike an index, means the
 * same device whatever order CUDA counts them in; a GPU split into MIG slices gives its slices instead.
 */
function listGpus(kind: GpuKind): { gpus: string[]; source: string } {
  if (kind !== GPU_KINDS[0]) return { gpus: [], source: 'the runner finds only NVIDIA GPUs by itself' };
  const command = LIST_GPUS.join(' ');
  // Found on the PATH the pods inherit, read from process.env as the runner reads the rest of their environment.
  const listed = spawnSync(LIST_GPUS[0], LIST_GPUS.slice(1), { encoding: 'utf8', timeout: LIST_GPUS_TIMEOUT_MS, env: process.env });
  if ((listed.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { gpus: [], source: `this machine has no ${LIST_GPUS[0]} to list GPUs with` };
  if (listed.error) return { gpus: [], source: `${command} cannot run (${listed.error.message})` };
  if (listed.status !== 0) {
    const why = `${listed.stdout}\n${listed.stderr}`.split('\n').map(line => line.trim()).find(line => line !== '');
    return { gpus: [], source: `${command} fails${why ? ` (${why})` : ''}` };
  }
  const gpus: Array<{ uuid: string; slices: string[] }> = [];
  for (const line of listed.stdout.split('\n')) {
    const uuid = /\(UUID: ([^)]+)\)/.exec(line)?.[1];
    if (uuid === undefined) continue;
    if (/^\s*MIG\b/.test(line)) gpus[gpus.length - 1]?.slices.push(uuid);
    else gpus.push({ uuid, slices: [] });
  }
  const devices = gpus.flatMap(gpu => (gpu.slices.length > 0 ? gpu.slices : [gpu.uuid]));
  return { gpus: devices, source: `${command} lists ${devices.length === 0 ? 'none' : devices.length}` };
}
