import { LabelSelector, NodeLabelQuery, Topology } from 'cdk8s-plus-28';

/**
 * Node labels the scheduler prefers, with a weight against other preferences.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity-weight
 */
export interface WeightedNodeAffinity {
  /**
   * How much this preference counts, from 1 to 100.
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity-weight
   */
  readonly weight: number;

  /**
   * Node label queries a preferred node satisfies, all of them.
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
   */
  readonly queries: NodeLabelQuery[];
}

/**
 * Pods near which (affinity) or away from which (anti-affinity) a pod is placed.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
 */
export interface PodAffinityTerm {
  /**
   * The pods this term is about.
   * @default - the pods of this job
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
   */
  readonly selector?: LabelSelector;

  /**
   * The node label whose value counts as "the same place": the node, the zone, a rack or a network block.
   * @default Topology.HOSTNAME
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
   */
  readonly topology?: Topology;

  /**
   * A weight from 1 to 100 makes the term a preference; without one, the scheduler requires it.
   * @default - required
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#types-of-inter-pod-affinity-and-anti-affinity
   */
  readonly weight?: number;

  /**
   * Namespaces whose pods the selector looks at.
   * @default - the job's namespace
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#namespace-selector
   */
  readonly namespaces?: string[];
}

/**
 * What the scheduler does with a pod that a topology spread constraint cannot place.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
 */
export enum UnsatisfiableConstraintAction {
  /** Keep the pod pending. */
  DO_NOT_SCHEDULE = 'DoNotSchedule',
  /** Place it anyway, preferring the least skewed place. */
  SCHEDULE_ANYWAY = 'ScheduleAnyway',
}

/**
 * How evenly pods are spread over the values of a node label.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
 */
export interface TopologySpread {
  /**
   * The node label to spread over.
   * @default Topology.ZONE
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/#spread-constraint-definition
   */
  readonly topology?: Topology;

  /**
   * The largest allowed difference of matching pods between two places; at least 1.
   * @default 1
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/#spread-constraint-definition
   */
  readonly maxSkew?: number;

  /**
   * What to do with a pod that cannot be placed within the skew.
   * @default UnsatisfiableConstraintAction.DO_NOT_SCHEDULE
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/#spread-constraint-definition
   */
  readonly whenUnsatisfiable?: UnsatisfiableConstraintAction;

  /**
   * The pods counted.
   * @default - the pods of this job
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/#spread-constraint-definition
   */
  readonly selector?: LabelSelector;
}

/**
 * Resolver settings written to the pods' `/etc/resolv.conf`, besides those of the DNS policy.
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
 */
export interface DnsConfig {
  /**
   * Name server addresses, at most 3.
   * @default - none besides the policy's
   * @see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
   */
  readonly nameservers?: string[];

  /**
   * Search domains, at most 32.
   * @default - none besides the policy's
   * @see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
   */
  readonly searches?: string[];

  /**
   * Resolver options such as `ndots: '2'`; an empty value writes the option without one (`edns0: ''`).
   * @default - none besides the policy's
   * @see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
   */
  readonly options?: { [name: string]: string };
}
