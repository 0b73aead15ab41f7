import {
  ANCESTOR_STEP_LABEL, ANCESTOR_TRAINER, CLUSTER_TRAINING_RUNTIME_KIND, DEFAULT_RUNTIME_KIND, INITIALIZER_STEPS, TRAINER_CONTAINER_NAME,
  TRAINER_GROUP, TRAINER_JOB_NAME, TRAINER_MASTER_PORT, TRAINER_RESERVED_ENV, TRAINING_RUNTIME_KIND, VOLCANO_SCHEDULER_NAME,
} from './facts';
import { checkMetadataMaps, MAX_LABEL_LENGTH } from './names';
import { checkImages, checkPodTemplate, checkResources, InjectedEnv, isHugePages, NO_INJECTED_ENV } from './pod-template';
import { isObject, isWholeNumber, Json, Problem, ProblemKind, show } from './problem';
import { parseQuantity } from './quantity';

const WEBHOOK = ProblemKind.WEBHOOK;
const SCHEMA = ProblemKind.SCHEMA;
const OPERATIONAL = ProblemKind.OPERATIONAL;

/** The TrainJob CRD's CEL name rules, with its messages. */
const NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const NAME_PATTERN_MESSAGE = 'metadata.name must match RFC 1035 DNS label format';
const NAME_LENGTH_MESSAGE = 'metadata.name must be no more than 63 characters';
/** The API server keeps at most the first 58 characters of `generateName` and appends 5 random characters. */
const GENERATED_SUFFIX = 'xxxxx';

/** Kubernetes' IsDomainPrefixedPath, which the webhook applies to `runtimePatches[].manager`. */
const DOMAIN_PREFIXED_MESSAGE = 'must be a domain-prefixed path (such as "acme.io/foo")';
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1123_SUBDOMAIN_MESSAGE = 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with '
  + 'an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')';
const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** The containers whose env a patch must not set: the trainer's and the initializers'. */
const ENV_OWNED_CONTAINERS = [TRAINER_CONTAINER_NAME, ...INITIALIZER_STEPS];

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The runtime a TrainJob names, as `runtimeRef` resolves it: its kind (by default ClusterTrainingRuntime) and name. */
export function runtimeRefOf(job: Json): { kind: string; apiGroup: string; name: unknown } {
  const ref: Json = isObject(job.spec?.runtimeRef) ? job.spec.runtimeRef : {};
  return { kind: ref.kind ?? DEFAULT_RUNTIME_KIND, apiGroup: ref.apiGroup ?? TRAINER_GROUP, name: ref.name };
}

/**
 * Finds the runtime a TrainJob names among runtime manifests: same kind and name, and for a TrainingRuntime the same
 * namespace; the first of several such. Indexed once, since a folder may hold thousands of TrainJobs and runtimes.
 */
export function runtimeFinder(runtimes: readonly Json[]): (job: Json) => Json | undefined {
  const byKey = new Map<string, Json>();
  for (const runtime of runtimes) {
    const key = runtimeKey(runtime.kind, runtime.metadata?.name, runtime.metadata?.namespace);
    if (key !== undefined && !byKey.has(key)) byKey.set(key, runtime);
  }
  return job => {
    const ref = runtimeRefOf(job);
    const key = runtimeKey(ref.kind, ref.name, job.metadata?.namespace);
    return key === undefined ? undefined : byKey.get(key);
  };
}

function runtimeKey(kind: unknown, name: unknown, namespace: unknown): string | undefined {
  if (typeof kind !== 'string' || typeof name !== 'string') return undefined;
  return JSON.stringify([kind, kind === CLUSTER_TRAINING_RUNTIME_KIND ? '' : namespace ?? 'default', name]);
}

/** The nodes a TrainJob runs: `trainer.numNodes`, else the runtime's `mlPolicy.numNodes`, else 1. */
export function trainJobNodes(job: Json, runtime: Json | undefined): number {
  const nodes = job.spec?.trainer?.numNodes ?? runtime?.spec?.mlPolicy?.numNodes ?? 1;
  return isWholeNumber(nodes, 1) ? nodes : 1;
}

/**
 * Every rule a TrainJob must satisfy (Kubeflow Trainer v2.3): the CRD's CEL name rules, the validating webhook's
 * rules, and what the webhook lets through but the pods then trip over.
 * @param runtime the runtime the TrainJob names, when it is known (in the same app, or the same files)
 */
