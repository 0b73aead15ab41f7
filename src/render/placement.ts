import { DnsPolicy, k8s, NodeLabelQuery, Topology } from 'cdk8s-plus-28';
import { nonEmpty } from './container';
import { PodModel } from './model';
import { pruned } from './pruned';
import { wholeSeconds } from './units';
import { PodAffinityTerm, TopologySpread, UnsatisfiableConstraintAction } from '../placement';
import { PodOptions } from '../pod-options';

/** The pod-spec fields that decide where the pods run and how they reach the network. */
export function renderPlacement(pod: PodModel): object {
  const options = pod.options;
  const nodeSelector = { ...options.nodeSelector };
  return {
    nodeSelector: Object.keys(nodeSelector).length > 0 ? nodeSelector : undefined,
    tolerations: nonEmpty((options.tolerations ?? []).map(query => query._toKube())),
    affinity: renderAffinity(pod),
    topologySpreadConstraints: nonEmpty((options.topologySpread ?? []).map(spread => renderSpread(spread, pod))),
    schedulerName: options.schedulerName,
    priorityClassName: options.priorityClassName,
    terminationGracePeriodSeconds: options.terminationGracePeriod && wholeSeconds(options.terminationGracePeriod, 'terminationGracePeriod'),
    hostNetwork: options.hostNetwork,
    hostIPC: options.hostIpc,
    // With the node's network, ClusterFirst falls back to the node's resolver, which cannot find the job's Services.
    dnsPolicy: options.dnsPolicy ?? (options.hostNetwork ? DnsPolicy.CLUSTER_FIRST_WITH_HOST_NET : undefined),
    dnsConfig: options.dnsConfig && pruned({
      nameservers: options.dnsConfig.nameservers,
      searches: options.dnsConfig.searches,
      options: options.dnsConfig.options && Object.entries(options.dnsConfig.options).map(([name, value]) => ({ name, value: value === '' ? undefined : value })),
    }),
  };
}

/**
 * Refuses the placement values that the API server would, where they are given (the job's props or a replica's), when
 * the job is built: with their own field paths, since once merged a list entry has another index.
 * @param where the level's field path, e.g. `worker`, or `` for the job's props
 */
export function checkPlacementValues(options: PodOptions, where: string): void {
  const at = (field: string) => (where === '' ? field : `${where}.${field}`);
  options.preferredNodeAffinity?.forEach((preference, i) => checkWeight(preference.weight, at(`preferredNodeAffinity[${i}].weight`)));
  for (const field of ['podAffinity', 'podAntiAffinity'] as const) {
    options[field]?.forEach((term, i) => term.weight !== undefined && checkWeight(term.weight, at(`${field}[${i}].weight`)));
  }
  options.topologySpread?.forEach((spread, i) => checkMaxSkew(spread.maxSkew ?? 1, at(`topologySpread[${i}].maxSkew`)));
  if (options.terminationGracePeriod) wholeSeconds(options.terminationGracePeriod, at('terminationGracePeriod'));
}

function renderAffinity(pod: PodModel): object | undefined {
  const options = pod.options;
  const required = options.nodeAffinity ?? [];
  const antiAffinity = [...options.podAntiAffinity ?? []];
  if (options.onePodPerNode) antiAffinity.push({ topology: Topology.HOSTNAME });
  return pruned({
    nodeAffinity: pruned({
      requiredDuringSchedulingIgnoredDuringExecution: required.length > 0
        ? { nodeSelectorTerms: [{ matchExpressions: expressions(required) }] }
        : undefined,
      preferredDuringSchedulingIgnoredDuringExecution: nonEmpty((options.preferredNodeAffinity ?? []).map(preference => ({
        weight: preference.weight,
        preference: { matchExpressions: expressions(preference.queries) },
      }))),
    }),
    podAffinity: renderPodAffinity(options.podAffinity ?? [], pod),
    podAntiAffinity: renderPodAffinity(antiAffinity, pod),
  });
}

function expressions(queries: readonly NodeLabelQuery[]): object[] {
  return queries.map(query => query._toKube());
}

function renderPodAffinity(terms: readonly PodAffinityTerm[], pod: PodModel): object | undefined {
  const required: object[] = [];
  const preferred: object[] = [];
  terms.forEach(term => {
    const rendered = pruned({
      labelSelector: selectorOf(term.selector, pod),
      topologyKey: (term.topology ?? Topology.HOSTNAME).key,
      namespaces: term.namespaces,
    })!;
    if (term.weight === undefined) required.push(rendered);
    else preferred.push({ weight: term.weight, podAffinityTerm: rendered });
  });
  return pruned({
    requiredDuringSchedulingIgnoredDuringExecution: nonEmpty(required),
    preferredDuringSchedulingIgnoredDuringExecution: nonEmpty(preferred),
  });
}

function renderSpread(spread: TopologySpread, pod: PodModel): object {
  return {
    maxSkew: spread.maxSkew ?? 1,
    topologyKey: (spread.topology ?? Topology.ZONE).key,
    whenUnsatisfiable: spread.whenUnsatisfiable ?? UnsatisfiableConstraintAction.DO_NOT_SCHEDULE,
    labelSelector: selectorOf(spread.selector, pod),
  };
}

function selectorOf(selector: PodAffinityTerm['selector'], pod: PodModel): object {
  return selector ? k8s.toJson_LabelSelector(selector._toKube())! : { matchLabels: { ...pod.ownPods } };
}

function checkMaxSkew(maxSkew: number, path: string): number {
  if (!Number.isInteger(maxSkew) || maxSkew < 1) throw new Error(`${path}: ${maxSkew} must be a whole number of at least 1`);
  return maxSkew;
}

/** The API server takes weights from 1 to 100. */
function checkWeight(weight: number, path: string): number {
  if (!Number.isInteger(weight) || weight < 1 || weight > 100) throw new Error(`${path}: ${weight} must be a whole number from 1 to 100`);
  return weight;
}
