/**
 * Property-based tests of both constructs, with fast-check.
 *
 * - Valid: 5,000 generated PyTorchJob and 5,000 generated PyTorchElasticJob configurations (single- and multi-node).
 *   Each is built in a fresh chart and synthesized, and every object must be found clean by `checkManifest`
 *   (the upstream CRD schema, the webhook rules and the operational rules), with each pod's containers exactly the
 *   job's, the amendments' and the replica's, in that order. Besides the run policy, torchrun, resources, volumes and
 *   environment, the configurations use every pod option at job level and (PyTorchJob) per replica: extended resources
 *   (RDMA, EFA, hugepages), container security with capabilities, init containers, native sidecars and other containers
 *   (names and ports unique in each pod, mounts of shared volumes), replica env, command, labels, mounts and
 *   containers, node affinity preferences, pod (anti-)affinity terms weighted or required, onePodPerNode on lists of
 *   named nodes that leave a node for every pod, topology spread, scheduler, termination grace period, the host's
 *   network and IPC with a DNS policy that still finds the job's Services, and DNS settings; and platform code's
 *   amendments (addEnv, addVolumeMount, addToleration, addNodeSelector, addPodLabel, addPodAnnotation,
 *   addInitContainer, addSidecar, addContainer), taken from the end of the job-level lists. Chart and job ids come
 *   from a wide alphabet (upper case, `_`, `.`, a digit first, long): a generated name must be a DNS-1035 label that
 *   fits the operator's pod names and ends with cdk8s's 8-character hash (cdk8s's own name when that already fits).
 *   Environment variable names include the relaxed set (any printable ASCII but `=`, such as `my.setting` or `1ABC`),
 *   a quarter of the jobs set PYTHONUNBUFFERED=1 themselves, volumes take names cdk8s-plus derives, and half the apps
 *   make warnings fatal: nothing may be warned of, on standard error or as an error.
 * - Invalid: 5,000 + 5,000 configurations, each a valid one with exactly one mutation from the lists below.
 *   Building the app and `app.synth()` (into a fresh temporary output directory) must throw an Error whose message
 *   names the mutated field, and the output directory must stay empty. Besides values out of their rules, the
 *   mutations give what the API server or the kubelet refuses, at every level that takes it (the job's props, its
 *   amendments, a replica's own, a helper container, the job object's metadata): environment variable names that are
 *   empty, hold `=` or are not printable ASCII; label keys, label values and annotation keys; node selector keys and
 *   values; volume names that are not DNS-1123 labels (given, or derived from a ConfigMap, Secret or claim with a
 *   dot); images with space around them or that are no image reference (placeholders, upper case, an empty tag);
 *   and a metadata.name with `_`, `.`, upper case or a digit first, which is refused as given, never changed.
 *
 * Every property runs with a fixed seed, so runs are reproducible. A generated configuration is plain data (the
 * `*Cfg` types below); a failure prints it as the counterexample, with the seed and the path. To replay exactly that
 * case, run only its test with the reported values:
 *
 *   FC_SEED=<seed> FC_PATH=<path> npx jest --coverage=false test/properties.test.ts -t '<test name>'
 *
 * (or put `seed: <seed>, path: '<path>', endOnFailure: true` into that property's parameters).
 */
import * as fs from 'fs';
import { Chart, Duration, Names, Size, Testing } from 'cdk8s';
import {
  Capability, ConfigMap, Cpu, DnsPolicy, EnvValue, ImagePullPolicy, LabelSelector, NodeLabelQuery, NodeTaintQuery, PersistentVolumeClaim,
  Protocol, Secret, ServiceAccount, TaintEffect, Topology, Volume,
} from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import {
  CleanPodPolicy, ContainerOptions, ContainerSecurity, Elastic, ElasticProps, Entrypoint, ExtendedResource, GpuResource, ManagedBy, Master,
  Nnodes, NprocPerNode, PodAffinityTerm, PodOptions, PyTorchElasticJob, PyTorchJob, ReplicaProps, Resources, RestartPolicy, RunPolicy,
  RunPolicyProps, SharedMemory, StartMethod, TrainingJob, TrainingJobProps, UnsatisfiableConstraintAction, VolumeMount, Warnings, Worker,
} from '../src';
import { crdSchema } from './support/crd-schema';
import { formatProblem } from '../src/rules/problem';
import { checkManifest } from '../src/tools/validate';

const SEEDS = {
  validPyTorchJob: 0x6b667079,
  validElasticJob: 0x746f7263,
  invalidPyTorchJob: 0x68727521,
  invalidElasticJob: 0x656c6173,
  prototypeEnvNames: 0x70726f74,
};
/** Runs per property; FC_NUM_RUNS raises it for a longer soak (never lower it in CI: the counts are the contract). */
const RUNS = Math.max(5_000, Number(process.env.FC_NUM_RUNS ?? 0));
/** Runs of the property on names of Object.prototype's members: a small class of names, each tried in many jobs. */
const PROTOTYPE_RUNS = 200;
/** Generous: each property takes a few seconds on a 2-core machine. */
const TIMEOUT_MS = 120_000;

