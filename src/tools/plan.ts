import { Restarter } from './backoff';
import { isTrainJob } from './manifests';
import { JOB_COMPLETION_INDEX_ANNOTATION, JOB_COMPLETION_INDEX_ENV, TRAINER_CONTAINER_NAME, TRAINER_MASTER_PORT, TRAINING_CONTAINER_NAME } from '../rules/facts';
import { operatorEnv, replicaCount } from '../rules/operator-env';
import { trainingContainer } from '../rules/pod-template';
import { isObject, Json, UnusableInputError } from '../rules/problem';
import { commandLine } from '../rules/torchrun';
import { torchPluginEnv, trainerReplicatedJob, trainJobMasterAddress, trainJobNodes, trainJobNodeTemplate, trainJobPodHost } from '../rules/trainjob';

/** The address every pod has when the job runs on this machine. */
export const LOCAL_HOST = '127.0.0.1';

/** One pod of the job, as a local process. */
export interface PodPlan {
  /** `master-0`, `worker-1`, `job-0` for a Job's pod, or `<job>-node-0-1` for a TrainJob's node, as its JobSet names it. */
  readonly name: string;
  /** The command line of the `pytorch` container: `command` followed by `args`. */
  readonly argv: string[];
  /** The container's variables followed by the operator's, as the pod would have them. */
  readonly env: ReadonlyArray<[string, string]>;
  /** What happens when the process fails: a replica restart policy, or the Job pod's. */
  readonly restartPolicy: string;
  /** Who would restart the pod on a cluster, which decides the wait before it runs again. */
  readonly restarter: Restarter;
  /** The `pytorch` container's `resources`, as written. */
  readonly resources: Json;
}

/** How the job's outcome is decided. */
export enum SuccessRule {
  /** The Master's pod succeeded (a PyTorchJob with a Master). */
  MASTER = 'master',
  /** Any Worker succeeded (an elastic PyTorchJob: torchrun ended the rendezvous). */
  ANY_POD = 'any-pod',
  /** Every pod succeeded. */
  ALL_PODS = 'all-pods',
  /** The first pod, node rank 0, succeeded (a TrainJob: its outcome is the training's). */
  RANK_ZERO = 'rank-zero',
}

/** A job's pods and the policies that govern them. */
export interface JobPlan {
  readonly kind: string;
  readonly name: string;
  readonly pods: PodPlan[];
  readonly success: SuccessRule;
  /** PyTorchJob: pod restarts allowed in all; Job: pod failures allowed. Unset: no limit. */
  readonly backoffLimit?: number;
  /** Whether the backoff limit counts restarts (the training operator) or failed pods (the Job controller). */
  readonly backoffCounts: 'restarts' | 'failures';
  readonly activeDeadlineSeconds?: number;
}

/** Ports chosen on this machine for the addresses the operator would give the pods. */
export interface LocalPorts {
  readonly master: number;
  readonly rendezvous: number;
}

/** Where a variable's value comes from when the manifest does not hold it. */
export interface MissingValue {
  readonly name: string;
  readonly source: string;
}

/**
 * Turns a PyTorchJob, a single-node torchrun Job or a TrainJob into local processes: each pod's command line and the
 * environment the training operator (or Trainer's torch plugin) would give it, with 127.0.0.1 and local ports for
 * every address.
 *
 * @param provided values for variables whose manifest value comes from a Secret, ConfigMap or the pod itself
 * @param runtime a TrainJob's runtime, when the files hold it
 */
export function planJob(job: Json, provided: { readonly [name: string]: string }, ports: LocalPorts, runtime?: Json): JobPlan {
  const name = String(job.metadata?.name ?? '');
  const missing: MissingValue[] = [];
  for (const [variable, value] of Object.entries(provided)) refuseNul(`${variable}=${value}`, `--env ${JSON.stringify(variable)}`);
  const plan = job.kind === 'PyTorchJob' ? planPyTorchJob(job, name, provided, ports, missing)
    : isTrainJob(job) ? planTrainJob(job, name, provided, ports, missing, runtime)
      : planBatchJob(job, name, provided, missing);
  if (missing.length > 0) {
    throw new UnusableInputError(`${missing.map(m => `${m.name} (${m.source})`).join(', ')}: no value on this machine: pass it with --env NAME=VALUE`);
  }
  return plan;
}

