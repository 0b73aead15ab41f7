import { ApiObjectMetadata } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addCheckedObject, CheckedApiObject } from './checked-object';
import { TRAINJOB_GVK } from './gvk';
import { fieldsOf, mergePodOptions } from './merge';
import { EnvVar, podModel } from './model';
import { pruned } from './pruned';
import { scheduledOptions } from './scheduling';
import { renderRdzvConf } from './torchrun';
import {
  addRuntimeObject, jobRestartPolicy, renderRuntimePatch, renderTrainer, renderTrainerScheduling, TrainerModel, withoutTrainerFields,
} from './trainjob';
import { wholeSeconds } from './units';
import { Elastic } from '../elastic';
import { JobTarget } from '../job-target';
import { NprocPerNode } from '../nproc-per-node';
import { PodOptions } from '../pod-options';
import { ReplicaProps } from '../replica';
import { RestartPolicy } from '../restart-policy';
import { CLUSTER_TRAINING_RUNTIME_KIND, JOB_COMPLETION_INDEX_ANNOTATION, TRAINER_CONTAINER_NAME, TRAINER_GROUP, TRAINER_JOB_NAME, TRAINER_MASTER_PORT, TRAINING_RUNTIME_KIND } from '../rules/facts';
import { withFields } from '../rules/objects';
import { Json } from '../rules/problem';
import { checkTrainJob, trainJobMasterAddress } from '../rules/trainjob';
import { CleanPodPolicy, ManagedBy, RunPolicy } from '../run-policy';
import { Scheduling } from '../scheduling';
import { ITrainingRuntime, TrainingRuntimeBase } from '../training-runtime';

/** The construct id of the runtime made for a job, beside its TrainJob. */
const MADE_RUNTIME_ID = 'Runtime';

/** The manager of the patch that carries a job's pod options onto a runtime that exists already. */
export const DEFAULT_PATCH_MANAGER = 'kfpytorch.cdk8s.io/job';

/** What a TrainJob writes: the runtime it names, the trainer, the patches and its run settings. */
export interface TrainJobModel {
  readonly runtime: ITrainingRuntime;
  readonly trainer: TrainerModel;
  readonly patches: readonly Json[];
  readonly suspend?: boolean;
  readonly activeDeadlineSeconds?: number;
  readonly managedBy?: string;
}

export function renderTrainJobSpec(model: TrainJobModel): Json {
  return pruned({
    runtimeRef: { apiGroup: TRAINER_GROUP, kind: model.runtime.runtimeKind, name: model.runtime.runtimeName },
    trainer: renderTrainer(model.trainer),
    runtimePatches: model.patches.length > 0 ? [...model.patches] : undefined,
    suspend: model.suspend,
    activeDeadlineSeconds: model.activeDeadlineSeconds,
    managedBy: model.managedBy,
  })!;
}

/**
 * Adds a TrainJob object, checked with the webhook's rules and, when the runtime it names is in the app, against it.
 * The caller makes it depend on that runtime, which is then written before it (the webhook refuses a TrainJob whose
 * runtime does not exist yet).
 * @param nodes the nodes it runs, for a generated name short enough for the pods' host names
 * @param runtimeObject the object of the runtime it names when that is in the app, read when it is synthesized
 */
export function addTrainJobObject(scope: Construct, metadata: ApiObjectMetadata | undefined, nodes: number,
  runtimeObject: () => CheckedApiObject | undefined, render: () => TrainJobModel): CheckedApiObject {
  return addCheckedObject(scope, TRAINJOB_GVK, metadata, () => renderTrainJobSpec(render()),
    manifest => checkTrainJob(manifest, runtimeObject()?.manifest()), `-${TRAINER_JOB_NAME}-0-${Math.max(nodes - 1, 0)}`);
}

/** The object of a runtime made in this app; undefined for one on the cluster. */
export function runtimeObjectOf(runtime: ITrainingRuntime): CheckedApiObject | undefined {
  return runtime instanceof TrainingRuntimeBase ? runtime._checkedObject() : undefined;
}

/** Writes a TrainJob after its runtime, when that is in the app, and checks it again when the runtime is amended. */
export function dependOnRuntime(trainJob: CheckedApiObject, runtimeObject: CheckedApiObject | undefined): void {
  if (runtimeObject === undefined) return;
  trainJob.node.addDependency(runtimeObject);
  runtimeObject.invalidates(trainJob);
}

