import { isObject, isWholeNumber, Json, Problem, ProblemKind, show } from './problem';
import { parseQuantity } from './quantity';

const OPERATIONAL = ProblemKind.OPERATIONAL;

/** The container the operator trains in, and the only one it injects its port into. */
export const TRAINING_CONTAINER_NAME = 'pytorch';
/** Resources the kubelet may overcommit; any other (GPUs, devices) is an extended resource. */
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage']);
const SHARED_MEMORY_PATH = '/dev/shm';
const MAX_PORT = 65535;

/** The `pytorch` container of a pod template, whatever else the manifest holds there. */
export function trainingContainer(template: unknown): Json | undefined {
  const containers: unknown = isObject(template) && isObject(template.spec) ? template.spec.containers : undefined;
  return Array.isArray(containers) ? containers.find((c): c is Json => isObject(c) && c.name === TRAINING_CONTAINER_NAME) : undefined;
}

/** Every container needs an image: the webhook refuses a PyTorchJob without one, the API server a Job. */
export function checkImages(containers: readonly unknown[], path: string, kind: ProblemKind): Problem[] {
  return containers.flatMap((container, i) => {
    const image = isObject(container) ? container.image : undefined;
    return typeof image === 'string' && image.trim() !== ''
      ? [] : [{ path: `${path}[${i}].image`, message: `${show(image)} is empty: every container needs an image`, kind }];
  });
}

/**
 * Checks a pod template for what the API server or the kubelet refuses only when the pod is created:
 * resources, environment variables, volumes and mounts.
 *
 * @param path the template's field path, e.g. `spec.pytorchReplicaSpecs[Worker].template`
 * @param injectedEnv names the controller appends to every container, which the user must not set
 */
