import { ApiObjectMetadata } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addCheckedObject, CheckedApiObject } from './checked-object';
import { nonEmpty, renderEnv, renderTrainingContainer } from './container';
import { CLUSTER_TRAINING_RUNTIME_GVK, TRAINING_RUNTIME_GVK } from './gvk';
import { POD_OPTION_NAMES } from './merge';
import { EnvVar, PodModel, podModel } from './model';
import { renderPlacement } from './placement';
import { renderPodTemplate } from './pod-template';
import { pruned } from './pruned';
import { renderResourceList } from './resources';
import { renderScheduling } from './scheduling';
import { renderVolumes } from './volumes';
import { PodOptions } from '../pod-options';
import { Resources } from '../resources';
import { RestartPolicy } from '../restart-policy';
import {
  ANCESTOR_STEP_LABEL, ANCESTOR_TRAINER, CLUSTER_TRAINING_RUNTIME_KIND, DEFAULT_PROTOCOL, FRAMEWORK_LABEL, TORCH_FRAMEWORK, TRAINER_CONTAINER_NAME,
  TRAINER_JOB_NAME, TRAINER_MASTER_PORT, VOLCANO_QUEUE_ANNOTATION,
} from '../rules/facts';
import { withFields } from '../rules/objects';
import { Json } from '../rules/problem';
import { checkTrainingRuntime } from '../rules/trainjob';
import { SchedulerKind, Scheduling } from '../scheduling';
import { SharedMemory } from '../shared-memory';

/** The port the torch plugin adds to the `node` container, written in the runtime so that the template says it. */
export const TRAINER_PORTS = [{ name: 'torch', containerPort: TRAINER_MASTER_PORT, protocol: DEFAULT_PROTOCOL }];

/** What a runtime's JobSet template holds for the `node` job: its pod, its Job's retries, and the gang scheduling. */
export interface RuntimeModel {
  /** The pod of every node, its container named `node`. */
  readonly pod: PodModel;
  /** `mlPolicy.numNodes`: the nodes of a TrainJob that names none. */
  readonly numNodes: number;
  /** `podGroupPolicy`: coscheduling or Volcano. */
  readonly podGroupPolicy?: object;
  /** Annotations of the JobSet template (where Trainer's Volcano plugin reads the queue). */
  readonly templateAnnotations?: { readonly [key: string]: string };
  /** The `node` Job's `backoffLimit`: pod failures before the Job, and so the TrainJob, fails. */
  readonly backoffLimit?: number;
}

/** Renders a runtime's `spec`: a torch ML policy and a JobSet of one replicated job `node`, whose pods run `node`. */
export function renderRuntimeSpec(model: RuntimeModel): Json {
  return pruned({
    mlPolicy: { numNodes: model.numNodes, torch: {} },
    podGroupPolicy: model.podGroupPolicy,
    template: pruned({
      metadata: model.templateAnnotations && { annotations: { ...model.templateAnnotations } },
      spec: {
        replicatedJobs: [{
          name: TRAINER_JOB_NAME,
          // The runtime webhook requires 1: the torch plugin makes the one Job run numNodes pods.
          replicas: 1,
          template: {
            metadata: { labels: { [ANCESTOR_STEP_LABEL]: ANCESTOR_TRAINER } },
            spec: pruned({ backoffLimit: model.backoffLimit, template: renderPodTemplate(model.pod) }),
          },
        }],
      },
    }),
  })!;
}

/** What a TrainJob sets itself in the `node` container: `spec.trainer`. */
export interface TrainerModel {
  readonly image?: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: { readonly [name: string]: EnvValue };
  /** Variables set after the user's, unless the user set them. */
  readonly defaultEnv?: readonly EnvVar[];
  readonly numNodes?: number;
  readonly numProcPerNode?: number;
  readonly requests?: Resources;
  readonly limits?: Resources;
}

export function renderTrainer(model: TrainerModel): Json | undefined {
  const env = renderEnv(model.env, model.defaultEnv);
  return pruned({
    image: model.image,
    command: model.command,
    args: model.args,
    env: nonEmpty(env),
    numNodes: model.numNodes,
    numProcPerNode: model.numProcPerNode,
    resourcesPerNode: pruned({ requests: renderResourceList(model.requests), limits: renderResourceList(model.limits) }),
  });
}

/** Pod options that a TrainJob carries in `spec.trainer` rather than in the runtime's container. */
export const TRAINER_FIELDS = ['command', 'args', 'env', 'requests', 'limits'] as const;

/** The pod options alone (not a job's other props), without those the TrainJob's trainer carries. */
export function withoutTrainerFields(options: PodOptions): PodOptions {
  const rest: { [key: string]: unknown } = {};
  for (const field of POD_OPTION_NAMES) {
    if (options[field] !== undefined && !(TRAINER_FIELDS as readonly string[]).includes(field)) rest[field] = options[field];
  }
  return rest as PodOptions;
}