/** fast-check parameters: the fixed seed, unless FC_SEED / FC_PATH replay a reported failure. */
function params(seed: number, numRuns = RUNS): fc.Parameters<unknown> {
  const path = process.env.FC_PATH;
  return {
    seed: process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : seed,
    numRuns,
    ...path !== undefined ? { path, endOnFailure: true } : {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Configurations as plain data, and how they become construct props
// ---------------------------------------------------------------------------------------------------------------

type DurationUnit = 'millis' | 'seconds' | 'minutes' | 'hours';
interface DurationCfg { readonly unit: DurationUnit; readonly amount: number }
interface CpuCfg { readonly millis: number; readonly asUnits: boolean }
interface SizeCfg { readonly mebibytes: number; readonly asGibibytes: boolean }
type GpuName = 'NVIDIA' | 'AMD' | 'INTEL' | 'MIG' | 'GAUDI';
interface ResourcesCfg {
  cpu?: CpuCfg;
  memory?: SizeCfg;
  ephemeralStorage?: SizeCfg;
  gpu?: number;
  gpuResource?: GpuName;
  extended?: ExtendedCfg[];
}
/** A resource that is never overcommitted: RDMA or EFA interfaces, or hugepages of one page size. */
type ExtendedCfg =
  | { kind: 'rdma'; name: string; count: number }
  | { kind: 'efa'; count: number }
  | { kind: 'hugepages'; page: '2Mi' | '1Gi'; pages: number };
interface ResourcePairCfg { requests?: ResourcesCfg; limits?: ResourcesCfg }
type StandardKey = 'cpu' | 'memory' | 'ephemeralStorage';

interface RunPolicyCfg {
  cleanPodPolicy?: string;
  ttlAfterFinished?: DurationCfg;
  activeDeadline?: DurationCfg;
  backoffLimit?: number;
  suspend?: boolean;
  managedBy?: string;
}

type EnvSourceCfg =
  | { kind: 'value'; value: string }
  | { kind: 'secret' | 'configMap'; ref: string; key: string; optional?: boolean };
interface EnvCfg { name: string; source: EnvSourceCfg }

interface TolerationCfg { kind: 'is' | 'exists' | 'any'; key: string; value: string; effect?: TaintEffect; evictAfterSeconds?: number }
interface AffinityCfg { op: 'is' | 'in' | 'notIn' | 'exists' | 'doesNotExist' | 'gt' | 'lt'; key: string; values: string[] }
interface MountCfg { path: string; readOnly?: boolean; subPath?: string }
interface VolumeCfg {
  kind: 'pvc' | 'configMap' | 'secret' | 'emptyDir';
  /** The volume's name: given, or (`derived`) the one cdk8s-plus derives from the source, such as `configmap-<ref>`. */
  name: string;
  /** No name given: cdk8s-plus derives it (never for an emptyDir, which needs one). */
  derived?: boolean;
  ref: string;
  defaultMode?: number;
  optional?: boolean;
  /** Mounts into the training container at job level (none for a volume only other containers or a replica mount). */
  mounts: MountCfg[];
}
/** A mount of one of the configuration's volumes, by name: into a helper container, or a replica's training container. */
interface MountRefCfg {
  volume: string;
  path: string;
  readOnly?: boolean;
  subPath?: string;
  /** While generating: which volume, resolved to `volume` once the volumes are known. */
  pick?: number;
}
type SharedMemoryCfg = { kind: 'default' } | { kind: 'enabled'; sizeMebibytes?: number } | { kind: 'disabled' };
interface PodSecurityCfg { runAsUser?: number; runAsGroup?: number; fsGroup?: number; runAsNonRoot?: boolean }
interface ContainerSecurityCfg {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  add?: Capability[];
  drop?: Capability[];
}
interface PortCfg { number: number; named: boolean; protocol?: Protocol }
/** An init container, a native sidecar or another main container. */
interface ContainerCfg {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  imagePullPolicy?: ImagePullPolicy;
  env: EnvCfg[];
  mounts: MountRefCfg[];
  ports: PortCfg[];
  security?: ContainerSecurityCfg;
  requests?: ResourcesCfg;
  limits?: ResourcesCfg;
}
interface ContainersCfg { initContainers: ContainerCfg[]; sidecars: ContainerCfg[]; containers: ContainerCfg[] }
type ContainerList = keyof ContainersCfg;
const CONTAINER_LISTS: ContainerList[] = ['initContainers', 'sidecars', 'containers'];
type TopologyName = 'hostname' | 'zone' | 'region' | 'rack';
/** A pod (anti-)affinity term or a spread constraint: on the job's own pods (the default selector) or on peer pods. */
interface PodTermCfg { own: boolean; peer: string; topology: TopologyName; weight?: number; namespaces?: string[] }
interface SpreadCfg { own: boolean; peer: string; topology: TopologyName; maxSkew?: number; whenUnsatisfiable?: UnsatisfiableConstraintAction }
interface WeightedNodeCfg { weight: number; queries: AffinityCfg[] }
/** Where the pods of a level (the job, or a replica over it) run, and how they stop. */
interface SchedulingCfg {
  preferredNodeAffinity?: WeightedNodeCfg[];
  podAffinity?: PodTermCfg[];
  podAntiAffinity?: PodTermCfg[];
  onePodPerNode?: boolean;
  topologySpread?: SpreadCfg[];
  schedulerName?: string;
  terminationGracePeriod?: DurationCfg;
}
interface DnsConfigCfg { nameservers?: string[]; searches?: string[]; options?: Record<string, string> }
interface PodCfg {
  workingDir?: string;
  imagePullPolicy?: ImagePullPolicy;
  imagePullSecrets?: string[];
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: TolerationCfg[];
  affinity?: AffinityCfg[];
  /** Required node affinity on `kubernetes.io/hostname`: at least as many nodes as the job has pods. */
  hostnames?: string[];
  priorityClassName?: string;
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  podSecurity?: PodSecurityCfg;
  securityContext?: ContainerSecurityCfg;
  scheduling?: SchedulingCfg;
  hostNetwork?: boolean;
  hostIpc?: boolean;
  dnsPolicy?: DnsPolicy;
  dnsConfig?: DnsConfigCfg;
}
interface MetadataCfg { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
/** The app around the job: the construct ids its generated name comes from, and whether warnings are fatal. */
interface AppCfg { chartId: string; jobId: string; fatalWarnings: boolean }

/** What platform code adds to every pod after the job was built, one amendment method call per entry, in this order. */
interface AmendCfg {
  env: EnvCfg[];
  volumes: VolumeCfg[];
  tolerations: TolerationCfg[];
  nodeSelector: Record<string, string>;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  containers: ContainersCfg;
}

/** What both constructs take. */
interface CommonCfg {
  app: AppCfg;
  metadata?: MetadataCfg;
  image: string;
  command?: string[];
  args?: string[];
  env: EnvCfg[];
  requests?: ResourcesCfg;
  limits?: ResourcesCfg;
  sharedMemory: SharedMemoryCfg;
  volumes: VolumeCfg[];
  /** Volumes that only helper containers or replicas mount. */
  extraVolumes: VolumeCfg[];
  containers: ContainersCfg;
  pod: PodCfg;
  port?: number;
  amend: AmendCfg;
}

interface ReplicaCfg {
  image?: string;
  requests?: ResourcesCfg;
  limits?: ResourcesCfg;
  restartPolicy?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: TolerationCfg[];
  env?: EnvCfg[];
  command?: string[];
  args?: string[];
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  mounts?: MountRefCfg[];
  containers?: ContainersCfg;
  scheduling?: SchedulingCfg;
  securityContext?: ContainerSecurityCfg;
}
interface WorkerCfg extends ReplicaCfg { replicas?: number }
type NprocCfg = number | 'auto' | 'cpu' | 'gpu';

interface JobCfg extends CommonCfg {
  master?: ReplicaCfg;
  worker: WorkerCfg;
  runPolicy?: RunPolicyCfg;
  nprocPerNode?: NprocCfg;
}

type NnodesCfg = { kind: 'fixed'; count: number } | { kind: 'range'; min: number; max: number } | { kind: 'parse'; text: string };
interface ElasticCfg {
  nnodes?: NnodesCfg;
  nproc?: NprocCfg;
  startMethod?: string;
  monitorInterval?: DurationCfg;
  maxRestarts?: number;
  rdzvConfigs?: Record<string, string>;
  runPolicy?: RunPolicyCfg;
}
interface ElasticJobCfg extends CommonCfg {
  entrypoint: { kind: 'script' | 'module'; value: string };
  /** undefined: the construct's default `new Elastic()`. */
  elastic?: ElasticCfg;
}

const GPU_RESOURCES: Record<GpuName, GpuResource> = {
  NVIDIA: GpuResource.NVIDIA,
  AMD: GpuResource.AMD,
  INTEL: GpuResource.INTEL,
  MIG: GpuResource.of('nvidia.com/mig-1g.5gb'),
  GAUDI: GpuResource.of('habana.ai/gaudi'),
};
const gpuName = (name: GpuName | undefined) => GPU_RESOURCES[name ?? 'NVIDIA'].name;

function duration(d: DurationCfg): Duration {
  return Duration[d.unit](d.amount);
}

function buildCpu(c: CpuCfg): Cpu {
  return c.asUnits && c.millis % 1000 === 0 ? Cpu.units(c.millis / 1000) : Cpu.millis(c.millis);
}
function buildSize(s: SizeCfg): Size {
  return s.asGibibytes && s.mebibytes % 1024 === 0 ? Size.gibibytes(s.mebibytes / 1024) : Size.mebibytes(s.mebibytes);
}
function buildResources(r: ResourcesCfg | undefined): Resources | undefined {
  if (r === undefined) return undefined;
  return {
    cpu: r.cpu && buildCpu(r.cpu),
    memory: r.memory && buildSize(r.memory),
    ephemeralStorage: r.ephemeralStorage && buildSize(r.ephemeralStorage),
    gpu: r.gpu,
    gpuResource: r.gpuResource && GPU_RESOURCES[r.gpuResource],
    extended: r.extended?.map(buildExtended),
  };
}

function extendedName(e: ExtendedCfg): string {
  switch (e.kind) {
    case 'rdma': return e.name;
    case 'efa': return 'vpc.amazonaws.com/efa';
    case 'hugepages': return `hugepages-${e.page}`;
  }
}
function buildExtended(e: ExtendedCfg): ExtendedResource {
  switch (e.kind) {
    case 'rdma': return ExtendedResource.of(e.name, e.count);
    case 'efa': return ExtendedResource.efa(e.count);
    case 'hugepages': return e.page === '2Mi'
      ? ExtendedResource.hugepages(Size.mebibytes(2), Size.mebibytes(2 * e.pages))
      : ExtendedResource.hugepages(Size.gibibytes(1), Size.gibibytes(e.pages));
  }
}

function buildRunPolicy(p: RunPolicyCfg | undefined): RunPolicy | undefined {
  if (p === undefined) return undefined;
  const props: RunPolicyProps = {
    // Typed enums in TypeScript; strings reach the construct unchecked from JavaScript or Python.
    cleanPodPolicy: p.cleanPodPolicy as CleanPodPolicy | undefined,
    ttlAfterFinished: p.ttlAfterFinished && duration(p.ttlAfterFinished),
    activeDeadline: p.activeDeadline && duration(p.activeDeadline),
    backoffLimit: p.backoffLimit,
    suspend: p.suspend,
    managedBy: p.managedBy as ManagedBy | undefined,
  };
  return new RunPolicy(props);
}

function buildToleration(t: TolerationCfg): NodeTaintQuery {
  const options = { effect: t.effect, evictAfter: t.evictAfterSeconds === undefined ? undefined : Duration.seconds(t.evictAfterSeconds) };
  if (t.kind === 'is') return NodeTaintQuery.is(t.key, t.value, options);
  if (t.kind === 'exists') return NodeTaintQuery.exists(t.key, options);
  return NodeTaintQuery.any();
}

function buildAffinity(a: AffinityCfg): NodeLabelQuery {
  switch (a.op) {
    case 'is': return NodeLabelQuery.is(a.key, a.values[0]);
    case 'in': return NodeLabelQuery.in(a.key, a.values);
    case 'notIn': return NodeLabelQuery.notIn(a.key, a.values);
    case 'exists': return NodeLabelQuery.exists(a.key);
    case 'doesNotExist': return NodeLabelQuery.doesNotExist(a.key);
    case 'gt': return NodeLabelQuery.gt(a.key, a.values);
    case 'lt': return NodeLabelQuery.lt(a.key, a.values);
  }
}

/** What cdk8s-plus puts before the name of a ConfigMap, Secret or claim for the name of a volume of it. */
const DERIVED_VOLUME_PREFIX = { pvc: 'pvc', configMap: 'configmap', secret: 'secret' } as const;
type DerivedKind = keyof typeof DERIVED_VOLUME_PREFIX;
const derivedVolumeName = (kind: DerivedKind, ref: string) => `${DERIVED_VOLUME_PREFIX[kind]}-${ref}`;

function buildVolume(chart: Chart, v: VolumeCfg, id: string): Volume {
  const name = v.derived ? undefined : v.name;
  const options = { name, defaultMode: v.defaultMode, optional: v.optional };
  switch (v.kind) {
    case 'pvc': return Volume.fromPersistentVolumeClaim(chart, id, PersistentVolumeClaim.fromClaimName(chart, `${id}-claim`, v.ref), { name });
    case 'configMap': return Volume.fromConfigMap(chart, id, ConfigMap.fromConfigMapName(chart, `${id}-config-map`, v.ref), options);
    case 'secret': return Volume.fromSecret(chart, id, Secret.fromSecretName(chart, `${id}-secret`, v.ref), options);
    case 'emptyDir': return Volume.fromEmptyDir(chart, id, v.name);
  }
}

/**
 * The volumes of a configuration as cdk8s-plus objects, each built once, as a cdk8s program shares one `Volume`
 * between the containers that mount it; a mount reference takes the first volume of its name.
 */
class Volumes {
  private readonly built = new Map<VolumeCfg, Volume>();
  private readonly byName = new Map<string, Volume>();

  public constructor(chart: Chart, cfg: CommonCfg) {
    [...cfg.volumes, ...cfg.amend.volumes, ...cfg.extraVolumes].forEach((v, i) => {
      const volume = buildVolume(chart, v, `volume-${i}`);
      this.built.set(v, volume);
      if (!this.byName.has(v.name)) this.byName.set(v.name, volume);
    });
  }

  /** The job-level mounts of a volume into the training container. */
  public mountsOf(v: VolumeCfg): VolumeMount[] {
    const volume = this.built.get(v)!;
    return v.mounts.map(m => ({ volume, path: m.path, readOnly: m.readOnly, subPath: m.subPath }));
  }

  public mount(m: MountRefCfg): VolumeMount {
    const volume = this.byName.get(m.volume);
    // A TypeError, so that a broken configuration can never pass for a refusal.
    if (volume === undefined) throw new TypeError(`test configuration: no volume named ${m.volume}`);
    return { volume, path: m.path, readOnly: m.readOnly, subPath: m.subPath };
  }

  public mounts(refs: MountRefCfg[] | undefined): VolumeMount[] | undefined {
    return refs && refs.length > 0 ? refs.map(m => this.mount(m)) : undefined;
  }
}

function buildSharedMemory(s: SharedMemoryCfg): SharedMemory | undefined {
  if (s.kind === 'default') return undefined;
  if (s.kind === 'disabled') return SharedMemory.disabled();
  return SharedMemory.enabled(s.sizeMebibytes === undefined ? undefined : Size.mebibytes(s.sizeMebibytes));
}

/** Variables in order; Secret and ConfigMap references get construct ids under `prefix`. */
function buildEnvEntries(chart: Chart, env: EnvCfg[], prefix: string): Array<[string, EnvValue]> {
  return env.map(({ name, source }, i) => {
    if (source.kind === 'value') return [name, EnvValue.fromValue(source.value)];
    const options = { optional: source.optional };
    return [name, source.kind === 'secret'
      ? EnvValue.fromSecretValue({ secret: Secret.fromSecretName(chart, `${prefix}-secret-${i}`, source.ref), key: source.key }, options)
      : EnvValue.fromConfigMap(ConfigMap.fromConfigMapName(chart, `${prefix}-config-map-${i}`, source.ref), source.key, options)];
  });
}
function buildEnv(chart: Chart, env: EnvCfg[] | undefined, prefix: string): TrainingJobProps['env'] {
  if (env === undefined || env.length === 0) return undefined;
  return Object.fromEntries(buildEnvEntries(chart, env, prefix));
}

function buildContainerSecurity(s: ContainerSecurityCfg | undefined): ContainerSecurity | undefined {
  return s && {
    runAsUser: s.runAsUser,
    runAsGroup: s.runAsGroup,
    runAsNonRoot: s.runAsNonRoot,
    privileged: s.privileged,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
    allowPrivilegeEscalation: s.allowPrivilegeEscalation,
    addCapabilities: s.add,
    dropCapabilities: s.drop,
  };
}

function buildContainer(chart: Chart, volumes: Volumes, c: ContainerCfg, id: string): ContainerOptions {
  return {
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    workingDir: c.workingDir,
    imagePullPolicy: c.imagePullPolicy,
    env: buildEnv(chart, c.env, id),
    volumeMounts: volumes.mounts(c.mounts),
    ports: c.ports.length > 0 ? c.ports.map(p => ({ number: p.number, name: p.named ? `port-${p.number}` : undefined, protocol: p.protocol })) : undefined,
    securityContext: buildContainerSecurity(c.security),
    requests: buildResources(c.requests),
    limits: buildResources(c.limits),
  };
}

function buildContainers(chart: Chart, volumes: Volumes, c: ContainersCfg | undefined, id: string): Pick<PodOptions, ContainerList> {
  const list = (name: ContainerList) => (c && c[name].length > 0 ? c[name].map((x, i) => buildContainer(chart, volumes, x, `${id}-${name}-${i}`)) : undefined);
  return { initContainers: list('initContainers'), sidecars: list('sidecars'), containers: list('containers') };
}

const TOPOLOGIES: Record<TopologyName, Topology> = {
  hostname: Topology.HOSTNAME, zone: Topology.ZONE, region: Topology.REGION, rack: Topology.custom('example.com/rack'),
};
/** The label of peer pods: no generated pod label uses it, so a peer selector never selects a pod of the job. */
const PEER_LABEL = 'example.org/peer';
const HOSTNAME = Topology.HOSTNAME.key;
const peerSelector = (t: { own: boolean; peer: string }) => (t.own ? undefined : LabelSelector.of({ labels: { [PEER_LABEL]: t.peer } }));

function buildPodTerm(t: PodTermCfg): PodAffinityTerm {
  return { selector: peerSelector(t), topology: TOPOLOGIES[t.topology], weight: t.weight, namespaces: t.namespaces };
}

function buildScheduling(s: SchedulingCfg | undefined): Partial<PodOptions> {
  if (s === undefined) return {};
  return {
    preferredNodeAffinity: s.preferredNodeAffinity?.map(p => ({ weight: p.weight, queries: p.queries.map(buildAffinity) })),
    podAffinity: s.podAffinity?.map(buildPodTerm),
    podAntiAffinity: s.podAntiAffinity?.map(buildPodTerm),
    onePodPerNode: s.onePodPerNode,
    topologySpread: s.topologySpread?.map(t => ({
      topology: TOPOLOGIES[t.topology], maxSkew: t.maxSkew, whenUnsatisfiable: t.whenUnsatisfiable, selector: peerSelector(t),
    })),
    schedulerName: s.schedulerName,
    terminationGracePeriod: s.terminationGracePeriod && duration(s.terminationGracePeriod),
  };
}

function buildReplica(chart: Chart, volumes: Volumes, r: ReplicaCfg, id: string): ReplicaProps {
  return {
    image: r.image,
    requests: buildResources(r.requests),
    limits: buildResources(r.limits),
    restartPolicy: r.restartPolicy as RestartPolicy | undefined,
    nodeSelector: r.nodeSelector,
    tolerations: r.tolerations?.map(buildToleration),
    env: buildEnv(chart, r.env, id),
    command: r.command,
    args: r.args,
    podLabels: r.podLabels,
    podAnnotations: r.podAnnotations,
    volumeMounts: volumes.mounts(r.mounts),
    securityContext: buildContainerSecurity(r.securityContext),
    ...buildContainers(chart, volumes, r.containers, id),
    ...buildScheduling(r.scheduling),
  };
}

/** The props both constructs share, and the volumes, for the replicas and the amendments. */
function buildCommon(chart: Chart, cfg: CommonCfg): { props: TrainingJobProps; volumes: Volumes } {
  const volumes = new Volumes(chart, cfg);
  const volumeMounts = cfg.volumes.flatMap(v => volumes.mountsOf(v));
  const { pod } = cfg;
  const nodeAffinity = [...(pod.affinity ?? []).map(buildAffinity), ...pod.hostnames ? [NodeLabelQuery.in(HOSTNAME, pod.hostnames)] : []];
  const props: TrainingJobProps = {
    metadata: cfg.metadata,
    image: cfg.image,
    command: cfg.command,
    args: cfg.args,
    env: buildEnv(chart, cfg.env, 'job'),
    requests: buildResources(cfg.requests),
    limits: buildResources(cfg.limits),
    sharedMemory: buildSharedMemory(cfg.sharedMemory),
    volumeMounts: volumeMounts.length > 0 ? volumeMounts : undefined,
    workingDir: pod.workingDir,
    imagePullPolicy: pod.imagePullPolicy,
    imagePullSecrets: pod.imagePullSecrets?.map((name, i) => Secret.fromSecretName(chart, `pull-secret-${i}`, name)),
    serviceAccount: pod.serviceAccountName === undefined ? undefined : ServiceAccount.fromServiceAccountName(chart, 'service-account', pod.serviceAccountName),
    nodeSelector: pod.nodeSelector,
    tolerations: pod.tolerations?.map(buildToleration),
    nodeAffinity: nodeAffinity.length > 0 ? nodeAffinity : undefined,
    priorityClassName: pod.priorityClassName,
    podLabels: pod.podLabels,
    podAnnotations: pod.podAnnotations,
    podSecurity: pod.podSecurity,
    securityContext: buildContainerSecurity(pod.securityContext),
    ...buildContainers(chart, volumes, cfg.containers, 'job'),
    ...buildScheduling(pod.scheduling),
    hostNetwork: pod.hostNetwork,
    hostIpc: pod.hostIpc,
    dnsPolicy: pod.dnsPolicy,
    dnsConfig: pod.dnsConfig,
  };
  return { props, volumes };
}

/** Amends the job after it was built, as platform code does, one call per entry. */
function applyAmendments(job: TrainingJob, chart: Chart, cfg: CommonCfg, volumes: Volumes): void {
  const a = cfg.amend;
  for (const [name, value] of buildEnvEntries(chart, a.env, 'amend')) job.addEnv(name, value);
  for (const v of a.volumes) volumes.mountsOf(v).forEach(mount => job.addVolumeMount(mount));
  for (const t of a.tolerations) job.addToleration(buildToleration(t));
  for (const [key, value] of Object.entries(a.nodeSelector)) job.addNodeSelector(key, value);
  for (const [key, value] of Object.entries(a.podLabels)) job.addPodLabel(key, value);
  for (const [key, value] of Object.entries(a.podAnnotations)) job.addPodAnnotation(key, value);
  const { initContainers, sidecars, containers } = buildContainers(chart, volumes, a.containers, 'amend');
  initContainers?.forEach(c => job.addInitContainer(c));
  sidecars?.forEach(c => job.addSidecar(c));
  containers?.forEach(c => job.addContainer(c));
}

function nproc(n: NprocCfg): NprocPerNode {
  if (n === 'auto') return NprocPerNode.AUTO;
  if (n === 'cpu') return NprocPerNode.CPU;
  if (n === 'gpu') return NprocPerNode.GPU;
  return NprocPerNode.count(n);
}

function buildJob(chart: Chart, cfg: JobCfg): PyTorchJob {
  const { props, volumes } = buildCommon(chart, cfg);
  const job = new PyTorchJob(chart, cfg.app.jobId, {
    ...props,
    master: cfg.master && new Master(buildReplica(chart, volumes, cfg.master, 'master')),
    worker: new Worker({ ...buildReplica(chart, volumes, cfg.worker, 'worker'), replicas: cfg.worker.replicas }),
    runPolicy: buildRunPolicy(cfg.runPolicy),
    nprocPerNode: cfg.nprocPerNode === undefined ? undefined : nproc(cfg.nprocPerNode),
    port: cfg.port,
  });
  applyAmendments(job, chart, cfg, volumes);
  return job;
}

function buildNnodes(n: NnodesCfg): Nnodes {
  if (n.kind === 'fixed') return Nnodes.fixed(n.count);
  if (n.kind === 'range') return Nnodes.range(n.min, n.max);
  return Nnodes.parse(n.text);
}

function buildElasticJob(chart: Chart, cfg: ElasticJobCfg): PyTorchElasticJob {
  const e = cfg.elastic;
  const elasticProps: ElasticProps | undefined = e && {
    nnodes: e.nnodes && buildNnodes(e.nnodes),
    nprocPerNode: e.nproc === undefined ? undefined : nproc(e.nproc),
    startMethod: e.startMethod as StartMethod | undefined,
    monitorInterval: e.monitorInterval && duration(e.monitorInterval),
    maxRestarts: e.maxRestarts,
    rdzvConfigs: e.rdzvConfigs,
    runPolicy: buildRunPolicy(e.runPolicy),
  };
  const { props, volumes } = buildCommon(chart, cfg);
  const job = new PyTorchElasticJob(chart, cfg.app.jobId, {
    ...props,
    elastic: elasticProps && new Elastic(elasticProps),
    entrypoint: cfg.entrypoint.kind === 'script' ? Entrypoint.script(cfg.entrypoint.value) : Entrypoint.module(cfg.entrypoint.value),
    port: cfg.port,
  });
  applyAmendments(job, chart, cfg, volumes);
  return job;
}

/** The node range a config asks for, as the construct reads it (torchrun's own parsing of `Nnodes.parse`). */
function nodeRange(cfg: ElasticJobCfg): { min: number; max: number } {
  const n = cfg.elastic?.nnodes;
  if (n === undefined) return { min: 1, max: 1 };
  if (n.kind === 'fixed') return { min: n.count, max: n.count };
  if (n.kind === 'range') return { min: n.min, max: n.max };
  const [min, max = min] = n.text.split(':').map(Number);
  return { min, max };
}
const isSingleNode = (cfg: ElasticJobCfg) => nodeRange(cfg).max <= 1;
/** Whether new nodes keep the job the kind it was: its run policy was generated for that kind. */
const keepsKind = (cfg: ElasticJobCfg, nnodes: NnodesCfg) => isSingleNode({ ...cfg, elastic: { ...cfg.elastic, nnodes } }) === isSingleNode(cfg);

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries of valid configurations
// ---------------------------------------------------------------------------------------------------------------

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const chars = (alphabet: string) => fc.constantFrom(...alphabet.split(''));
const word = (min = 1, max = 12) => fc.string({ unit: chars(LOWER), minLength: min, maxLength: max });

/** A DNS-1123 label (volume names, Secret and ConfigMap names): short, so it never nears 63. */
const dnsLabel = fc.tuple(chars(LOWER), fc.string({ unit: chars(`${LOWER}${DIGITS}-`), maxLength: 20 }), chars(`${LOWER}${DIGITS}`))
  .map(([first, middle, last]) => `${first}${middle}${last}`);

/** A DNS-1035 label of up to 63 characters, long ones as likely as short ones; cut to length later. */
const jobNameSeed = fc.oneof(
  fc.tuple(chars(LOWER), fc.string({ unit: chars(`${LOWER}${DIGITS}-`), maxLength: 12 })),
  fc.tuple(chars(LOWER), fc.string({ unit: chars(`${LOWER}${DIGITS}-`), minLength: 40, maxLength: 62 })),
).map(([first, rest]) => `${first}${rest}`);

/** Cuts a generated name so that `<name><suffix>` fits in 63 characters, keeping it a DNS-1035 label. */
function fitName(name: string, suffixLength: number): string {
  const cut = name.slice(0, Math.max(1, 63 - suffixLength));
  return cut.endsWith('-') ? `${cut.slice(0, -1)}z` : cut;
}
const digits = (n: number) => String(n).length;

const qualifiedKey = fc.oneof(
  fc.constantFrom('app.kubernetes.io/name', 'team', 'kubeflow.org/experiment', 'topology.kubernetes.io/zone', 'nvidia.com/gpu.product'),
  fc.tuple(word(1, 8), fc.option(word(1, 8), { nil: undefined })).map(([a, b]) => (b ? `example.com/${a}-${b}` : a)),
);
const labelValue = fc.string({ unit: chars(`${LOWER}${DIGITS}-._`), maxLength: 16 })
  .map(s => s.replace(/^[-._]+|[-._]+$/g, ''));
const labels = fc.dictionary(qualifiedKey, labelValue, { maxKeys: 3 });
const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 24 });

const image = fc.oneof(
  fc.constantFrom(
    'ghcr.io/example/train:2.4.0',
    'pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime',
    'nvcr.io/nvidia/pytorch:24.07-py3',
    `registry.local:5000/team/trainer@sha256:${'0123456789abcdef'.repeat(4)}`,
  ),
  fc.tuple(word(), word(), fc.integer({ min: 0, max: 99 })).map(([repo, name, tag]) => `${repo}/${name}:v${tag}`),
);

/** A whole number of seconds in [min, max], written in seconds, milliseconds, minutes or hours. */
function durationOf(minSeconds: number, maxSeconds: number): fc.Arbitrary<DurationCfg> {
  const options: Array<fc.Arbitrary<DurationCfg>> = [
    fc.integer({ min: minSeconds, max: maxSeconds }).map(amount => ({ unit: 'seconds' as const, amount })),
    fc.integer({ min: minSeconds, max: Math.min(maxSeconds, 600) }).map(seconds => ({ unit: 'millis' as const, amount: seconds * 1000 })),
  ];
  for (const [unit, size] of [['minutes', 60], ['hours', 3600]] as const) {
    const min = Math.ceil(minSeconds / size);
    const max = Math.floor(maxSeconds / size);
    if (min <= max) options.push(fc.integer({ min, max }).map(amount => ({ unit, amount })));
  }
  return fc.oneof(...options);
}

const cpuCfg = (millis: number, asUnits: boolean): CpuCfg => ({ millis, asUnits });
const sizeCfg = (mebibytes: number, asGibibytes: boolean): SizeCfg => ({ mebibytes, asGibibytes });
const gpuNameArb = fc.option(fc.constantFrom<GpuName>('NVIDIA', 'AMD', 'INTEL', 'MIG', 'GAUDI'), { nil: undefined });

/** A request/limit pair of one standard resource with request ≤ limit, either side possibly left out. */
function standardPair<T>(max: number, make: (amount: number, flag: boolean) => T, step: number, requireBoth: boolean) {
  return fc.record({
    a: fc.integer({ min: 0, max }),
    b: fc.integer({ min: 0, max }),
    flagA: fc.boolean(),
    flagB: fc.boolean(),
    which: requireBoth ? fc.constant('both' as const) : fc.constantFrom('both' as const, 'request' as const, 'limit' as const),
  }).map(({ a, b, flagA, flagB, which }) => {
    const [low, high] = a <= b ? [a * step, b * step] : [b * step, a * step];
    return { request: which !== 'limit' ? make(low, flagA) : undefined, limit: which !== 'request' ? make(high, flagB) : undefined };
  });
}

/** RDMA interfaces (two device plugins' names), EFA interfaces, or hugepages of 2 MiB or 1 GiB pages. */
const extendedCfg: fc.Arbitrary<ExtendedCfg> = fc.oneof(
  fc.record({ kind: fc.constant('rdma' as const), name: fc.constantFrom('rdma/ib', 'rdma/hca_shared_devices_a'), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('efa' as const), count: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('hugepages' as const), page: fc.constantFrom('2Mi' as const, '1Gi' as const), pages: fc.integer({ min: 1, max: 64 }) }),
);

/**
 * Requests and limits that Kubernetes accepts: request ≤ limit for cpu, memory and ephemeral storage, a GPU
 * request equal to its limit (or left out), and extended resources in the limits, mirrored into the requests or not
 * (the API server then takes the request from the limit), with cpu or memory beside hugepages. `requireBoth` gives
 * replica overrides, which set both sides of every key they set, so that inheriting the other keys from the job can
 * never break the rule.
 */
function resourcePair(requireBoth: boolean): fc.Arbitrary<ResourcePairCfg> {
  return fc.record({
    cpu: fc.option(standardPair(640, cpuCfg, 100, requireBoth), { nil: undefined }),
    cpuOdd: fc.boolean(),
    memory: fc.option(standardPair(512, sizeCfg, 256, requireBoth), { nil: undefined }),
    ephemeralStorage: fc.option(standardPair(64, sizeCfg, 1024, requireBoth), { nil: undefined }),
    gpu: fc.option(fc.record({
      count: fc.integer({ min: 0, max: 8 }),
      name: gpuNameArb,
      both: requireBoth ? fc.constant(true) : fc.boolean(),
    }), { nil: undefined }),
    extended: fc.option(fc.uniqueArray(extendedCfg, { minLength: 1, maxLength: 3, selector: extendedName }), { nil: undefined, freq: 2 }),
    mirror: requireBoth ? fc.constant(true) : fc.boolean(),
  }).map(({ cpu, cpuOdd, memory, ephemeralStorage, gpu, extended, mirror }) => {
    const requests: ResourcesCfg = {};
    const limits: ResourcesCfg = {};
    if (cpu?.request) requests.cpu = cpuOdd ? { ...cpu.request, millis: Math.max(0, cpu.request.millis - 1) } : cpu.request;
    if (cpu?.limit) limits.cpu = cpu.limit;
    if (memory?.request) requests.memory = memory.request;
    if (memory?.limit) limits.memory = memory.limit;
    if (ephemeralStorage?.request) requests.ephemeralStorage = ephemeralStorage.request;
    if (ephemeralStorage?.limit) limits.ephemeralStorage = ephemeralStorage.limit;
    if (gpu) {
      // The resource name goes on both lists, so that an override that leaves it out inherits the same one on both.
      limits.gpu = gpu.count;
      if (gpu.both) requests.gpu = gpu.count;
      if (gpu.name) {
        limits.gpuResource = gpu.name;
        requests.gpuResource = gpu.name;
      }
    }
    if (extended) {
      limits.extended = extended;
      if (mirror) requests.extended = extended;
      // The API server refuses hugepages in a container that requests or limits neither cpu nor memory.
      if (extended.some(e => e.kind === 'hugepages') && ![requests, limits].some(list => list.cpu || list.memory)) {
        limits.memory = sizeCfg(4096, true);
        if (requireBoth) requests.memory = sizeCfg(4096, true);
      }
    }
    return {
      requests: Object.keys(requests).length > 0 ? requests : undefined,
      limits: Object.keys(limits).length > 0 ? limits : undefined,
    };
  });
}


const toleration: fc.Arbitrary<TolerationCfg> = fc.record({
  kind: fc.constantFrom('is' as const, 'exists' as const, 'any' as const),
  key: qualifiedKey,
  value: labelValue,
  effect: fc.option(fc.constantFrom(TaintEffect.NO_SCHEDULE, TaintEffect.PREFER_NO_SCHEDULE, TaintEffect.NO_EXECUTE), { nil: undefined }),
  evictAfterSeconds: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined }),
}).map(t => ({ ...t, evictAfterSeconds: t.effect === TaintEffect.NO_EXECUTE && t.kind !== 'any' ? t.evictAfterSeconds : undefined }));