export function checkTrainJob(job: Json, runtime?: Json): Problem[] {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  const trainer: Json = isObject(spec.trainer) ? spec.trainer : {};
  const problems = [...checkTrainJobName(job, runtime), ...checkMetadataMaps(job.metadata, 'metadata', SCHEMA)];
  const ref = runtimeRefOf(job);
  if (ref.apiGroup !== TRAINER_GROUP || ![TRAINING_RUNTIME_KIND, CLUSTER_TRAINING_RUNTIME_KIND].includes(ref.kind)) {
    problems.push({ path: 'spec.runtimeRef', message: `unsupported runtime: ${ref.kind}.${ref.apiGroup}`, kind: WEBHOOK });
  }
  const envNames = list(trainer.env).map(env => (isObject(env) ? env.name : undefined));
  const reserved = [...new Set(envNames.filter(name => TRAINER_RESERVED_ENV.includes(name)))].sort();
  if (reserved.length > 0) {
    problems.push({ path: 'spec.trainer.env', message: `must not have reserved envs, invalid envs configured: [${reserved.join(' ')}]`, kind: WEBHOOK });
  }
  if (trainer.image !== undefined) problems.push(...checkImages([{ image: trainer.image }], 'spec.trainer', WEBHOOK).map(p => ({ ...p, path: 'spec.trainer.image' })));
  if (trainer.numProcPerNode !== undefined && !isWholeNumber(trainer.numProcPerNode, 1)) {
    problems.push({ path: 'spec.trainer.numProcPerNode', message: `${show(trainer.numProcPerNode)} must be a whole number of at least 1: torchrun starts no process on a node given 0`, kind: OPERATIONAL });
  }
  if (trainer.numNodes !== undefined && !isWholeNumber(trainer.numNodes, 1)) {
    problems.push({ path: 'spec.trainer.numNodes', message: `${show(trainer.numNodes)} must be a whole number of at least 1`, kind: OPERATIONAL });
  }
  list(spec.runtimePatches).forEach((patch, i) => problems.push(...checkRuntimePatch(patch, `spec.runtimePatches[${i}]`, runtime)));
  problems.push(...checkResourcesPerNode(job, runtime));
  return problems;
}

/**
 * `trainer.resourcesPerNode` as the `node` container gets it, merged over the runtime's: the webhook lets a TrainJob
 * through whose pods the API server then refuses (an extended resource whose request differs from its limit, a
 * malformed quantity), and the TrainJob never starts. Only what `resourcesPerNode` names is reported here; the
 * runtime's own resources are the runtime's to answer for.
 */
function checkResourcesPerNode(job: Json, runtime: Json | undefined): Problem[] {
  const perNode = job.spec?.trainer?.resourcesPerNode;
  if (!isObject(perNode)) return [];
  const named = [perNode.requests, perNode.limits].flatMap(values => (isObject(values) ? Object.keys(values) : []));
  const path = 'spec.trainer.resourcesPerNode';
  return checkResources(nodeResources(runtimeNodeContainer(runtime).container, perNode), path)
    .filter(problem => (problem.path === path ? named.some(isHugePages) : named.some(name => problem.path.endsWith(`[${name}]`))));
}

function checkTrainJobName(job: Json, runtime: Json | undefined): Problem[] {
  const metadata: Json = isObject(job.metadata) ? job.metadata : {};
  const generated = metadata.name === undefined && typeof metadata.generateName === 'string';
  const name: unknown = generated ? `${metadata.generateName.slice(0, MAX_LABEL_LENGTH - GENERATED_SUFFIX.length)}${GENERATED_SUFFIX}` : metadata.name;
  const path = generated ? 'metadata.generateName' : 'metadata.name';
  if (typeof name !== 'string') return [{ path, message: `${show(name)} is missing: a TrainJob needs a name`, kind: SCHEMA }];
  const problems: Problem[] = [];
  if (!NAME_PATTERN.test(name)) problems.push({ path, message: NAME_PATTERN_MESSAGE, kind: SCHEMA });
  // size() counts code points.
  if ([...name].length > MAX_LABEL_LENGTH) problems.push({ path, message: NAME_LENGTH_MESSAGE, kind: SCHEMA });
  if (problems.length > 0) return problems;
  // The JobSet names its pods' hosts <job>-node-0-<index>, which must be DNS labels too.
  const host = trainJobPodHost(name, trainJobNodes(job, runtime) - 1);
  if (host.length > MAX_LABEL_LENGTH) {
    problems.push({
      path,
      message: `${show(name)} is too long: the JobSet names the last pod's host ${show(host)}, ${host.length} characters, more than a DNS label's ${MAX_LABEL_LENGTH}`,
      kind: OPERATIONAL,
    });
  }
  return problems;
}

