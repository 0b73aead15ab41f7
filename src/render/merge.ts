import { mergeResources } from './resources';
import { ContainerOptions } from '../container';
import { PodOptions } from '../pod-options';
import { withFields } from '../rules/objects';
import { VolumeMount } from '../volume';

/** How a field of `PodOptions` given at two levels (job, then replica or amendment) combines: `PodOptions` documents it. */
type MergeRule = 'replace' | 'map' | 'fields' | 'resources' | 'list' | 'containers' | 'mounts';

/** Every pod option with its rule: a new option does not compile until it has one. */
const MERGE_RULES: { readonly [K in keyof Required<PodOptions>]: MergeRule } = {
  command: 'replace',
  args: 'replace',
  env: 'map',
  workingDir: 'replace',
  imagePullPolicy: 'replace',
  requests: 'resources',
  limits: 'resources',
  securityContext: 'fields',
  sharedMemory: 'replace',
  volumeMounts: 'mounts',
  initContainers: 'containers',
  sidecars: 'containers',
  containers: 'containers',
  podLabels: 'map',
  podAnnotations: 'map',
  serviceAccount: 'replace',
  imagePullSecrets: 'list',
  podSecurity: 'fields',
  nodeSelector: 'map',
  tolerations: 'list',
  nodeAffinity: 'list',
  preferredNodeAffinity: 'list',
  podAffinity: 'list',
  podAntiAffinity: 'list',
  onePodPerNode: 'replace',
  topologySpread: 'list',
  schedulerName: 'replace',
  priorityClassName: 'replace',
  terminationGracePeriod: 'replace',
  hostNetwork: 'replace',
  hostIpc: 'replace',
  dnsPolicy: 'replace',
  dnsConfig: 'replace',
};

export const POD_OPTION_NAMES = Object.keys(MERGE_RULES) as Array<keyof PodOptions>;

/** Whether `options` sets any pod option (a replica that sets none shares the job's pod template). */
export function setsPodOptions(options: PodOptions): boolean {
  for (let i = 0; i < POD_OPTION_NAMES.length; i++) if (options[POD_OPTION_NAMES[i]] !== undefined) return true;
  return false;
}

/** Where an entry of the lower level is, for a message: `worker.sidecars[0].name`, or the method that gave it. */
export type EntryPath = (field: string, index: number, key: string) => string;

/** Paths under a props field, e.g. `fieldsOf('worker')` gives `worker.sidecars[0].name`. */
export function fieldsOf(prefix: string): EntryPath {
  return (field, index, key) => `${prefix}.${field}[${index}].${key}`;
}

/**
 * Merges pod options given at a lower level over those of the level above, by each field's rule.
 * @param where where an entry of the lower level is, in messages
 */
export function mergePodOptions(base: PodOptions, over: PodOptions, where: EntryPath): PodOptions {
  const merged: { [name: string]: unknown } = withFields(base as { [name: string]: unknown }, {});
  for (let at = 0; at < POD_OPTION_NAMES.length; at++) {
    const name = POD_OPTION_NAMES[at];
    const value: any = over[name];
    if (value === undefined) continue;
    const inherited: any = base[name];
    if (MERGE_RULES[name] === 'containers') checkNewContainers(base, value, (i: number) => where(name, i, 'name'));
    if (MERGE_RULES[name] === 'mounts') checkNewMounts(inherited ?? [], value, (i: number) => where(name, i, 'path'));
    if (inherited === undefined) {
      merged[name] = value;
      continue;
    }
    switch (MERGE_RULES[name]) {
      case 'replace': merged[name] = value; break;
      case 'map': case 'fields': merged[name] = { ...inherited, ...value }; break;
      case 'resources': merged[name] = mergeResources(inherited, value); break;
      case 'list': case 'containers': case 'mounts': merged[name] = [...inherited, ...value]; break;
    }
  }
  return merged as PodOptions;
}

function checkNewContainers(base: PodOptions, added: readonly ContainerOptions[], path: (index: number) => string): void {
  const taken = new Set([...base.initContainers ?? [], ...base.sidecars ?? [], ...base.containers ?? []].map(c => c.name));
  added.forEach((container, i) => {
    if (taken.has(container.name)) {
      throw new Error(`${path(i)}: ${JSON.stringify(container.name)} is already a container of the job's pods: `
        + 'a replica or an amendment adds containers to the job\'s and cannot replace one; give it another name');
    }
  });
}

function checkNewMounts(base: readonly VolumeMount[], added: readonly VolumeMount[], path: (index: number) => string): void {
  const taken = new Set(base.map(mount => mount.path));
  added.forEach((mount, i) => {
    if (taken.has(mount.path)) {
      throw new Error(`${path(i)}: ${JSON.stringify(mount.path)} is already mounted by the job: `
        + 'a replica or an amendment adds mounts to the job\'s and cannot replace one; mount it elsewhere');
    }
  });
}