const affinity: fc.Arbitrary<AffinityCfg> = fc.oneof(
  fc.record({ op: fc.constantFrom('is' as const, 'in' as const, 'notIn' as const), key: qualifiedKey, values: fc.array(labelValue, { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constantFrom('exists' as const, 'doesNotExist' as const), key: qualifiedKey, values: fc.constant<string[]>([]) }),
  fc.record({ op: fc.constantFrom('gt' as const, 'lt' as const), key: qualifiedKey, values: fc.integer({ min: 0, max: 64 }).map(n => [String(n)]) }),
);

/** Capabilities a training or helper container adds (never SYS_ADMIN, which the API server refuses beside allowPrivilegeEscalation false). */
const ADDED_CAPABILITIES = [
  Capability.IPC_LOCK, Capability.SYS_NICE, Capability.SYS_RESOURCE, Capability.NET_ADMIN, Capability.NET_RAW, Capability.SYS_PTRACE,
  Capability.PERFMON,
];
const DROPPED_CAPABILITIES = [Capability.ALL, Capability.NET_RAW, Capability.MKNOD, Capability.SETUID, Capability.SETGID];
/**
 * A container's security context as the API server and the kubelet accept it: a non-root user when one is named (so
 * that runAsNonRoot holds), never privileged without privilege escalation, no capability both added and dropped.
 */
const containerSecurity: fc.Arbitrary<ContainerSecurityCfg> = fc.record({
  runAsUser: fc.integer({ min: 1, max: 65535 }),
  runAsGroup: fc.integer({ min: 0, max: 65535 }),
  runAsNonRoot: fc.boolean(),
  privileged: fc.boolean(),
  readOnlyRootFilesystem: fc.boolean(),
  allowPrivilegeEscalation: fc.boolean(),
  add: fc.uniqueArray(fc.constantFrom(...ADDED_CAPABILITIES), { minLength: 1, maxLength: 3 }),
  drop: fc.uniqueArray(fc.constantFrom(...DROPPED_CAPABILITIES), { minLength: 1, maxLength: 2 }),
}, { requiredKeys: [] }).map(sc => ({
  ...sc,
  allowPrivilegeEscalation: sc.privileged && sc.allowPrivilegeEscalation === false ? true : sc.allowPrivilegeEscalation,
  drop: sc.drop && sc.add ? sc.drop.filter(c => !sc.add!.includes(c)) : sc.drop,
}));
const podSecurity: fc.Arbitrary<PodSecurityCfg> = fc.record({
  runAsUser: fc.integer({ min: 1, max: 65535 }),
  runAsGroup: fc.integer({ min: 0, max: 65535 }),
  fsGroup: fc.integer({ min: 0, max: 65535 }),
  runAsNonRoot: fc.boolean(),
}, { requiredKeys: [] });

const topologyName = fc.constantFrom<TopologyName>('hostname', 'zone', 'region', 'rack');
const weight = fc.integer({ min: 1, max: 100 });
/**
 * A pod affinity term, preferred (a weight) or required. A term on the job's own pods looks in the job's namespace:
 * a required one elsewhere could never be met.
 */
const podTerm: fc.Arbitrary<PodTermCfg> = fc.record({
  own: fc.boolean(),
  peer: word(1, 8),
  topology: topologyName,
  weight: fc.option(weight, { nil: undefined }),
  namespaces: fc.option(fc.uniqueArray(dnsLabel, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 2 }),
}).map(t => (t.own ? { ...t, namespaces: undefined } : t));
/**
 * An anti-affinity term. A required one on the job's own pods is on the node's hostname, like onePodPerNode: the
 * generated hostname lists leave a node for every pod, while a zone or region required apart could be a single one.
 */
const antiAffinityTerm: fc.Arbitrary<PodTermCfg> = podTerm.map(t => (t.own && t.weight === undefined ? { ...t, topology: 'hostname' as const } : t));
const spreadCfg: fc.Arbitrary<SpreadCfg> = fc.record({
  own: fc.boolean(),
  peer: word(1, 8),
  topology: topologyName,
  maxSkew: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  whenUnsatisfiable: fc.option(
    fc.constantFrom(UnsatisfiableConstraintAction.DO_NOT_SCHEDULE, UnsatisfiableConstraintAction.SCHEDULE_ANYWAY), { nil: undefined }),
});
const schedulingCfg: fc.Arbitrary<SchedulingCfg> = fc.record({
  preferredNodeAffinity: fc.array(fc.record({ weight, queries: fc.array(affinity, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }),
  podAffinity: fc.array(podTerm, { minLength: 1, maxLength: 2 }),
  podAntiAffinity: fc.array(antiAffinityTerm, { minLength: 1, maxLength: 2 }),
  onePodPerNode: fc.boolean(),
  topologySpread: fc.array(spreadCfg, { minLength: 1, maxLength: 2 }),
  schedulerName: fc.oneof(fc.constantFrom('default-scheduler', 'volcano', 'kai-scheduler'), dnsLabel),
  terminationGracePeriod: durationOf(0, 3600),
}, { requiredKeys: [] });
const dnsConfigCfg: fc.Arbitrary<DnsConfigCfg> = fc.record({
  nameservers: fc.uniqueArray(fc.constantFrom('10.96.0.10', '169.254.20.10', '1.1.1.1', '8.8.8.8', 'fd00::10'), { minLength: 1, maxLength: 3 }),
  searches: fc.uniqueArray(fc.constantFrom('svc.cluster.local', 'cluster.local', 'training.svc.cluster.local', 'example.com'), { minLength: 1, maxLength: 3 }),
  options: fc.dictionary(fc.constantFrom('ndots', 'edns0', 'timeout', 'attempts', 'single-request-reopen'), fc.constantFrom('', '1', '2', '5'), { minKeys: 1, maxKeys: 3 }),
}, { requiredKeys: [] });

/** A value a third of the time, so that the heavier options do not make every pod large (and the run slow). */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, arb);

const podCfg: fc.Arbitrary<PodCfg> = fc.record({
  workingDir: fc.constantFrom('/workspace', '/app', '/opt/train'),
  imagePullPolicy: fc.constantFrom(ImagePullPolicy.ALWAYS, ImagePullPolicy.IF_NOT_PRESENT, ImagePullPolicy.NEVER),
  imagePullSecrets: fc.uniqueArray(dnsLabel, { minLength: 1, maxLength: 2 }),
  serviceAccountName: dnsLabel,
  nodeSelector: labels,
  tolerations: fc.array(toleration, { maxLength: 3 }),
  affinity: fc.array(affinity, { minLength: 1, maxLength: 3 }),
  priorityClassName: dnsLabel,
  podLabels: labels,
  podAnnotations: fc.dictionary(qualifiedKey, printable, { maxKeys: 3 }),
  podSecurity,
  securityContext: containerSecurity,
  scheduling: sometimes(schedulingCfg),
  hostNetwork: fc.boolean(),
  hostIpc: fc.boolean(),
  dnsPolicy: fc.constantFrom(DnsPolicy.CLUSTER_FIRST, DnsPolicy.CLUSTER_FIRST_WITH_HOST_NET, DnsPolicy.DEFAULT, DnsPolicy.NONE),
  dnsConfig: dnsConfigCfg,
}, { requiredKeys: [] });

/**
 * The names of Object.prototype's members (`constructor`, `valueOf`, `__proto__`, …), which fast-check's strings
 * favour. The constructs library takes none as a construct id (it finds the member on its plain map of children:
 * "There is already a Construct with name 'constructor'"). As environment variable names they are valid: the property
 * of their own at the end of this file tries them in many jobs.
 */
const PROTOTYPE_MEMBERS = Object.getOwnPropertyNames(Object.prototype);

/** Characters of construct ids: what cdk8s keeps in a name (letters of both cases, digits, `-`, `_`, `.`) and some it drops. */
const ID_ALPHABET = `${LOWER}${UPPER}${DIGITS}-_. +:@~`;
/** Ids of the constructs this file adds to the chart besides the job, which the job's id must not take. */
const OWN_CONSTRUCT_IDS = /^(volume|pull-secret|job|master|worker|amend)-|^service-account$/;
/**
 * A construct id as programs write them: already a DNS label, or with upper case, `_`, `.`, a digit first, characters
 * cdk8s drops, ids cdk8s leaves out of names (`Default`, `Resource`), or long enough to be cut.
 */
const constructId = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('test', 'job', 'Job', 'MyChart', 'train_v2', 'bert.large', 'Llama-3.1-70B', '0day', '1', '___', '...', 'default', 'Resource', 'DEFAULT') },
  { weight: 2, arbitrary: fc.tuple(chars(LOWER), fc.string({ unit: chars(`${LOWER}${DIGITS}-`), maxLength: 14 })).map(([first, rest]) => `${first}${rest}`) },
  fc.string({ unit: chars(ID_ALPHABET), minLength: 1, maxLength: 24 }),
  fc.tuple(chars(DIGITS), fc.string({ unit: chars(ID_ALPHABET), maxLength: 12 })).map(([first, rest]) => `${first}${rest}`),
  fc.string({ unit: chars(ID_ALPHABET), minLength: 50, maxLength: 120 }),
);
const appCfg: fc.Arbitrary<AppCfg> = fc.record({
  chartId: constructId.filter(id => !PROTOTYPE_MEMBERS.includes(id)),
  jobId: constructId.filter(id => !OWN_CONSTRUCT_IDS.test(id) && !PROTOTYPE_MEMBERS.includes(id)),
  fatalWarnings: fc.boolean(),
});

const metadataCfg: fc.Arbitrary<MetadataCfg | undefined> = fc.option(fc.record({
  name: jobNameSeed,
  namespace: dnsLabel,
  labels,
  annotations: fc.dictionary(qualifiedKey, printable, { maxKeys: 3 }),
}, { requiredKeys: [] }), { nil: undefined });

/** Variables the operator sets in some job: never generated for a valid job. */
const OPERATOR_ENV = [
  'PYTHONUNBUFFERED', 'MASTER_ADDR', 'MASTER_PORT', 'PET_MASTER_ADDR', 'PET_MASTER_PORT', 'WORLD_SIZE', 'RANK', 'PET_NODE_RANK',
  'PET_NPROC_PER_NODE', 'PET_NNODES', 'PET_RDZV_ENDPOINT', 'PET_RDZV_BACKEND', 'PET_MAX_RESTARTS', 'PET_RDZV_ID', 'PET_RDZV_CONF',
  'PET_STANDALONE',
];
/** Names Kubernetes takes since 1.32 that are not C identifiers: any printable ASCII but `=`. */
const relaxedEnvName = fc.oneof(
  fc.constantFrom('my.setting', '1ABC', 'with-dash', 'lower case', 'a:b', '@home', '~', ' ', 'x{y}', 'path/to', '$HOME', 'quote"d', 'back\\slash'),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 16 }).map(name => name.replace(/=/g, '.')),
);
const isCIdentifier = (name: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
const envName = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('NCCL_DEBUG', 'OMP_NUM_THREADS', 'WANDB_API_KEY', 'HF_TOKEN', 'TRAIN_CONFIG', 'LOCAL_RANK_OVERRIDE', 'CUDA_VISIBLE_DEVICES') },
  { weight: 2, arbitrary: fc.tuple(chars(`${UPPER}_`), fc.string({ unit: chars(`${UPPER}${DIGITS}_`), maxLength: 16 })).map(([first, rest]) => `${first}${rest}`) },
  relaxedEnvName,
).filter(name => !OPERATOR_ENV.includes(name));
const envSource: fc.Arbitrary<EnvSourceCfg> = fc.oneof(
  { weight: 3, arbitrary: printable.map(value => ({ kind: 'value' as const, value })) },
  fc.record({ kind: fc.constantFrom('secret' as const, 'configMap' as const), ref: dnsLabel, key: word(1, 10), optional: fc.boolean() }, { requiredKeys: ['kind', 'ref', 'key'] }),
);
const envCfg = fc.uniqueArray(fc.record({ name: envName, source: envSource }), { maxLength: 4, selector: e => e.name });

const mountPath = fc.tuple(fc.constantFrom('/data', '/mnt', '/checkpoints', '/etc/train', '/var/run/secrets/train'), word(1, 6))
  .map(([root, leaf]) => `${root}/${leaf}`);
/** A volume's source and name, without mounts; a third of the ConfigMap, Secret and claim volumes take the name cdk8s-plus derives. */
const volumeSource = fc.record({
  kind: fc.constantFrom('pvc' as const, 'configMap' as const, 'secret' as const, 'emptyDir' as const),
  name: dnsLabel.filter(name => name !== SharedMemory.VOLUME_NAME),
  derive: fc.integer({ min: 0, max: 2 }).map(n => n === 0),
  ref: dnsLabel,
  defaultMode: fc.option(fc.constantFrom(0o400, 0o440, 0o444, 0o600, 0o644, 0o755), { nil: undefined }),
  optional: fc.option(fc.boolean(), { nil: undefined }),
}).map(({ derive, ...v }) => (derive && v.kind !== 'emptyDir' ? { ...v, name: derivedVolumeName(v.kind, v.ref), derived: true } : v));
/** Volumes with distinct names (never `shm`), each mounted at one or two paths, every path distinct and not /dev/shm. */
const volumesCfg: fc.Arbitrary<VolumeCfg[]> = fc.uniqueArray(fc.tuple(volumeSource, fc.array(fc.record({
  path: mountPath,
  readOnly: fc.option(fc.boolean(), { nil: undefined }),
  subPath: fc.option(word(1, 8), { nil: undefined }),
}), { minLength: 1, maxLength: 2 })).map(([source, mounts]) => ({ ...source, mounts })), { maxLength: 3, selector: v => v.name }).map(volumes => {
  const seen = new Set<string>();
  return volumes.map(v => ({ ...v, mounts: v.mounts.filter(m => !seen.has(m.path) && seen.add(m.path)) })).filter(v => v.mounts.length > 0);
});
/** Volumes that only helper containers or replicas mount; their names are made distinct from the others' later. */
const extraVolumesCfg: fc.Arbitrary<VolumeCfg[]> = fc.uniqueArray(volumeSource, { maxLength: 2, selector: v => v.name })
  .map(volumes => volumes.map(v => ({ ...v, mounts: [] })));

const sharedMemoryCfg: fc.Arbitrary<SharedMemoryCfg> = fc.oneof(
  fc.constant({ kind: 'default' as const }),
  fc.record({ kind: fc.constant('enabled' as const), sizeMebibytes: fc.option(fc.integer({ min: 1, max: 64 * 1024 }), { nil: undefined }) }),
  fc.constant({ kind: 'disabled' as const }),
);
/** With shared memory disabled, a user's own emptyDir may take /dev/shm (when nothing needs several processes). */
const ownShmVolume: VolumeCfg = { kind: 'emptyDir', name: 'own-shm', ref: 'unused', mounts: [{ path: SharedMemory.MOUNT_PATH }] };

const restartPolicyArb = fc.option(
  fc.constantFrom(RestartPolicy.ALWAYS, RestartPolicy.ON_FAILURE, RestartPolicy.NEVER, RestartPolicy.EXIT_CODE), { nil: undefined });

const runPolicyFull: fc.Arbitrary<RunPolicyCfg> = fc.record({
  cleanPodPolicy: fc.constantFrom(CleanPodPolicy.NONE, CleanPodPolicy.RUNNING, CleanPodPolicy.ALL),
  ttlAfterFinished: durationOf(0, 7 * 86400),
  activeDeadline: durationOf(1, 7 * 86400),
  backoffLimit: fc.integer({ min: 0, max: 100 }),
  suspend: fc.boolean(),
  managedBy: fc.constantFrom(ManagedBy.TRAINING_OPERATOR, ManagedBy.MULTIKUEUE),
}, { requiredKeys: [] });

/** What a batch/v1 Job can honour. */
const runPolicySingleNode: fc.Arbitrary<RunPolicyCfg> = fc.record({
  cleanPodPolicy: fc.constant(CleanPodPolicy.NONE),
  ttlAfterFinished: durationOf(0, 7 * 86400),
  activeDeadline: durationOf(1, 7 * 86400),
  backoffLimit: fc.integer({ min: 0, max: 100 }),
  suspend: fc.boolean(),
}, { requiredKeys: [] });

const port = fc.option(fc.oneof(fc.constantFrom(23456, 29500, 1, 65535), fc.integer({ min: 1, max: 65535 })), { nil: undefined });
const script = fc.oneof(fc.constantFrom('train.py', '/app/train.py', 'src/main.py'), word(1, 10).map(w => `${w}.py`));
const scriptArgs = fc.array(fc.oneof(
  fc.constantFrom('--epochs', '3', '--lr=0.01', '--batch-size', '64', '--data', '/data/imagenet', '-v'),
  word(1, 8),
), { maxLength: 5 });