/** A runtime made for one job, beside its TrainJob: named like it, with the job's pods. */
class MadeRuntime implements ITrainingRuntime {
  public constructor(public readonly runtimeKind: string, public readonly object: CheckedApiObject) {}

  public get runtimeName(): string {
    return this.object.name;
  }
}

/** Run settings of a TrainJob, from a job's RunPolicy: what v2.3 has no field for is refused. */
interface TrainerRunPolicy {
  readonly suspend?: boolean;
  readonly activeDeadlineSeconds?: number;
  readonly managedBy?: string;
  readonly backoffLimit?: number;
}

function trainerRunPolicy(runPolicy: RunPolicy | undefined, field: string): TrainerRunPolicy {
  const props = runPolicy?.props ?? {};
  if (props.ttlAfterFinished !== undefined) {
    throw new Error(`${field}.ttlAfterFinished: Trainer v2.3 cannot delete a TrainJob after it finishes (it has no ttlSecondsAfterFinished): leave it out, or target the training operator`);
  }
  if (props.cleanPodPolicy !== undefined && props.cleanPodPolicy !== CleanPodPolicy.NONE) {
    throw new Error(`${field}.cleanPodPolicy: ${props.cleanPodPolicy} cannot be honoured by Trainer v2.3, which keeps the pods of a finished TrainJob (as CleanPodPolicy.NONE does)`);
  }
  return {
    suspend: props.suspend,
    activeDeadlineSeconds: props.activeDeadline && wholeSeconds(props.activeDeadline, `${field}.activeDeadline`),
    // The training operator's value means the default controller, which a TrainJob names by leaving the field out.
    managedBy: props.managedBy === ManagedBy.MULTIKUEUE ? props.managedBy : undefined,
    backoffLimit: props.backoffLimit,
  };
}

/** torchrun's processes per node as v2.3 takes them: a whole number, or left to the torch plugin's `auto`. */
export function trainerProcesses(nproc: NprocPerNode | undefined, field: string): number | undefined {
  const value = nproc?.value;
  if (value === undefined || value === 'auto') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  throw new Error(`${field}: ${JSON.stringify(value)} cannot be expressed in Trainer v2.3, whose numProcPerNode is a whole number (or, left out, auto): give the count`);
}

/** Whether two prop values are the same: identical, or equal plain data. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(a) !== undefined;
  } catch {
    // Constructs (volumes, service accounts) refer to their tree: the same one only when identical.
    return false;
  }
}

/**
 * Refuses a Master that differs from the Workers: a TrainJob's nodes are the pods of one replicated job, all alike.
 * @returns what the replicas share, to merge over the job's options
 */
export function sameReplicas(master: ReplicaProps, worker: ReplicaProps & { replicas?: number }): ReplicaProps {
  const { replicas, ...workerProps } = worker;
  void replicas;
  const fields = new Set([...Object.keys(master), ...Object.keys(workerProps)]);
  for (const field of fields) {
    const m = (master as { [key: string]: unknown })[field];
    const w = (workerProps as { [key: string]: unknown })[field];
    if (!sameValue(m, w)) {
      throw new Error(`master.${field}: the Master differs from the Workers in ${field}, which Trainer v2.3 cannot express: a TrainJob's nodes `
        + 'are the pods of one replicated job, all alike; give the field to the job, or the same to both, or target the training operator');
    }
  }
  return workerProps;
}

/** A job definition as Trainer v2.3 runs it. */
export interface TrainerJobInput {
  readonly target: JobTarget;
  readonly metadata?: ApiObjectMetadata;
  readonly numNodes: number;
  readonly numProcPerNode?: number;
  readonly image: string;
  /** The launcher's command and arguments, when a launcher replaces the user's (torchrun for an elastic job). */
  readonly command?: string[];
  readonly args?: string[];
  /** Variables set after the user's unless the user set them, given the TrainJob's name. */
  readonly defaultEnv: (name: string) => EnvVar[];
  readonly restartPolicy?: RestartPolicy;
  readonly runPolicy?: RunPolicy;
  /** The field path of the run policy, for messages. */
  readonly runPolicyField: string;
  readonly scheduling?: Scheduling;
  /** The job's pod options, amendments and the replicas' shared settings merged, read when the job is synthesized. */
  readonly podOptions: () => PodOptions;
  /** The job's pod options when it is built, for the scheduling's checks. */
  readonly jobOptions: PodOptions;
}

