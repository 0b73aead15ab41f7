import { ContainerPort, EnvValue, ImagePullPolicy, Protocol } from 'cdk8s-plus-28';
import { ContainerPortJson, EnvVar, PodModel } from './model';
import { pruned } from './pruned';
import { renderResourceList } from './resources';
import { ContainerOptions } from '../container';
import { Resources } from '../resources';
import { SHARED_MEMORY_PATH, TRAINING_CONTAINER_NAME } from '../rules/facts';
import { ContainerSecurity } from '../security-context';
import { SharedMemory } from '../shared-memory';
import { VolumeMount } from '../volume';

/** The `pytorch` container of a pod. */
export function renderTrainingContainer(pod: PodModel): object {
  const options = pod.options;
  const env = renderEnv(options.env, pod.defaultEnv);
  const sharedMemory = options.sharedMemory ?? SharedMemory.enabled();
  // The shared-memory mount comes first, so that a user's own /dev/shm mount is the one reported as a duplicate.
  const mounts = sharedMemory.isEnabled ? [{ name: SharedMemory.VOLUME_NAME, mountPath: SHARED_MEMORY_PATH }] : [];
  mounts.push(...renderMounts(options.volumeMounts));
  return pruned({
    name: pod.containerName ?? TRAINING_CONTAINER_NAME,
    image: pod.image,
    imagePullPolicy: options.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
    command: pod.command ?? options.command,
    args: pod.args ?? options.args,
    workingDir: options.workingDir,
    env: nonEmpty(env),
    ports: pod.ports,
    resources: renderResources(options.requests, options.limits),
    volumeMounts: nonEmpty(mounts),
    securityContext: renderContainerSecurity(options.securityContext),
  })!;
}

/** A container besides `pytorch`; a native sidecar is an init container that restarts always. */
export function renderContainer(container: ContainerOptions, sidecar = false): object {
  return pruned({
    name: container.name,
    image: container.image,
    imagePullPolicy: container.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
    command: container.command,
    args: container.args,
    workingDir: container.workingDir,
    env: nonEmpty(renderEnv(container.env)),
    ports: nonEmpty((container.ports ?? []).map(renderPort)),
    resources: renderResources(container.requests, container.limits),
    volumeMounts: nonEmpty(renderMounts(container.volumeMounts)),
    securityContext: renderContainerSecurity(container.securityContext),
    restartPolicy: sidecar ? 'Always' : undefined,
  })!;
}

/** A container's variables: the user's, then the defaults the user did not set. */
export function renderEnv(env: { [name: string]: EnvValue } | undefined, defaults?: readonly EnvVar[]): EnvVar[] {
  const rendered: EnvVar[] = [];
  if (env !== undefined) {
    for (const name of Object.keys(env)) rendered.push(pruned({ name, value: env[name].value, valueFrom: env[name].valueFrom })!);
  }
  if (defaults !== undefined) for (const variable of defaults) if (!(env && variable.name in env)) rendered.push(variable);
  return rendered;
}

function renderMounts(mounts: readonly VolumeMount[] | undefined): Array<{ name: string; mountPath: string }> {
  return (mounts ?? []).map(mount => pruned({ name: mount.volume.name, mountPath: mount.path, readOnly: mount.readOnly, subPath: mount.subPath })!);
}

function renderPort(port: ContainerPort): ContainerPortJson {
  const protocol = port.protocol ?? Protocol.TCP;
  return pruned({ name: port.name, containerPort: port.number, protocol, hostPort: port.hostPort, hostIP: port.hostIp })!;
}

function renderResources(requests: Resources | undefined, limits: Resources | undefined): object | undefined {
  return pruned({ requests: renderResourceList(requests), limits: renderResourceList(limits) });
}

function renderContainerSecurity(security: ContainerSecurity | undefined): object | undefined {
  if (!security) return undefined;
  return pruned({
    runAsUser: security.runAsUser,
    runAsGroup: security.runAsGroup,
    runAsNonRoot: security.runAsNonRoot,
    privileged: security.privileged,
    readOnlyRootFilesystem: security.readOnlyRootFilesystem,
    allowPrivilegeEscalation: security.allowPrivilegeEscalation,
    capabilities: pruned({ add: security.addCapabilities, drop: security.dropCapabilities }),
  });
}

export function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}