const TORCHRUN_COMMANDS = [['torchrun'], ['/usr/local/bin/torchrun'], ['python3', '-m', 'torch.distributed.run'], ['python', '-m', 'torch.distributed.run']];
const isTorchrun = (command: string[] | undefined) => command !== undefined && TORCHRUN_COMMANDS.some(c => c.join(' ') === command.join(' '));
/** Flags torchrun accepts, placed before the script of a PyTorchJob whose command is torchrun. */
const torchrunFlagArgs = fc.array(fc.oneof(
  fc.integer({ min: 0, max: 10 }).map(n => `--max_restarts=${n}`),
  fc.integer({ min: 1, max: 30 }).map(n => `--monitor_interval=${n}`),
  fc.constantFrom('--start_method=spawn', '--start_method=fork', '--start_method=forkserver', '--redirects=2', '--tee=2'),
), { maxLength: 2 });

/** The entry point of a PyTorchJob: the image's, a python script, a shell, or torchrun. */
const jobCommand = fc.oneof(
  fc.record({ style: fc.constant('image' as const), args: fc.option(scriptArgs, { nil: undefined }) }),
  fc.record({ style: fc.constant('python' as const), python: fc.constantFrom(['python'], ['python3'], ['python3', '-u']), script, args: scriptArgs }),
  fc.record({ style: fc.constant('shell' as const), args: fc.constant<string[]>(['-c', 'python train.py']) }),
  {
    weight: 3,
    arbitrary: fc.record({ style: fc.constant('torchrun' as const), command: fc.constantFrom(...TORCHRUN_COMMANDS), flags: torchrunFlagArgs, script, args: scriptArgs }),
  },
).map((c): { command?: string[]; args?: string[] } => {
  switch (c.style) {
    case 'image': return { args: c.args };
    case 'python': return { command: [...c.python, c.script], args: c.args.length > 0 ? c.args : undefined };
    case 'shell': return { command: ['bash'], args: c.args };
    case 'torchrun': return { command: c.command, args: [...c.flags, c.script, ...c.args] };
  }
});

const nprocCfg: fc.Arbitrary<NprocCfg> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) },
  fc.constantFrom('auto' as const, 'cpu' as const, 'gpu' as const),
);
const workerCount = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }) },
  { weight: 3, arbitrary: fc.integer({ min: 9, max: 128 }) },
  fc.integer({ min: 129, max: 5000 }),
);

/** A helper container's mount of one of the volumes, picked once the volumes are known. */
const helperMountRef: fc.Arbitrary<MountRefCfg> = fc.record({
  pick: fc.nat(),
  root: fc.constantFrom('/mnt', '/config', '/var/lib/helper', '/data'),
  leaf: word(1, 6),
  readOnly: fc.option(fc.boolean(), { nil: undefined }),
  subPath: fc.option(word(1, 8), { nil: undefined, freq: 2 }),
}).map(({ root, leaf, ...m }) => ({ ...m, volume: '', path: `${root}/${leaf}` }));
/** A replica's own mount into its training container, under a root the job's mounts never use. */
const replicaMountRef: fc.Arbitrary<MountRefCfg> = fc.record({
  pick: fc.nat(),
  leaf: word(1, 6),
  readOnly: fc.option(fc.boolean(), { nil: undefined }),
  subPath: fc.option(word(1, 8), { nil: undefined, freq: 2 }),
}).map(({ leaf, ...m }) => ({ ...m, volume: '', path: `/replica/${leaf}` }));
/** Container ports, made distinct in each pod (and from the training port) later. */
const portCfg: fc.Arbitrary<PortCfg> = fc.record({
  number: fc.oneof(fc.constantFrom(8080, 9090, 9100, 9400, 23456, 29500), fc.integer({ min: 1, max: 65535 })),
  named: fc.boolean(),
  protocol: fc.option(fc.constantFrom(Protocol.TCP, Protocol.UDP, Protocol.SCTP), { nil: undefined }),
});
const pullPolicy = fc.constantFrom(ImagePullPolicy.ALWAYS, ImagePullPolicy.IF_NOT_PRESENT, ImagePullPolicy.NEVER);
const helperCommand = fc.constantFrom<string[]>(['sh', '-c', 'sleep 5'], ['/bin/exporter'], ['python3', '-m', 'http.server'], ['fluent-bit', '-c', '/config/fluent-bit.conf']);
/** A helper container; its name is made unique in its pods later. */
const containerCfg: fc.Arbitrary<ContainerCfg> = fc.record({
  name: dnsLabel,
  image,
  command: fc.option(helperCommand, { nil: undefined }),
  args: fc.option(fc.array(word(1, 8), { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 2 }),
  workingDir: fc.option(fc.constantFrom('/', '/app'), { nil: undefined, freq: 2 }),
  imagePullPolicy: fc.option(pullPolicy, { nil: undefined, freq: 2 }),
  env: fc.uniqueArray(fc.record({ name: envName, source: envSource }), { maxLength: 2, selector: e => e.name }),
  mounts: fc.uniqueArray(helperMountRef, { maxLength: 2, selector: m => m.path }),
  ports: fc.array(portCfg, { maxLength: 2 }),
  security: fc.option(containerSecurity, { nil: undefined, freq: 2 }),
  resources: fc.option(resourcePair(false), { nil: undefined, freq: 2 }),
}).map(({ resources, ...c }) => ({ ...c, requests: resources?.requests, limits: resources?.limits }));
const containerList = (max: number) => fc.oneof(
  { weight: 2, arbitrary: fc.constant<ContainerCfg[]>([]) },
  fc.array(containerCfg, { minLength: 1, maxLength: max }),
);
const containersCfg: fc.Arbitrary<ContainersCfg> = fc.record({
  initContainers: containerList(2), sidecars: containerList(2), containers: containerList(1),
});
const noContainers = (): ContainersCfg => ({ initContainers: [], sidecars: [], containers: [] });

/** How many of the last entries of each job-level list go through the amendment methods instead of the props. */
type SplitCfg = Record<'env' | 'volumes' | 'tolerations' | 'nodeSelector' | 'podLabels' | 'podAnnotations' | ContainerList, number>;
const splitCount = fc.nat({ max: 2 });
const splitCfg: fc.Arbitrary<SplitCfg> = fc.record({
  env: splitCount,
  volumes: splitCount,
  tolerations: splitCount,
  nodeSelector: splitCount,
  podLabels: splitCount,
  podAnnotations: splitCount,
  initContainers: splitCount,
  sidecars: splitCount,
  containers: splitCount,
});

/** What manifests often set themselves: the operator's own value, harmless beside it. */
const UNBUFFERED: EnvCfg = { name: 'PYTHONUNBUFFERED', source: { kind: 'value', value: '1' } };

const commonParts = {
  app: appCfg,
  /** A quarter of the jobs set PYTHONUNBUFFERED=1 first in their env (and so, with a short env, through addEnv). */
  unbuffered: fc.integer({ min: 0, max: 3 }).map(n => n === 0),
  metadata: metadataCfg,
  image,
  env: envCfg,
  resources: resourcePair(false),
  sharedMemory: sharedMemoryCfg,
  volumes: volumesCfg,
  extraVolumes: extraVolumesCfg,
  ownShm: fc.boolean(),
  pod: podCfg,
  port,
  containers: containersCfg,
  split: splitCfg,
  /** A quarter of the jobs: one pod per node on a list of named nodes, as many as the pods or a few more. */
  restrictHosts: fc.integer({ min: 0, max: 3 }).map(n => n === 0),
  spareHosts: fc.integer({ min: 0, max: 2 }),
};

/** How a configuration is finished, besides its own fields. */
interface FinishCfg {
  /** The longest suffix the operator appends to the job's name, such as `-worker-11`. */
  readonly serviceSuffixLength: number;
  readonly processes: number | 'many';
  readonly ownShm: boolean;
  /** How many pods the job has. */
  readonly pods: number;
  /** Whether the pods find each other through the job's Services: all but a single-node Job. */
  readonly usesServices: boolean;
  readonly split: SplitCfg;
  readonly restrictHosts: boolean;
  readonly spareHosts: number;
  /** The replicas, whose containers and mounts are finished with the job's (in place: they are fresh objects). */
  readonly replicas: ReplicaCfg[];
}

/** `name`, or `name-2`, `name-3`, … : the first not taken, which is then taken. */
function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let k = 2; taken.has(candidate); k++) candidate = `${name}-${k}`;
  taken.add(candidate);
  return candidate;
}
/** `port`, or the next one not taken, which is then taken. */
function freePort(wanted: number, taken: Set<number>): number {
  let candidate = wanted;
  while (taken.has(candidate)) candidate = candidate >= 65535 ? 1024 : candidate + 1;
  taken.add(candidate);
  return candidate;
}
/** The last `n` entries of a list, and the others. */
function cutList<X>(list: readonly X[] | undefined, n: number): [X[], X[]] {
  const all = list ?? [];
  const at = Math.max(0, all.length - n);
  return [all.slice(0, at), all.slice(at)];
}
function cutMap(map: Record<string, string> | undefined, n: number): [Record<string, string> | undefined, Record<string, string>] {
  const [kept, moved] = cutList(Object.entries(map ?? {}), n);
  return [map && Object.fromEntries(kept), Object.fromEntries(moved)];
}
const TRAINING_CONTAINER = 'pytorch';
const OPERATOR_INIT_CONTAINER = 'init-pytorch';

/**
 * Applies what holds for both constructs: names that fit, shared memory wherever several processes share a pod,
 * amendments taken from the job-level lists, a DNS policy that finds the job's Services, hostname lists that leave a
 * node for every pod, and helper containers with names and ports unique in their pods and mounts of known volumes.
 */
function finishCommon<T extends CommonCfg>(cfg: T, f: FinishCfg): T {
  const metadata = cfg.metadata?.name === undefined ? cfg.metadata : { ...cfg.metadata, name: fitName(cfg.metadata.name, f.serviceSuffixLength) };
  let sharedMemory = cfg.sharedMemory;
  if (f.processes !== 1 && sharedMemory.kind === 'disabled') sharedMemory = { kind: 'default' };

  const pod: PodCfg = { ...cfg.pod };
  const [env, amendEnv] = cutList(cfg.env, f.split.env);
  const [volumes, amendVolumes] = cutList(cfg.volumes, f.split.volumes);
  const [tolerations, amendTolerations] = cutList(pod.tolerations, f.split.tolerations);
  if (pod.tolerations) pod.tolerations = tolerations;
  let amendNodeSelector: Record<string, string>;
  let amendPodLabels: Record<string, string>;
  let amendPodAnnotations: Record<string, string>;
  [pod.nodeSelector, amendNodeSelector] = cutMap(pod.nodeSelector, f.split.nodeSelector);
  [pod.podLabels, amendPodLabels] = cutMap(pod.podLabels, f.split.podLabels);
  [pod.podAnnotations, amendPodAnnotations] = cutMap(pod.podAnnotations, f.split.podAnnotations);
  const containers = noContainers();
  const amendContainers = noContainers();
  for (const list of CONTAINER_LISTS) [containers[list], amendContainers[list]] = cutList(cfg.containers[list], f.split[list]);

  // On the node's network, only ClusterFirstWithHostNet (the default there) finds the job's Services; elsewhere
  // Default and None would resolve with the node's or other name servers, which do not know them either.
  if (pod.hostNetwork) {
    if (pod.dnsPolicy !== DnsPolicy.CLUSTER_FIRST_WITH_HOST_NET) pod.dnsPolicy = undefined;
  } else if (f.usesServices && (pod.dnsPolicy === DnsPolicy.DEFAULT || pod.dnsPolicy === DnsPolicy.NONE)) {
    pod.dnsPolicy = undefined;
  }
  // The API server requires a name server with the policy None.
  if (pod.dnsPolicy === DnsPolicy.NONE && !pod.dnsConfig?.nameservers) pod.dnsConfig = { ...pod.dnsConfig, nameservers: ['10.96.0.10'] };

  if (f.restrictHosts && f.pods <= 32) {
    pod.hostnames = Array.from({ length: f.pods + f.spareHosts }, (_, i) => `node-${i}`);
    pod.scheduling = { ...pod.scheduling, onePodPerNode: true };
  }

  const takenVolumes = new Set([SharedMemory.VOLUME_NAME, ownShmVolume.name, ...volumes.map(v => v.name), ...amendVolumes.map(v => v.name)]);
  // A volume renamed is given its new name: the one cdk8s-plus would derive is taken.
  const extraVolumes = cfg.extraVolumes.map(v => {
    const name = uniqueName(v.name, takenVolumes);
    return name === v.name ? v : { ...v, name, derived: undefined };
  });
  const finished: T = {
    ...cfg,
    metadata,
    sharedMemory,
    env,
    volumes,
    extraVolumes,
    containers,
    pod,
    amend: {
      env: amendEnv,
      volumes: amendVolumes,
      tolerations: amendTolerations,
      nodeSelector: amendNodeSelector,
      podLabels: amendPodLabels,
      podAnnotations: amendPodAnnotations,
      containers: amendContainers,
    },
  };
  finishContainers(finished, f.replicas);
  // Added last, so that no helper container or replica mounts it.
  if (sharedMemory.kind === 'disabled' && f.ownShm) finished.volumes = [...finished.volumes, ownShmVolume];
  return finished;
}

/**
 * Helper containers with names unique in their pods (not `pytorch`, nor the operator's `init-pytorch`), ports
 * unique in their pods and apart from the training port, and mounts of the configuration's volumes. A replica's
 * containers are checked against the job's and the amendments', not against the other replica's (another pod).
 */
function finishContainers(cfg: CommonCfg, replicas: ReplicaCfg[]): void {
  const volumeNames = [...cfg.volumes, ...cfg.amend.volumes, ...cfg.extraVolumes].map(v => v.name);
  const resolve = (mounts: MountRefCfg[]): MountRefCfg[] => (volumeNames.length === 0 ? [] : mounts.map(({ pick, ...m }) =>
    ({ ...m, volume: volumeNames[(pick ?? 0) % volumeNames.length] })));
  const finish = (c: ContainerCfg, names: Set<string>, ports: Set<number>): ContainerCfg => ({
    ...c,
    name: uniqueName(c.name, names),
    ports: c.ports.map(p => ({ ...p, number: freePort(p.number, ports) })),
    mounts: resolve(c.mounts),
  });
  const finishAll = (list: ContainersCfg, names: Set<string>, ports: Set<number>): ContainersCfg => {
    const done = noContainers();
    for (const name of CONTAINER_LISTS) done[name] = list[name].map(c => finish(c, names, ports));
    return done;
  };
  const names = new Set([TRAINING_CONTAINER, OPERATOR_INIT_CONTAINER]);
  const ports = new Set([cfg.port ?? 23456]);
  cfg.containers = finishAll(cfg.containers, names, ports);
  cfg.amend.containers = finishAll(cfg.amend.containers, names, ports);
  for (const replica of replicas) {
    if (replica.containers) replica.containers = finishAll(replica.containers, new Set(names), new Set(ports));
    if (replica.mounts) replica.mounts = resolve(replica.mounts);
  }
}

/** A replica's own command: always with its arguments, so that it never takes the job's arguments for another program. */
const replicaCommand = jobCommand.filter(c => c.command !== undefined && c.args !== undefined && c.args.length > 0);

/** What a Master or Worker may set for itself; resource overrides set both sides of each key they set. */
const replicaOverrides = fc.record({
  image: fc.option(image, { nil: undefined }),
  resources: resourcePair(true),
  restartPolicy: restartPolicyArb,
  nodeSelector: labels,
  tolerations: fc.array(toleration, { maxLength: 2 }),
  env: fc.uniqueArray(fc.record({ name: envName, source: envSource }), { minLength: 1, maxLength: 2, selector: e => e.name }),
  command: replicaCommand,
  podLabels: labels,
  podAnnotations: fc.dictionary(qualifiedKey, printable, { maxKeys: 2 }),
  mounts: sometimes(fc.uniqueArray(replicaMountRef, { minLength: 1, maxLength: 2, selector: m => m.path })),
  containers: sometimes(containersCfg),
  scheduling: sometimes(schedulingCfg),
  securityContext: sometimes(containerSecurity),
}, { requiredKeys: [] });

const validJob: fc.Arbitrary<JobCfg> = fc.record({
  ...commonParts,
  command: jobCommand,
  workers: workerCount,
  writeReplicas: fc.boolean(),
  master: fc.option(replicaOverrides, { nil: undefined }),
  worker: replicaOverrides,
  runPolicy: fc.option(runPolicyFull, { nil: undefined }),
  nprocPerNode: fc.option(nprocCfg, { nil: undefined }),
}).map(g => {
  const replica = (r: NonNullable<typeof g.master>): ReplicaCfg => ({
    image: r.image,
    requests: r.resources?.requests,
    limits: r.resources?.limits,
    restartPolicy: r.restartPolicy,
    nodeSelector: r.nodeSelector,
    tolerations: r.tolerations,
    env: r.env,
    command: r.command?.command,
    args: r.command?.args,
    podLabels: r.podLabels,
    podAnnotations: r.podAnnotations,
    mounts: r.mounts,
    containers: r.containers,
    scheduling: r.scheduling,
    securityContext: r.securityContext,
  });
  const torchrun = isTorchrun(g.command.command);
  // nprocPerNode only for a command that is torchrun, and then with shared memory on.
  const nprocPerNode = torchrun ? g.nprocPerNode : undefined;
  const workers = g.writeReplicas || g.workers !== 1 ? g.workers : undefined;
  const master = g.master && replica(g.master);
  const worker: WorkerCfg = { ...replica(g.worker), replicas: workers };
  const replicas = master ? [master, worker] : [worker];
  // One scheduler for all the job's pods (two would place them apart, and a gang would never complete): a replica
  // that names one names the job's.
  const schedulerName = g.pod.scheduling?.schedulerName;
  for (const r of replicas) if (r.scheduling?.schedulerName !== undefined) r.scheduling = { ...r.scheduling, schedulerName };
  // With nprocPerNode every pod must run torchrun: a replica's own command is then torchrun, or it takes the job's.
  // Without shared memory, a replica of a job that does not run torchrun does not run it either (torchrun would turn
  // shared memory on, and rarely leave a job without it).
  for (const r of replicas) {
    const keepsOneProcess = !torchrun && g.sharedMemory.kind === 'disabled' && isTorchrun(r.command);
    if ((nprocPerNode !== undefined && r.command !== undefined && !isTorchrun(r.command)) || keepsOneProcess) {
      r.command = undefined;
      r.args = undefined;
    }
  }
  const cfg: JobCfg = {
    app: g.app,
    metadata: g.metadata,
    image: g.image,
    ...g.command,
    env: g.unbuffered ? [UNBUFFERED, ...g.env] : g.env,
    requests: g.resources.requests,
    limits: g.resources.limits,
    sharedMemory: g.sharedMemory,
    volumes: g.volumes,
    extraVolumes: g.extraVolumes,
    containers: g.containers,
    pod: g.pod,
    port: g.port,
    amend: { env: [], volumes: [], tolerations: [], nodeSelector: {}, podLabels: {}, podAnnotations: {}, containers: noContainers() },
    master,
    worker,
    runPolicy: g.runPolicy,
    nprocPerNode,
  };
  // torchrun may start several processes per pod (its count, or one per GPU under the default `auto`).
  const many = torchrun || replicas.some(r => isTorchrun(r.command));
  return finishCommon(cfg, {
    serviceSuffixLength: '-worker-'.length + digits(g.workers - 1),
    processes: many ? 'many' : 1,
    ownShm: g.ownShm,
    pods: 1 + g.workers,
    usesServices: true,
    split: g.split,
    restrictHosts: g.restrictHosts,
    spareHosts: g.spareHosts,
    replicas,
  });
});