function checkManager(manager: unknown, path: string): Problem[] {
  const value = typeof manager === 'string' ? manager : '';
  const slash = value.indexOf('/');
  const host = slash < 0 ? '' : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (host === '' || rest === '') return [{ path, message: DOMAIN_PREFIXED_MESSAGE, kind: WEBHOOK }];
  if (host.length > 253 || !DNS_1123_SUBDOMAIN.test(host)) return [{ path, message: `${show(host)}: ${DNS_1123_SUBDOMAIN_MESSAGE}`, kind: WEBHOOK }];
  if (!HTTP_PATH.test(rest)) return [{ path, message: `${show(rest)}: Invalid path`, kind: WEBHOOK }];
  return [];
}

/** The names of a pod template's containers and init containers. */
function containerNames(podSpec: unknown): string[] {
  const spec: Json = isObject(podSpec) ? podSpec : {};
  return [...list(spec.containers), ...list(spec.initContainers)].map(c => (isObject(c) ? c.name : undefined)).filter((n): n is string => typeof n === 'string');
}

function checkRuntimePatch(patch: unknown, path: string, runtime: Json | undefined): Problem[] {
  if (!isObject(patch)) return [];
  const problems = checkManager(patch.manager, `${path}.manager`);
  const jobsPath = `${path}.trainingRuntimeSpec.template.spec.replicatedJobs`;
  const runtimeJobs: Json[] = list(runtime?.spec?.template?.spec?.replicatedJobs).filter(isObject);
  const runtimeName = runtime && `${runtime.kind} ${show(runtime.metadata?.name)}`;
  list(patch.trainingRuntimeSpec?.template?.spec?.replicatedJobs).forEach((job, j) => {
    if (!isObject(job)) return;
    const jobPath = `${jobsPath}[${j}]`;
    const target = runtimeJobs.find(candidate => candidate.name === job.name);
    if (runtime && target === undefined) {
      problems.push({
        path: `${jobPath}.name`,
        message: `${show(job.name)} is not a replicated job of ${runtimeName}, which has ${runtimeJobs.map(c => show(c.name)).join(', ') || 'none'}: `
          + 'the v2.3 webhook lets the patch through, and the pods are never created',
        kind: WEBHOOK,
      });
    }
    const podSpec: Json = isObject(job.template?.spec?.template?.spec) ? job.template.spec.template.spec : {};
    const known = target && containerNames(target.template?.spec?.template?.spec);
    for (const field of ['containers', 'initContainers']) {
      list(podSpec[field]).forEach((container, k) => {
        if (!isObject(container)) return;
        const containerPath = `${jobPath}.template.spec.template.spec.${field}[${k}]`;
        if (known && !known.includes(container.name)) {
          problems.push({
            path: `${containerPath}.name`,
            message: `${show(container.name)} is not a container of replicated job ${show(job.name)} of ${runtimeName}, which has ${known.map(show).join(', ') || 'none'}: `
              + 'a patch cannot add a container, and the v2.3 webhook lets it through: the pods are never created',
            kind: WEBHOOK,
          });
        }
        if (container.env !== undefined && ENV_OWNED_CONTAINERS.includes(container.name)) {
          problems.push({ path: `${containerPath}.env`, message: `must not be set in container ${show(container.name)}: the trainer's env is spec.trainer.env`, kind: WEBHOOK });
        }
      });
    }
  });
  return problems;
}

/** What the torch plugin injects into the `node` container, with the values it takes (the rank and address differ per pod). */
const TORCH_ENV: InjectedEnv = new Map(TRAINER_RESERVED_ENV.map(name => [name, [name === 'PET_MASTER_PORT' ? String(TRAINER_MASTER_PORT) : '*']]));

/**
 * Rules for a TrainingRuntime or ClusterTrainingRuntime with a torch policy: the runtime webhook's (an ancestor job
 * has one replica and its container), what the torch plugin needs to inject its variables, the gang scheduling
 * that the runtime's template must name a scheduler for, and the pod template as the API server will see it.
 */
