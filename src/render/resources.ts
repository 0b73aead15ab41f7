import { renderSize } from './units';
import { ExtendedResource, GpuResource, Resources } from '../resources';

/** A resource list as written to a manifest, e.g. `{ cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 1 }`. */
export type ResourceList = { [name: string]: string | number };

/** Flyte's semantics: each key the override sets replaces the base's, the others are inherited; extended resources by name. */
export function mergeResources(base: Resources | undefined, override: Resources | undefined): Resources | undefined {
  if (!override) return base;
  if (!base) return override;
  return {
    cpu: override.cpu ?? base.cpu,
    memory: override.memory ?? base.memory,
    ephemeralStorage: override.ephemeralStorage ?? base.ephemeralStorage,
    gpu: override.gpu ?? base.gpu,
    gpuResource: override.gpuResource ?? base.gpuResource,
    extended: mergeExtended(base.extended, override.extended),
  };
}

function mergeExtended(base: ExtendedResource[] | undefined, override: ExtendedResource[] | undefined): ExtendedResource[] | undefined {
  if (!override) return base;
  if (!base) return override;
  const names = new Set(override.map(resource => resource.name));
  return [...base.filter(resource => !names.has(resource.name)), ...override];
}

export function renderResourceList(resources: Resources | undefined): ResourceList | undefined {
  if (!resources) return undefined;
  const list: ResourceList = {};
  if (resources.cpu) list.cpu = resources.cpu.amount;
  if (resources.memory) list.memory = renderSize(resources.memory);
  if (resources.ephemeralStorage) list['ephemeral-storage'] = renderSize(resources.ephemeralStorage);
  if (resources.gpu !== undefined) list[(resources.gpuResource ?? GpuResource.NVIDIA).name] = resources.gpu;
  for (const resource of resources.extended ?? []) list[resource.name] = resource._quantity;
  return Object.keys(list).length > 0 ? list : undefined;
}