const rdzvKey = fc.oneof(fc.constantFrom('timeout', 'join_timeout', 'read_timeout', 'last_call_timeout', 'close_timeout', 'is_host'),
  fc.string({ unit: chars(`${LOWER}_.-`), minLength: 1, maxLength: 12 }));
const rdzvValue = fc.oneof(fc.integer({ min: 1, max: 3600 }).map(String), fc.constantFrom('true', 'false', 'a=b', '1:2'),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }).filter(v => !v.includes(',')));

const nodeCount = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 2, max: 8 }) }, fc.integer({ min: 9, max: 64 }));
const oneNode = fc.constantFrom<NnodesCfg | undefined>(
  undefined, { kind: 'fixed', count: 1 }, { kind: 'range', min: 1, max: 1 }, { kind: 'parse', text: '1' }, { kind: 'parse', text: '1:1' });
const severalNodes = fc.oneof(
  nodeCount.map((count): NnodesCfg => ({ kind: 'fixed', count })),
  fc.tuple(fc.integer({ min: 1, max: 64 }), nodeCount).map(([a, b]): NnodesCfg => ({ kind: 'range', min: Math.min(a, b), max: Math.max(a, b) })),
  fc.tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 2, max: 500 }), fc.boolean())
    .map(([a, b, spaced]): NnodesCfg => ({ kind: 'parse', text: `${Math.min(a, b)}${spaced ? ' : ' : ':'}${Math.max(a, b)}` })),
);
/** Node ranges: about 40% single node (a batch/v1 Job), the rest several (a PyTorchJob). */
const nnodesCfg: fc.Arbitrary<NnodesCfg | undefined> = fc.oneof({ weight: 2, arbitrary: oneNode }, { weight: 3, arbitrary: severalNodes });

const validElasticJob: fc.Arbitrary<ElasticJobCfg> = fc.record({
  ...commonParts,
  command: fc.option(fc.constantFrom(...TORCHRUN_COMMANDS), { nil: undefined }),
  args: fc.option(scriptArgs, { nil: undefined }),
  entrypoint: fc.oneof(
    script.map(value => ({ kind: 'script' as const, value })),
    fc.constantFrom('trainer.main', 'train', 'pkg.sub.module').map(value => ({ kind: 'module' as const, value })),
  ),
  defaultElastic: fc.integer({ min: 0, max: 9 }).map(n => n === 0),
  nnodes: nnodesCfg,
  nproc: fc.option(nprocCfg, { nil: undefined }),
  startMethod: fc.option(fc.constantFrom(StartMethod.SPAWN, StartMethod.FORK, StartMethod.FORKSERVER), { nil: undefined }),
  monitorInterval: fc.option(durationOf(1, 600), { nil: undefined }),
  maxRestarts: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  rdzvConfigs: fc.option(fc.dictionary(rdzvKey, rdzvValue, { maxKeys: 4 }), { nil: undefined }),
  runPolicyFull: fc.option(runPolicyFull, { nil: undefined }),
  runPolicySingle: fc.option(runPolicySingleNode, { nil: undefined }),
}).map(g => {
  const elastic: ElasticCfg | undefined = g.defaultElastic ? undefined : {
    nnodes: g.nnodes,
    nproc: g.nproc,
    startMethod: g.startMethod,
    monitorInterval: g.monitorInterval,
    maxRestarts: g.maxRestarts,
    rdzvConfigs: g.rdzvConfigs,
  };
  const cfg: ElasticJobCfg = {
    app: g.app,
    metadata: g.metadata,
    image: g.image,
    command: g.command,
    args: g.args,
    env: g.unbuffered ? [UNBUFFERED, ...g.env] : g.env,
    requests: g.resources.requests,
    limits: g.resources.limits,
    sharedMemory: g.sharedMemory,
    volumes: g.volumes,
    extraVolumes: g.extraVolumes,
    containers: g.containers,
    pod: g.pod,
    port: g.port,
    amend: { env: [], volumes: [], tolerations: [], nodeSelector: {}, podLabels: {}, podAnnotations: {}, containers: noContainers() },
    entrypoint: g.entrypoint,
    elastic,
  };
  const single = isSingleNode(cfg);
  if (elastic) elastic.runPolicy = single ? g.runPolicySingle : g.runPolicyFull;
  // torchrun --standalone picks its own port: a single-node job refuses one.
  if (single) cfg.port = undefined;
  const { max } = nodeRange(cfg);
  const processes = (elastic?.nproc ?? 1) === 1 ? 1 : 'many';
  return finishCommon(cfg, {
    serviceSuffixLength: single ? 0 : '-worker-'.length + digits(max - 1),
    processes,
    ownShm: g.ownShm,
    pods: max,
    usesServices: !single,
    split: g.split,
    restrictHosts: g.restrictHosts,
    spareHosts: g.spareHosts,
    replicas: [],
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Mutations: exactly one per invalid configuration, each with the field its error must name
// ---------------------------------------------------------------------------------------------------------------

interface Mutation<C, P> {
  readonly name: string;
  readonly param: fc.Arbitrary<P>;
  /** Whether the mutation makes sense for this configuration (default: always). */
  readonly applies?: (cfg: C, param: P) => boolean;
  /** Changes a copy of the configuration in place. */
  readonly apply: (cfg: C, param: P) => void;
  /** What the error message must contain (each of them), given the mutated configuration. */
  readonly field: (cfg: C, param: P) => string | string[];
}
function mutation<C, P>(m: Mutation<C, P>): Mutation<C, any> {
  return m;
}

type Level = 'job' | 'Master' | 'Worker';
const RESOURCE_FIELD: Record<StandardKey, string> = { cpu: 'cpu', memory: 'memory', ephemeralStorage: 'ephemeral-storage' };

function levelTarget(cfg: JobCfg | ElasticJobCfg, level: Level): ResourcePairCfg {
  if (level === 'job') return cfg;
  const job = cfg as JobCfg;
  return level === 'Master' ? (job.master ??= {}) : job.worker;
}

function setKey(target: ResourcePairCfg, list: 'requests' | 'limits', key: keyof ResourcesCfg, value: unknown): void {
  const copy: Record<string, unknown> = { ...target[list] };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  target[list] = copy as ResourcesCfg;
}

/**
 * Sets a resource key on both lists at one level. At job level, replica overrides of the key are dropped, so that
 * they cannot mask the job's value.
 */
function setResource(cfg: JobCfg | ElasticJobCfg, level: Level, key: keyof ResourcesCfg, request: unknown, limit: unknown): void {
  const target = levelTarget(cfg, level);
  setKey(target, 'requests', key, request);
  setKey(target, 'limits', key, limit);
  if (level === 'job' && 'worker' in cfg) {
    for (const replica of [cfg.master, cfg.worker]) {
      for (const list of ['requests', 'limits'] as const) {
        if (replica?.[list] === undefined) continue;
        setKey(replica, list, key, undefined);
        if (key === 'gpu') setKey(replica, list, 'gpuResource', undefined);
      }
    }
  }
}
function setGpu(cfg: JobCfg | ElasticJobCfg, level: Level, request: number | undefined, limit: number | undefined, name: GpuName | undefined): void {
  setResource(cfg, level, 'gpu', request, limit);
  setResource(cfg, level, 'gpuResource', name, name);
}
/** The GPU resource name a level's list ends up with, after inheriting from the job. */
function effectiveGpu(cfg: JobCfg | ElasticJobCfg, level: Level, list: 'requests' | 'limits'): string {
  const own = levelTarget(cfg, level)[list]?.gpuResource;
  return gpuName(own ?? (level === 'job' ? undefined : cfg[list]?.gpuResource));
}

const levelArb = (forJob: boolean): fc.Arbitrary<Level> => (forJob ? fc.constantFrom<Level>('job', 'Master', 'Worker') : fc.constant<Level>('job'));
const standardKey = fc.constantFrom<StandardKey>('cpu', 'memory', 'ephemeralStorage');
const aboveLimit = fc.tuple(standardKey, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 }));
function standardValue(key: StandardKey, amount: number): CpuCfg | SizeCfg {
  return key === 'cpu' ? cpuCfg(amount * 10, false) : sizeCfg(amount * 16, false);
}

/** `text` with `inserted` put at a place picked by `at`. */
function insertAt(text: string, inserted: string, at: number): string {
  const i = at % (text.length + 1);
  return `${text.slice(0, i)}${inserted}${text.slice(i)}`;
}

/** Job names the operator refuses: with `_`, `.`, upper case, a digit first, and so on. They must be refused, never changed. */
const badNames = fc.oneof(
  fc.constantFrom('', 'My-Job', 'TRAIN', 'train_job', 'train.job', '0-train', '-train', 'train-', 'tr ain', 'ÿob', 'llama-3.1-70b', 'job-C8ABCDEF'),
  fc.integer({ min: 64, max: 80 }).map(n => 'a'.repeat(n)),
  jobNameSeed.map(name => `${name.slice(0, 20)}X`),
  jobNameSeed.map(name => `9${name.slice(0, 20)}`),
  fc.tuple(jobNameSeed.map(name => name.slice(0, 40)), fc.constantFrom('_', '.', 'A', 'Z'), fc.nat()).map(([name, c, at]) => insertAt(name, c, at)),
  fc.tuple(chars(DIGITS), jobNameSeed.map(name => name.slice(0, 40))).map(([digit, name]) => `${digit}${name}`),
);
const badReplicaCounts = fc.oneof(fc.constantFrom(0, -1, 0.5, 2.5), fc.integer({ min: -100, max: -1 }));
const fractionalDuration = fc.constantFrom<DurationCfg>({ unit: 'millis', amount: 1500 }, { unit: 'millis', amount: 999 }, { unit: 'millis', amount: 60_001 });
const badPorts = fc.oneof(fc.constantFrom(0, -1, 65536, 1.5), fc.integer({ min: 65536, max: 1_000_000 }));
const badGpuCounts = fc.constantFrom(0.5, 1.5, -1, -4);
const anyGpu = fc.option(fc.constantFrom<GpuName>('NVIDIA', 'AMD', 'MIG'), { nil: undefined });

/** The number of training processes per pod, when it is a number. */
function processCount(cfg: JobCfg | ElasticJobCfg): number {
  const n = 'worker' in cfg ? cfg.nprocPerNode : cfg.elastic?.nproc;
  return typeof n === 'number' ? n : 1;
}

type TermField = 'preferredNodeAffinity' | 'podAffinity' | 'podAntiAffinity' | 'topologySpread';
type MapMethod = 'addEnv' | 'addNodeSelector' | 'addPodLabel' | 'addPodAnnotation';
const AMEND_METHODS: Record<ContainerList, string> = { initContainers: 'addInitContainer', sidecars: 'addSidecar', containers: 'addContainer' };
const MAP_FIELDS: Record<Exclude<MapMethod, 'addEnv'>, 'nodeSelector' | 'podLabels' | 'podAnnotations'> = {
  addNodeSelector: 'nodeSelector', addPodLabel: 'podLabels', addPodAnnotation: 'podAnnotations',
};

function replicasOf(cfg: JobCfg | ElasticJobCfg): ReplicaCfg[] {
  return 'worker' in cfg ? [cfg.master, cfg.worker].filter((r): r is ReplicaCfg => r !== undefined) : [];
}
function replicaAt(cfg: JobCfg, type: 'Master' | 'Worker'): ReplicaCfg {
  return type === 'Master' ? (cfg.master ??= {}) : cfg.worker;
}
function schedulingAt(cfg: JobCfg | ElasticJobCfg, level: Level): SchedulingCfg {
  if (level === 'job') return (cfg.pod.scheduling ??= {});
  const replica = replicaAt(cfg as JobCfg, level);
  return (replica.scheduling ??= {});
}
/**
 * The field path of a level's option as the user wrote it, as it starts a message: `podAffinity` at job level (after
 * the construct path, `[test/job] `, so that a replica's path cannot match), `worker.podAffinity` for a replica.
 */
/** A field of a level as a refusal names it; `^` marks the job's own, whose refusal starts with the field. */
function levelPath(level: Level, field: string): string {
  return level === 'job' ? `^${field}` : `${level.toLowerCase()}.${field}`;
}
/** The path of the last entry of a level's list (a replica's own entries are refused at their own index, before the merge). */
function lastEntryPath(cfg: JobCfg | ElasticJobCfg, level: Level, field: TermField): string {
  return `${levelPath(level, field)}[${schedulingAt(cfg, level)[field]!.length - 1}]`;
}
/** A helper container that is valid on its own. */
const helper = (name: string): ContainerCfg => ({ name, image: 'busybox:1.36', env: [], mounts: [], ports: [] });
/** The names of the job-level helper containers, given in the props or through amendments. */
function jobContainerNames(cfg: CommonCfg): string[] {
  return [cfg.containers, cfg.amend.containers].flatMap(list => CONTAINER_LISTS.flatMap(name => list[name].map(c => c.name)));
}
/** The paths the job mounts into the training container, in the props or through amendments. */
function jobMountPaths(cfg: CommonCfg): string[] {
  return [...cfg.volumes, ...cfg.amend.volumes].flatMap(v => v.mounts.map(m => m.path));
}
function allVolumeNames(cfg: CommonCfg): string[] {
  return [...cfg.volumes, ...cfg.amend.volumes, ...cfg.extraVolumes].map(v => v.name);
}
/** The keys an amendment method refuses to set again: those the job's props set (and, for env, earlier amendments). */
function takenKeys(cfg: CommonCfg, method: MapMethod): string[] {
  if (method === 'addEnv') return [...cfg.env, ...cfg.amend.env].map(e => e.name);
  return Object.keys(cfg.pod[MAP_FIELDS[method]] ?? {});
}
/** How many pods a job has. */
function podCount(cfg: JobCfg | ElasticJobCfg): number {
  return 'worker' in cfg ? 1 + (cfg.worker.replicas ?? 1) : nodeRange(cfg).max;
}
const badWeights = fc.oneof(fc.constantFrom(0, 101), fc.constantFrom(-1, 250, 0.5, 99.5));

/** Mutations of the pod options that both constructs share: placement, amendments, helper containers. */
function podOptionMutations<C extends JobCfg | ElasticJobCfg>(forJob: boolean): Array<Mutation<C, any>> {
  return [
    mutation<C, [Level, Exclude<TermField, 'topologySpread'>, number, boolean]>({
      name: 'a weight of 0 or 101',
      param: fc.tuple(levelArb(forJob), fc.constantFrom('preferredNodeAffinity' as const, 'podAffinity' as const, 'podAntiAffinity' as const), badWeights, fc.boolean()),
      apply: (cfg, [level, field, value, own]) => {
        const scheduling = schedulingAt(cfg, level);
        if (field === 'preferredNodeAffinity') {
          scheduling.preferredNodeAffinity = [...scheduling.preferredNodeAffinity ?? [], { weight: value, queries: [{ op: 'exists', key: 'example.com/fabric', values: [] }] }];
        } else {
          scheduling[field] = [...scheduling[field] ?? [], { own, peer: 'cache', topology: 'zone', weight: value }];
        }
      },
      field: (cfg, [level, field]) => `${lastEntryPath(cfg, level, field)}.weight: `,
    }),
    mutation<C, [Level, number]>({
      name: 'a topology spread maxSkew below 1 or fractional',
      param: fc.tuple(levelArb(forJob), fc.constantFrom(0, -1, 1.5)),
      apply: (cfg, [level, maxSkew]) => {
        const scheduling = schedulingAt(cfg, level);
        scheduling.topologySpread = [...scheduling.topologySpread ?? [], { own: true, peer: 'x', topology: 'zone', maxSkew }];
      },
      field: (cfg, [level]) => `${lastEntryPath(cfg, level, 'topologySpread')}.maxSkew: `,
    }),
    mutation<C, [Level, DurationCfg]>({
      name: 'a terminationGracePeriod that is not whole seconds',
      param: fc.tuple(levelArb(forJob), fractionalDuration),
      apply: (cfg, [level, value]) => {
        schedulingAt(cfg, level).terminationGracePeriod = value;
        // A replica's own period replaces the job's: take the replicas' away, so that the job's is written.
        if (level === 'job') for (const replica of replicasOf(cfg)) if (replica.scheduling) replica.scheduling.terminationGracePeriod = undefined;
      },
      field: (_cfg, [level]) => `${levelPath(level, 'terminationGracePeriod')}: `,
    }),
    mutation<C, [MapMethod, number]>({
      name: 'an amendment of a key the job already sets',
      param: fc.tuple(fc.constantFrom<MapMethod>('addEnv', 'addNodeSelector', 'addPodLabel', 'addPodAnnotation'), fc.nat()),
      applies: (cfg, [method]) => takenKeys(cfg, method).length > 0,
      apply: (cfg, [method, i]) => {
        const keys = takenKeys(cfg, method);
        const key = keys[i % keys.length];
        if (method === 'addEnv') cfg.amend.env.push({ name: key, source: { kind: 'value', value: 'again' } });
        else cfg.amend[MAP_FIELDS[method]][key] = 'again';
      },
      field: (cfg, [method]) => {
        const key = method === 'addEnv'
          ? cfg.amend.env[cfg.amend.env.length - 1].name
          : Object.keys(cfg.amend[MAP_FIELDS[method]]).find(k => k in (cfg.pod[MAP_FIELDS[method]] ?? {}))!;
        return `${method}: ${JSON.stringify(key)} is already set`;
      },
    }),
    mutation<C, [ContainerList, number]>({
      name: 'an amended container named like a container of the job',
      param: fc.tuple(fc.constantFrom(...CONTAINER_LISTS), fc.nat()),
      applies: cfg => jobContainerNames(cfg).length > 0,
      apply: (cfg, [list, i]) => {
        const names = jobContainerNames(cfg);
        cfg.amend.containers[list].push(helper(names[i % names.length]));
      },
      // Refused by the second of the two calls: the amendments are applied init containers first, then sidecars, then containers.
      field: (cfg, [list]) => {
        const added = cfg.amend.containers[list];
        const name = added[added.length - 1].name;
        const earlier = CONTAINER_LISTS.find(l => cfg.amend.containers[l].some(c => c.name === name && c !== added[added.length - 1]));
        const second = earlier !== undefined && CONTAINER_LISTS.indexOf(earlier) > CONTAINER_LISTS.indexOf(list) ? earlier : list;
        return `${AMEND_METHODS[second]}: ${JSON.stringify(name)} is already a container`;
      },
    }),
    mutation<C, number>({
      name: 'an amended mount at a path the job mounts',
      param: fc.nat(),
      applies: cfg => jobMountPaths(cfg).length > 0,
      apply: (cfg, i) => {
        const paths = jobMountPaths(cfg);
        cfg.amend.volumes.push({ kind: 'emptyDir', name: uniqueName('amended-twin', new Set(allVolumeNames(cfg))), ref: 'x', mounts: [{ path: paths[i % paths.length] }] });
      },
      field: cfg => `addVolumeMount: ${JSON.stringify(cfg.amend.volumes[cfg.amend.volumes.length - 1].mounts[0].path)} is already mounted`,
    }),
    mutation<C, number>({
      name: 'onePodPerNode with fewer named nodes than pods',
      param: fc.constant(0),
      applies: cfg => podCount(cfg) >= 2 && podCount(cfg) <= 64 && ('worker' in cfg || !isSingleNode(cfg as ElasticJobCfg)),
      apply: cfg => {
        cfg.pod.hostnames = Array.from({ length: podCount(cfg) - 1 }, (_, i) => `node-${i}`);
        cfg.pod.scheduling = { ...cfg.pod.scheduling, onePodPerNode: true };
        // Every replica keeps the job's onePodPerNode, so that all the pods repel one another.
        for (const replica of replicasOf(cfg)) if (replica.scheduling) replica.scheduling.onePodPerNode = undefined;
      },
      field: () => 'affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[',
    }),
  ];
}

/** Mutations that apply to both constructs. */
function commonMutations<C extends JobCfg | ElasticJobCfg>(forJob: boolean, injectedEnv: (cfg: C) => string[]): Array<Mutation<C, any>> {
  return [
    mutation<C, string>({
      name: 'job image empty',
      param: fc.constantFrom('', ' ', '\t'),
      applies: cfg => !('worker' in cfg) || (cfg.master?.image === undefined || cfg.worker.image === undefined),
      apply: (cfg, value) => { cfg.image = value; },
      field: () => 'containers[0].image',
    }),
    mutation<C, string>({
      name: 'metadata.name not a DNS-1035 label',
      param: badNames,
      apply: (cfg, name) => { cfg.metadata = { ...cfg.metadata, name }; },
      // The name as given: refused, never made a label.
      field: (_cfg, name) => `] metadata.name: ${JSON.stringify(name)} is not a DNS-1035 label`,
    }),
    mutation<C, [Level, number, number, GpuName | undefined]>({
      name: 'GPU request different from its limit',
      param: fc.tuple(levelArb(forJob), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }), anyGpu).filter(([, a, b]) => a !== b),
      apply: (cfg, [level, request, limit, name]) => setGpu(cfg, level, request, limit, name),
      field: (cfg, [level]) => `requests[${effectiveGpu(cfg, level, 'requests')}]`,
    }),
    mutation<C, [Level, number, GpuName | undefined]>({
      name: 'GPU request without a limit',
      param: fc.tuple(levelArb(forJob), fc.integer({ min: 0, max: 8 }), anyGpu),
      apply: (cfg, [level, request, name]) => {
        // A job-level limit would be inherited by the replica: take it away first.
        if (level !== 'job') setKey(cfg, 'limits', 'gpu', undefined);
        setGpu(cfg, level, request, undefined, name);
      },
      field: (cfg, [level]) => `requests[${effectiveGpu(cfg, level, 'requests')}]`,
    }),
    mutation<C, [Level, number, GpuName | undefined]>({
      name: 'GPU count fractional or negative',
      param: fc.tuple(levelArb(forJob), badGpuCounts, anyGpu),
      apply: (cfg, [level, count, name]) => setGpu(cfg, level, undefined, count, name),
      field: (cfg, [level]) => `limits[${effectiveGpu(cfg, level, 'limits')}]`,
    }),
    mutation<C, [Level, [StandardKey, number, number]]>({
      name: 'request above its limit',
      param: fc.tuple(levelArb(forJob), aboveLimit),
      apply: (cfg, [level, [key, limit, extra]]) => setResource(cfg, level, key, standardValue(key, limit + extra), standardValue(key, limit)),
      field: (_cfg, [, [key]]) => `requests[${RESOURCE_FIELD[key]}]`,
    }),
    mutation<C, [Level, 'requests' | 'limits', number]>({
      name: 'negative cpu',
      param: fc.tuple(levelArb(forJob), fc.constantFrom('requests' as const, 'limits' as const), fc.integer({ min: 1, max: 64000 })),
      apply: (cfg, [level, list, millis]) => setResource(cfg, level, 'cpu',
        list === 'requests' ? cpuCfg(-millis, false) : undefined, list === 'limits' ? cpuCfg(-millis, false) : undefined),
      field: (_cfg, [, list]) => `${list}[cpu]`,
    }),
    mutation<C, string>({
      name: 'own /dev/shm mount with shared memory on',
      param: dnsLabel.filter(name => name !== SharedMemory.VOLUME_NAME),
      applies: (cfg, name) => cfg.sharedMemory.kind !== 'disabled' && !allVolumeNames(cfg).includes(name),
      apply: (cfg, name) => { cfg.volumes.push({ kind: 'emptyDir', name, ref: 'x', mounts: [{ path: SharedMemory.MOUNT_PATH }] }); },
      field: () => SharedMemory.MOUNT_PATH,
    }),
    mutation<C, number>({
      name: 'shared memory off with several processes',
      param: fc.constant(0),
      applies: cfg => processCount(cfg) > 1,
      apply: cfg => {
        cfg.sharedMemory = { kind: 'disabled' };
        cfg.volumes = cfg.volumes.filter(v => v !== ownShmVolume && v.name !== ownShmVolume.name);
      },
      field: () => SharedMemory.MOUNT_PATH,
    }),
    mutation<C, number>({
      name: 'two volumes with the same name',
      param: fc.nat(),
      applies: cfg => cfg.volumes.length > 0,
      apply: (cfg, i) => {
        const twin = cfg.volumes[i % cfg.volumes.length];
        cfg.volumes.push({ kind: twin.kind === 'emptyDir' ? 'pvc' : 'emptyDir', name: twin.name, ref: 'other', mounts: [{ path: '/twin/volume' }] });
      },
      field: () => 'volumes[',
    }),
    mutation<C, number>({
      name: 'a volume named like the shared-memory volume',
      param: fc.constant(0),
      applies: cfg => cfg.sharedMemory.kind !== 'disabled',
      apply: cfg => { cfg.volumes.push({ kind: 'emptyDir', name: SharedMemory.VOLUME_NAME, ref: 'x', mounts: [{ path: '/scratch/shm' }] }); },
      field: () => 'volumes[',
    }),
    mutation<C, number>({
      name: 'two volumes at the same path',
      param: fc.nat(),
      applies: cfg => cfg.volumes.length > 0,
      apply: (cfg, i) => {
        const paths = cfg.volumes.flatMap(v => v.mounts.map(m => m.path));
        cfg.volumes.push({ kind: 'emptyDir', name: 'same-path-twin', ref: 'x', mounts: [{ path: paths[i % paths.length] }] });
      },
      field: () => 'mountPath',
    }),
    mutation<C, [number, EnvSourceCfg, number]>({
      name: 'a variable the operator sets',
      param: fc.tuple(fc.nat(), envSource, fc.nat()),
      applies: cfg => injectedEnv(cfg).length > 0,
      apply: (cfg, [i, source, at]) => {
        const names = injectedEnv(cfg);
        const name = names[i % names.length];
        // Not the operator's own value, which would be harmless; nor beside the job's own PYTHONUNBUFFERED=1.
        const overridden = source.kind === 'value' ? { ...source, value: `${source.value}-mine` } : source;
        cfg.env = cfg.env.filter(e => e.name !== name);
        cfg.amend.env = cfg.amend.env.filter(e => e.name !== name);
        cfg.env.splice(at % (cfg.env.length + 1), 0, { name, source: overridden });
      },
      field: (cfg, [i]) => `"${injectedEnv(cfg)[i % injectedEnv(cfg).length]}" is set by the training operator`,
    }),
    mutation<C, number>({
      name: 'port out of range',
      param: badPorts,
      applies: cfg => 'worker' in cfg || !isSingleNode(cfg as ElasticJobCfg),
      apply: (cfg, value) => { cfg.port = value; },
      field: () => 'containerPort',
    }),
  ];
}

