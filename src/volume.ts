import { Volume } from 'cdk8s-plus-28';

/**
 * A volume mounted into a container: data sets, checkpoints, configuration, credentials.
 * The volume is a cdk8s-plus `Volume` (any source: claims, ConfigMaps, Secrets, emptyDir, hostPath, NFS, CSI, …);
 * every volume a container of the pod mounts is added to the pod once.
 */
export interface VolumeMount {
  /**
   * The volume to mount.
   * @see https://cdk8s.io/docs/latest/plus/cdk8s-plus-28/volumes/
   */
  readonly volume: Volume;

  /**
   * Where to mount it in the container.
   * @see https://kubernetes.io/docs/concepts/storage/volumes/
   */
  readonly path: string;

  /**
   * Mount it read-only.
   * @default false
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#read-only-mounts
   */
  readonly readOnly?: boolean;

  /**
   * A path inside the volume to mount instead of its root.
   * @default - the volume's root
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#using-subpath
   */
  readonly subPath?: string;
}
