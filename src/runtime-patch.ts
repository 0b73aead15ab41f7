import { PodOptions } from './pod-options';
import { TRAINER_JOB_NAME } from './rules/facts';

/**
 * Settings of a TrainJob's runtime patch: what a TrainJob adds to the pods of one replicated job of its runtime.
 * Trainer v2.3 patches only what a runtime leaves open: node selector, tolerations, affinity, volumes and the
 * `node` container's mounts (such as a memory-backed /dev/shm), service account, image pull secrets, security
 * contexts, termination grace period, pod labels and annotations. Any other pod option is refused when the TrainJob
 * is built, with the reason: an image and resources belong to the TrainJob's trainer, and a patch cannot add a
 * container or a sidecar.
 */
export interface RuntimePatchProps extends PodOptions {
  /**
   * Who writes the patch, as a domain-prefixed path such as `platform.example.com/gpu-nodes`; each manager has one
   * patch per TrainJob, and Kueue writes its own as `kueue.x-k8s.io/manager`.
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/runtime-patches/
   */
  readonly manager: string;

  /**
   * The replicated job of the runtime whose pods are patched.
   * @default 'node'
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/runtime-patches/
   */
  readonly replicatedJob?: string;
}

/**
 * One entry of a TrainJob's `runtimePatches`. Unlike a job's own pod options, a patch adds no /dev/shm volume unless
 * `sharedMemory` asks for one.
 */
export class RuntimePatch {
  /** The replicated job patched. */
  public readonly replicatedJob: string;

  public constructor(
    /** The patch's settings. */
    public readonly props: RuntimePatchProps,
  ) {
    this.replicatedJob = props.replicatedJob ?? TRAINER_JOB_NAME;
  }
}