// Names, keys and images that the API server or the kubelet refuses: at every level where a configuration gives them.

type PodLevel = 'job' | 'amendment' | 'Master' | 'Worker';
/** The pods' options at a level, or (`metadata`) the job object's own. */
type MapLevel = PodLevel | 'metadata';
const podLevelArb = (forJob: boolean): fc.Arbitrary<PodLevel> =>
  (forJob ? fc.constantFrom<PodLevel>('job', 'amendment', 'Master', 'Worker') : fc.constantFrom<PodLevel>('job', 'amendment'));
const mapLevelArb = (forJob: boolean): fc.Arbitrary<MapLevel> => fc.oneof(fc.constant<MapLevel>('metadata'), podLevelArb(forJob));
type PodMapField = 'podLabels' | 'podAnnotations' | 'nodeSelector';
/** A key no generated map has at any level, so that setting it never collides. */
const FRESH_KEY = 'example.com/mutated';

/** A label-shaped map of the pods at a level: the job's props, its amendments (one call each), or a replica's own. */
function podMapAt(cfg: JobCfg | ElasticJobCfg, level: PodLevel, field: PodMapField): Record<string, string> {
  if (level === 'job') return (cfg.pod[field] ??= {});
  if (level === 'amendment') return cfg.amend[field];
  const replica = replicaAt(cfg as JobCfg, level);
  return (replica[field] ??= {});
}
/** Sets an entry of the job object's labels or annotations, or of the pods' at a level. */
function setMapEntry(cfg: JobCfg | ElasticJobCfg, level: MapLevel, field: 'podLabels' | 'podAnnotations', key: string, value: string): void {
  if (level !== 'metadata') {
    podMapAt(cfg, level, field)[key] = value;
    return;
  }
  const own = field === 'podLabels' ? 'labels' : 'annotations';
  cfg.metadata = { ...cfg.metadata, [own]: { ...cfg.metadata?.[own], [key]: value } };
}
/**
 * Where a refused map entry is reported, up to its key: `] metadata.labels[<key>]` for the job object's own (after the
 * construct path), `.template.metadata.labels[<key>]` in every pod template, `[Worker].template.…` in a replica's.
 */
function mapEntryPath(level: MapLevel, field: PodMapField, key: string): string {
  const own = field === 'podLabels' ? 'labels' : field === 'podAnnotations' ? 'annotations' : 'nodeSelector';
  if (level === 'metadata') return `] metadata.${own}[${key}]`;
  const inTemplate = field === 'nodeSelector' ? `spec.nodeSelector[${key}]` : `metadata.${own}[${key}]`;
  return `${level === 'Master' || level === 'Worker' ? `[${level}]` : ''}.template.${inTemplate}`;
}

/** Characters that no part of a label or annotation key, nor a label value, takes in either case. */
const NOT_IN_KEYS = ' !"#$%&\'()*+,:;<=>?@[\\]^`{|}~\téß€';
/** Keys the API server refuses for labels and annotations alike (it checks an annotation key lower-cased). */
const badQualifiedKey = fc.oneof(
  fc.constantFrom('', 'bad key', '-gpu', 'gpu-', '_team', 'team.', 'team/a/b', '/name', 'example.com/', 'under_score.example.com/note',
    '-x.example.com/y', 'naïve', 'a'.repeat(64), `example.com/${'b'.repeat(64)}`, `${'c'.repeat(254)}/x`),
  fc.tuple(qualifiedKey, chars(NOT_IN_KEYS), fc.nat()).map(([key, c, at]) => insertAt(key, c, at)),
);
/** Label keys, refused besides for a prefix that is not a lower-case DNS subdomain (an annotation key's is, lower-cased). */
const badLabelKey = fc.oneof({ weight: 4, arbitrary: badQualifiedKey }, fc.constantFrom('Example.com/team', 'NVIDIA.com/gpu.product', 'K8s.IO/role'));
/** Label values, and node selector values, that the API server refuses. */
const badLabelValue = fc.oneof(
  fc.constantFrom(' ', 'has space', '-x', 'x-', '.x', 'x.', '_x', 'x_', 'a/b', 'a:b', 'v=1', 'naïve', 'a'.repeat(64)),
  fc.tuple(labelValue.filter(value => value !== ''), chars(`${NOT_IN_KEYS}/`), fc.nat()).map(([value, c, at]) => insertAt(value, c, at)),
);

/** Characters no environment variable name takes in any Kubernetes version: `=`, control characters, anything not ASCII. */
const NOT_IN_ENV_NAMES = '=\t\n\r\u0000\u001b\u007f\u00a0éß€й中';
const badEnvName = fc.oneof(
  fc.constantFrom('', '=', 'A=B', 'KEY=', '=VALUE', 'TAB\tINSIDE', 'LINE\nBREAK', 'ÜBER', 'naïve', 'EURO€', 'BELL\u0007', 'DEL\u007f'),
  fc.tuple(envName, chars(NOT_IN_ENV_NAMES), fc.nat()).map(([name, c, at]) => insertAt(name, c, at)),
);

/**
 * Volume names that are not DNS-1123 labels, as cdk8s-plus takes them (`Volume.fromEmptyDir(scope, id, 'Bad_Name')`).
 * Not too long: cdk8s-plus cuts a volume's name to 63 characters itself.
 */
const badVolumeName = fc.oneof(
  fc.constantFrom('Bad_Name', 'Data', 'data.set', 'my vol', '-data', 'data-', '_scratch', `${'a'.repeat(62)}-`, ''),
  fc.tuple(dnsLabel, fc.constantFrom('_', '.', 'A', ' ', ':', 'é'), fc.nat()).map(([name, c, at]) => insertAt(name, c, at)),
);
/** A ConfigMap, Secret or claim name with a dot: a valid object name, from which cdk8s-plus derives a volume name that is not a label. */
const dottedRef = fc.tuple(dnsLabel, dnsLabel).map(([a, b]) => `${a}.${b}`);
/** Mount paths no generated configuration uses. */
const NEW_MOUNT_PATH = '/mutated-volume/data';
const NEW_REPLICA_MOUNT_PATH = '/replica/mutated-volume';

/** Adds a volume that the training container mounts: in the job's props, through addVolumeMount, or as a replica's own mount. */
function addMountedVolume(cfg: JobCfg | ElasticJobCfg, level: PodLevel, volume: Omit<VolumeCfg, 'mounts'>): void {
  if (level === 'job' || level === 'amendment') {
    (level === 'job' ? cfg.volumes : cfg.amend.volumes).push({ ...volume, mounts: [{ path: NEW_MOUNT_PATH }] });
    return;
  }
  cfg.extraVolumes.push({ ...volume, mounts: [] });
  const replica = replicaAt(cfg as JobCfg, level);
  replica.mounts = [...replica.mounts ?? [], { volume: volume.name, path: NEW_REPLICA_MOUNT_PATH }];
}

/** Every container name of the configuration, at any level, and those every pod has. */
function allContainerNames(cfg: JobCfg | ElasticJobCfg): Set<string> {
  const lists = [cfg.containers, cfg.amend.containers, ...replicasOf(cfg).map(r => r.containers ?? noContainers())];
  return new Set([TRAINING_CONTAINER, OPERATOR_INIT_CONTAINER, ...lists.flatMap(l => CONTAINER_LISTS.flatMap(name => l[name].map(c => c.name)))]);
}
/** Adds a helper container at a level (in the props, through an amendment, or a replica's own), named apart from every other. */
function addHelper(cfg: JobCfg | ElasticJobCfg, level: PodLevel, list: ContainerList, change: Partial<ContainerCfg>, name: string): void {
  const container: ContainerCfg = { ...helper(uniqueName(name, allContainerNames(cfg))), ...change };
  if (level === 'job' || level === 'amendment') {
    (level === 'job' ? cfg.containers : cfg.amend.containers)[list].push(container);
    return;
  }
  const replica = replicaAt(cfg as JobCfg, level);
  const containers = replica.containers ?? noContainers();
  replica.containers = { ...containers, [list]: [...containers[list], container] };
}

/** An image with whitespace before or after it, which the API server refuses on a pod. */
const spacedImage = fc.tuple(fc.constantFrom('', ' ', '\t', '\n'), image, fc.constantFrom('', ' ', '\n', '\r\n', '\t'))
  .filter(([before, , after]) => before + after !== '')
  .map(([before, ref, after]) => `${before}${ref}${after}`);
/** Where an image reference's name ends: at its tag or digest. */
function imageNameEnd(ref: string): number {
  const at = ref.indexOf('@');
  const named = at < 0 ? ref : ref.slice(0, at);
  const colon = named.lastIndexOf(':');
  return colon > named.lastIndexOf('/') ? colon : named.length;
}
/** The image with a letter of its last path component upper case (the first component could be a registry, which may be). */
function upperCaseInPath(ref: string, pick: number): string {
  const end = imageNameEnd(ref);
  const start = ref.lastIndexOf('/', end) + 1;
  const letters = [...ref.slice(start, end)].flatMap((c, i) => (/[a-z]/.test(c) ? [start + i] : []));
  const i = letters[pick % letters.length];
  return `${ref.slice(0, i)}${ref[i].toUpperCase()}${ref.slice(i + 1)}`;
}
/** Images the kubelet cannot parse, and fails the pod with InvalidImageName: placeholders, upper case in the path, an empty tag. */
const notImageReference = fc.oneof(
  fc.constantFrom('gcr.io/<your_project>/train:latest', '<IMAGE>', '${IMAGE}', '{{ .Values.image }}', 'ghcr.io//train', 'ghcr.io/example/tr ain:1.0',
    'ghcr.io/example/train@sha256:abc', 'ghcr.io/example/train:1.0+cu121', 'ghcr.io/example/train:.hidden', `ghcr.io/example/train:${'t'.repeat(129)}`),
  fc.tuple(image, fc.nat()).map(([ref, pick]) => upperCaseInPath(ref, pick)),
  image.map(ref => `${ref.slice(0, imageNameEnd(ref))}:`),
);
/** Where an image is given: the training container's (the job's, or a replica's own), or a new helper container's at a level. */
type ImageAt = [level: PodLevel, helperList: ContainerList | undefined];
const imageAt = (forJob: boolean): fc.Arbitrary<ImageAt> => fc.oneof(
  fc.tuple(forJob ? fc.constantFrom<PodLevel>('job', 'Master', 'Worker') : fc.constant<PodLevel>('job'), fc.constant(undefined)),
  fc.tuple(podLevelArb(forJob), fc.constantFrom(...CONTAINER_LISTS)),
);
/** Whether an image given there is written: a replica's own training image replaces the job's. */
function imageIsWritten(cfg: JobCfg | ElasticJobCfg, [level, list]: ImageAt): boolean {
  if (list !== undefined || level !== 'job' || !('worker' in cfg)) return true;
  return cfg.master?.image === undefined || cfg.worker.image === undefined;
}
function setImage(cfg: JobCfg | ElasticJobCfg, [level, list]: ImageAt, ref: string): void {
  if (list !== undefined) addHelper(cfg, level, list, { image: ref }, 'mutated-image');
  else if (level === 'job') cfg.image = ref;
  else replicaAt(cfg as JobCfg, level as 'Master' | 'Worker').image = ref;
}

