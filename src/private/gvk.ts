import { GroupVersionKind } from 'cdk8s';

/**
 * `kubeflow.org/v1` PyTorchJob, as the generated L1 in imports/ declares it (a test compares them).
 * Written out because loading that 8,000-line module at run time costs about 30 ms and 19 MiB per app.
 */
export const PYTORCHJOB_GVK: GroupVersionKind = { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob' };

/** `batch/v1` Job, for single-node torchrun jobs. */
export const BATCH_JOB_GVK: GroupVersionKind = { apiVersion: 'batch/v1', kind: 'Job' };
