import { pruned } from './pruned';
import { wholeSeconds } from './units';
import { CleanPodPolicy, RunPolicy } from '../run-policy';

/**
 * Renders `spec.runPolicy`; the clean-pod policy is always written, so the manifest says what happens.
 * @param schedulingPolicy the gang scheduler's part, which `Scheduling` renders
 */
export function renderRunPolicy(runPolicy: RunPolicy | undefined, schedulingPolicy: object | undefined): unknown {
  const props = runPolicy?.props ?? {};
  return pruned({
    cleanPodPolicy: props.cleanPodPolicy ?? CleanPodPolicy.NONE,
    ttlSecondsAfterFinished: props.ttlAfterFinished && wholeSeconds(props.ttlAfterFinished, 'runPolicy.ttlAfterFinished'),
    activeDeadlineSeconds: props.activeDeadline && wholeSeconds(props.activeDeadline, 'runPolicy.activeDeadline'),
    backoffLimit: props.backoffLimit,
    suspend: props.suspend,
    managedBy: props.managedBy,
    schedulingPolicy: schedulingPolicy && pruned(schedulingPolicy),
  });
}

/** Kubernetes' own backoff limit for a Job, written explicitly when the run policy sets none. */
const JOB_BACKOFF_LIMIT = 6;

/**
 * Maps a run policy onto a `batch/v1` Job's own fields. The Job controller has no clean-pod policy or owner
 * override, so those are refused rather than dropped.
 */
export function renderBatchRunPolicy(runPolicy: RunPolicy | undefined) {
  const props = runPolicy?.props ?? {};
  const unsupported = Object.entries({
    // A Job keeps its pods until its TTL, which is what CleanPodPolicy.NONE asks for.
    cleanPodPolicy: props.cleanPodPolicy === CleanPodPolicy.NONE ? undefined : props.cleanPodPolicy,
    managedBy: props.managedBy,
  }).find(([, value]) => value !== undefined);
  if (unsupported) {
    const [field, value] = unsupported;
    const shown = typeof value === 'object' ? 'is set, but' : `${JSON.stringify(value)}`;
    throw new Error(`elastic.runPolicy.${field}: ${shown} cannot be honoured by a single-node job, `
      + 'which is a batch/v1 Job: it takes only backoffLimit, activeDeadline, ttlAfterFinished and suspend');
  }
  return {
    backoffLimit: props.backoffLimit ?? JOB_BACKOFF_LIMIT,
    activeDeadlineSeconds: props.activeDeadline && wholeSeconds(props.activeDeadline, 'elastic.runPolicy.activeDeadline'),
    ttlSecondsAfterFinished: props.ttlAfterFinished && wholeSeconds(props.ttlAfterFinished, 'elastic.runPolicy.ttlAfterFinished'),
    suspend: props.suspend,
  };
}