/** Mutations of names, keys and images, for both constructs: each refused with the field and the value. */
function namingMutations<C extends JobCfg | ElasticJobCfg>(forJob: boolean): Array<Mutation<C, any>> {
  return [
    mutation<C, [PodLevel, ContainerList | undefined, string]>({
      name: 'an environment variable name no Kubernetes version takes',
      param: fc.tuple(podLevelArb(forJob), fc.option(fc.constantFrom(...CONTAINER_LISTS), { nil: undefined }), badEnvName),
      apply: (cfg, [level, list, name]) => {
        const variable: EnvCfg = { name, source: { kind: 'value', value: 'x' } };
        if (list !== undefined) addHelper(cfg, level, list, { env: [variable] }, 'mutated-env');
        else if (level === 'job') cfg.env.push(variable);
        else if (level === 'amendment') cfg.amend.env.push(variable);
        else replicaAt(cfg as JobCfg, level).env = [...replicaAt(cfg as JobCfg, level).env ?? [], variable];
      },
      field: (_cfg, [, list, name]) => [
        list === undefined ? '.spec.containers[0].env[' : `.spec.${list === 'containers' ? 'containers' : 'initContainers'}[`,
        `].name: ${JSON.stringify(name)} is not an environment variable name`,
      ],
    }),
    mutation<C, [MapLevel, string]>({
      name: 'a label key the API server refuses',
      param: fc.tuple(mapLevelArb(forJob), badLabelKey),
      apply: (cfg, [level, key]) => setMapEntry(cfg, level, 'podLabels', key, 'x'),
      field: (_cfg, [level, key]) => `${mapEntryPath(level, 'podLabels', key)}: ${JSON.stringify(key)} is not a label key`,
    }),
    mutation<C, [MapLevel, string]>({
      name: 'a label value the API server refuses',
      param: fc.tuple(mapLevelArb(forJob), badLabelValue),
      apply: (cfg, [level, value]) => setMapEntry(cfg, level, 'podLabels', FRESH_KEY, value),
      field: (_cfg, [level, value]) => `${mapEntryPath(level, 'podLabels', FRESH_KEY)}: ${JSON.stringify(value)} is not a label value`,
    }),
    mutation<C, [MapLevel, string]>({
      name: 'an annotation key the API server refuses',
      param: fc.tuple(mapLevelArb(forJob), badQualifiedKey),
      apply: (cfg, [level, key]) => setMapEntry(cfg, level, 'podAnnotations', key, 'any text: spaces, / and = are fine'),
      field: (_cfg, [level, key]) => `${mapEntryPath(level, 'podAnnotations', key)}: ${JSON.stringify(key)} is not an annotation key`,
    }),
    mutation<C, [PodLevel, 'key' | 'value', string]>({
      name: 'a node selector key or value that is not a label key or value',
      param: fc.oneof(
        fc.tuple(podLevelArb(forJob), fc.constant('key' as const), badLabelKey),
        fc.tuple(podLevelArb(forJob), fc.constant('value' as const), badLabelValue),
      ),
      apply: (cfg, [level, what, bad]) => {
        if (what === 'key') podMapAt(cfg, level, 'nodeSelector')[bad] = 'true';
        else podMapAt(cfg, level, 'nodeSelector')[FRESH_KEY] = bad;
      },
      field: (_cfg, [level, what, bad]) => `${mapEntryPath(level, 'nodeSelector', what === 'key' ? bad : FRESH_KEY)}: ${JSON.stringify(bad)} is not a ${what === 'key' ? 'node selector key' : 'label value'}`,
    }),
    mutation<C, [PodLevel, VolumeCfg['kind'], string]>({
      name: 'a volume name that is not a DNS-1123 label',
      param: fc.tuple(podLevelArb(forJob), fc.constantFrom<VolumeCfg['kind']>('emptyDir', 'configMap', 'secret', 'pvc'), badVolumeName),
      apply: (cfg, [level, kind, name]) => addMountedVolume(cfg, level, { kind, name, ref: 'data' }),
      field: (_cfg, [, , name]) => ['.spec.volumes[', `].name: ${JSON.stringify(name)} is not a DNS-1123 label`],
    }),
    mutation<C, [PodLevel, DerivedKind, string]>({
      name: 'a ConfigMap, Secret or claim volume whose derived name has a dot',
      param: fc.tuple(podLevelArb(forJob), fc.constantFrom<DerivedKind>('configMap', 'secret', 'pvc'), dottedRef),
      apply: (cfg, [level, kind, ref]) => addMountedVolume(cfg, level, { kind, name: derivedVolumeName(kind, ref), derived: true, ref }),
      field: (_cfg, [, kind, ref]) => ['.spec.volumes[', `].name: ${JSON.stringify(derivedVolumeName(kind, ref))} is not a DNS-1123 label`],
    }),
    mutation<C, [ImageAt, string]>({
      name: 'an image with space around it',
      param: fc.tuple(imageAt(forJob), spacedImage),
      applies: (cfg, [at]) => imageIsWritten(cfg, at),
      apply: (cfg, [at, ref]) => setImage(cfg, at, ref),
      field: (_cfg, [, ref]) => `.image: ${JSON.stringify(ref)} has space around it`,
    }),
    mutation<C, [ImageAt, string]>({
      name: 'an image that is not an image reference',
      param: fc.tuple(imageAt(forJob), notImageReference),
      applies: (cfg, [at]) => imageIsWritten(cfg, at),
      apply: (cfg, [at, ref]) => setImage(cfg, at, ref),
      field: (_cfg, [, ref]) => `.image: ${JSON.stringify(ref)} is not an image reference`,
    }),
  ];
}

const JOB_ENV = ['PYTHONUNBUFFERED', 'MASTER_ADDR', 'MASTER_PORT', 'PET_MASTER_ADDR', 'PET_MASTER_PORT', 'WORLD_SIZE', 'RANK', 'PET_NODE_RANK', 'PET_NPROC_PER_NODE', 'PET_NNODES'];
const BAD_TORCHRUN_FLAGS: Array<[string, string]> = [
  ['--nproc_per_node=0', '--nproc_per_node'], ['--nproc-per-node=-2', '--nproc_per_node'], ['--max_restarts=-1', '--max_restarts'],
  ['--monitor_interval=0', '--monitor_interval'], ['--start_method=thread', '--start_method'], ['--nnodes=3:2', '--nnodes'],
  ['--nnodes=x', '--nnodes'], ['--rdzv_conf=timeout', '--rdzv_conf'],
];

/** Whether some replica runs the job's command and arguments rather than its own. */
const inheritsCommand = (cfg: JobCfg) => cfg.master?.command === undefined || cfg.worker.command === undefined;

const jobMutations: Array<Mutation<JobCfg, any>> = [
  ...commonMutations<JobCfg>(true, () => JOB_ENV),
  ...podOptionMutations<JobCfg>(true),
  ...namingMutations<JobCfg>(true),
  mutation<JobCfg, ['Master' | 'Worker', ContainerList, number]>({
    name: 'a replica container named like a container of the job',
    param: fc.tuple(fc.constantFrom('Master' as const, 'Worker' as const), fc.constantFrom(...CONTAINER_LISTS), fc.nat()),
    applies: cfg => jobContainerNames(cfg).length > 0,
    apply: (cfg, [type, list, i]) => {
      const names = jobContainerNames(cfg);
      const replica = replicaAt(cfg, type);
      const containers = replica.containers ?? noContainers();
      replica.containers = { ...containers, [list]: [...containers[list], helper(names[i % names.length])] };
    },
    field: (cfg, [type, list]) => `${type.toLowerCase()}.${list}[${replicaAt(cfg, type).containers![list].length - 1}].name`,
  }),
  mutation<JobCfg, ['Master' | 'Worker', number]>({
    name: 'a replica mount at a path the job mounts',
    param: fc.tuple(fc.constantFrom('Master' as const, 'Worker' as const), fc.nat()),
    applies: cfg => jobMountPaths(cfg).length > 0,
    apply: (cfg, [type, i]) => {
      const paths = jobMountPaths(cfg);
      const replica = replicaAt(cfg, type);
      replica.mounts = [...replica.mounts ?? [], { volume: [...cfg.volumes, ...cfg.amend.volumes][0].name, path: paths[i % paths.length] }];
    },
    field: (cfg, [type]) => `${type.toLowerCase()}.volumeMounts[${replicaAt(cfg, type).mounts!.length - 1}].path`,
  }),
  mutation<JobCfg, number>({
    name: 'Worker replicas not a whole number of at least 1',
    param: badReplicaCounts,
    apply: (cfg, replicas) => { cfg.worker.replicas = replicas; },
    field: () => 'spec.pytorchReplicaSpecs[Worker].replicas',
  }),
  mutation<JobCfg, ['Master' | 'Worker', string]>({
    name: 'replica image empty',
    param: fc.tuple(fc.constantFrom('Master' as const, 'Worker' as const), fc.constantFrom('', ' ')),
    apply: (cfg, [type, value]) => {
      if (type === 'Master') cfg.master = { ...cfg.master, image: value };
      else cfg.worker.image = value;
    },
    field: (_cfg, [type]) => `[${type}].template.spec.containers[0].image`,
  }),
  mutation<JobCfg, number>({
    name: 'name too long for <name>-worker-<N-1>',
    param: fc.integer({ min: 1, max: 9 }),
    apply: (cfg, extra) => {
      const workers = cfg.worker.replicas ?? 1;
      const length = Math.min(63, 63 - '-worker-'.length - digits(workers - 1) + extra);
      cfg.metadata = { ...cfg.metadata, name: `j${'0123456789abcdefghij'.repeat(4).slice(0, length - 1)}` };
    },
    field: () => 'metadata.name',
  }),
  mutation<JobCfg, number>({
    name: 'more workers than the name leaves room for',
    param: fc.integer({ min: 0, max: 3 }),
    applies: cfg => (cfg.metadata?.name?.length ?? 0) >= 50,
    apply: (cfg, more) => { cfg.worker.replicas = 10 ** (63 - '-worker-'.length - cfg.metadata!.name!.length) + 1 + more; },
    field: () => 'metadata.name',
  }),
  mutation<JobCfg, number>({
    name: 'backoffLimit negative or fractional',
    param: fc.oneof(fc.integer({ min: -100, max: -1 }), fc.constantFrom(0.5, 1.5)),
    apply: (cfg, backoffLimit) => { cfg.runPolicy = { ...cfg.runPolicy, backoffLimit }; },
    field: () => 'spec.runPolicy.backoffLimit',
  }),
  mutation<JobCfg, DurationCfg>({
    name: 'activeDeadline 0',
    param: fc.constantFrom<DurationCfg>({ unit: 'seconds', amount: 0 }, { unit: 'minutes', amount: 0 }, { unit: 'millis', amount: 0 }),
    apply: (cfg, activeDeadline) => { cfg.runPolicy = { ...cfg.runPolicy, activeDeadline }; },
    field: () => 'spec.runPolicy.activeDeadlineSeconds',
  }),
  mutation<JobCfg, ['activeDeadline' | 'ttlAfterFinished', DurationCfg]>({
    name: 'fractional seconds',
    param: fc.tuple(fc.constantFrom('activeDeadline' as const, 'ttlAfterFinished' as const), fractionalDuration),
    apply: (cfg, [field, value]) => { cfg.runPolicy = { ...cfg.runPolicy, [field]: value }; },
    field: (_cfg, [field]) => `runPolicy.${field}`,
  }),
  mutation<JobCfg, ['cleanPodPolicy' | 'managedBy', string]>({
    name: 'an untyped enum value in the run policy',
    param: fc.tuple(fc.constantFrom('cleanPodPolicy' as const, 'managedBy' as const), fc.constantFrom('all', 'Everything', 'kueue', '')),
    apply: (cfg, [field, value]) => { cfg.runPolicy = { ...cfg.runPolicy, [field]: value }; },
    field: (_cfg, [field]) => `spec.runPolicy.${field}`,
  }),
  mutation<JobCfg, ['Master' | 'Worker', string]>({
    name: 'an untyped restart policy',
    param: fc.tuple(fc.constantFrom('Master' as const, 'Worker' as const), fc.constantFrom('onFailure', 'Sometimes', '')),
    apply: (cfg, [type, restartPolicy]) => {
      if (type === 'Master') cfg.master = { ...cfg.master, restartPolicy };
      else cfg.worker.restartPolicy = restartPolicy;
    },
    field: (_cfg, [type]) => `spec.pytorchReplicaSpecs[${type}].restartPolicy`,
  }),
  mutation<JobCfg, number>({
    name: 'NprocPerNode.count below 1 or fractional',
    param: fc.constantFrom(0, -1, 1.5),
    apply: (cfg, count) => { cfg.nprocPerNode = count; },
    field: () => 'spec.nprocPerNode',
  }),
  mutation<JobCfg, NprocCfg>({
    name: 'nprocPerNode with a command that is not torchrun',
    // The operator counts any other value as one process per pod, which is what runs: only a count above 1 is lost.
    param: fc.integer({ min: 2, max: 8 }),
    applies: cfg => cfg.command !== undefined && !isTorchrun(cfg.command) && inheritsCommand(cfg),
    apply: (cfg, n) => { cfg.nprocPerNode = n; },
    field: () => 'spec.nprocPerNode',
  }),
  mutation<JobCfg, [string, string]>({
    name: 'a torchrun flag torchrun refuses',
    param: fc.constantFrom(...BAD_TORCHRUN_FLAGS),
    applies: cfg => isTorchrun(cfg.command) && inheritsCommand(cfg),
    apply: (cfg, [flag]) => { cfg.args = [flag, ...cfg.args ?? []]; },
    field: (_cfg, [, name]) => name,
  }),
];

const ELASTIC_ENV = ['PYTHONUNBUFFERED', 'PET_NPROC_PER_NODE', 'PET_RDZV_ENDPOINT', 'PET_RDZV_BACKEND', 'PET_NNODES', 'PET_MAX_RESTARTS'];
function elasticInjectedEnv(cfg: ElasticJobCfg): string[] {
  if (isSingleNode(cfg)) return [];
  const rdzv = cfg.elastic?.rdzvConfigs ?? Elastic.DEFAULT_RDZV_CONFIGS;
  return Object.keys(rdzv).length > 0 ? [...ELASTIC_ENV, 'PET_RDZV_CONF'] : ELASTIC_ENV;
}
const single = (cfg: ElasticJobCfg) => isSingleNode(cfg);
const elastic = (cfg: ElasticJobCfg): ElasticCfg => (cfg.elastic ??= {});

const elasticMutations: Array<Mutation<ElasticJobCfg, any>> = [
  ...commonMutations<ElasticJobCfg>(false, elasticInjectedEnv),
  ...podOptionMutations<ElasticJobCfg>(false),
  ...namingMutations<ElasticJobCfg>(false),
  mutation<ElasticJobCfg, number>({
    name: 'name too long for <name>-worker-<max-1>',
    param: fc.integer({ min: 1, max: 9 }),
    applies: cfg => !single(cfg),
    apply: (cfg, extra) => {
      const length = Math.min(63, 63 - '-worker-'.length - digits(nodeRange(cfg).max - 1) + extra);
      cfg.metadata = { ...cfg.metadata, name: `e${'abcdefghij0123456789'.repeat(4).slice(0, length - 1)}` };
    },
    field: () => 'metadata.name',
  }),
  mutation<ElasticJobCfg, [number, number, 'range' | 'parse']>({
    name: 'nnodes minimum above maximum',
    param: fc.tuple(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 32 }), fc.constantFrom('range' as const, 'parse' as const)).filter(([min, max]) => min > max),
    applies: (cfg, [min, max]) => keepsKind(cfg, { kind: 'range', min, max }),
    apply: (cfg, [min, max, kind]) => { elastic(cfg).nnodes = kind === 'range' ? { kind, min, max } : { kind, text: `${min}:${max}` }; },
    field: cfg => (single(cfg) ? '--nnodes' : 'spec.elasticPolicy.minReplicas'),
  }),
  mutation<ElasticJobCfg, NnodesCfg>({
    name: 'nnodes below 1',
    param: fc.oneof(
      fc.constantFrom<NnodesCfg>({ kind: 'fixed', count: 0 }, { kind: 'fixed', count: -1 }, { kind: 'range', min: 0, max: 0 }, { kind: 'parse', text: '0' }),
      fc.integer({ min: 2, max: 16 }).map((max): NnodesCfg => ({ kind: 'range', min: 0, max })),
      fc.integer({ min: 2, max: 16 }).map((max): NnodesCfg => ({ kind: 'parse', text: `0:${max}` })),
    ),
    applies: keepsKind,
    apply: (cfg, nnodes) => { elastic(cfg).nnodes = nnodes; },
    field: cfg => (single(cfg) ? '--nnodes' : 'spec.elasticPolicy.minReplicas'),
  }),
  mutation<ElasticJobCfg, string>({
    name: 'nnodes text not MIN:MAX',
    param: fc.constantFrom('', 'a:b', '1:2:3', '2:', '-1', 'two', '1.5'),
    apply: (cfg, text) => { elastic(cfg).nnodes = { kind: 'parse', text }; },
    field: () => 'nnodes',
  }),
  mutation<ElasticJobCfg, number>({
    name: 'nproc below 1 or fractional',
    param: fc.constantFrom(0, -1, 1.5),
    apply: (cfg, n) => { elastic(cfg).nproc = n; },
    field: cfg => (single(cfg) ? '--nproc_per_node' : 'spec.nprocPerNode'),
  }),
  mutation<ElasticJobCfg, number>({
    name: 'maxRestarts negative or fractional',
    param: fc.oneof(fc.integer({ min: -100, max: -1 }), fc.constant(1.5)),
    apply: (cfg, maxRestarts) => { elastic(cfg).maxRestarts = maxRestarts; },
    field: cfg => (single(cfg) ? '--max_restarts' : 'spec.elasticPolicy.maxRestarts'),
  }),
  mutation<ElasticJobCfg, DurationCfg>({
    name: 'monitorInterval 0',
    param: fc.constantFrom<DurationCfg>({ unit: 'seconds', amount: 0 }, { unit: 'millis', amount: 0 }),
    apply: (cfg, monitorInterval) => { elastic(cfg).monitorInterval = monitorInterval; },
    field: () => '--monitor_interval',
  }),
  mutation<ElasticJobCfg, DurationCfg>({
    name: 'monitorInterval fractional',
    param: fractionalDuration,
    apply: (cfg, monitorInterval) => { elastic(cfg).monitorInterval = monitorInterval; },
    field: () => 'elastic.monitorInterval',
  }),
  mutation<ElasticJobCfg, string>({
    name: 'an untyped start method',
    param: fc.constantFrom('thread', 'Spawn', ''),
    apply: (cfg, startMethod) => { elastic(cfg).startMethod = startMethod; },
    field: () => '--start_method',
  }),
  mutation<ElasticJobCfg, [string, string, boolean]>({
    name: 'a rendezvous key or value torchrun cannot split',
    param: fc.oneof(
      fc.tuple(fc.constantFrom('', 'a,b', 'join_timeout=60', 'read timeout', 'tab\tkey'), fc.constant('60'), fc.boolean()),
      fc.tuple(fc.constantFrom('timeout', 'join_timeout'), fc.constantFrom('', '9,0', ','), fc.boolean()),
    ),
    apply: (cfg, [key, value, first]) => {
      const rest = { ...elastic(cfg).rdzvConfigs };
      delete rest[key];
      elastic(cfg).rdzvConfigs = first ? { [key]: value, ...rest } : { ...rest, [key]: value };
    },
    field: () => 'rdzvConfigs[',
  }),
  mutation<ElasticJobCfg, [keyof RunPolicyCfg, unknown]>({
    name: 'a run policy field a single-node Job cannot honour',
    param: fc.oneof(
      fc.tuple(fc.constant('cleanPodPolicy' as const), fc.constantFrom(CleanPodPolicy.ALL, CleanPodPolicy.RUNNING)),
      fc.tuple(fc.constant('managedBy' as const), fc.constantFrom(ManagedBy.TRAINING_OPERATOR, ManagedBy.MULTIKUEUE)),
    ),
    applies: cfg => single(cfg),
    apply: (cfg, [field, value]) => { elastic(cfg).runPolicy = { ...elastic(cfg).runPolicy, [field]: value }; },
    field: (_cfg, [field]) => `elastic.runPolicy.${field}`,
  }),
  mutation<ElasticJobCfg, number>({
    name: 'backoffLimit negative or fractional',
    param: fc.oneof(fc.integer({ min: -100, max: -1 }), fc.constant(2.5)),
    apply: (cfg, backoffLimit) => { elastic(cfg).runPolicy = { ...elastic(cfg).runPolicy, backoffLimit }; },
    field: cfg => (single(cfg) ? 'spec.backoffLimit' : 'spec.runPolicy.backoffLimit'),
  }),
  mutation<ElasticJobCfg, number>({
    name: 'activeDeadline 0',
    param: fc.constant(0),
    apply: cfg => { elastic(cfg).runPolicy = { ...elastic(cfg).runPolicy, activeDeadline: { unit: 'seconds', amount: 0 } }; },
    field: cfg => (single(cfg) ? 'spec.activeDeadlineSeconds' : 'spec.runPolicy.activeDeadlineSeconds'),
  }),
  mutation<ElasticJobCfg, DurationCfg>({
    name: 'ttlAfterFinished fractional',
    param: fractionalDuration,
    apply: (cfg, ttlAfterFinished) => { elastic(cfg).runPolicy = { ...elastic(cfg).runPolicy, ttlAfterFinished }; },
    field: () => 'runPolicy.ttlAfterFinished',
  }),
  mutation<ElasticJobCfg, ['cleanPodPolicy', string]>({
    name: 'a multi-node run policy value out of its rules',
    param: fc.tuple(fc.constant('cleanPodPolicy' as const), fc.constantFrom('all', 'Everything')),
    applies: cfg => !single(cfg),
    apply: (cfg, [field, value]) => { elastic(cfg).runPolicy = { ...elastic(cfg).runPolicy, [field]: value }; },
    field: (_cfg, [field]) => field,
  }),
];

