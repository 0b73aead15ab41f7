import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';

/**
 * The name of an accelerator resource that a device plugin advertises on the nodes.
 */
export class GpuResource {
  /** NVIDIA GPUs (`nvidia.com/gpu`), from the NVIDIA device plugin. */
  public static readonly NVIDIA = new GpuResource('nvidia.com/gpu');
  /** AMD GPUs (`amd.com/gpu`), from the ROCm device plugin. */
  public static readonly AMD = new GpuResource('amd.com/gpu');
  /** Intel GPUs (`gpu.intel.com/i915`), from the Intel device plugin. */
  public static readonly INTEL = new GpuResource('gpu.intel.com/i915');

  /**
   * Any other extended resource, such as a MIG slice (`nvidia.com/mig-1g.5gb`).
   * @param name the resource name as the nodes advertise it
   */
  public static of(name: string): GpuResource {
    return new GpuResource(name);
  }

  private constructor(
    /** The Kubernetes resource name. */
    public readonly name: string,
  ) {}
}

/**
 * Compute resources of the training container: used as requests or as limits.
 *
 * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
 */
export interface Resources {
  /**
   * CPU, in cores or millicores.
   * @default - not set
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-cpu
   */
  readonly cpu?: Cpu;

  /**
   * Memory.
   * @default - not set
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-memory
   */
  readonly memory?: Size;

  /**
   * Local ephemeral storage (container writable layer, logs, emptyDir volumes on disk).
   * @default - not set
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#local-ephemeral-storage
   */
  readonly ephemeralStorage?: Size;

  /**
   * Number of GPUs (whole devices). Kubernetes requires a GPU request to equal its limit,
   * so setting it in `limits` is enough.
   * @default - no GPU
   * @see https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/
   */
  readonly gpu?: number;

  /**
   * Which accelerator resource `gpu` counts.
   * @default GpuResource.NVIDIA
   * @see https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/
   */
  readonly gpuResource?: GpuResource;
}