/** The objects of a job on Trainer v2.3: its runtime (when made for it) and its TrainJob. */
export interface TrainerObjects {
  readonly trainJob: CheckedApiObject;
  readonly runtime?: CheckedApiObject;
}

/**
 * Adds a job's TrainJob and, unless the target names an existing runtime, the TrainingRuntime made for it, written
 * before it. The job's pod options go into that runtime, or into a runtime patch of the existing one.
 */
export function addTrainerObjects(scope: Construct, input: TrainerJobInput): TrainerObjects {
  const options = input.target.trainerV2Options ?? {};
  const existing = options.runtime;
  const runPolicy = trainerRunPolicy(input.runPolicy, input.runPolicyField);
  const scheduled = renderTrainerScheduling(input.scheduling, input.numNodes, input.jobOptions);
  const restartPolicy = jobRestartPolicy(input.restartPolicy, 'restartPolicy');
  if (existing) {
    const given = Object.entries({
      podGroupPolicy: scheduled.podGroupPolicy, templateAnnotations: scheduled.templateAnnotations, schedulerName: scheduled.podOptions.schedulerName,
    }).find(([, value]) => value !== undefined);
    if (given) {
      throw new Error(`scheduling: ${input.scheduling!.kind} needs the runtime's template, which a patch cannot set (${given[0]}): `
        + `give the scheduling to runtime ${JSON.stringify(existing.runtimeName)}, or let the job make its own runtime`);
    }
    if (runPolicy.backoffLimit !== undefined) {
      throw new Error(`${input.runPolicyField}.backoffLimit: the Job's backoffLimit is the runtime's, which a patch cannot set: give it to runtime ${JSON.stringify(existing.runtimeName)}`);
    }
    if (input.restartPolicy !== undefined) {
      throw new Error(`restartPolicy: the pods' restart policy is the runtime's, which a patch cannot set: give it to runtime ${JSON.stringify(existing.runtimeName)}`);
    }
  }
  const metadata: ApiObjectMetadata = withFields(input.metadata, { labels: { ...input.metadata?.labels, ...scheduled.jobLabels } });
  for (const [key, value] of Object.entries(scheduled.jobLabels)) {
    const given = input.metadata?.labels?.[key];
    if (given !== undefined && given !== value) throw new Error(`metadata.labels.${key}: ${JSON.stringify(given)} contradicts the scheduling's ${JSON.stringify(value)}`);
  }
  const manager = options.patchManager ?? DEFAULT_PATCH_MANAGER;
  if (existing) {
    // Refused now, not at synth: the patch's fields depend on the props.
    renderRuntimePatch(manager, TRAINER_JOB_NAME, scheduledOptions(withoutTrainerFields(input.jobOptions), scheduled.podOptions), '', true);
  }
  let runtime: ITrainingRuntime | undefined = existing;
  let made: MadeRuntime | undefined;
  const trainJob = addTrainJobObject(scope, metadata, input.numNodes, () => made?.object, () => {
    const podOptions = input.podOptions();
    const patches = existing
      ? [renderRuntimePatch(manager, TRAINER_JOB_NAME, scheduledOptions(withoutTrainerFields(podOptions), scheduled.podOptions), '', true)]
      : [];
    return {
      runtime: runtime!,
      trainer: trainerOf(podOptions, input, trainJob.name),
      patches,
      suspend: runPolicy.suspend,
      activeDeadlineSeconds: runPolicy.activeDeadlineSeconds,
      managedBy: runPolicy.managedBy,
    };
  });
  if (!existing) {
    // Named like the TrainJob, and made after it so that the name cdk8s generates for it is known; the dependency
    // writes the runtime first.
    const kind = options.clusterRuntime ? CLUSTER_TRAINING_RUNTIME_KIND : TRAINING_RUNTIME_KIND;
    const namespace = options.clusterRuntime ? undefined : input.metadata?.namespace;
    runtime = made = new MadeRuntime(kind, addRuntimeObject(scope, kind, { name: trainJob.name, namespace }, () => ({
      pod: podModel({
        options: scheduledOptions(withoutTrainerFields(input.podOptions()), scheduled.podOptions),
        image: input.image,
        containerName: TRAINER_CONTAINER_NAME,
        restartPolicy,
        ownPods: {},
      }),
      numNodes: input.numNodes,
      podGroupPolicy: scheduled.podGroupPolicy,
      templateAnnotations: scheduled.templateAnnotations,
      backoffLimit: runPolicy.backoffLimit,
    }), MADE_RUNTIME_ID));
  }
  dependOnRuntime(trainJob, made?.object);
  return { trainJob, runtime: made?.object };
}

