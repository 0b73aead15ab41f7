import { Size } from 'cdk8s';
import { SHARED_MEMORY_PATH } from './rules/facts';

/**
 * The `/dev/shm` of the training container. Container runtimes give it 64 MiB, which PyTorch
 * DataLoader workers and NCCL exhaust at once; a memory-backed `emptyDir` replaces it.
 *
 * @see https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
 */
export class SharedMemory {
  /** The path the volume is mounted at. */
  public static readonly MOUNT_PATH = SHARED_MEMORY_PATH;
  /** The name of the volume. */
  public static readonly VOLUME_NAME = 'shm';

  /**
   * A memory-backed `emptyDir` at `/dev/shm`. Its pages count against the container's memory limit.
   * @param sizeLimit the most it may hold; without one, the kubelet caps it at the pod's memory limit
   */
  public static enabled(sizeLimit?: Size): SharedMemory {
    return new SharedMemory(true, sizeLimit);
  }

  /** The container runtime's own `/dev/shm`; choose this to mount a volume of your own there. */
  public static disabled(): SharedMemory {
    return new SharedMemory(false);
  }

  private constructor(
    /** Whether a memory-backed volume is mounted at `/dev/shm`. */
    public readonly isEnabled: boolean,
    /** The volume's size limit. */
    public readonly sizeLimit?: Size,
  ) {}
}
