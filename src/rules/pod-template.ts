import {
  ALL_CAPABILITIES, CAPABILITY_PREFIX, CONTAINER_RESTART_POLICIES, DEFAULT_PROTOCOL, HUGEPAGES_PREFIX, LINUX_CAPABILITIES,
  SHARED_MEMORY_PATH, SIDECAR_RESTART_POLICY, TRAINING_CONTAINER_NAME,
} from './facts';
import { checkDns1123Label, checkEnvName, checkImageReference, checkLabels, checkMetadataMaps } from './names';
import { append, isObject, isWholeNumber, Json, Problem, ProblemKind, Severity, show } from './problem';
import { parseQuantity } from './quantity';

const OPERATIONAL = ProblemKind.OPERATIONAL;

/** Resources a request may overcommit; hugepages may not, and any other (GPUs, devices) is an extended resource. */
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage']);
const MAX_PORT = 65535;
const CAPABILITIES = new Set(LINUX_CAPABILITIES);
/** The lists of a container's capabilities, in the order they are checked. */
const CAPABILITY_LISTS = ['add', 'drop'] as const;

/** The `pytorch` container of a pod template, whatever else the manifest holds there. */
export function trainingContainer(template: unknown): Json | undefined {
  const containers: unknown = isObject(template) && isObject(template.spec) ? template.spec.containers : undefined;
  if (!Array.isArray(containers)) return undefined;
  for (let i = 0; i < containers.length; i++) {
    if (isObject(containers[i]) && containers[i].name === TRAINING_CONTAINER_NAME) return containers[i];
  }
  return undefined;
}

/** Every container needs an image: the webhook refuses a PyTorchJob without one, the API server a Job. */
export function checkImages(containers: readonly unknown[], path: string, kind: ProblemKind): Problem[] {
  const problems: Problem[] = [];
  for (let i = 0; i < containers.length; i++) {
    const container = containers[i];
    append(problems, checkImage(isObject(container) ? container.image : undefined, `${path}[${i}].image`, kind));
  }
  return problems;
}

/** The webhook refuses only an empty image; a malformed one fails when the pod is created, or in the kubelet. */
function checkImage(image: unknown, path: string, kind: ProblemKind): Problem[] {
  if (typeof image !== 'string' || image.trim() === '') return [{ path, message: `${show(image)} is empty: every container needs an image`, kind }];
  return checkImageReference(image, path, OPERATIONAL);
}

/** What the controller adds to the pods it creates from a template, besides what the template says. */
export interface PodAdditions {
  /** The operator's `init-pytorch`, which it appends to the init containers of Worker pods in a job with a Master. */
  readonly initContainers?: readonly string[];
  /** Ports the controller gives a container, by container name (the operator's default `pytorchjob-port`). */
  readonly ports?: { readonly [container: string]: readonly Json[] };
  /**
   * Leave the names of the regular containers unchecked: the webhook already refuses the replica for having no
   * container named `pytorch`, and renaming one of them is the fix that message asks for.
   */
  readonly containerNamesReported?: boolean;
}

/** The variables a controller appends to a pod's regular containers: each name with the distinct values it takes in the pods. */
export type InjectedEnv = ReadonlyMap<string, readonly string[]>;

/** For containers nothing is appended to: init containers, a Job's. */
export const NO_INJECTED_ENV: InjectedEnv = new Map();

/** One container of a pod, regular or init, with where it is written. */
interface PodContainer {
  readonly container: Json;
  readonly path: string;
  readonly init: boolean;
}

/**
 * Checks a pod template for what the API server or the kubelet refuses only when the pod is created:
 * container names, resources, environment variables, volumes and mounts, ports, restart policies and
 * capabilities, of the containers and the init containers alike.
 *
 * @param path the template's field path, e.g. `spec.pytorchReplicaSpecs[Worker].template`
 * @param injectedEnv what the controller appends to every regular container: each name with the values it takes
 * in the pods of the template
 * @param additions what the controller adds to the pod besides
 */