function planPyTorchJob(job: Json, name: string, provided: Json, ports: LocalPorts, missing: MissingValue[]): JobPlan {
  const replicaSpecs: Json = job.spec?.pytorchReplicaSpecs ?? {};
  const elastic = isObject(job.spec?.elasticPolicy);
  const pods: PodPlan[] = [];
  for (const type of ['Master', 'Worker']) {
    const replica = replicaSpecs[type];
    if (!isObject(replica)) continue;
    const owner = `${type} replica`;
    const container = requireTrainingContainer(replica.template, owner);
    const containerEnv = resolveEnv(container, provided, missing, owner);
    const argv = podCommand(container, owner);
    const restartPolicy = replica.restartPolicy ?? 'OnFailure';
    for (let index = 0; index < replicaCount(replica); index++) {
      const injected = operatorEnv(job, type, index)
        .map(({ name: variable, value }): [string, string] => [variable, localValue(variable, value, ports)]);
      pods.push({
        name: `${type.toLowerCase()}-${index}`,
        argv,
        env: [...containerEnv, ...injected],
        restartPolicy,
        restarter: restartPolicy === 'ExitCode' ? Restarter.TRAINING_OPERATOR : Restarter.KUBELET,
        resources: resourcesOf(container),
      });
    }
  }
  const runPolicy: Json = job.spec?.runPolicy ?? {};
  return {
    kind: 'PyTorchJob',
    name,
    pods,
    success: replicaSpecs.Master !== undefined ? SuccessRule.MASTER : elastic ? SuccessRule.ANY_POD : SuccessRule.ALL_PODS,
    backoffLimit: runPolicy.backoffLimit,
    backoffCounts: 'restarts',
    activeDeadlineSeconds: runPolicy.activeDeadlineSeconds,
  };
}

function planBatchJob(job: Json, name: string, provided: Json, missing: MissingValue[]): JobPlan {
  const template = job.spec?.template;
  const container = requireTrainingContainer(template, 'Job');
  const restartPolicy = template.spec.restartPolicy ?? 'Never';
  return {
    kind: 'Job',
    name,
    pods: [{
      name: 'job-0',
      argv: podCommand(container, 'Job'),
      env: resolveEnv(container, provided, missing, 'Job'),
      restartPolicy,
      // Under OnFailure the kubelet restarts the container in place; under Never the Job controller makes a new pod.
      restarter: restartPolicy === 'Never' ? Restarter.JOB_CONTROLLER : Restarter.KUBELET,
      resources: resourcesOf(container),
    }],
    success: SuccessRule.ALL_PODS,
    // The Job controller's own default.
    backoffLimit: job.spec?.backoffLimit ?? 6,
    backoffCounts: 'failures',
    activeDeadlineSeconds: job.spec?.activeDeadlineSeconds,
  };
}

/**
 * A TrainJob's nodes as its JobSet runs them: the pods of one Indexed Job, `<job>-node-0-<index>`, each with the
 * trainer's container merged into the runtime's, and the torch plugin's `PET_*` with the pod's index as its rank.
 * The Job controller restarts them (backoffLimit, by default 6, counts failures); node rank 0's outcome is the run's.
 */
function planTrainJob(job: Json, name: string, provided: Json, ports: LocalPorts, missing: MissingValue[], runtime: Json | undefined): JobPlan {
  const template = trainJobNodeTemplate(job, runtime);
  const container: Json = template.spec.containers[0];
  const owner = 'TrainJob\'s trainer';
  const argv = podCommand(container, owner, TRAINER_CONTAINER_NAME);
  const restartPolicy = template.spec.restartPolicy ?? 'Never';
  const address = trainJobMasterAddress(name);
  // The cluster's address of node 0, wherever it is written (the library writes MASTER_ADDR and MASTER_PORT too).
  const local = ([variable, value]: [string, string]): [string, string] => [variable, value === address ? LOCAL_HOST
    : /^(PET_)?MASTER_PORT$/.test(variable) && value === String(TRAINER_MASTER_PORT) ? String(ports.master) : value];
  const pods: PodPlan[] = [];
  for (let index = 0; index < trainJobNodes(job, runtime); index++) {
    const fields = new Map([[`metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']`, String(index)]]);
    const containerEnv = resolveEnv(container, provided, missing, owner, fields, TRAINER_CONTAINER_NAME);
    pods.push({
      name: trainJobPodHost(name, index),
      argv,
      env: [
        // The Job controller gives every container of an Indexed Job's pod its index.
        [JOB_COMPLETION_INDEX_ENV, String(index)],
        ...containerEnv.filter(([variable]) => !torchPluginNames.has(variable)).map(local),
        ...torchPluginEnv(job, runtime, index).map(({ name: variable, value }) => local([variable, value])),
      ],
      restartPolicy,
      restarter: restartPolicy === 'Never' ? Restarter.JOB_CONTROLLER : Restarter.KUBELET,
      resources: resourcesOf(container),
    });
  }
  return {
    kind: 'TrainJob',
    name,
    pods,
    success: SuccessRule.RANK_ZERO,
    backoffLimit: trainerReplicatedJob(runtime)?.template?.spec?.backoffLimit ?? 6,
    backoffCounts: 'failures',
    activeDeadlineSeconds: job.spec?.activeDeadlineSeconds,
  };
}

