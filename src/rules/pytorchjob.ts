import { checkPodAntiAffinity } from './anti-affinity';
import {
  CLUSTER_DNS_POLICY, CUSTOM_DNS_POLICY, DEFAULT_PORT, HOST_NETWORK_DNS_POLICY, NODE_DNS_POLICY, OPERATOR_INIT_CONTAINER_NAME, PORT_NAME,
  TRAINING_CONTAINER_NAME,
} from './facts';
import { checkMetadataMaps, DNS_1035_LABEL_RULE, isDns1035Label, MAX_LABEL_LENGTH } from './names';
import { firstWorkerAddress, masterAddress, operatorEnv, replicaCount } from './operator-env';
import { checkImages, checkPodTemplate, checkSharedMemory, InjectedEnv, PodAdditions, processesPerPod, trainingContainer } from './pod-template';
import { append, checkWholeNumbers, isObject, isWholeNumber, Json, Problem, ProblemKind, Severity, show } from './problem';
import { checkPyTorchJobScheduling } from './scheduling';
import {
  checkNodeRange, checkNprocPerNode, checkOperatorManagedFlags, checkRdzvConf, checkTorchrunFlags, findTorchrun, NPROC_PER_NODE_OPTION, optionValue,
  petVariable, TorchrunUse,
} from './torchrun';

