import { ApiObjectMetadata } from 'cdk8s';
import { JobTarget } from './job-target';
import { PodOptions } from './pod-options';
import { Scheduling } from './scheduling';

/**
 * What every training job has, whatever runs it: its name, its image and its pods.
 */
export interface TrainingJobProps extends PodOptions {
  /**
   * Metadata of the job object: name, namespace, labels and annotations.
   * @default - a name generated from the construct path
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Container image of the training container, used by every replica that does not set its own.
   * @see https://kubernetes.io/docs/concepts/containers/images/
   */
  readonly image: string;

  /**
   * The queue or gang scheduler that starts the job: Kueue, Volcano, scheduler-plugins coscheduling or KAI.
   * @default - the cluster's default scheduler places each pod as it comes
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/job-scheduling/
   */
  readonly scheduling?: Scheduling;

  /**
   * The controller the job is written for: the training operator's PyTorchJob (or a batch Job for one node), or
   * Kubeflow Trainer v2.3's TrainJob with the runtime it runs on. What the target cannot express is refused.
   * @default JobTarget.trainingOperator()
   * @see https://www.kubeflow.org/docs/components/trainer/
   */
  readonly target?: JobTarget;
}
