import { k8s, Volume } from 'cdk8s-plus-28';
import { pruned } from './pruned';
import { renderSize } from './units';
import { PodOptions } from '../pod-options';
import { SharedMemory } from '../shared-memory';

/** Every volume the pod's containers mount, each once in the order first mounted, then the shared memory. */
export function renderVolumes(options: PodOptions): object[] {
  const volumes: Volume[] = [];
  const containers = [options, ...options.initContainers ?? [], ...options.sidecars ?? [], ...options.containers ?? []];
  for (const container of containers) {
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.includes(mount.volume)) volumes.push(mount.volume);
    }
  }
  const rendered: object[] = volumes.map(volume => k8s.toJson_Volume(volume._toKube())!);
  const sharedMemory = options.sharedMemory ?? SharedMemory.enabled();
  if (sharedMemory.isEnabled) {
    rendered.push({
      name: SharedMemory.VOLUME_NAME,
      emptyDir: pruned({ medium: 'Memory', sizeLimit: sharedMemory.sizeLimit ? renderSize(sharedMemory.sizeLimit) : undefined }),
    });
  }
  return rendered;
}
