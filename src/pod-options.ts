import { Duration } from 'cdk8s';
import { DnsPolicy, IServiceAccount, ISecret, NodeLabelQuery, NodeTaintQuery } from 'cdk8s-plus-28';
import { ContainerOptions, ContainerSettings } from './container';
import { DnsConfig, PodAffinityTerm, TopologySpread, WeightedNodeAffinity } from './placement';
import { PodSecurity } from './security-context';
import { SharedMemory } from './shared-memory';

/**
 * Everything about a training pod: its `pytorch` container, the containers beside it, and where it runs.
 * The container settings are the `pytorch` container's. Variables the training operator sets for the job (such as
 * `MASTER_ADDR`, `WORLD_SIZE` or `PET_NNODES`) are refused in its `env`: the operator's value would silently replace
 * yours. Nothing is written for its `securityContext` by default: typical PyTorch images run as root and write to
 * `/tmp` and `~/.cache`, and the namespace's Pod Security admission decides what it allows.
 * A job takes these for all its pods, and a replica (Master or Worker) for its own, merged over the job's:
 * - a map (`env`, `podLabels`, `podAnnotations`, `nodeSelector`): the replica's keys replace the job's, the others are kept;
 * - `requests`, `limits`, `securityContext`, `podSecurity`: key by key (extended resources by name);
 * - a list (containers, mounts, tolerations, affinity terms, spread constraints, pull secrets): the job's, then the
 *   replica's; a replica cannot replace a job's container or mount: the same name or path twice is refused;
 * - any other field: the replica's value replaces the job's.
 */
export interface PodOptions extends ContainerSettings {
  /**
   * The `/dev/shm` of the training container.
   * @default SharedMemory.enabled() (memory-backed, no size limit)
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
   */
  readonly sharedMemory?: SharedMemory;

  /**
   * Containers that run to completion, one after another, before the training container starts
   * (staging data, checking the fabric).
   * @default - none
   * @see https://kubernetes.io/docs/concepts/workloads/pods/init-containers/
   */
  readonly initContainers?: ContainerOptions[];

  /**
   * Native sidecars: init containers with `restartPolicy: Always`, started before the training container and
   * stopped after it, so that they never keep a finished pod running (metrics and log shippers).
   * @default - none
   * @see https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
   */
  readonly sidecars?: ContainerOptions[];

  /**
   * Main containers besides `pytorch`. The pod runs until every one of them ends: prefer `sidecars` for helpers.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/workloads/pods/#how-pods-manage-multiple-containers
   */
  readonly containers?: ContainerOptions[];

  /**
   * Labels added to the pods.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations added to the pods.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * The ServiceAccount the pods run as (a cdk8s-plus `ServiceAccount`, or `ServiceAccount.fromServiceAccountName`).
   * @default - the namespace's default ServiceAccount
   * @see https://kubernetes.io/docs/concepts/security/service-accounts/
   */
  readonly serviceAccount?: IServiceAccount;

  /**
   * Secrets holding credentials for private registries (cdk8s-plus `Secret`s, or `Secret.fromSecretName`).
   * @default - none
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/pull-image-private-registry/
   */
  readonly imagePullSecrets?: ISecret[];

  /**
   * User and group settings of the whole pod.
   * @default - none written
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-pod
   */
  readonly podSecurity?: PodSecurity;

  /**
   * Node labels the pods must match.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodeselector
   */
  readonly nodeSelector?: { [label: string]: string };

  /**
   * Taints the pods tolerate.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
   */
  readonly tolerations?: NodeTaintQuery[];

  /**
   * Node label queries the pods' nodes must satisfy, all of them (required node affinity).
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
   */
  readonly nodeAffinity?: NodeLabelQuery[];

  /**
   * Node labels the scheduler prefers (preferred node affinity).
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
   */
  readonly preferredNodeAffinity?: WeightedNodeAffinity[];

  /**
   * Pods the pods are placed near.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
   */
  readonly podAffinity?: PodAffinityTerm[];

  /**
   * Pods the pods are placed away from.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
   */
  readonly podAntiAffinity?: PodAffinityTerm[];

  /**
   * At most one pod of this job per node (a required anti-affinity to the job's own pods on the node's hostname),
   * so that every pod has the node's GPUs and network interfaces to itself.
   * @default false
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
   */
  readonly onePodPerNode?: boolean;

  /**
   * How the pods spread over zones, racks or nodes.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
   */
  readonly topologySpread?: TopologySpread[];

  /**
   * The scheduler that places the pods.
   * @default - the cluster's default scheduler
   * @see https://kubernetes.io/docs/tasks/extend-kubernetes/configure-multiple-schedulers/
   */
  readonly schedulerName?: string;

  /**
   * Priority class of the pods.
   * @default - the cluster's default priority
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
   */
  readonly priorityClassName?: string;

  /**
   * How long a stopping pod has between SIGTERM and SIGKILL, to write a last checkpoint; whole seconds.
   * @default - Kubernetes' 30 seconds
   * @see https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
   */
  readonly terminationGracePeriod?: Duration;

  /**
   * Use the node's network: no overlay between the pods, as some RDMA set-ups need. The DNS policy becomes
   * `ClusterFirstWithHostNet` unless `dnsPolicy` says otherwise, so that the pods still find each other's Services.
   * @default false
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
   */
  readonly hostNetwork?: boolean;

  /**
   * Use the node's IPC namespace (shared memory with processes outside the pod).
   * @default false
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
   */
  readonly hostIpc?: boolean;

  /**
   * How the pods resolve names.
   * @default - `ClusterFirstWithHostNet` with `hostNetwork`, else not written (Kubernetes' `ClusterFirst`)
   * @see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy
   */
  readonly dnsPolicy?: DnsPolicy;

  /**
   * Resolver settings besides the policy's.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config
   */
  readonly dnsConfig?: DnsConfig;
}