const WEBHOOK = ProblemKind.WEBHOOK;
const OPERATIONAL = ProblemKind.OPERATIONAL;
const REPLICA_TYPES = ['Master', 'Worker'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never', 'ExitCode'];
const CLEAN_POD_POLICIES = ['None', 'Running', 'All'];
const MANAGED_BY = ['kubeflow.org/training-operator', 'kueue.x-k8s.io/multikueue'];
const RDZV_BACKENDS = ['c10d', 'etcd', 'etcd-v2'];

/**
 * Every rule a PyTorchJob must satisfy: the operator's validating webhook (kubeflow/trainer v1.9.4),
 * then what the operator, the kubelet or torchrun trips over after the API server has accepted it.
 */
export function checkPyTorchJob(job: Json): Problem[] {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  const replicaSpecs: Json = isObject(spec.pytorchReplicaSpecs) ? spec.pytorchReplicaSpecs : {};
  const problems: Problem[] = [];
  append(problems, checkJobName(job.metadata, replicaSpecs, WEBHOOK));
  append(problems, checkMetadataMaps(job.metadata, 'metadata', ProblemKind.SCHEMA));
  if (spec.pytorchReplicaSpecs === undefined) {
    problems.push({ path: 'spec.pytorchReplicaSpecs', message: 'is missing: a PyTorchJob needs its replica specs', kind: WEBHOOK });
  }
  append(problems, checkManagedBy(spec.runPolicy?.managedBy));
  append(problems, checkElasticNeedsWorker(spec, replicaSpecs));
  append(problems, checkNprocPerNodeFields(spec));
  append(problems, checkElasticPolicy(spec.elasticPolicy, replicaSpecs));
  for (const type of Object.keys(replicaSpecs)) {
    const replica = replicaSpecs[type];
    append(problems, checkReplica(job, type, replica, injectedEnv(job, type, replica)));
  }
  append(problems, checkRunPolicy(spec.runPolicy));
  append(problems, checkPodAntiAffinity(job));
  append(problems, checkPyTorchJobScheduling(job));
  return problems;
}

/**
 * What the operator appends to the containers of a replica's pods: each name with the values it takes in them (the
 * first and the last pod bound the values that differ per pod, the ranks).
 */
function injectedEnv(job: Json, type: string, replica: unknown): InjectedEnv {
  const env = new Map<string, string[]>();
  const last = Math.max(replicaCount(replica) - 1, 0);
  for (const index of last === 0 ? [0] : [0, last]) {
    for (const { name, value } of operatorEnv(job, type, index)) {
      const values = env.get(name);
      if (values === undefined) env.set(name, [value]); else if (!values.includes(value)) values.push(value);
    }
  }
  return env;
}

/**
 * A DNS-1035 label, with room for the Service names the operator derives from it. Without a name, the API server
 * names the object from `generateName` and five random characters before any webhook sees it.
 * @param kind who refuses a name that is not a label: the operator's webhook, or the API server for a Job
 */
export function checkJobName(metadata: unknown, replicaSpecs: Json, kind: ProblemKind): Problem[] {
  const { name, generateName } = isObject(metadata) ? metadata : { name: undefined, generateName: undefined };
  if (name === undefined && generateName !== undefined) return checkGenerateName(generateName, replicaSpecs, kind);
  const path = 'metadata.name';
  if (!isDns1035Label(name)) return [{ path, message: `${show(name)} is not a DNS-1035 label: ${DNS_1035_LABEL_RULE}`, kind }];
  return checkPodNameLength(name, path, name, replicaSpecs);
}

/** The API server keeps at most the first 58 characters of `generateName` and appends 5 random lower-case letters and digits. */
const GENERATED_SUFFIX = 'xxxxx';
const MAX_GENERATE_NAME_LENGTH = MAX_LABEL_LENGTH - GENERATED_SUFFIX.length;

function checkGenerateName(generateName: unknown, replicaSpecs: Json, kind: ProblemKind): Problem[] {
  const path = 'metadata.generateName';
  const kept = typeof generateName === 'string' ? generateName.slice(0, MAX_GENERATE_NAME_LENGTH) : undefined;
  if (kept === undefined || !isDns1035Label(`${kept}${GENERATED_SUFFIX}`)) {
    return [{ path, message: `${show(generateName)} does not begin a DNS-1035 label: ${DNS_1035_LABEL_RULE}`, kind }];
  }
  return checkPodNameLength(generateName as string, path, `${kept}${GENERATED_SUFFIX}`, replicaSpecs, `, ${GENERATED_SUFFIX} being the API server's random suffix`);
}

function checkPodNameLength(given: string, path: string, name: string, replicaSpecs: Json, note = ''): Problem[] {
  const longest = Object.keys(replicaSpecs)
    .map(type => `${name}-${type.toLowerCase()}-${Math.max(replicaCount(replicaSpecs[type]) - 1, 0)}`)
    .sort((a, b) => b.length - a.length)[0];
  if (longest && longest.length > MAX_LABEL_LENGTH) {
    return [{
      path,
      message: `${show(given)} is too long: the operator names a pod and its Service ${show(longest)} (${longest.length} characters${note}), above the ${MAX_LABEL_LENGTH} allowed`,
      kind: OPERATIONAL,
    }];
  }
  return [];
}

function checkManagedBy(managedBy: unknown): Problem[] {
  if (managedBy === undefined || MANAGED_BY.includes(managedBy as string)) return [];
  return [{ path: 'spec.runPolicy.managedBy', message: `${show(managedBy)} is not supported: use ${MANAGED_BY.map(show).join(' or ')}`, kind: WEBHOOK }];
}

function checkElasticNeedsWorker(spec: Json, replicaSpecs: Json): Problem[] {
  if (spec.elasticPolicy === undefined || replicaSpecs.Worker !== undefined) return [];
  return [{ path: 'spec.pytorchReplicaSpecs[Worker]', message: 'is missing: an elastic policy needs a Worker replica spec', kind: WEBHOOK }];
}

function checkNprocPerNodeFields(spec: Json): Problem[] {
  const problems: Problem[] = spec.nprocPerNode === undefined ? [] : checkNprocPerNode(spec.nprocPerNode, 'spec.nprocPerNode');
  const deprecated = isObject(spec.elasticPolicy) ? spec.elasticPolicy.nProcPerNode : undefined;
  if (deprecated !== undefined) {
    problems.push(spec.nprocPerNode === undefined
      ? { path: 'spec.elasticPolicy.nProcPerNode', message: `${show(deprecated)} is deprecated: use spec.nprocPerNode`, kind: WEBHOOK, severity: Severity.WARNING }
      : { path: 'spec.elasticPolicy.nProcPerNode', message: `${show(deprecated)} must not be used with spec.nprocPerNode`, kind: WEBHOOK });
  }
  return problems;
}

function checkElasticPolicy(policy: unknown, replicaSpecs: Json): Problem[] {
  if (!isObject(policy)) return [];
  const path = 'spec.elasticPolicy';
  const problems: Problem[] = [];
  if (runsTorchrun(replicaSpecs.Master)) {
    problems.push({
      path: 'spec.pytorchReplicaSpecs[Master]',
      message: 'runs torchrun in an elastic job: the operator counts only the Workers in the node range it gives torchrun, so the Master is one node too many for the rendezvous',
      kind: OPERATIONAL,
    });
  }
  const workers = replicaCount(replicaSpecs.Worker);
  problems.push(...checkNodeRange(policy.minReplicas ?? policy.maxReplicas ?? workers, policy.maxReplicas ?? policy.minReplicas ?? workers, `${path}.minReplicas`));
  if (isWholeNumber(policy.maxReplicas, 1) && replicaSpecs.Worker !== undefined && workers > policy.maxReplicas) {
    problems.push({ path: 'spec.pytorchReplicaSpecs[Worker].replicas', message: `${workers} is above elasticPolicy.maxReplicas ${policy.maxReplicas}: the extra pods could never join the rendezvous`, kind: OPERATIONAL });
  }
  if (policy.maxRestarts !== undefined && !isWholeNumber(policy.maxRestarts, 0)) {
    problems.push({ path: `${path}.maxRestarts`, message: `${show(policy.maxRestarts)} must be a whole number of at least 0`, kind: OPERATIONAL });
  }
  if (policy.rdzvBackend !== undefined && !RDZV_BACKENDS.includes(policy.rdzvBackend)) {
    problems.push({ path: `${path}.rdzvBackend`, message: `${show(policy.rdzvBackend)} is not a rendezvous backend: use ${RDZV_BACKENDS.map(show).join(', ')}`, kind: OPERATIONAL });
  }
  if (policy.standalone === true) {
    problems.push({ path: `${path}.standalone`, message: 'true makes the operator inject PET_STANDALONE="", which torchrun cannot parse: leave it out', kind: OPERATIONAL });
  }
  if (Array.isArray(policy.rdzvConf)) {
    problems.push(...policy.rdzvConf.length === 0
      ? [{ path: `${path}.rdzvConf`, message: '[] crashes the operator: leave the field out when there are no settings', kind: OPERATIONAL }]
      : checkRdzvConf(policy.rdzvConf, `${path}.rdzvConf`));
  }
  return problems;
}

/** Whether a replica's `pytorch` container certainly starts torchrun. */
function runsTorchrun(replica: unknown): boolean {
  const container = trainingContainer(isObject(replica) ? replica.template : undefined);
  return container !== undefined && findTorchrun(container, '').launches.length > 0;
}

function checkReplica(job: Json, type: string, replica: unknown, injected: InjectedEnv): Problem[] {
  const path = `spec.pytorchReplicaSpecs[${type}]`;
  if (!REPLICA_TYPES.includes(type)) {
    return [{ path, message: `${show(type)} is not a replica type: use "Master" or "Worker"`, kind: WEBHOOK }];
  }
  const spec: Json = isObject(replica) ? replica : {};
  const problems: Problem[] = [];
  if (type === 'Master' && spec.replicas !== 1) {
    problems.push({ path: `${path}.replicas`, message: `${show(spec.replicas)} must be 1: a job has exactly one Master, written explicitly`, kind: WEBHOOK });
  }
  if (type === 'Worker' && spec.replicas !== undefined && !isWholeNumber(spec.replicas, 1)) {
    problems.push({ path: `${path}.replicas`, message: `${show(spec.replicas)} must be a whole number of at least 1`, kind: WEBHOOK });
  }
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy)) {
    problems.push({ path: `${path}.restartPolicy`, message: `${show(spec.restartPolicy)} is not a restart policy: use ${RESTART_POLICIES.map(show).join(', ')}`, kind: OPERATIONAL });
  }
  const containers: unknown[] = spec.template?.spec?.containers ?? [];
  const containersPath = `${path}.template.spec.containers`;
  if (!Array.isArray(containers) || containers.length === 0) {
    problems.push({ path: containersPath, message: 'is empty: a replica needs at least one container', kind: WEBHOOK });
  }
  const list = Array.isArray(containers) ? containers : [];
  append(problems, checkImages(list, containersPath, WEBHOOK));
  if (trainingContainer(spec.template) === undefined) {
    problems.push({ path: containersPath, message: `has no container named "${TRAINING_CONTAINER_NAME}": the operator needs one`, kind: WEBHOOK });
  }
  // The torchrun flags of each container, reported at the field they are written in; read once, since the processes'
  // check below reads the training container's again.
  const launches: Array<TorchrunUse | undefined> = [];
  for (let i = 0; i < list.length; i++) {
    const container = list[i];
    const use = isObject(container) ? findTorchrun(container, `${containersPath}[${i}]`) : undefined;
    launches.push(use);
    if (use !== undefined) append(problems, checkTorchrunFlags(use));
  }
  if (spec.template?.spec?.restartPolicy !== undefined) {
    problems.push({
      path: `${path}.template.spec.restartPolicy`,
      message: `${show(spec.template.spec.restartPolicy)} is ignored: the operator sets the pod's restart policy from ${path}.restartPolicy`,
      kind: OPERATIONAL,
    });
  }
  const training = list.findIndex(c => isObject(c) && c.name === TRAINING_CONTAINER_NAME);
  if (training >= 0) append(problems, checkProcesses(job.spec, spec.template, list[training] as Json, training, launches[training]!, `${path}.template`, injected));
  append(problems, checkPodTemplate(spec.template, `${path}.template`, injected, podAdditions(job, type, spec.template)));
  append(problems, checkClusterDns(job, spec.template, `${path}.template.spec`));
  return problems;
}