export function checkTrainingRuntime(runtime: Json): Problem[] {
  const spec: Json = isObject(runtime.spec) ? runtime.spec : {};
  const problems = checkMetadataMaps(runtime.metadata, 'metadata', SCHEMA);
  const jobs = list(spec.template?.spec?.replicatedJobs);
  let trainerJobs = 0;
  jobs.forEach((job, i) => {
    if (!isObject(job)) return;
    const path = `spec.template.spec.replicatedJobs[${i}]`;
    const step = job.template?.metadata?.labels?.[ANCESTOR_STEP_LABEL];
    const template = job.template?.spec?.template;
    const names = containerNames(template?.spec);
    if (step === ANCESTOR_TRAINER || INITIALIZER_STEPS.includes(step)) {
      if ((job.replicas ?? 1) !== 1) problems.push({ path: `${path}.replicas`, message: `${show(job.replicas)}: always must be 1`, kind: WEBHOOK });
      const required = step === ANCESTOR_TRAINER ? TRAINER_CONTAINER_NAME : step;
      if (!names.includes(required)) problems.push({ path: `${path}.template.spec.template.spec.containers`, message: `must contain the required container for the ancestor: ${step}`, kind: WEBHOOK });
    }
    if (step === ANCESTOR_TRAINER) trainerJobs++;
    if (step === ANCESTOR_TRAINER && isObject(spec.mlPolicy?.torch) && job.name !== TRAINER_JOB_NAME) {
      problems.push({
        path: `${path}.name`,
        message: `${show(job.name)} is the trainer job, but the torch plugin sets PET_MASTER_ADDR to the host of replicated job ${show(TRAINER_JOB_NAME)} `
          + `(${trainJobPodHost('<job>', 0)}.<job>): name it ${show(TRAINER_JOB_NAME)}, or torchrun waits for a master that does not exist`,
        kind: OPERATIONAL,
      });
    }
    const podSpec: Json = isObject(template?.spec) ? template.spec : {};
    problems.push(...checkImages(list(podSpec.containers), `${path}.template.spec.template.spec.containers`, OPERATIONAL));
    problems.push(...checkPodTemplate(template, `${path}.template.spec.template`, step === ANCESTOR_TRAINER ? TORCH_ENV : NO_INJECTED_ENV,
      { ports: { [TRAINER_CONTAINER_NAME]: [{ containerPort: TRAINER_MASTER_PORT, protocol: 'TCP' }] } }));
    problems.push(...checkGangScheduler(spec.podGroupPolicy, podSpec.schedulerName, `${path}.template.spec.template.spec.schedulerName`));
  });
  if (isObject(spec.mlPolicy?.torch) && trainerJobs === 0) {
    problems.push({
      path: 'spec.template.spec.replicatedJobs',
      message: `no replicated job is labelled ${ANCESTOR_STEP_LABEL}: ${ANCESTOR_TRAINER}: the torch plugin injects PET_* into none, and torchrun runs each node alone`,
      kind: OPERATIONAL,
    });
  }
  return problems;
}

/** Trainer v2 makes the PodGroup but never sets a scheduler name: without one in the template, the default scheduler ignores the gang. */
function checkGangScheduler(podGroupPolicy: unknown, schedulerName: unknown, path: string): Problem[] {
  if (!isObject(podGroupPolicy)) return [];
  if (isObject(podGroupPolicy.volcano) && schedulerName !== VOLCANO_SCHEDULER_NAME) {
    return [{ path, message: `${show(schedulerName)} must be ${show(VOLCANO_SCHEDULER_NAME)} with podGroupPolicy.volcano: Trainer v2 sets no scheduler name, and the default scheduler ignores the PodGroup`, kind: OPERATIONAL }];
  }
  if (isObject(podGroupPolicy.coscheduling) && (schedulerName === undefined || schedulerName === 'default-scheduler')) {
    return [{ path, message: `${show(schedulerName)} must name the scheduler that runs coscheduling with podGroupPolicy.coscheduling: Trainer v2 sets no scheduler name, and the default scheduler ignores the PodGroup`, kind: OPERATIONAL }];
  }
  return [];
}

/**
 * The host name the JobSet gives node `index` of a TrainJob: `<job>-node-0-<index>`, after the replicated job `node`,
 * its one Job (index 0) and the pod's completion index. The pod's own name adds a random suffix to it.
 */
export function trainJobPodHost(jobName: string, index: number): string {
  return `${jobName}-${TRAINER_JOB_NAME}-0-${index}`;
}

/** `PET_MASTER_ADDR`: node 0's host in the JobSet's headless service, which bears the job's name. */
export function trainJobMasterAddress(jobName: string): string {
  return `${trainJobPodHost(jobName, 0)}.${jobName}`;
}

/** The runtime's replicated job that the torch plugin fills: the one labelled as the trainer ancestor. */
export function trainerReplicatedJob(runtime: Json | undefined): Json | undefined {
  return list(runtime?.spec?.template?.spec?.replicatedJobs).filter(isObject)
    .find(job => job.template?.metadata?.labels?.[ANCESTOR_STEP_LABEL] === ANCESTOR_TRAINER);
}

/**
 * The pod template of a TrainJob's nodes as the controller makes it: the runtime's trainer pod template (a bare one
 * with a `node` container when the runtime is not known), with the TrainJob's image, command and args in the `node`
 * container, its env upserted by name, and `resourcesPerNode` merged over the container's resources (v2.3, #3602).
 */
