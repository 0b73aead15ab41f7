import { ITrainingRuntime } from './training-runtime';

/** The controller a job definition is written for. */
export enum JobTargetKind {
  /** The Kubeflow training operator v1 (kubeflow/trainer v1.9): a PyTorchJob, or a batch/v1 Job for one node. */
  TRAINING_OPERATOR = 'trainingOperator',
  /** Kubeflow Trainer v2.3: a TrainJob and the TrainingRuntime it runs on. */
  TRAINER_V2 = 'trainerV2',
}

/** How a job definition runs on Kubeflow Trainer v2.3. */
export interface TrainerV2Options {
  /**
   * A runtime that exists already (on the cluster, or made elsewhere in the app) to run on. The job's pod options
   * then reach its pods as a runtime patch, which refuses what v2.3 cannot patch (a sidecar, a scheduler).
   * @default - a TrainingRuntime made for the job, named like it and written before it, holding the job's pods
   * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
   */
  readonly runtime?: ITrainingRuntime;

  /**
   * Make the job's runtime a ClusterTrainingRuntime rather than a TrainingRuntime in the job's namespace.
   * @default false
   * @see https://www.kubeflow.org/docs/components/trainer/operator-guides/runtime/
   */
  readonly clusterRuntime?: boolean;

  /**
   * The manager of the runtime patch that carries the job's pod options onto an existing `runtime`.
   * @default 'kfpytorch.cdk8s.io/job'
   * @see https://www.kubeflow.org/docs/components/trainer/user-guides/runtime-patches/
   */
  readonly patchManager?: string;
}

/**
 * Which controller a job definition is synthesized for. The same `PyTorchJob` or `PyTorchElasticJob` props give a
 * PyTorchJob (or a batch Job) for the training operator, or a TrainJob with its runtime for Trainer v2.3; what v2.3
 * cannot express (an elastic node range, a Master unlike the Workers, a TTL) is refused, never dropped.
 */
export class JobTarget {
  /** The Kubeflow training operator v1 (the default): a PyTorchJob, or a batch/v1 Job for a single-node elastic job. */
  public static trainingOperator(): JobTarget {
    return new JobTarget(JobTargetKind.TRAINING_OPERATOR, undefined);
  }

  /**
   * Kubeflow Trainer v2.3: a TrainJob, with the TrainingRuntime made for it unless `runtime` names one.
   * @param options the runtime to run on, and how its patch is named
   */
  public static trainerV2(options: TrainerV2Options = {}): JobTarget {
    return new JobTarget(JobTargetKind.TRAINER_V2, options);
  }

  private constructor(
    /** The controller. */
    public readonly kind: JobTargetKind,
    /** The Trainer v2 settings, for `TRAINER_V2`. */
    public readonly trainerV2Options: TrainerV2Options | undefined,
  ) {}
}