/**
 * What v2.3's PodSpecPatch cannot carry, with the reason: refused, never dropped. Every pod option not listed, and
 * not carried by the patch, is one of these.
 */
const NOT_PATCHABLE: { readonly [field: string]: string } = {
  image: 'a runtime patch cannot set an image: give it to the trainer (TrainJob image)',
  requests: 'a runtime patch cannot set resources: give them to the trainer (resourcesPerNode)',
  limits: 'a runtime patch cannot set resources: give them to the trainer (resourcesPerNode)',
  command: 'a runtime patch cannot set a command: give it to the trainer',
  args: 'a runtime patch cannot set arguments: give them to the trainer',
  env: 'the webhook refuses env in a patch of the node container: give it to the trainer',
  workingDir: 'v2.3\'s container patch has no workingDir',
  imagePullPolicy: 'v2.3\'s container patch has no imagePullPolicy',
  initContainers: 'a runtime patch cannot add a container (v2.3 patches only the containers the runtime has)',
  sidecars: 'a runtime patch cannot add a sidecar (v2.3 patches only the containers the runtime has)',
  containers: 'a runtime patch cannot add a container (v2.3 patches only the containers the runtime has)',
  topologySpread: 'v2.3\'s PodSpecPatch has no topologySpreadConstraints: put them in the runtime',
  schedulerName: 'v2.3\'s PodSpecPatch has no schedulerName: put it in the runtime',
  priorityClassName: 'v2.3\'s PodSpecPatch has no priorityClassName: put it in the runtime',
  hostNetwork: 'v2.3\'s PodSpecPatch has no hostNetwork: put it in the runtime',
  hostIpc: 'v2.3\'s PodSpecPatch has no hostIPC: put it in the runtime',
  dnsPolicy: 'v2.3\'s PodSpecPatch has no dnsPolicy: put it in the runtime',
  dnsConfig: 'v2.3\'s PodSpecPatch has no dnsConfig: put it in the runtime',
};

function isSet(value: unknown): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  return !(typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === 0);
}

/**
 * Renders a `runtimePatches` entry for one replicated job from pod options: what v2.3's PodSpecPatch carries (node
 * selector, tolerations, affinity, volumes with the `node` container's mounts, service account, image pull secrets,
 * security contexts, termination grace period, pod labels and annotations). Anything else is refused, with the field.
 * @param field the field path of the options, for messages, e.g. `runtimePatches[0]`
 * @param sharedMemory whether an unset `sharedMemory` means the default memory-backed /dev/shm (a job's options) or none
 */
export function renderRuntimePatch(manager: string, replicatedJob: string, options: PodOptions, field: string, sharedMemoryByDefault: boolean): Json {
  for (const [name, reason] of Object.entries(NOT_PATCHABLE)) {
    if (isSet((options as { [key: string]: unknown })[name])) throw new Error(`${field}.${name}: ${reason}`);
  }
  const sharedMemory = options.sharedMemory ?? (sharedMemoryByDefault ? SharedMemory.enabled() : SharedMemory.disabled());
  const withShm: PodOptions = withFields(options, { sharedMemory });
  const pod = podModel({ options: withShm, image: '', containerName: TRAINER_CONTAINER_NAME, ownPods: {} });
  const placement = renderPlacement(pod) as Json;
  const container = renderTrainingContainer(pod) as Json;
  const containerPatch = pruned({ name: TRAINER_CONTAINER_NAME, volumeMounts: container.volumeMounts, securityContext: container.securityContext });
  const security = options.podSecurity ?? {};
  const spec = pruned({
    serviceAccountName: options.serviceAccount?.name,
    volumes: nonEmpty(renderVolumes(withShm)),
    containers: Object.keys(containerPatch!).length > 1 ? [containerPatch] : undefined,
    imagePullSecrets: nonEmpty((options.imagePullSecrets ?? []).map(secret => ({ name: secret.name }))),
    securityContext: pruned({
      runAsUser: security.runAsUser, runAsGroup: security.runAsGroup, fsGroup: security.fsGroup, runAsNonRoot: security.runAsNonRoot,
    }),
    nodeSelector: placement.nodeSelector,
    affinity: placement.affinity,
    tolerations: placement.tolerations,
    terminationGracePeriodSeconds: placement.terminationGracePeriodSeconds,
  });
  const metadata = pruned({
    labels: options.podLabels && { ...options.podLabels },
    annotations: options.podAnnotations && { ...options.podAnnotations },
  });
  return {
    manager,
    trainingRuntimeSpec: {
      template: {
        spec: {
          replicatedJobs: [{ name: replicatedJob, template: { spec: { template: pruned({ metadata, spec }) ?? {} } } }],
        },
      },
    },
  };
}

