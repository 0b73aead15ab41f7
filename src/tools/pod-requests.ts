import { SIDECAR_RESTART_POLICY } from '../rules/facts';
import { isObject, Json } from '../rules/problem';
import { parseQuantity } from '../rules/quantity';

/** Resource amounts by resource name (`cpu`, `memory`, `nvidia.com/gpu`), in base units: cores, bytes, devices. */
export type ResourceAmounts = ReadonlyMap<string, number>;

/**
 * What one pod of a template requests, as the scheduler, Kueue and a ResourceQuota count it (the kubelet's
 * `PodRequests`): the regular containers and the native sidecars (init containers with `restartPolicy: Always`),
 * which run beside them, added up; or, per resource, a regular init container with the sidecars started before it,
 * when that is larger, since it runs alone before the others. A container's omitted request is its limit, as the
 * API server defaults it. Unreadable quantities count for nothing: `kfpytorch validate` reports them.
 */
export function podRequests(template: unknown): ResourceAmounts {
  const spec: Json = isObject(template) && isObject(template.spec) ? template.spec : {};
  const running = new Map<string, number>();
  for (const container of listOf(spec.containers)) add(running, containerRequests(container));
  const startedSidecars = new Map<string, number>();
  const initPeak = new Map<string, number>();
  for (const container of listOf(spec.initContainers)) {
    const requests = containerRequests(container);
    if (container.restartPolicy === SIDECAR_RESTART_POLICY) {
      add(running, requests);
      add(startedSidecars, requests);
    } else {
      raise(initPeak, add(new Map(startedSidecars), requests));
    }
  }
  return raise(running, initPeak);
}

/** The amounts of several pods: each resource times the pod count. */
export function timesPods(amounts: ResourceAmounts, pods: number): ResourceAmounts {
  return new Map([...amounts].map(([name, amount]) => [name, amount * pods]));
}

/** The sum of several pods' amounts, resource by resource. */
export function sumAmounts(all: readonly ResourceAmounts[]): ResourceAmounts {
  return all.reduce((sum: Map<string, number>, amounts) => add(sum, amounts), new Map<string, number>());
}

/** Resource names in the order kubectl shows them: cpu and memory first, then the rest by name. */
export function sortResourceNames(names: Iterable<string>): string[] {
  const rank = (name: string) => (name === 'cpu' ? 0 : name === 'memory' ? 1 : 2);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Resources counted in bytes, which read best with a unit suffix. */
const BYTE_RESOURCES = /^(memory|ephemeral-storage|storage|hugepages-.+)$/;
const BINARY_SUFFIXES: Array<[string, number]> = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
const DECIMAL_SUFFIXES: Array<[string, number]> = [['E', 1e18], ['P', 1e15], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]];

/**
 * A sum of quantities as Kubernetes writes a quantity: whole units, or millis below them (`8500m`), and for bytes
 * the shortest exact form with a suffix (`192Gi`, `64G`). Amounts are rounded to millis, the API's finest CPU unit,
 * which also hides the binary fractions of sums like 0.1 + 0.2.
 */
export function formatQuantity(resource: string, amount: number): string {
  const millis = Math.round(amount * 1000);
  if (millis % 1000 !== 0) return `${millis}m`;
  const whole = millis / 1000;
  if (!BYTE_RESOURCES.test(resource) || whole === 0) return String(whole);
  const exact = [...BINARY_SUFFIXES, ...DECIMAL_SUFFIXES]
    .filter(([, factor]) => whole % factor === 0)
    .map(([suffix, factor]) => `${whole / factor}${suffix}`);
  return [...exact, String(whole)].reduce((shortest, form) => (form.length < shortest.length ? form : shortest));
}

/** A container's requests, each omitted one taken from its limit. */
function containerRequests(container: Json): Map<string, number> {
  const resources: Json = isObject(container.resources) ? container.resources : {};
  const requests: Json = isObject(resources.requests) ? resources.requests : {};
  const limits: Json = isObject(resources.limits) ? resources.limits : {};
  const amounts = new Map<string, number>();
  for (const name of new Set([...Object.keys(limits), ...Object.keys(requests)])) {
    const amount = parseQuantity(requests[name] ?? limits[name]);
    if (amount !== undefined) amounts.set(name, amount);
  }
  return amounts;
}

function listOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Adds `amounts` into `sum`, which it returns. */
function add(sum: Map<string, number>, amounts: ResourceAmounts): Map<string, number> {
  for (const [name, amount] of amounts) sum.set(name, (sum.get(name) ?? 0) + amount);
  return sum;
}

/** Raises each resource of `peak` to at least its amount in `amounts`; returns `peak`. */
function raise(peak: Map<string, number>, amounts: ResourceAmounts): Map<string, number> {
  for (const [name, amount] of amounts) peak.set(name, Math.max(peak.get(name) ?? 0, amount));
  return peak;
}