function trainerOf(options: PodOptions, input: TrainerJobInput, name: string): TrainerModel {
  return {
    image: input.image,
    command: input.command ?? options.command,
    args: input.args ?? options.args,
    env: options.env as { [name: string]: EnvValue } | undefined,
    defaultEnv: input.defaultEnv(name),
    numNodes: input.numNodes,
    numProcPerNode: input.numProcPerNode,
    requests: options.requests,
    limits: options.limits,
  };
}

/** The pod options a PyTorchJob's replicas share, merged over the job's. */
export function mergedReplica(jobOptions: PodOptions, replica: ReplicaProps): PodOptions {
  return mergePodOptions(jobOptions, replica, fieldsOf('worker'));
}

/** The port of a v1 definition: v2.3 always uses 29500. */
export function checkTrainerPort(port: number | undefined): void {
  if (port !== undefined && port !== TRAINER_MASTER_PORT) {
    throw new Error(`port: ${port} cannot be honoured by Trainer v2.3, whose torch plugin always gives the master port ${TRAINER_MASTER_PORT}: leave it out`);
  }
}

/**
 * What the training operator gives every container of a PyTorchJob with a Master and Trainer v2.3 does not (it
 * injects `PET_*` only), so that a script written for the PyTorchJob finds its rendezvous without torchrun too:
 * `MASTER_ADDR` and `MASTER_PORT` of node 0, `WORLD_SIZE` (nodes × processes, a non-integer count as 1), `RANK`
 * (the node's index, which the Job gives every pod), and `PYTHONUNBUFFERED`.
 */
export function pytorchJobEnv(name: string, numNodes: number, numProcPerNode: number | undefined): EnvVar[] {
  return [
    { name: 'MASTER_ADDR', value: trainJobMasterAddress(name) },
    { name: 'MASTER_PORT', value: String(TRAINER_MASTER_PORT) },
    { name: 'WORLD_SIZE', value: String(numNodes * (numProcPerNode ?? 1)) },
    { name: 'RANK', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } },
    UNBUFFERED,
  ];
}

/** The training operator sets it in every pod; a TrainJob gets it written. */
export const UNBUFFERED: EnvVar = { name: 'PYTHONUNBUFFERED', value: '1' };

/**
 * torchrun's flags for an elastic config on Trainer v2.3: the node count, processes, node rank and master reach
 * torchrun as the torch plugin's `PET_*` variables (a static rendezvous at node 0); what the training operator would
 * have injected besides (restarts, rendezvous settings) is written as flags.
 */
export function trainerTorchrunFlags(elastic: Elastic): string[] {
  const rdzvConf = renderRdzvConf(elastic.rdzvConfigs);
  return [
    `--monitor_interval=${wholeSeconds(elastic.monitorInterval, 'elastic.monitorInterval')}`,
    `--start_method=${elastic.startMethod}`,
    `--max_restarts=${elastic.maxRestarts}`,
    ...rdzvConf ? [`--rdzv_conf=${rdzvConf}`] : [],
  ];
}

/** Refuses what an elastic config says that Trainer v2.3 cannot run: a node range, an autoscaler. */
export function checkTrainerElastic(elastic: Elastic): void {
  if (elastic.nnodes.min !== elastic.nnodes.max) {
    throw new Error(`elastic.nnodes: ${elastic.nnodes.min}:${elastic.nnodes.max} is a node range, which Trainer v2.3 cannot run: it has no elastic training `
      + '(KEP-2903 is not released): give a fixed node count, or target the training operator');
  }
  if (elastic.metrics !== undefined) {
    throw new Error('elastic.metrics: Trainer v2.3 has no elastic training for an autoscaler to scale: leave them out, or target the training operator');
  }
}