/** The variables the torch plugin upserts, replacing any of the same name. */
const torchPluginNames = new Set(torchPluginEnv({}, undefined, 0).map(variable => variable.name));

function requireTrainingContainer(template: unknown, owner: string): Json {
  const container = trainingContainer(template);
  if (!container) throw new UnusableInputError(`the ${owner} has no container named "pytorch"`);
  return container;
}

function podCommand(container: Json, owner: string, containerName = TRAINING_CONTAINER_NAME): string[] {
  if (!Array.isArray(container.command) || container.command.length === 0) {
    throw new UnusableInputError(`the ${owner}'s "${containerName}" container has no command: the image's own entry point cannot run on this machine`);
  }
  const command = container.command.length;
  const argv = commandLine(container).map(String);
  argv.forEach((arg, i) => refuseNul(arg, `the ${owner}'s "${containerName}" container: ${i < command ? `command[${i}]` : `args[${i - command}]`}`));
  return argv;
}

function resourcesOf(container: Json): Json {
  return isObject(container.resources) ? container.resources : {};
}

/** A NUL character ends a C string: no process can be given one in an argument or a variable. */
function refuseNul(text: string, where: string): void {
  if (text.includes('\u0000')) throw new UnusableInputError(`${where} holds a NUL character, which no process can be given`);
}

/**
 * The container's variables, with the user's values for those the cluster would fill in.
 * @param fields what the pod's own fields hold, for variables that refer to them
 */
function resolveEnv(container: Json, provided: Json, missing: MissingValue[], owner: string,
  fields: ReadonlyMap<string, string> = new Map(), containerName = TRAINING_CONTAINER_NAME): Array<[string, string]> {
  const env: Array<[string, string]> = [];
  for (const [i, variable] of (Array.isArray(container.env) ? container.env : []).entries()) {
    if (!isObject(variable)) continue;
    refuseNul(`${variable.name}=${variable.value ?? ''}`, `the ${owner}'s "${containerName}" container: env[${i}]`);
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    if (variable.name in provided) {
      env.push([variable.name, String(provided[variable.name])]);
    } else if (fields.has(field)) {
      env.push([variable.name, fields.get(field)!]);
    } else if (variable.valueFrom === undefined) {
      env.push([variable.name, String(variable.value ?? '')]);
    } else if (!missing.some(m => m.name === variable.name)) {
      missing.push({ name: variable.name, source: describeSource(variable.valueFrom) });
    }
  }
  return env;
}

function describeSource(valueFrom: Json): string {
  if (valueFrom.secretKeyRef) return `from Secret ${valueFrom.secretKeyRef.name} key ${valueFrom.secretKeyRef.key}`;
  if (valueFrom.configMapKeyRef) return `from ConfigMap ${valueFrom.configMapKeyRef.name} key ${valueFrom.configMapKeyRef.key}`;
  if (valueFrom.fieldRef) return `from the pod's ${valueFrom.fieldRef.fieldPath}`;
  if (valueFrom.resourceFieldRef) return `from the container's ${valueFrom.resourceFieldRef.resource}`;
  return 'from the cluster';
}

/** The operator's addresses, pointed at this machine. */
function localValue(variable: string, value: string, ports: LocalPorts): string {
  switch (variable) {
    case 'MASTER_ADDR':
    case 'PET_MASTER_ADDR':
      return LOCAL_HOST;
    case 'MASTER_PORT':
    case 'PET_MASTER_PORT':
      return String(ports.master);
    case 'PET_RDZV_ENDPOINT':
      return `${LOCAL_HOST}:${ports.rendezvous}`;
    default:
      return value;
  }
}
