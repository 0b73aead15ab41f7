import { ApiObjectMetadata } from 'cdk8s';
import { EnvValue, ImagePullPolicy, NodeLabelQuery, NodeTaintQuery } from 'cdk8s-plus-28';
import { Resources } from './resources';
import { SecurityContext } from './security-context';
import { SharedMemory } from './shared-memory';
import { VolumeMount } from './volume';

/**
 * What every training job has, whatever runs it: the container, its resources and where its pods go.
 */
export interface TrainingJobProps {
  /**
   * Metadata of the job object: name, namespace, labels and annotations.
   * @default - a name generated from the construct path
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Container image of the training container, used by every replica that does not set its own.
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image: string;

  /**
   * Entry point of the training container.
   * @default - the image's entry point
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/
   */
  readonly command?: string[];

  /**
   * Arguments of the entry point.
   * @default - the image's arguments
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/
   */
  readonly args?: string[];

  /**
   * Environment variables: plain values, or references to Secret and ConfigMap keys (never secret values inline).
   * Variables the training operator sets for this job (such as `MASTER_ADDR`, `WORLD_SIZE` or `PET_NNODES`) are refused:
   * its value would silently replace yours.
   * @default - none
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/
   */
  readonly env?: { [name: string]: EnvValue };

  /**
   * Working directory of the training container.
   * @default - the image's working directory
   * @see https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#entrypoint
   */
  readonly workingDir?: string;

  /**
   * When the kubelet pulls the image. Written explicitly: training images are large, and every pod of a job
   * would otherwise pull again when the tag is `latest`.
   * @default ImagePullPolicy.IF_NOT_PRESENT
   * @see https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy
   */
  readonly imagePullPolicy?: ImagePullPolicy;

  /**
   * Names of Secrets holding credentials for private registries.
   * @default - none
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/pull-image-private-registry/
   */
  readonly imagePullSecrets?: string[];

  /**
   * Resource requests of the training container, inherited by every replica.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly requests?: Resources;

  /**
   * Resource limits of the training container, inherited by every replica.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly limits?: Resources;

  /**
   * The `/dev/shm` of the training container.
   * @default SharedMemory.enabled() (memory-backed, no size limit)
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
   */
  readonly sharedMemory?: SharedMemory;

  /**
   * Volumes mounted into the training container: data, checkpoints, configuration, credentials.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/storage/volumes/
   */
  readonly volumeMounts?: VolumeMount[];

  /**
   * Name of the ServiceAccount the pods run as.
   * @default - the namespace's default ServiceAccount
   * @see https://kubernetes.io/docs/concepts/security/service-accounts/
   */
  readonly serviceAccountName?: string;

  /**
   * Node labels every pod must match.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodeselector
   */
  readonly nodeSelector?: { [label: string]: string };

  /**
   * Taints every pod tolerates.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
   */
  readonly tolerations?: NodeTaintQuery[];

  /**
   * Node label queries every pod must satisfy (required node affinity).
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
   */
  readonly nodeAffinity?: NodeLabelQuery[];

  /**
   * Priority class of the pods.
   * @default - the cluster's default priority
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
   */
  readonly priorityClassName?: string;

  /**
   * Labels added to every pod.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations added to every pod.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * User, group and privileges of the pods. Nothing is written by default: typical PyTorch images run as root
   * and write to `/tmp` and `~/.cache`, and the namespace's Pod Security admission decides what it allows.
   * @default - none written
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
   */
  readonly securityContext?: SecurityContext;
}