/** What the operator adds to the pods of a replica: its default port, and on Workers of a job with a Master, `init-pytorch`. */
function podAdditions(job: Json, type: string, template: unknown): PodAdditions {
  const training = trainingContainer(template);
  const ports: unknown[] = Array.isArray(training?.ports) ? training.ports : [];
  return {
    initContainers: type === 'Worker' && job.spec?.pytorchReplicaSpecs?.Master !== undefined ? [OPERATOR_INIT_CONTAINER_NAME] : [],
    ports: training && !ports.some(port => isObject(port) && port.name === PORT_NAME)
      ? { [TRAINING_CONTAINER_NAME]: [{ name: PORT_NAME, containerPort: DEFAULT_PORT }] } : {},
    containerNamesReported: training === undefined,
  };
}

/**
 * On the host's network a pod resolves names with the node's DNS unless its DNS policy is `ClusterFirstWithHostNet`
 * (an omitted policy means `ClusterFirst`, which falls back to the node's), and the node's DNS does not know the
 * job's Services, through which the pods find the master or the rendezvous. `None` with nameservers of one's own is
 * the user's choice.
 */
function checkClusterDns(job: Json, template: unknown, path: string): Problem[] {
  const podSpec: Json = isObject(template) && isObject(template.spec) ? template.spec : {};
  if (podSpec.hostNetwork !== true) return [];
  const policy = podSpec.dnsPolicy;
  const nameservers = isObject(podSpec.dnsConfig) && Array.isArray(podSpec.dnsConfig.nameservers) ? podSpec.dnsConfig.nameservers : [];
  if (policy === HOST_NETWORK_DNS_POLICY || (policy === CUSTOM_DNS_POLICY && nameservers.length > 0)) return [];
  // Another value is not a DNS policy at all, which is not this rule's to report.
  if (policy !== undefined && policy !== CLUSTER_DNS_POLICY && policy !== NODE_DNS_POLICY && policy !== CUSTOM_DNS_POLICY) return [];
  const service = rendezvousService(job);
  if (service === undefined) return [];
  const fix = `use ${show(HOST_NETWORK_DNS_POLICY)}`;
  const message = policy === CUSTOM_DNS_POLICY
    ? `${show(policy)} without dnsConfig.nameservers leaves the pod no DNS server to find the Service ${show(service)}: ${fix}`
    : `${policy === undefined ? `(omitted) means ${show(CLUSTER_DNS_POLICY)}, which` : show(policy)} with hostNetwork resolves names with the node's DNS and cannot find the Service ${show(service)}: ${fix}`;
  return [{ path: `${path}.dnsPolicy`, message, kind: OPERATIONAL }];
}