export function checkPodTemplate(template: unknown, path: string, injectedEnv: InjectedEnv, additions: PodAdditions = {}): Problem[] {
  const spec: Json = isObject(template) && isObject(template.spec) ? template.spec : {};
  const problems: Problem[] = isObject(template) ? checkMetadataMaps(template.metadata, `${path}.metadata`, OPERATIONAL) : [];
  append(problems, checkLabels(spec.nodeSelector, `${path}.spec.nodeSelector`, 'node selector', OPERATIONAL));
  const volumes: unknown[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const volumeNames = new Set<string>();
  for (let i = 0; i < volumes.length; i++) {
    const volume = volumes[i];
    const name = isObject(volume) ? volume.name : undefined;
    if (volumeNames.has(name)) {
      problems.push({ path: `${path}.spec.volumes[${i}].name`, message: `${show(name)} names two volumes: each volume needs its own name`, kind: OPERATIONAL });
    } else {
      append(problems, checkDns1123Label(name, `${path}.spec.volumes[${i}].name`, OPERATIONAL));
    }
    volumeNames.add(name);
  }
  const containers = podContainers(spec, path);
  for (let c = 0; c < containers.length; c++) {
    const { container, path: containerPath, init } = containers[c];
    // The callers check the images of the regular containers: the webhook refuses a PyTorchJob without one.
    if (init) append(problems, checkImage(container.image, `${containerPath}.image`, OPERATIONAL));
    append(problems, checkContainerName(container.name, `${containerPath}.name`, init, additions));
    append(problems, checkResources(container.resources, `${containerPath}.resources`));
    append(problems, checkEnv(container.env, `${containerPath}.env`, init ? NO_INJECTED_ENV : injectedEnv));
    append(problems, checkMounts(container.volumeMounts, `${containerPath}.volumeMounts`, volumeNames));
    append(problems, checkPorts(container.ports, `${containerPath}.ports`));
    if (!init) append(problems, checkHostNetworkPorts(spec.hostNetwork, container.ports, `${containerPath}.ports`));
    append(problems, checkContainerRestartPolicy(container.restartPolicy, `${containerPath}.restartPolicy`));
    append(problems, checkCapabilities(container.securityContext, `${containerPath}.securityContext.capabilities`));
  }
  append(problems, checkUniqueNames(containers, additions));
  append(problems, checkSharedPorts(containers, additions));
  return problems;
}

/** The regular containers, then the init containers, of a pod spec. */
function podContainers(spec: Json, path: string): PodContainer[] {
  const containers: PodContainer[] = [];
  for (const field of CONTAINER_FIELDS) {
    const list: unknown[] = Array.isArray(spec[field]) ? spec[field] : [];
    for (let index = 0; index < list.length; index++) {
      const container = list[index];
      if (isObject(container)) containers.push({ container, path: `${path}.spec.${field}[${index}]`, init: field === 'initContainers' });
    }
  }
  return containers;
}

/** The fields of a pod spec that hold containers, regular ones first. */
const CONTAINER_FIELDS = ['containers', 'initContainers'] as const;

function describeContainer({ container, init }: PodContainer): string {
  return `${init ? 'init container' : 'container'} ${show(container.name)}`;
}

/** A native sidecar: an init container that restarts always and so runs beside the main containers. */
function isSidecar(entry: PodContainer): boolean {
  return entry.init && entry.container.restartPolicy === SIDECAR_RESTART_POLICY;
}

/** Container names are DNS-1123 labels, as the API server requires. */
function checkContainerName(name: unknown, path: string, init: boolean, additions: PodAdditions): Problem[] {
  if (!init && additions.containerNamesReported) return [];
  return checkDns1123Label(name, path, OPERATIONAL);
}

/** The API server refuses a pod whose containers and init containers share a name, theirs or one the controller adds. */
function checkUniqueNames(containers: readonly PodContainer[], additions: PodAdditions): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<unknown>();
  for (let c = 0; c < containers.length; c++) {
    const { container, path } = containers[c];
    if (typeof container.name !== 'string') continue;
    if (seen.has(container.name)) {
      problems.push({ path: `${path}.name`, message: `${show(container.name)} names two containers: the containers and init containers of a pod each need their own name`, kind: OPERATIONAL });
    } else if (additions.initContainers?.includes(container.name)) {
      problems.push({
        path: `${path}.name`,
        message: `${show(container.name)} is the name of the init container the operator adds to Worker pods of a job with a Master: choose another name`,
        kind: OPERATIONAL,
      });
    }
    seen.add(container.name);
  }
  return problems;
}

