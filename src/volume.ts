/**
 * Options of a volume backed by a ConfigMap or a Secret.
 */
export interface KeyedVolumeOptions {
  /**
   * Permission bits of the files, as an octal number such as `0o440`.
   * @default 0o644
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#configmap
   */
  readonly defaultMode?: number;

  /**
   * Whether the pod may start when the ConfigMap or Secret does not exist.
   * @default false
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#configmap
   */
  readonly optional?: boolean;
}

/**
 * A volume the training pods mount: data sets, checkpoints, configuration and credentials.
 */
export class Volume {
  /**
   * A PersistentVolumeClaim, typically for data sets or checkpoints shared by all pods
   * (its access mode must allow several nodes, such as ReadWriteMany or ReadOnlyMany).
   * @param name the volume's name in the pod
   * @param claimName the name of an existing claim in the job's namespace
   */
  public static fromPersistentVolumeClaim(name: string, claimName: string): Volume {
    return new Volume(name, { persistentVolumeClaim: { claimName } });
  }

  /**
   * A ConfigMap, each key a file.
   * @param name the volume's name in the pod
   * @param configMapName the name of the ConfigMap in the job's namespace
   */
  public static fromConfigMap(name: string, configMapName: string, options: KeyedVolumeOptions = {}): Volume {
    return new Volume(name, { configMap: { name: configMapName, defaultMode: options.defaultMode, optional: options.optional } });
  }

  /**
   * A Secret, each key a file.
   * @param name the volume's name in the pod
   * @param secretName the name of the Secret in the job's namespace
   */
  public static fromSecret(name: string, secretName: string, options: KeyedVolumeOptions = {}): Volume {
    return new Volume(name, { secret: { secretName, defaultMode: options.defaultMode, optional: options.optional } });
  }

  /**
   * Scratch space on the node's disk, deleted with the pod.
   * @param name the volume's name in the pod
   */
  public static fromEmptyDir(name: string): Volume {
    return new Volume(name, { emptyDir: {} });
  }

  private constructor(
    /** The volume's name in the pod. */
    public readonly name: string,
    private readonly source: { [field: string]: unknown },
  ) {}

  /** @internal */
  public _toKube(): { [field: string]: unknown } {
    return { name: this.name, ...this.source };
  }
}

/**
 * A volume mounted into the training container.
 */
export interface VolumeMount {
  /**
   * The volume to mount.
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