/**
 * The job's own Service through which its pods meet: the master's with a Master, the first Worker's in an elastic job
 * without an rdzvHost. Undefined when the address is the user's (an rdzvHost, or a Worker-only job without elastic policy).
 */
function rendezvousService(job: Json): string | undefined {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  if (isObject(spec.pytorchReplicaSpecs) && spec.pytorchReplicaSpecs.Master !== undefined) return masterAddress(job);
  return isObject(spec.elasticPolicy) && spec.elasticPolicy.rdzvHost === undefined ? firstWorkerAddress(job) : undefined;
}

/**
 * `spec.nprocPerNode` only means something to torchrun, torchrun's flags must not undo the world the operator injects,
 * and several processes need a real /dev/shm.
 */
function checkProcesses(spec: Json, template: unknown, container: Json, index: number, torchrun: TorchrunUse, path: string,
  injected: InjectedEnv): Problem[] {
  const nproc = spec.nprocPerNode;
  const containerPath = `${path}.spec.containers[${index}]`;
  if (torchrun.launches.length === 0) {
    // The operator counts a value that is not a whole number as one process per pod, which is what runs.
    return /^\d+$/.test(String(nproc)) && Number(nproc) > 1 && torchrun.fullyRead ? [{
      path: 'spec.nprocPerNode',
      message: `${show(nproc)} has no effect on ${containerPath}, which does not run torchrun, but the operator still counts it in WORLD_SIZE`,
      kind: OPERATIONAL,
    }] : [];
  }
  // Without the flag, torchrun reads what the operator injects: spec.nprocPerNode, or the deprecated elasticPolicy.nProcPerNode.
  const injectedNproc = injected.get(petVariable(NPROC_PER_NODE_OPTION))?.[0];
  const processes = torchrun.launches.map(launch => optionValue(launch, NPROC_PER_NODE_OPTION))
    .filter((value): value is string | null => value !== undefined)
    .map(value => processesPerPod(value ?? injectedNproc ?? 'auto', container));
  return [...checkOperatorManagedFlags(torchrun, injected, nproc), ...checkSharedMemory(template, index, Math.max(0, ...processes), path)];
}