/** The lists of a container's resources, in the order they are checked. */
const RESOURCE_LISTS = ['requests', 'limits'] as const;

/**
 * A container's requests and limits as the API server takes them: quantities, whole devices and pages, and extended
 * resources and hugepages with a limit equal to the request.
 */
export function checkResources(resources: unknown, path: string): Problem[] {
  if (!isObject(resources)) return [];
  const requests: Json = isObject(resources.requests) ? resources.requests : {};
  const limits: Json = isObject(resources.limits) ? resources.limits : {};
  const problems: Problem[] = [];
  for (const list of RESOURCE_LISTS) {
    const values = list === 'requests' ? requests : limits;
    for (const name of Object.keys(values)) {
      const value = values[name];
      const quantity = parseQuantity(value);
      const pageSize = hugePageSize(name);
      if (quantity === undefined) {
        problems.push({ path: `${path}.${list}[${name}]`, message: `${show(value)} is not a Kubernetes quantity (such as 4, 500m or 16Gi)`, kind: OPERATIONAL });
      } else if (quantity < 0) {
        problems.push({ path: `${path}.${list}[${name}]`, message: `${show(value)} is negative: a resource quantity must be at least 0`, kind: OPERATIONAL });
      } else if (isExtendedResource(name) && !Number.isInteger(quantity)) {
        problems.push({ path: `${path}.${list}[${name}]`, message: `${show(value)} is not a whole number: ${name} is counted in whole devices`, kind: OPERATIONAL });
      } else if (pageSize !== undefined && Math.ceil(quantity) % pageSize !== 0) {
        problems.push({
          path: `${path}.${list}[${name}]`,
          message: `${show(value)} is not a whole number of ${name.slice(HUGEPAGES_PREFIX.length)} pages: ${name} is allocated in whole pages`,
          kind: OPERATIONAL,
        });
      }
    }
  }
  for (const name of Object.keys(requests)) {
    const request = requests[name];
    const requested = parseQuantity(request);
    const limit = limits[name];
    const limited = parseQuantity(limit);
    if (requested === undefined) continue;
    if (isExtendedResource(name) || isHugePages(name)) {
      // Neither can be overcommitted: the API server wants the limit written, and equal.
      if (requested !== limited) {
        problems.push({
          path: `${path}.requests[${name}]`,
          message: `${show(request)} differs from limits[${name}] ${show(limit)}: ${isHugePages(name)
            ? 'hugepages must have a limit equal to their request'
            : 'an extended resource such as a GPU must have a limit equal to its request'}`,
          kind: OPERATIONAL,
        });
      }
    } else if (limited !== undefined && requested > limited) {
      problems.push({ path: `${path}.requests[${name}]`, message: `${show(request)} is above its limit ${show(limit)}: a request may not exceed its limit`, kind: OPERATIONAL });
    }
  }
  const hugePages = Object.keys(requests).find(isHugePages) ?? Object.keys(limits).find(isHugePages);
  if (hugePages !== undefined && !['cpu', 'memory'].some(name => name in requests || name in limits)) {
    problems.push({
      path,
      message: `has ${hugePages} but requests or limits neither cpu nor memory: the API server refuses hugepages without cpu or memory`,
      kind: OPERATIONAL,
    });
  }
  return problems;
}

/**
 * A variable set twice takes the last value, which is rarely what the first one meant. The operator appends its own
 * after the user's: the same value it would give is harmless (manifests often set `PYTHONUNBUFFERED=1` themselves),
 * another one is silently replaced.
 */
