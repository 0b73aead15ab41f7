import { checkPodTemplate } from './pod-template';
import { isObject, isWholeNumber, Json, Problem, ProblemKind, show } from './problem';
import { operatorEnv, replicaCount } from '../private/operator-env';

const WEBHOOK = ProblemKind.WEBHOOK;
const OPERATIONAL = ProblemKind.OPERATIONAL;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 63;
const REPLICA_TYPES = ['Master', 'Worker'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never', 'ExitCode'];
const CLEAN_POD_POLICIES = ['None', 'Running', 'All'];
const MANAGED_BY = ['kubeflow.org/training-operator', 'kueue.x-k8s.io/multikueue'];
const NPROC_PER_NODE = /^(auto|cpu|gpu|[1-9]\d*)$/;

/**
 * Every rule a PyTorchJob must satisfy: the operator's validating webhook (kubeflow/trainer v1.9.4),
 * then what the operator, the kubelet or torchrun trips over after the API server has accepted it.
 */
export function checkPyTorchJob(job: Json): Problem[] {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  const replicaSpecs: Json = isObject(spec.pytorchReplicaSpecs) ? spec.pytorchReplicaSpecs : {};
  return [
    ...checkJobName(job.metadata?.name, replicaSpecs),
    ...checkManagedBy(spec.runPolicy?.managedBy),
    ...checkElasticNeedsWorker(spec, replicaSpecs),
    ...checkNprocPerNode(spec),
    ...Object.entries(replicaSpecs).flatMap(([type, replica]) => checkReplica(job, type, replica)),
    ...checkRunPolicy(spec.runPolicy),
  ];
}

/** A DNS-1035 label, with room for the Service names the operator derives from it. */
export function checkJobName(name: unknown, replicaSpecs: Json): Problem[] {
  const path = 'metadata.name';
  if (typeof name !== 'string' || !DNS_1035_LABEL.test(name) || name.length > MAX_NAME_LENGTH) {
    return [{
      path,
      message: `${show(name)} is not a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, at most ${MAX_NAME_LENGTH} characters`,
      kind: WEBHOOK,
    }];
  }
  const longest = Object.keys(replicaSpecs)
    .map(type => `${name}-${type.toLowerCase()}-${Math.max(replicaCount(replicaSpecs[type]) - 1, 0)}`)
    .sort((a, b) => b.length - a.length)[0];
  if (longest && longest.length > MAX_NAME_LENGTH) {
    return [{
      path,
      message: `${show(name)} is too long: the operator names a pod and its Service ${show(longest)} (${longest.length} characters), above the ${MAX_NAME_LENGTH} allowed`,
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

function checkNprocPerNode(spec: Json): Problem[] {
  const problems: Problem[] = [];
  const nproc = spec.nprocPerNode;
  if (nproc !== undefined && (typeof nproc !== 'string' || !NPROC_PER_NODE.test(nproc))) {
    problems.push({ path: 'spec.nprocPerNode', message: `${show(nproc)} is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1, as a string`, kind: OPERATIONAL });
  }
  if (isObject(spec.elasticPolicy) && spec.elasticPolicy.nProcPerNode !== undefined && nproc !== undefined) {
    problems.push({ path: 'spec.elasticPolicy.nProcPerNode', message: `${show(spec.elasticPolicy.nProcPerNode)} must not be used with spec.nprocPerNode (deprecated field)`, kind: WEBHOOK });
  }
  return problems;
}

function checkReplica(job: Json, type: string, replica: unknown): Problem[] {
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
  list.forEach((container, i) => {
    const image = isObject(container) ? container.image : undefined;
    if (typeof image !== 'string' || image.trim() === '') {
      problems.push({ path: `${containersPath}[${i}].image`, message: `${show(image)} is empty: every container needs an image`, kind: WEBHOOK });
    }
  });
  if (!list.some(c => isObject(c) && c.name === 'pytorch')) {
    problems.push({ path: containersPath, message: 'has no container named "pytorch": the operator needs one', kind: WEBHOOK });
  }
  const injected = new Set(operatorEnv(job, type, 0).map(v => v.name));
  problems.push(...checkPodTemplate(spec.template, `${path}.template`, injected));
  return problems;
}

function checkRunPolicy(runPolicy: unknown): Problem[] {
  if (!isObject(runPolicy)) return [];
  const problems: Problem[] = [];
  const path = 'spec.runPolicy';
  if (runPolicy.cleanPodPolicy !== undefined && !CLEAN_POD_POLICIES.includes(runPolicy.cleanPodPolicy)) {
    problems.push({ path: `${path}.cleanPodPolicy`, message: `${show(runPolicy.cleanPodPolicy)} is not a clean-pod policy: use ${CLEAN_POD_POLICIES.map(show).join(', ')}`, kind: OPERATIONAL });
  }
  const counts: Array<[string, unknown, number, string]> = [
    ['backoffLimit', runPolicy.backoffLimit, 0, 'a whole number of at least 0'],
    ['ttlSecondsAfterFinished', runPolicy.ttlSecondsAfterFinished, 0, 'a whole number of seconds, at least 0'],
    ['activeDeadlineSeconds', runPolicy.activeDeadlineSeconds, 1, 'a whole number of seconds, at least 1'],
    ['schedulingPolicy.scheduleTimeoutSeconds', runPolicy.schedulingPolicy?.scheduleTimeoutSeconds, 1, 'a whole number of seconds, at least 1'],
    ['schedulingPolicy.minAvailable', runPolicy.schedulingPolicy?.minAvailable, 1, 'a whole number of at least 1'],
  ];
  for (const [field, value, min, rule] of counts) {
    if (value !== undefined && !isWholeNumber(value, min)) {
      problems.push({ path: `${path}.${field}`, message: `${show(value)} must be ${rule}`, kind: OPERATIONAL });
    }
  }
  return problems;
}