export function trainJobNodeTemplate(job: Json, runtime: Json | undefined): Json {
  const trainer: Json = isObject(job.spec?.trainer) ? job.spec.trainer : {};
  const { template, spec, containers, container } = runtimeNodeContainer(runtime);
  const env: Json[] = list(container.env).filter(isObject);
  for (const variable of list(trainer.env).filter(isObject)) {
    const at = env.findIndex(existing => existing.name === variable.name);
    if (at < 0) env.push(variable); else env[at] = variable;
  }
  const resources = nodeResources(container, trainer.resourcesPerNode);
  // Copied with a spread and then amended, not spread with more fields: a manifest may hold any key (`__proto__`
  // too), which a spread keeps as a field, and objects spread with more fields each get a hidden class of their own.
  const node: Json = { ...container };
  if (trainer.image !== undefined) node.image = trainer.image;
  if (trainer.command !== undefined) node.command = trainer.command;
  if (trainer.args !== undefined) node.args = trainer.args;
  if (env.length > 0) node.env = env;
  if (Object.keys(resources).length > 0) node.resources = resources;
  const others = containers.filter(c => c.name !== TRAINER_CONTAINER_NAME);
  const podSpec: Json = { ...spec };
  podSpec.containers = [node, ...others];
  const podTemplate: Json = { ...template };
  podTemplate.spec = podSpec;
  return podTemplate;
}

/** The runtime's trainer pod template, its spec and containers, and its `node` container (a bare one when there is none). */
function runtimeNodeContainer(runtime: Json | undefined): { template: Json; spec: Json; containers: Json[]; container: Json } {
  const template: Json = trainerReplicatedJob(runtime)?.template?.spec?.template ?? {};
  const spec: Json = isObject(template.spec) ? template.spec : {};
  const containers: Json[] = list(spec.containers).filter(isObject);
  const container = containers.find(c => c.name === TRAINER_CONTAINER_NAME) ?? { name: TRAINER_CONTAINER_NAME };
  return { template, spec, containers, container };
}

/** The `node` container's resources with `resourcesPerNode`'s requests and limits merged over the runtime container's. */
function nodeResources(container: Json, perNode: unknown): Json {
  const resources: Json = isObject(container.resources) ? { ...container.resources } : {};
  if (!isObject(perNode)) return resources;
  for (const field of ['requests', 'limits']) {
    if (isObject(perNode[field])) resources[field] = { ...isObject(resources[field]) ? resources[field] : {}, ...perNode[field] };
  }
  return resources;
}

/**
 * `PET_NPROC_PER_NODE` as the torch plugin writes it: `trainer.numProcPerNode`, else `auto`. Given `resourcesPerNode`
 * (the runtime's resources are not read), `auto` becomes the CPU count, rounded up and at least 1, of its limits
 * when they name nothing like a GPU, else of its requests; a missing list counts as 1 CPU, as in the plugin's code.
 */
export function trainJobProcPerNode(job: Json): string {
  const trainer: Json = isObject(job.spec?.trainer) ? job.spec.trainer : {};
  if (trainer.numProcPerNode !== undefined) return String(trainer.numProcPerNode);
  if (!isObject(trainer.resourcesPerNode)) return 'auto';
  const fromCpu = (resources: unknown): { value: string; usedCpu: boolean } => {
    if (!isObject(resources)) return { value: '1', usedCpu: false };
    if (Object.keys(resources).some(name => name.toLowerCase().includes('gpu'))) return { value: 'auto', usedCpu: false };
    return { value: String(Math.max(1, Math.ceil(parseQuantity(resources.cpu) ?? 0))), usedCpu: true };
  };
  const limits = fromCpu(trainer.resourcesPerNode.limits);
  return limits.usedCpu ? limits.value : fromCpu(trainer.resourcesPerNode.requests).value;
}

/** What the torch plugin upserts into the `node` container of node `index`, in its order; the rank is the pod's completion index. */
export function torchPluginEnv(job: Json, runtime: Json | undefined, index: number): Array<{ name: string; value: string }> {
  const name = String(job.metadata?.name ?? '');
  return [
    { name: 'PET_NNODES', value: String(trainJobNodes(job, runtime)) },
    { name: 'PET_NPROC_PER_NODE', value: trainJobProcPerNode(job) },
    { name: 'PET_NODE_RANK', value: String(index) },
    { name: 'PET_MASTER_ADDR', value: trainJobMasterAddress(name) },
    { name: 'PET_MASTER_PORT', value: String(TRAINER_MASTER_PORT) },
  ];
}