function checkEnv(env: unknown, path: string, injected: InjectedEnv): Problem[] {
  if (!Array.isArray(env)) return [];
  const problems: Problem[] = [];
  const seen = new Set<unknown>();
  env.forEach((variable, i) => {
    const name = isObject(variable) ? variable.name : undefined;
    const operatorValues = injected.get(name);
    const at = `${path}[${i}].name`;
    if (seen.has(name)) {
      problems.push({ path: at, message: `${show(name)} is set twice: each environment variable may be set once`, kind: OPERATIONAL });
    } else if (operatorValues !== undefined && !(operatorValues.length === 1 && operatorValues[0] === variable.value)) {
      problems.push({
        path: at,
        message: `${show(name)} is set by the training operator, which appends ${showValues(operatorValues)} after yours, and the last value wins: remove it`,
        kind: OPERATIONAL,
        severity: Severity.WARNING,
      });
    } else {
      problems.push(...checkEnvName(name, at, OPERATIONAL));
    }
    seen.add(name);
  });
  return problems;
}

function showValues(values: readonly string[]): string {
  return values.length === 1 ? show(values[0]) : `its own value (${values.map(show).join(', ')} in the pods)`;
}

function checkMounts(mounts: unknown, path: string, volumeNames: ReadonlySet<string>): Problem[] {
  if (!Array.isArray(mounts)) return [];
  const problems: Problem[] = [];
  const paths = new Set<unknown>();
  mounts.forEach((mount, i) => {
    if (!isObject(mount)) return;
    if (typeof mount.mountPath !== 'string' || mount.mountPath === '') {
      problems.push({ path: `${path}[${i}].mountPath`, message: `${show(mount.mountPath)} is empty: a mount needs the path it is mounted at`, kind: OPERATIONAL });
    } else if (paths.has(mount.mountPath)) {
      problems.push({
        path: `${path}[${i}].mountPath`,
        message: `${show(mount.mountPath)} is mounted twice: each path takes one volume${mount.mountPath === SHARED_MEMORY_PATH
          ? ' (a job built with the constructs mounts its shared memory there unless given SharedMemory.disabled())' : ''}`,
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
  const problems: Problem[] = [];
  if (!Array.isArray(ports)) return problems;
  for (let i = 0; i < ports.length; i++) {
    const number = isObject(ports[i]) ? ports[i].containerPort : undefined;
    if (isWholeNumber(number, 1) && number <= MAX_PORT) continue;
    problems.push({ path: `${path}[${i}].containerPort`, message: `${show(number)} is not a port: use a whole number from 1 to ${MAX_PORT}`, kind: OPERATIONAL });
  }
  return problems;
}

/**
 * With the host's network, the API server takes a hostPort only when it equals the containerPort, or is left out (or 0),
 * when it is set to the containerPort. It checks the regular containers only.
 */
function checkHostNetworkPorts(hostNetwork: unknown, ports: unknown, path: string): Problem[] {
  if (hostNetwork !== true || !Array.isArray(ports)) return [];
  const differs = (port: Json) => port.hostPort !== undefined && port.hostPort !== 0 && port.hostPort !== port.containerPort;
  return ports.flatMap((port, i) => (isObject(port) && differs(port) ? [{
    path: `${path}[${i}].hostPort`,
    message: `${show(port.hostPort)} differs from containerPort ${show(port.containerPort)}: with hostNetwork the API server requires hostPort to equal containerPort (or to be left out)`,
    kind: OPERATIONAL,
  }] : []));
}

/**
 * A container's own restart policy. `Always` on an init container makes it a native sidecar (Kubernetes 1.29 and later);
 * from 1.35 (ContainerRestartRules, on by default) every container also takes `OnFailure` and `Never`, and a regular
 * container `Always`. Before 1.35 the API server refuses those, but the rules cannot tell the cluster's version, so only
 * a value that no version takes is reported.
 */
function checkContainerRestartPolicy(policy: unknown, path: string): Problem[] {
  if (policy === undefined || CONTAINER_RESTART_POLICIES.includes(policy as string)) return [];
  return [{ path, message: `${show(policy)} is not a container restart policy: use ${listOf(CONTAINER_RESTART_POLICIES)}`, kind: OPERATIONAL }];
}

/**
 * Capability names as the container runtimes read them: containerd and CRI-O upper-case the name and put `CAP_` before
 * it, so any case works, and `ALL` (any case) means every capability. CRI-O leaves a name that has the prefix alone,
 * but containerd puts `CAP_` before it all the same (`CAP_CAP_IPC_LOCK`), which runc ignores or refuses: only a name
 * without the prefix works on both.
 */
function checkCapabilities(securityContext: unknown, path: string): Problem[] {
  if (!isObject(securityContext) || !isObject(securityContext.capabilities)) return [];
  const capabilities = securityContext.capabilities;
  const problems: Problem[] = [];
  for (const list of CAPABILITY_LISTS) {
    const names: unknown = capabilities[list];
    if (!Array.isArray(names)) continue;
    for (let i = 0; i < names.length; i++) {
      const name: unknown = names[i];
      const at = `${path}.${list}[${i}]`;
      const upper = typeof name === 'string' ? name.toUpperCase() : undefined;
      const bare = upper?.startsWith(CAPABILITY_PREFIX) ? upper.slice(CAPABILITY_PREFIX.length) : upper;
      if (bare === undefined || !(CAPABILITIES.has(bare) || bare === ALL_CAPABILITIES)) {
        problems.push({ path: at, message: `${show(name)} is not a Linux capability: use a name such as "IPC_LOCK" or "SYS_NICE"`, kind: OPERATIONAL });
      } else if (bare !== upper) {
        problems.push({
          path: at,
          message: `${show(name)} has the ${CAPABILITY_PREFIX} prefix, which containerd adds again (${show(CAPABILITY_PREFIX + upper)}, a name the runtime does not know): write ${show(bare)}`,
          kind: OPERATIONAL,
        });
      }
    }
  }
  return problems;
}

/**
 * The containers of a pod share one network namespace: two that run at the same time cannot both listen on a port
 * and protocol. Regular containers and native sidecars run together; a regular init container runs alone, beside the
 * sidecars started before it.
 */
function checkSharedPorts(containers: readonly PodContainer[], additions: PodAdditions): Problem[] {
  const problems: Problem[] = [];
  const taken: PortUse[] = [];
  for (const init of INIT_CONTAINERS_FIRST) {
    for (const entry of containers) {
      if (entry.init !== init) continue;
      const earlier = taken.length;
      const declared: unknown = entry.container.ports;
      if (Array.isArray(declared)) for (let index = 0; index < declared.length; index++) addPortUse(taken, entry, declared[index], index);
      const implied = typeof entry.container.name === 'string' ? additions.ports?.[entry.container.name] : undefined;
      if (implied !== undefined) for (const port of implied) addPortUse(taken, entry, port, undefined);
      for (let own = earlier; own < taken.length; own++) {
        const use = taken[own];
        const other = taken.find((t, at) => at < earlier && t.key === use.key && runTogether(t.entry, entry));
        // Reported at the port the manifest declares; the operator's own port is not written there.
        const [at, by] = use.index !== undefined ? [use, other] : [other, use];
        if (other && at?.index !== undefined && by) {
          problems.push({
            path: `${at.entry.path}.ports[${at.index}].containerPort`,
            message: `${use.key} is also ${by.index === undefined ? 'the port the operator gives' : 'declared by'} ${describeContainer(by.entry)}: the containers of a pod share one network namespace, so only one of them can listen on it`,
            kind: OPERATIONAL,
          });
        }
      }
    }
  }
  return problems;
}

/** The order containers start in: the init containers, then the regular ones. */
const INIT_CONTAINERS_FIRST = [true, false];

/** A port a container listens on: declared at `index` of its ports, or (index undefined) given by the controller. */
interface PortUse {
  readonly entry: PodContainer;
  readonly key: string;
  readonly index?: number;
}

function addPortUse(taken: PortUse[], entry: PodContainer, port: unknown, index: number | undefined): void {
  if (!isObject(port) || !isWholeNumber(port.containerPort, 1) || port.containerPort > MAX_PORT) return;
  taken.push({ entry, key: `${port.containerPort}/${port.protocol ?? DEFAULT_PROTOCOL}`, index });
}

/** Whether a container runs at the same time as one started after it: a regular init container ends first. */
function runTogether(earlier: PodContainer, later: PodContainer): boolean {
  return earlier !== later && (!earlier.init || isSidecar(earlier));
}

function listOf(values: readonly string[]): string {
  return `${values.slice(0, -1).map(show).join(', ')} or ${show(values[values.length - 1])}`;
}

/**
 * Several processes in one pod share `/dev/shm`; the container runtime's own is 64 MiB. NCCL between GPU processes
 * fails on it (a bus error, or `unhandled system error`), so that is an error; processes on CPUs over gloo run, only
 * DataLoader workers may exhaust it, so that is a warning.
 */
export function checkSharedMemory(template: unknown, containerIndex: number, processes: number, path: string): Problem[] {
  if (processes <= 1) return [];
  const spec: Json = isObject(template) && isObject(template.spec) ? template.spec : {};
  const container: Json = spec.containers?.[containerIndex] ?? {};
  const mount = (Array.isArray(container.volumeMounts) ? container.volumeMounts : [])
    .find((m: Json) => isObject(m) && m.mountPath === SHARED_MEMORY_PATH);
  const volume = mount && (Array.isArray(spec.volumes) ? spec.volumes : []).find((v: Json) => isObject(v) && v.name === mount.name);
  if (isObject(volume) && (volume.emptyDir?.medium === 'Memory' || volume.hostPath?.path === SHARED_MEMORY_PATH)) return [];
  const at = `${path}.spec.containers[${containerIndex}].volumeMounts`;
  return gpuCount(container.resources) > 0 ? [{
    path: at,
    message: `has no memory-backed volume at ${SHARED_MEMORY_PATH} while ${processes} GPU processes share the pod: NCCL fails on the runtime's 64 MiB`,
    kind: OPERATIONAL,
  }] : [{
    path: at,
    message: `has no memory-backed volume at ${SHARED_MEMORY_PATH} while ${processes} processes share the pod: DataLoader workers may exhaust the runtime's 64 MiB`,
    kind: OPERATIONAL,
    severity: Severity.WARNING,
  }];
}

/**
 * Accelerator resources: GPUs of any vendor (`nvidia.com/gpu`, `amd.com/gpu`, `gpu.intel.com/i915`, renamed shares such
 * as `nvidia.com/gpu.shared`), MIG slices, Gaudi and Neuron devices; not the other devices those vendors' plugins
 * advertise, such as `nvidia.com/hostdev` RDMA NICs.
 */
const ACCELERATOR = /(^|[/.])gpu([.-]|$)|^nvidia\.com\/mig-|^habana\.ai\/gaudi|^aws\.amazon\.com\/neuron/;

/**
 * How many processes torchrun starts in a pod: a count as given; with `auto` or `gpu` one per GPU the container is
 * given (`auto` on a pod without one counts its CPUs, which a manifest does not say: one is assumed).
 */
export function processesPerPod(nproc: unknown, container: Json): number {
  const text = String(nproc);
  if (/^\d+$/.test(text)) return Number(text);
  return text === 'auto' || text === 'gpu' ? Math.max(1, gpuCount(container.resources)) : 1;
}

/** Accelerators (GPUs and the like) a container is given: the most of its requests and limits. */
export function gpuCount(resources: unknown): number {
  if (!isObject(resources)) return 0;
  return Math.max(acceleratorCount(resources.requests), acceleratorCount(resources.limits));
}

function acceleratorCount(values: unknown): number {
  let count = 0;
  if (!isObject(values)) return count;
  for (const name of Object.keys(values)) if (ACCELERATOR.test(name)) count += parseQuantity(values[name]) ?? 0;
  return count;
}

/** Devices and the like (a GPU): not overcommittable, counted in whole units. */
function isExtendedResource(name: string): boolean {
  return !STANDARD_RESOURCES.has(name) && !isHugePages(name);
}

/** Huge pages (`hugepages-2Mi`): not overcommittable, allocated in whole pages of the size the name gives. */
export function isHugePages(name: string): boolean {
  return name.startsWith(HUGEPAGES_PREFIX);
}

/** The page size in bytes that a `hugepages-<size>` resource names; undefined for other resources or an unreadable size. */
function hugePageSize(name: string): number | undefined {
  if (!isHugePages(name)) return undefined;
  const size = parseQuantity(name.slice(HUGEPAGES_PREFIX.length));
  return size !== undefined && Number.isInteger(size) && size > 0 ? size : undefined;
}