/** What a job's `Scheduling` writes when it runs on Trainer v2. */
export interface TrainerScheduling {
  /** Labels of the TrainJob (Kueue's queue and priority, KAI's queue). */
  readonly jobLabels: { readonly [key: string]: string };
  /** Options of the `node` pods: the scheduler name, KAI's pod label, Kueue's topology annotations. */
  readonly podOptions: PodOptions;
  /** The runtime's `podGroupPolicy`. */
  readonly podGroupPolicy?: object;
  /** Annotations of the runtime's JobSet template (the Volcano queue). */
  readonly templateAnnotations?: { readonly [key: string]: string };
}

/**
 * A job's scheduling as Trainer v2.3 takes it: Kueue's labels on the TrainJob; gang scheduling as the runtime's
 * `podGroupPolicy` with the scheduler name in its template, since v2 never sets one. What v2.3 decides itself (the
 * PodGroup's minimum is every pod, its minResources the sum of the requests) cannot be given otherwise.
 * @param field the field path of the scheduling, for messages
 */
export function renderTrainerScheduling(scheduling: Scheduling | undefined, numNodes: number, jobOptions: PodOptions, field = 'scheduling'): TrainerScheduling {
  if (scheduling === undefined) return { jobLabels: {}, podOptions: {} };
  const settings = scheduling._options;
  if (settings.kueue?.workerTopology !== undefined || settings.kueue?.masterTopology !== undefined) {
    throw new Error(`${field}.${settings.kueue.workerTopology ? 'workerTopology' : 'masterTopology'}: a TrainJob has one pod set, ${TRAINER_JOB_NAME}: use topology`);
  }
  if (settings.kueue?.groupPodSets) throw new Error(`${field}.groupPodSets: a TrainJob has one pod set, ${TRAINER_JOB_NAME}: there is nothing to group`);
  const scheduled = renderScheduling(scheduling, { podSets: { [TRAINER_JOB_NAME]: numNodes }, batchJob: false, jobOptions, replicaOptions: {} });
  const annotations = scheduled.podSetAnnotations(TRAINER_JOB_NAME, TRAINER_JOB_NAME);
  const podOptions: PodOptions = withFields(scheduled.podOptions, { podAnnotations: annotations });
  type GangPolicy = { queue?: string; priorityClass?: string; minResources?: object; scheduleTimeoutSeconds?: number };
  const policy = (scheduled.schedulingPolicy ?? {}) as GangPolicy;
  if (policy.minResources !== undefined) {
    throw new Error(`${field}.minResources: Trainer v2.3 makes the PodGroup's minResources the sum of the pods' requests: it cannot be given`);
  }
  if (policy.priorityClass !== undefined) {
    throw new Error(`${field}.priorityClass: Trainer v2.3 takes the PodGroup's priority from the pods' priorityClassName: set priorityClassName instead`);
  }
  if (scheduling.kind === SchedulerKind.VOLCANO) {
    return {
      jobLabels: scheduled.jobLabels,
      podOptions,
      podGroupPolicy: { volcano: {} },
      templateAnnotations: policy.queue === undefined ? undefined : { [VOLCANO_QUEUE_ANNOTATION]: policy.queue },
    };
  }
  if (scheduling.kind === SchedulerKind.COSCHEDULING) {
    const coscheduling = pruned({ scheduleTimeoutSeconds: policy.scheduleTimeoutSeconds }) ?? {};
    return { jobLabels: scheduled.jobLabels, podOptions, podGroupPolicy: { coscheduling } };
  }
  return { jobLabels: scheduled.jobLabels, podOptions };
}


/** A Job's pod restart policy: `OnFailure` unless `Never` is asked for; the others are refused. */
export function jobRestartPolicy(policy: RestartPolicy | undefined, field: string): string {
  if (policy === RestartPolicy.ALWAYS || policy === RestartPolicy.EXIT_CODE) {
    throw new Error(`${field}: ${policy} cannot be honoured by Trainer v2, whose nodes are the pods of a batch Job: use ON_FAILURE or NEVER`);
  }
  return policy ?? RestartPolicy.ON_FAILURE;
}

/**
 * Adds a TrainingRuntime or ClusterTrainingRuntime object with the torch framework label, checked with the runtime
 * webhook's rules.
 * @param id the object's construct id: `Resource` for a runtime construct's, another for one made beside a TrainJob
 */
export function addRuntimeObject(scope: Construct, kind: string, metadata: ApiObjectMetadata | undefined, model: () => RuntimeModel,
  id?: string): CheckedApiObject {
  const gvk = kind === CLUSTER_TRAINING_RUNTIME_KIND ? CLUSTER_TRAINING_RUNTIME_GVK : TRAINING_RUNTIME_GVK;
  const labels = { [FRAMEWORK_LABEL]: TORCH_FRAMEWORK, ...metadata?.labels };
  return addCheckedObject(scope, gvk, withFields(metadata, { labels }), () => renderRuntimeSpec(model()), checkTrainingRuntime, '', id);
}
