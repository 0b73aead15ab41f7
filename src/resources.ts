import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { renderSize } from './render/units';

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
 * A resource that a device plugin or the kubelet counts and never overcommits: RDMA and EFA interfaces, MIG slices,
 * hugepages. The API server requires its request to equal its limit, so give it in `limits` (the request follows).
 *
 * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#extended-resources
 */
export class ExtendedResource {
  /**
   * Any extended resource by the name the nodes advertise, such as `rdma/ib` or `rdma/hca_shared_devices_a`
   * (the RDMA shared-device plugin) or `nvidia.com/mig-1g.5gb`.
   * @param name the resource name, domain-prefixed
   * @param count whole devices
   */
  public static of(name: string, count: number): ExtendedResource {
    return new ExtendedResource(name, count);
  }

  /**
   * AWS Elastic Fabric Adapter interfaces (`vpc.amazonaws.com/efa`), from the EFA device plugin.
   * @param count interfaces, for example 32 on a p5.48xlarge
   */
  public static efa(count: number): ExtendedResource {
    return new ExtendedResource('vpc.amazonaws.com/efa', count);
  }

  /**
   * Hugepages of one page size (`hugepages-2Mi`, `hugepages-1Gi`), pre-allocated on the node.
   * @param pageSize the page size, 2 MiB or 1 GiB on x86
   * @param total how much memory in such pages, a whole multiple of the page size
   */
  public static hugepages(pageSize: Size, total: Size): ExtendedResource {
    return new ExtendedResource(`hugepages-${renderSize(pageSize)}`, renderSize(total));
  }

  private constructor(
    /** The Kubernetes resource name. */
    public readonly name: string,
    /** @internal */
    public readonly _quantity: string | number,
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

  /**
   * Other resources that are never overcommitted (RDMA, EFA, MIG slices, hugepages); merged over inherited ones by name.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#extended-resources
   */
  readonly extended?: ExtendedResource[];
}
