import { ImagePullPolicy } from 'cdk8s-plus-28';
import { compact } from './compact';
import { mergeResources, renderResourceList } from './resources';
import { renderSize } from './units';
import { ReplicaProps } from '../replica';
import { TRAINING_CONTAINER_NAME } from '../rules/pod-template';
import { SharedMemory } from '../shared-memory';
import { TrainingJobProps } from '../training-job-props';
import { Volume } from '../volume';


/** An environment variable as written to a container. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

/** A container port as written to a container. */
export interface ContainerPort {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: string;
}

/** What a renderer adds to the job-level settings for one replica's pod template. */
export interface PodTemplateInput {
  /** The job-level settings. */
  readonly job: TrainingJobProps;
  /** The replica's own settings, overriding the job's. */
  readonly replica?: ReplicaProps;
  /** Replaces the job's command (a launcher wrapping the user's entry point). */
  readonly command?: string[];
  /** Replaces the job's arguments. */
  readonly args?: string[];
  /** Variables set after the user's, unless the user set them. */
  readonly defaultEnv?: EnvVar[];
  /** Ports of the training container. */
  readonly ports?: ContainerPort[];
  /** The pod's restart policy, which a PyTorchJob leaves to the operator and a Job requires. */
  readonly podRestartPolicy?: string;
}

/** Renders one replica's pod template as plain JSON. */
export function renderPodTemplate(input: PodTemplateInput): any {
  const { job, replica = {} } = input;
  const sharedMemory = job.sharedMemory ?? SharedMemory.enabled();

  const volumes: Volume[] = [];
  // The shared-memory mount comes first, so that a user's own /dev/shm mount is the one reported as a duplicate.
  const volumeMounts: unknown[] = sharedMemory.isEnabled ? [{ name: SharedMemory.VOLUME_NAME, mountPath: SharedMemory.MOUNT_PATH }] : [];
  for (const mount of job.volumeMounts ?? []) {
    if (!volumes.includes(mount.volume)) volumes.push(mount.volume);
    volumeMounts.push({ name: mount.volume.name, mountPath: mount.path, readOnly: mount.readOnly, subPath: mount.subPath });
  }
  const renderedVolumes: unknown[] = volumes.map(v => v._toKube());
  if (sharedMemory.isEnabled) {
    renderedVolumes.push({
      name: SharedMemory.VOLUME_NAME,
      emptyDir: { medium: 'Memory', sizeLimit: sharedMemory.sizeLimit ? renderSize(sharedMemory.sizeLimit) : undefined },
    });
  }

  const env: EnvVar[] = Object.entries(job.env ?? {}).map(([name, value]) => ({ name, value: value.value, valueFrom: value.valueFrom }));
  for (const variable of input.defaultEnv ?? []) {
    if (!(job.env && variable.name in job.env)) env.push(variable);
  }

  const security = job.securityContext ?? {};
  const container = {
    name: TRAINING_CONTAINER_NAME,
    image: replica.image ?? job.image,
    imagePullPolicy: job.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
    command: input.command ?? job.command,
    args: input.args ?? job.args,
    workingDir: job.workingDir,
    env: nonEmpty(env),
    ports: input.ports,
    resources: {
      requests: renderResourceList(mergeResources(job.requests, replica.requests)),
      limits: renderResourceList(mergeResources(job.limits, replica.limits)),
    },
    volumeMounts: nonEmpty(volumeMounts),
    securityContext: {
      readOnlyRootFilesystem: security.readOnlyRootFilesystem,
      allowPrivilegeEscalation: security.allowPrivilegeEscalation,
    },
  };

  const nodeSelector = { ...job.nodeSelector, ...replica.nodeSelector };
  const tolerations = [...job.tolerations ?? [], ...replica.tolerations ?? []].map(query => query._toKube());
  const nodeAffinity = (job.nodeAffinity ?? []).map(query => query._toKube());

  return compact({
    metadata: { labels: job.podLabels, annotations: job.podAnnotations },
    spec: {
      containers: [container],
      restartPolicy: input.podRestartPolicy,
      volumes: nonEmpty(renderedVolumes),
      serviceAccountName: job.serviceAccountName,
      imagePullSecrets: job.imagePullSecrets?.map(name => ({ name })),
      nodeSelector: Object.keys(nodeSelector).length > 0 ? nodeSelector : undefined,
      tolerations: nonEmpty(tolerations),
      affinity: nodeAffinity.length > 0
        ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: nodeAffinity }] } } }
        : undefined,
      priorityClassName: job.priorityClassName,
      securityContext: {
        runAsUser: security.runAsUser,
        runAsGroup: security.runAsGroup,
        fsGroup: security.fsGroup,
        runAsNonRoot: security.runAsNonRoot,
      },
    },
  });
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}