// ---------------------------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------------------------

/** A fresh app (warnings fatal, if the configuration says so) with a chart of the configuration's id, and the removal of its temporary output directory. */
function withChart<T>(app: AppCfg, use: (chart: Chart) => T): T {
  const root = Testing.app();
  if (app.fatalWarnings) Warnings.makeFatal(root);
  try {
    return use(new Chart(root, app.chartId));
  } finally {
    fs.rmSync(root.outdir, { recursive: true, force: true });
  }
}

/** Synthesizes a chart, and returns what was written on standard error besides: the rules' warnings, if any. */
function synthWithStderr(chart: Chart): { manifests: any[]; stderr: string } {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    return { manifests: Testing.synth(chart), stderr: written.join('') };
  } finally {
    process.stderr.write = write;
  }
}

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** The longest names made of the job's: its pods' and their Services' (`<name>-worker-<N-1>`), or a single-node Job's own. */
function podNames(cfg: JobCfg | ElasticJobCfg, name: string): string[] {
  if ('worker' in cfg) return [`${name}-master-0`, `${name}-worker-${Math.max((cfg.worker.replicas ?? 1) - 1, 0)}`];
  return isSingleNode(cfg) ? [name] : [`${name}-worker-${nodeRange(cfg).max - 1}`];
}
/**
 * The job's name: the one given, unchanged, or one generated from the construct path, whatever its ids: a DNS-1035
 * label that leaves room for the pods' names, ending with cdk8s's hash of the path (which keeps it unique), and
 * cdk8s's own name whenever that one is already such a label.
 */
function expectJobName(job: TrainingJob, manifest: any, cfg: JobCfg | ElasticJobCfg, seen: Map<string, number>): void {
  const name: string = manifest.metadata.name;
  expect(name).toBe(job.name);
  if (cfg.metadata?.name !== undefined) {
    expect(name).toBe(cfg.metadata.name);
    return;
  }
  const cdk8sName = Names.toDnsLabel(job.apiObject);
  const hash = cdk8sName.slice(-8);
  expect(hash).toMatch(/^[0-9a-f]{8}$/);
  expect({ name, dns1035: DNS_1035_LABEL.test(name), hashKept: name === hash || name.endsWith(`-${hash}`) })
    .toEqual({ name, dns1035: true, hashKept: true });
  for (const pod of podNames(cfg, name)) expect({ pod, fits: pod.length <= 63 }).toEqual({ pod, fits: true });
  const cdk8sFits = DNS_1035_LABEL.test(cdk8sName) && podNames(cfg, cdk8sName).every(pod => pod.length <= 63);
  if (cdk8sFits) expect(name).toBe(cdk8sName);
  countBy(seen, cdk8sFits ? 'generated name as cdk8s made it' : 'generated name made a label');
}

function expectClean(manifests: any[], kinds: string[]): void {
  expect(manifests.map(m => `${m.apiVersion}/${m.kind}`)).toEqual(kinds);
  for (const manifest of manifests) {
    expect(checkManifest(manifest, crdSchema())?.map(formatProblem)).toEqual([]);
  }
}

/** An invalid configuration with the mutation that made it so, as plain data for fast-check's report. */
function invalid<C>(valid: fc.Arbitrary<C>, mutations: Array<Mutation<C, any>>) {
  const byName = new Map(mutations.map(m => [m.name, m]));
  const chosen = fc.constantFrom(...mutations).chain(m => m.param.map(param => ({ mutation: m.name, param })));
  return fc.tuple(valid, chosen).filter(([cfg, m]) => byName.get(m.mutation)!.applies?.(cfg, m.param) ?? true);
}

/**
 * Builds the app as a cdk8s program does and synthesizes it: it must throw an Error naming the field, at construction
 * or at synth time, and write nothing.
 */
function expectRefused<C extends CommonCfg>(
  mutations: Array<Mutation<C, any>>, base: C, mutationName: string, param: unknown, build: (chart: Chart, cfg: C) => void,
): void {
  const m = mutations.find(candidate => candidate.name === mutationName)!;
  const cfg = structuredClone(base);
  m.apply(cfg, param);
  const field = m.field(cfg, param);
  const app = Testing.app();
  // Some mutations make what works but is risky, which the rules only warn of: fatal here, so that it is refused.
  Warnings.makeFatal(app);
  try {
    let error: unknown;
    try {
      build(new Chart(app, cfg.app.chartId), cfg);
      app.synth();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    // A TypeError or RangeError would be a crash, not a refusal.
    expect((error as Error).name).toBe('Error');
    for (const part of [field].flat()) {
      if (part.startsWith('^')) expect((error as Error).message.startsWith(part.slice(1))).toBe(true);
      else expect((error as Error).message).toContain(part);
    }
    expect(fs.readdirSync(app.outdir)).toEqual([]);
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

/**
 * The container names a pod must have, as the merge rule says: the job's (its props, then its amendments), then the
 * replica's; init containers first and native sidecars after them, all among the init containers.
 */
function expectedContainers(cfg: CommonCfg, replica: ReplicaCfg | undefined): { containers: string[]; initContainers: string[] } {
  const names = (list: ContainerList) => [cfg.containers[list], cfg.amend.containers[list], replica?.containers?.[list] ?? []]
    .flatMap(l => l.map(c => c.name));
  return { containers: [TRAINING_CONTAINER, ...names('containers')], initContainers: [...names('initContainers'), ...names('sidecars')] };
}
function writtenContainers(template: any): { containers: string[]; initContainers: string[] } {
  const names = (list: any[] | undefined) => (list ?? []).map(c => c.name);
  return { containers: names(template.spec.containers), initContainers: names(template.spec.initContainers) };
}

/** What a configuration uses of the pod options, for the coverage counts. */
function features(cfg: CommonCfg, replicas: ReplicaCfg[]): string[] {
  const found = new Set<string>();
  const lists = [cfg.containers, cfg.amend.containers, ...replicas.map(r => r.containers ?? noContainers())];
  const containers = lists.flatMap(l => CONTAINER_LISTS.flatMap(name => l[name]));
  for (const r of [cfg, ...replicas, ...containers]) {
    for (const e of [...r.requests?.extended ?? [], ...r.limits?.extended ?? []]) found.add(`extended ${e.kind}`);
  }
  for (const name of CONTAINER_LISTS) if (lists.some(l => l[name].length > 0)) found.add(name);
  const securities = [cfg.pod.securityContext, ...replicas.map(r => r.securityContext), ...containers.map(c => c.security)];
  if (securities.some(sc => (sc?.add?.length ?? 0) > 0)) found.add('capabilities');
  const a = cfg.amend;
  if (a.env.length + a.volumes.length + a.tolerations.length + Object.keys({ ...a.nodeSelector, ...a.podLabels, ...a.podAnnotations }).length > 0) found.add('amendments');
  if (CONTAINER_LISTS.some(name => a.containers[name].length > 0)) found.add('amended containers');
  if (replicas.some(r => r.containers && CONTAINER_LISTS.some(name => r.containers![name].length > 0))) found.add('replica containers');
  if (replicas.some(r => (r.env?.length ?? 0) > 0)) found.add('replica env');
  if (replicas.some(r => r.command !== undefined)) found.add('replica command');
  if (replicas.some(r => (r.mounts?.length ?? 0) > 0)) found.add('replica mounts');
  const schedulings = [cfg.pod.scheduling, ...replicas.map(r => r.scheduling)].filter((s): s is SchedulingCfg => s !== undefined);
  const terms = schedulings.flatMap(s => [...s.podAffinity ?? [], ...s.podAntiAffinity ?? []]);
  if (schedulings.some(s => s.onePodPerNode)) found.add('onePodPerNode');
  if (cfg.pod.hostnames) found.add('named nodes');
  if (schedulings.some(s => s.preferredNodeAffinity)) found.add('preferred node affinity');
  if (terms.some(t => t.weight !== undefined)) found.add('weighted pod terms');
  if (terms.some(t => t.weight === undefined)) found.add('required pod terms');
  if (schedulings.some(s => s.topologySpread)) found.add('topology spread');
  if (schedulings.some(s => s.terminationGracePeriod)) found.add('terminationGracePeriod');
  if (schedulings.some(s => s.schedulerName)) found.add('schedulerName');
  if (cfg.pod.hostNetwork) found.add('hostNetwork');
  if (cfg.pod.hostIpc) found.add('hostIpc');
  if (cfg.pod.dnsPolicy) found.add('dnsPolicy');
  if (cfg.pod.dnsConfig) found.add('dnsConfig');
  const envs = [...cfg.env, ...cfg.amend.env, ...replicas.flatMap(r => r.env ?? []), ...containers.flatMap(c => c.env)];
  if (envs.some(e => !isCIdentifier(e.name))) found.add('relaxed env names');
  if ([...cfg.env, ...cfg.amend.env].includes(UNBUFFERED)) found.add('PYTHONUNBUFFERED=1');
  if ([...cfg.volumes, ...cfg.amend.volumes].some(v => v.derived)) found.add('derived volume names');
  return [...found];
}
const COMMON_FEATURES = [
  'extended rdma', 'extended efa', 'extended hugepages', 'capabilities', ...CONTAINER_LISTS, 'amendments', 'amended containers',
  'onePodPerNode', 'named nodes', 'preferred node affinity', 'weighted pod terms', 'required pod terms', 'topology spread',
  'terminationGracePeriod', 'schedulerName', 'hostNetwork', 'hostIpc', 'dnsPolicy', 'dnsConfig',
  'relaxed env names', 'PYTHONUNBUFFERED=1', 'derived volume names', 'generated name as cdk8s made it', 'generated name made a label',
];
const REPLICA_FEATURES = ['replica containers', 'replica env', 'replica command', 'replica mounts'];

function countBy(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
const replaying = process.env.FC_PATH !== undefined;

describe('generated valid configurations synthesize to manifests that pass the schema, webhook and operational checks', () => {
  beforeAll(() => {
    crdSchema().checkPyTorchJob({});
    crdSchema().checkPodTemplate({}, '');
  });

  test(`PyTorchJob: ${RUNS} configurations`, () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(validJob, cfg => {
      withChart(cfg.app, chart => {
        const job = buildJob(chart, cfg);
        const { manifests, stderr } = synthWithStderr(chart);
        expect(stderr).toBe('');
        expectClean(manifests, ['kubeflow.org/v1/PyTorchJob']);
        const [manifest] = manifests;
        expectJobName(job, manifest, cfg, seen);
        expect(manifest.spec.pytorchReplicaSpecs.Worker.replicas).toBe(cfg.worker.replicas ?? 1);
        const { Master: masterSpec, Worker: workerSpec } = manifest.spec.pytorchReplicaSpecs;
        expect([writtenContainers(masterSpec.template), writtenContainers(workerSpec.template)])
          .toEqual([expectedContainers(cfg, cfg.master), expectedContainers(cfg, cfg.worker)]);
        for (const feature of features(cfg, replicasOf(cfg))) countBy(seen, feature);
        countBy(seen, cfg.nprocPerNode === undefined ? 'no nproc' : 'nproc');
        countBy(seen, `shm ${cfg.sharedMemory.kind}`);
        if ((cfg.worker.replicas ?? 1) > 1) countBy(seen, 'several workers');
      });
    }), params(SEEDS.validPyTorchJob));
    if (!replaying) {
      for (const key of ['no nproc', 'nproc', 'shm default', 'shm enabled', 'shm disabled', 'several workers', ...COMMON_FEATURES, ...REPLICA_FEATURES]) {
        expect({ [key]: (seen.get(key) ?? 0) > RUNS / 20 }).toEqual({ [key]: true });
      }
    }
  }, TIMEOUT_MS);

  test(`PyTorchElasticJob: ${RUNS} configurations, single- and multi-node`, () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(validElasticJob, cfg => {
      withChart(cfg.app, chart => {
        const job = buildElasticJob(chart, cfg);
        const { manifests, stderr } = synthWithStderr(chart);
        expect(stderr).toBe('');
        const singleNode = isSingleNode(cfg);
        expectClean(manifests, [singleNode ? 'batch/v1/Job' : 'kubeflow.org/v1/PyTorchJob']);
        if (!singleNode) {
          const { min, max } = nodeRange(cfg);
          expect(manifests[0].spec.elasticPolicy).toMatchObject({ minReplicas: min, maxReplicas: max });
        }
        expectJobName(job, manifests[0], cfg, seen);
        const template = singleNode ? manifests[0].spec.template : manifests[0].spec.pytorchReplicaSpecs.Worker.template;
        expect(writtenContainers(template)).toEqual(expectedContainers(cfg, undefined));
        for (const feature of features(cfg, [])) countBy(seen, feature);
        countBy(seen, singleNode ? 'single node' : 'several nodes');
      });
    }), params(SEEDS.validElasticJob));
    if (!replaying) {
      expect(seen.get('single node') ?? 0).toBeGreaterThan(RUNS / 4);
      expect(seen.get('several nodes') ?? 0).toBeGreaterThan(RUNS / 4);
      for (const key of COMMON_FEATURES) expect({ [key]: (seen.get(key) ?? 0) > RUNS / 20 }).toEqual({ [key]: true });
    }
  }, TIMEOUT_MS);
});

describe('generated invalid configurations are refused with the field named, and write nothing', () => {
  test(`PyTorchJob: ${RUNS} configurations, one mutation each`, () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(invalid(validJob, jobMutations), ([cfg, { mutation: name, param }]) => {
      countBy(seen, name);
      expectRefused(jobMutations, cfg, name, param, buildJob);
    }), params(SEEDS.invalidPyTorchJob));
    if (!replaying) {
      for (const m of jobMutations) expect([m.name, (seen.get(m.name) ?? 0) >= 10]).toEqual([m.name, true]);
    }
  }, TIMEOUT_MS);

  test(`PyTorchElasticJob: ${RUNS} configurations, one mutation each`, () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(invalid(validElasticJob, elasticMutations), ([cfg, { mutation: name, param }]) => {
      countBy(seen, name);
      expectRefused(elasticMutations, cfg, name, param, buildElasticJob);
    }), params(SEEDS.invalidElasticJob));
    if (!replaying) {
      for (const m of elasticMutations) expect([m.name, (seen.get(m.name) ?? 0) >= 10]).toEqual([m.name, true]);
    }
  }, TIMEOUT_MS);
});

describe('environment variable names that are members of Object.prototype', () => {
  /**
   * `constructor`, `toString`, `valueOf`, `__proto__` and the like are names like any other, given in the props or
   * through addEnv, which looks a key up among a map's own keys only.
   */
  test(`PyTorchJob and PyTorchElasticJob: ${PROTOTYPE_RUNS} configurations`, () => {
    const anyJob = fc.oneof(
      validJob.map(cfg => ({ kind: 'PyTorchJob' as const, cfg })),
      validElasticJob.map(cfg => ({ kind: 'PyTorchElasticJob' as const, cfg })),
    );
    fc.assert(fc.property(anyJob, fc.constantFrom(...PROTOTYPE_MEMBERS), fc.boolean(), (job, name, throughAddEnv) => {
      const cfg = structuredClone(job.cfg);
      (throughAddEnv ? cfg.amend.env : cfg.env).push({ name, source: { kind: 'value', value: 'x' } });
      withChart(cfg.app, chart => {
        const kind = job.kind === 'PyTorchJob' || !isSingleNode(cfg as ElasticJobCfg) ? 'kubeflow.org/v1/PyTorchJob' : 'batch/v1/Job';
        if (job.kind === 'PyTorchJob') buildJob(chart, cfg as JobCfg);
        else buildElasticJob(chart, cfg as ElasticJobCfg);
        const manifests = Testing.synth(chart);
        expectClean(manifests, [kind]);
        const template = kind === 'batch/v1/Job' ? manifests[0].spec.template : manifests[0].spec.pytorchReplicaSpecs.Worker.template;
        expect(template.spec.containers[0].env.map((e: { name: string }) => e.name)).toContain(name);
      });
    }), params(SEEDS.prototypeEnvNames, PROTOTYPE_RUNS));
  }, TIMEOUT_MS);
});