export function checkPodTemplate(template: unknown, path: string, injectedEnv: ReadonlySet<string>): Problem[] {
  const spec: Json = isObject(template) && isObject(template.spec) ? template.spec : {};
  const problems: Problem[] = [];
  const containers: unknown[] = Array.isArray(spec.containers) ? spec.containers : [];
  const volumes: unknown[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const volumeNames = new Set<string>();
  volumes.forEach((volume, i) => {
    const name = isObject(volume) ? volume.name : undefined;
    if (volumeNames.has(name)) {
      problems.push({ path: `${path}.spec.volumes[${i}].name`, message: `${show(name)} names two volumes: each volume needs its own name`, kind: OPERATIONAL });
    }
    volumeNames.add(name);
  });
  containers.forEach((container, i) => {
    if (!isObject(container)) return;
    const containerPath = `${path}.spec.containers[${i}]`;
    problems.push(
      ...checkResources(container.resources, `${containerPath}.resources`),
      ...checkEnv(container.env, `${containerPath}.env`, injectedEnv),
      ...checkMounts(container.volumeMounts, `${containerPath}.volumeMounts`, volumeNames),
      ...checkPorts(container.ports, `${containerPath}.ports`),
    );
  });
  return problems;
}

function checkResources(resources: unknown, path: string): Problem[] {
  if (!isObject(resources)) return [];
  const requests: Json = isObject(resources.requests) ? resources.requests : {};
  const limits: Json = isObject(resources.limits) ? resources.limits : {};
  const problems: Problem[] = [];
  for (const [list, values] of [['requests', requests], ['limits', limits]] as const) {
    for (const [name, value] of Object.entries(values)) {
      const quantity = parseQuantity(value);
      if (quantity === undefined) {
        problems.push({ path: `${path}.${list}[${name}]`, message: `${show(value)} is not a Kubernetes quantity (such as 4, 500m or 16Gi)`, kind: OPERATIONAL });
      } else if (quantity < 0) {
        problems.push({ path: `${path}.${list}[${name}]`, message: `${show(value)} is negative: a resource quantity must be at least 0`, kind: OPERATIONAL });
      } else if (isExtendedResource(name) && !Number.isInteger(quantity)) {
        problems.push({ path: `${path}.${list}[${name}]`, message: `${show(value)} is not a whole number: ${name} is counted in whole devices`, kind: OPERATIONAL });
      }
    }
  }
  for (const [name, request] of Object.entries(requests)) {
    const requested = parseQuantity(request);
    const limit = limits[name];
    const limited = parseQuantity(limit);
    if (requested === undefined) continue;
    if (isExtendedResource(name)) {
      if (requested !== limited) {
        problems.push({
          path: `${path}.requests[${name}]`,
          message: `${show(request)} differs from limits[${name}] ${show(limit)}: an extended resource such as a GPU must have a limit equal to its request`,
          kind: OPERATIONAL,
        });
      }
    } else if (limited !== undefined && requested > limited) {
      problems.push({ path: `${path}.requests[${name}]`, message: `${show(request)} is above its limit ${show(limit)}: a request may not exceed its limit`, kind: OPERATIONAL });
    }
  }
  return problems;
}

function checkEnv(env: unknown, path: string, injected: ReadonlySet<string>): Problem[] {
  if (!Array.isArray(env)) return [];
  const problems: Problem[] = [];
  const seen = new Set<unknown>();
  env.forEach((variable, i) => {
    const name = isObject(variable) ? variable.name : undefined;
    if (seen.has(name)) {
      problems.push({ path: `${path}[${i}].name`, message: `${show(name)} is set twice: each environment variable may be set once`, kind: OPERATIONAL });
    } else if (injected.has(name)) {
      problems.push({ path: `${path}[${i}].name`, message: `${show(name)} is set by the training operator, which appends its own value after yours: remove it`, kind: OPERATIONAL });
    }
    seen.add(name);
  });
  return problems;
}

function checkMounts(mounts: unknown, path: string, volumeNames: ReadonlySet<string>): Problem[] {
  if (!Array.isArray(mounts)) return [];
  const problems: Problem[] = [];
  const paths = new Set<unknown>();
  mounts.forEach((mount, i) => {
    if (!isObject(mount)) return;
    if (paths.has(mount.mountPath)) {
      problems.push({
        path: `${path}[${i}].mountPath`,
        message: mount.mountPath === SHARED_MEMORY_PATH
          ? `${show(mount.mountPath)} is already the shared-memory mount: turn shared memory off (SharedMemory.disabled()) to mount your own volume there`
          : `${show(mount.mountPath)} is mounted twice: each path takes one volume`,
        kind: OPERATIONAL,
      });
    }
    paths.add(mount.mountPath);
    if (!volumeNames.has(mount.name)) {
      problems.push({ path: `${path}[${i}].name`, message: `${show(mount.name)} is not a volume of the pod`, kind: OPERATIONAL });
    }
  });
  return problems;
}

function checkPorts(ports: unknown, path: string): Problem[] {
  if (!Array.isArray(ports)) return [];
  return ports.flatMap((port, i) => {
    const number = isObject(port) ? port.containerPort : undefined;
    return isWholeNumber(number, 1) && number <= MAX_PORT ? [] : [{
      path: `${path}[${i}].containerPort`,
      message: `${show(number)} is not a port: use a whole number from 1 to ${MAX_PORT}`,
      kind: OPERATIONAL,
    }];
  });
}

/**
 * Several processes in one pod share `/dev/shm`; the container runtime's own is 64 MiB, which DataLoader
 * workers and NCCL exhaust. A memory-backed volume must be mounted there.
 */
export function checkSharedMemory(template: unknown, containerIndex: number, processes: number, path: string): Problem[] {
  if (processes <= 1) return [];
  const spec: Json = isObject(template) && isObject(template.spec) ? template.spec : {};
  const container: Json = spec.containers?.[containerIndex] ?? {};
  const mount = (Array.isArray(container.volumeMounts) ? container.volumeMounts : [])
    .find((m: Json) => isObject(m) && m.mountPath === SHARED_MEMORY_PATH);
  const volume = mount && (Array.isArray(spec.volumes) ? spec.volumes : []).find((v: Json) => isObject(v) && v.name === mount.name);
  if (isObject(volume) && (volume.emptyDir?.medium === 'Memory' || volume.hostPath?.path === SHARED_MEMORY_PATH)) return [];
  return [{
    path: `${path}.spec.containers[${containerIndex}].volumeMounts`,
    message: `has no memory-backed volume at ${SHARED_MEMORY_PATH} while ${processes} processes share the pod: the runtime's 64 MiB is too small for DataLoader workers and NCCL`,
    kind: OPERATIONAL,
  }];
}

/** Accelerator resources: NVIDIA and AMD GPUs and MIG slices, Intel GPUs, Gaudi and Neuron devices. */
const ACCELERATOR = /gpu|^nvidia\.com\/|^amd\.com\/|^habana\.ai\/|^aws\.amazon\.com\/neuron/;

/** Accelerators (GPUs and the like) a container is given: the most of its requests and limits. */
export function gpuCount(resources: unknown): number {
  if (!isObject(resources)) return 0;
  const counts = [resources.requests, resources.limits].map(list => Object.entries(isObject(list) ? list : {})
    .filter(([name]) => ACCELERATOR.test(name))
    .reduce((sum, [, value]) => sum + (parseQuantity(value) ?? 0), 0));
  return Math.max(...counts);
}

function isExtendedResource(name: string): boolean {
  return !STANDARD_RESOURCES.has(name) && !name.startsWith('hugepages-');
}
