import { Capability } from 'cdk8s-plus-28';

/**
 * User, privileges and Linux capabilities of one container.
 *
 * Our own type rather than cdk8s-plus's `ContainerSecurityContextProps`: that one writes `runAsNonRoot: true`,
 * `readOnlyRootFilesystem: true` and `privileged: false` when a field is left out, which typical PyTorch images
 * (running as root, writing to `/tmp` and `~/.cache`) cannot start with. Here a field left out is not written.
 *
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-container
 */
export interface ContainerSecurity {
  /**
   * User ID the container runs as.
   * @default - the pod's, else the image's user
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-container
   */
  readonly runAsUser?: number;

  /**
   * Group ID the container runs as.
   * @default - the pod's, else the image's group
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-container
   */
  readonly runAsGroup?: number;

  /**
   * Refuse to start the container when its user is root.
   * @default - the pod's setting
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
   */
  readonly runAsNonRoot?: boolean;

  /**
   * Run the container privileged: every device of the node and every capability.
   * @default - not privileged (the runtime's default)
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#privileged
   */
  readonly privileged?: boolean;

  /**
   * Mount the container's root file system read-only.
   * @default - writable
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
   */
  readonly readOnlyRootFilesystem?: boolean;

  /**
   * Let processes gain more privileges than their parent (setuid binaries).
   * @default - the runtime's default
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
   */
  readonly allowPrivilegeEscalation?: boolean;

  /**
   * Linux capabilities to add, such as `Capability.IPC_LOCK` for RDMA memory registration or `SYS_NICE` for NUMA pinning.
   * @default - none added
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-capabilities-for-a-container
   */
  readonly addCapabilities?: Capability[];

  /**
   * Linux capabilities to drop, such as `Capability.ALL`.
   * @default - none dropped
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-capabilities-for-a-container
   */
  readonly dropCapabilities?: Capability[];
}

/**
 * User and group settings of a whole pod, which its containers inherit.
 *
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-pod
 */
export interface PodSecurity {
  /**
   * User ID the containers run as.
   * @default - the image's user
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-pod
   */
  readonly runAsUser?: number;

  /**
   * Group ID the containers run as.
   * @default - the image's group
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-pod
   */
  readonly runAsGroup?: number;

  /**
   * Group that owns mounted volumes, so a non-root user can write checkpoints to them.
   * @default - volumes keep their ownership
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-the-security-context-for-a-pod
   */
  readonly fsGroup?: number;

  /**
   * Refuse to start containers whose user is root.
   * @default - not enforced
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
   */
  readonly runAsNonRoot?: boolean;
}
