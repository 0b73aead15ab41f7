import { GroupVersionKind } from 'cdk8s';
import {
  BATCH_JOB_API_VERSION, BATCH_JOB_KIND, CLUSTER_TRAINING_RUNTIME_KIND, PYTORCHJOB_API_VERSION, PYTORCHJOB_KIND, TRAINER_API_VERSION,
  TRAINING_RUNTIME_KIND, TRAINJOB_KIND,
} from '../rules/facts';

/**
 * `kubeflow.org/v1` PyTorchJob, as the generated L1 in imports/ declares it (a test compares them).
 * Written out because loading that 8,000-line module at run time costs about 30 ms and 19 MiB per app.
 */
export const PYTORCHJOB_GVK: GroupVersionKind = { apiVersion: PYTORCHJOB_API_VERSION, kind: PYTORCHJOB_KIND };

/** `batch/v1` Job, for single-node torchrun jobs. */
export const BATCH_JOB_GVK: GroupVersionKind = { apiVersion: BATCH_JOB_API_VERSION, kind: BATCH_JOB_KIND };

/** Kubeflow Trainer v2: a TrainJob and the runtimes it runs on. */
export const TRAINJOB_GVK: GroupVersionKind = { apiVersion: TRAINER_API_VERSION, kind: TRAINJOB_KIND };
export const TRAINING_RUNTIME_GVK: GroupVersionKind = { apiVersion: TRAINER_API_VERSION, kind: TRAINING_RUNTIME_KIND };
export const CLUSTER_TRAINING_RUNTIME_GVK: GroupVersionKind = { apiVersion: TRAINER_API_VERSION, kind: CLUSTER_TRAINING_RUNTIME_KIND };
