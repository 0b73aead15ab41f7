import { GroupVersionKind } from 'cdk8s';
import { BATCH_JOB_API_VERSION, BATCH_JOB_KIND, PYTORCHJOB_API_VERSION, PYTORCHJOB_KIND } from '../rules/facts';

/**
 * `kubeflow.org/v1` PyTorchJob, as the generated L1 in imports/ declares it (a test compares them).
 * Written out because loading that 8,000-line module at run time costs about 30 ms and 19 MiB per app.
 */
export const PYTORCHJOB_GVK: GroupVersionKind = { apiVersion: PYTORCHJOB_API_VERSION, kind: PYTORCHJOB_KIND };

/** `batch/v1` Job, for single-node torchrun jobs. */
export const BATCH_JOB_GVK: GroupVersionKind = { apiVersion: BATCH_JOB_API_VERSION, kind: BATCH_JOB_KIND };
