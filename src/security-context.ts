/**
 * User, group and privileges of the training pods.
 *
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
 */
export interface SecurityContext {
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

  /**
   * Mount the training container's root file system read-only.
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
}
