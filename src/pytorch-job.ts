import { Construct } from 'constructs';
import { JobTargetKind } from './job-target';
import { NprocPerNode } from './nproc-per-node';
import { addCheckedObject } from './render/checked-object';
import { PYTORCHJOB_GVK } from './render/gvk';
import { checkPlacementValues } from './render/placement';
import { replicaSpecRenderer } from './render/replica-spec';
import { renderRunPolicy } from './render/run-policy';
import { podSetOptions, renderScheduling, scheduledMetadata, scheduledOptions } from './render/scheduling';
import { addTrainerObjects, checkTrainerPort, mergedReplica, pytorchJobEnv, sameReplicas, trainerProcesses } from './render/trainer-target';
import { Master, Worker } from './replica';
import { OPERATOR_JOB_NAME_LABEL } from './rules/facts';
import { checkPyTorchJob } from './rules/pytorchjob';
import { RunPolicy } from './run-policy';
import { TrainingJob } from './training-job';
import { TrainingJobProps } from './training-job-props';

/**
 * Settings of a data-parallel PyTorchJob: one Master and N Workers.
 */
export interface PyTorchJobProps extends TrainingJobProps {
  /**
   * The Master replica (rank 0).
   * @default new Master() (the job's image and resources)
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
   */
  readonly master?: Master;

  /**
   * The Worker replicas.
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
   */
  readonly worker: Worker;

  /**
   * Cleanup, retries, deadlines and suspension.
   * @default - clean-pod policy None, no deadline, no backoff limit
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/reference/distributed-training/
   */
  readonly runPolicy?: RunPolicy;

  /**
   * Processes per pod, for a command that is torchrun (`spec.nprocPerNode`, given to it as `PET_NPROC_PER_NODE`);
   * it also multiplies the `WORLD_SIZE` the operator injects.
   * @default - not written: the operator uses `auto`, and `WORLD_SIZE` counts pods
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly nprocPerNode?: NprocPerNode;

  /**
   * Port of the `pytorch` container through which the pods reach the master (`MASTER_PORT`).
   * Written explicitly as the port named `pytorchjob-port`.
   * @default 23456
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
   */
  readonly port?: number;
}

/**
 * A Kubeflow PyTorchJob (`kubeflow.org/v1`): one Master and N Workers running the same training container,
 * to which the training operator gives `MASTER_ADDR`, `MASTER_PORT`, `WORLD_SIZE` and `RANK`.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/
 */
export class PyTorchJob extends TrainingJob {
  /** The Master replica. */
  public readonly master: Master;
  /** The Worker replicas. */
  public readonly worker: Worker;

  public constructor(scope: Construct, id: string, props: PyTorchJobProps) {
    super(scope, id, props);
    this.master = props.master ?? new Master();
    this.worker = props.worker;
    checkPlacementValues(this.master.props, 'master');
    checkPlacementValues(this.worker.props, 'worker');
    if (props.target?.kind === JobTargetKind.TRAINER_V2) {
      // One replicated job of alike nodes: the Master is node 0 of numNodes.
      const shared = sameReplicas(this.master.props, this.worker.props);
      checkTrainerPort(props.port);
      const numNodes = this.master.replicas + this.worker.replicas;
      const numProcPerNode = trainerProcesses(props.nprocPerNode, 'nprocPerNode');
      const objects = addTrainerObjects(this, {
        target: props.target,
        metadata: props.metadata,
        numNodes,
        numProcPerNode,
        image: shared.image ?? props.image,
        defaultEnv: name => pytorchJobEnv(name, numNodes, numProcPerNode),
        restartPolicy: shared.restartPolicy,
        runPolicy: props.runPolicy,
        runPolicyField: 'runPolicy',
        scheduling: props.scheduling,
        podOptions: () => mergedReplica(this._jobPodOptions(), shared),
        jobOptions: mergedReplica(props, shared),
      });
      this._setApiObject(objects.trainJob, objects.runtime);
      return;
    }
    const podSuffix = `-${this.worker.replicas > 1 ? `worker-${this.worker.replicas - 1}` : 'master-0'}`;
    // Rendered now, not at synth: they depend on the props alone, so a bad value is refused where the job is built.
    const scheduled = renderScheduling(props.scheduling, {
      podSets: { master: this.master.replicas, worker: this.worker.replicas },
      batchJob: false,
      jobOptions: props,
      replicaOptions: { master: this.master.props, worker: this.worker.props },
    });
    const runPolicy = renderRunPolicy(props.runPolicy, scheduled.schedulingPolicy);
    this._setApiObject(addCheckedObject(this, PYTORCHJOB_GVK, scheduledMetadata(props.metadata, scheduled), () => {
      const replicaSpec = replicaSpecRenderer({
        options: scheduledOptions(this._jobPodOptions(), scheduled.podOptions),
        image: props.image,
        port: props.port,
        ownPods: { [OPERATOR_JOB_NAME_LABEL]: this.name },
      });
      // cdk8s drops the undefined fields left here when it writes the object.
      return {
        pytorchReplicaSpecs: {
          Master: replicaSpec('Master', this.master.replicas, podSetOptions(this.master.props, scheduled, 'master', this.name)),
          Worker: replicaSpec('Worker', this.worker.replicas, podSetOptions(this.worker.props, scheduled, 'worker', this.name)),
        },
        runPolicy,
        nprocPerNode: props.nprocPerNode?.value,
      };
    }, checkPyTorchJob, podSuffix));
  }
}
