import { renderResourceList } from './resources';
import { wholeSeconds } from './units';
import { CleanPodPolicy, RunPolicy } from '../run-policy';

/** Renders `spec.runPolicy`; the clean-pod policy is always written, so the manifest says what happens. */
export function renderRunPolicy(runPolicy: RunPolicy | undefined): unknown {
  const props = runPolicy?.props ?? {};
  return {
    cleanPodPolicy: props.cleanPodPolicy ?? CleanPodPolicy.NONE,
    ttlSecondsAfterFinished: props.ttlAfterFinished && wholeSeconds(props.ttlAfterFinished, 'runPolicy.ttlAfterFinished'),
    activeDeadlineSeconds: props.activeDeadline && wholeSeconds(props.activeDeadline, 'runPolicy.activeDeadline'),
    backoffLimit: props.backoffLimit,
    suspend: props.suspend,
    managedBy: props.managedBy,
    schedulingPolicy: {
      minAvailable: props.minAvailable,
      queue: props.queue,
      priorityClass: props.priorityClass,
      scheduleTimeoutSeconds: props.scheduleTimeout && wholeSeconds(props.scheduleTimeout, 'runPolicy.scheduleTimeout'),
      minResources: renderResourceList(props.minResources),
    },
  };
}
