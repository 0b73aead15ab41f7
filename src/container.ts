import { ContainerPort, EnvValue, ImagePullPolicy } from 'cdk8s-plus-28';
import { Resources } from './resources';
import { ContainerSecurity } from './security-context';
import { VolumeMount } from './volume';

/**
 * What every container of a training pod is given, the `pytorch` container and the others alike: its process,
 * environment, resources, mounts and privileges.
 */
export interface ContainerSettings {
  /**
   * Entry point.
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
   * Environment variables: plain values, or references to Secret and ConfigMap keys. Each container has its own:
   * the others do not inherit the training container's.
   * @default - none
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/
   */
  readonly env?: { [name: string]: EnvValue };

  /**
   * Working directory.
   * @default - the image's working directory
   * @see https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#entrypoint
   */
  readonly workingDir?: string;

  /**
   * When the kubelet pulls the image.
   * @default ImagePullPolicy.IF_NOT_PRESENT
   * @see https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy
   */
  readonly imagePullPolicy?: ImagePullPolicy;

  /**
   * Resource requests.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly requests?: Resources;

  /**
   * Resource limits.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly limits?: Resources;

  /**
   * Volumes mounted into the container: data, checkpoints, configuration, credentials. Each volume is added to the
   * pod once, whichever containers mount it.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/storage/volumes/
   */
  readonly volumeMounts?: VolumeMount[];

  /**
   * User, privileges and capabilities.
   * @default - none written
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-container
   */
  readonly securityContext?: ContainerSecurity;
}

/**
 * A container of the training pods besides `pytorch`: an init container that stages data or checks the fabric,
 * a native sidecar that ships metrics or logs, or another main container.
 *
 * Our own type rather than cdk8s-plus's `ContainerProps`, which cannot count GPUs or other extended resources
 * and writes defaults (resource requests and limits, `runAsNonRoot`, a read-only root file system,
 * `imagePullPolicy: Always`) that a training pod's helpers rarely fit. Nothing is written here that is not given,
 * except the pull policy.
 *
 * @see https://kubernetes.io/docs/concepts/workloads/pods/#how-pods-manage-multiple-containers
 */
export interface ContainerOptions extends ContainerSettings {
  /**
   * The container's name: a DNS-1123 label, unique in the pod, and not `pytorch`.
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
   */
  readonly name: string;

  /**
   * Container image.
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image: string;

  /**
   * Ports the container listens on. All containers of a pod share its network: two may not use one port.
   * @default - none
   * @see https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports
   */
  readonly ports?: ContainerPort[];
}