function checkRunPolicy(runPolicy: unknown): Problem[] {
  if (!isObject(runPolicy)) return [];
  const problems: Problem[] = [];
  const path = 'spec.runPolicy';
  if (runPolicy.cleanPodPolicy !== undefined && !CLEAN_POD_POLICIES.includes(runPolicy.cleanPodPolicy)) {
    problems.push({ path: `${path}.cleanPodPolicy`, message: `${show(runPolicy.cleanPodPolicy)} is not a clean-pod policy: use ${CLEAN_POD_POLICIES.map(show).join(', ')}`, kind: OPERATIONAL });
  }
  problems.push(...checkWholeNumbers(path, [
    ['backoffLimit', runPolicy.backoffLimit, 0, 'a whole number of at least 0'],
    ['ttlSecondsAfterFinished', runPolicy.ttlSecondsAfterFinished, 0, 'a whole number of seconds, at least 0'],
    ['activeDeadlineSeconds', runPolicy.activeDeadlineSeconds, 1, 'a whole number of seconds, at least 1'],
    ['schedulingPolicy.scheduleTimeoutSeconds', runPolicy.schedulingPolicy?.scheduleTimeoutSeconds, 1, 'a whole number of seconds, at least 1'],
    ['schedulingPolicy.minAvailable', runPolicy.schedulingPolicy?.minAvailable, 1, 'a whole number of at least 1'],
  ], OPERATIONAL));
  return problems;
}

