import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Elastic } from './elastic';
import { Entrypoint } from './entrypoint';
import { JobTargetKind } from './job-target';
import type { PyTorchJobSpecElasticPolicy } from '../imports/kubeflow.org';
import { addCheckedObject } from './render/checked-object';
import { BATCH_JOB_GVK, PYTORCHJOB_GVK } from './render/gvk';
import { PodModel, podModel } from './render/model';
import { renderPodTemplate } from './render/pod-template';
import { ReplicaSpecInput, replicaSpecRenderer } from './render/replica-spec';
import { renderBatchRunPolicy, renderRunPolicy } from './render/run-policy';
import { podSetOptions, renderScheduling, ScheduledJob, scheduledMetadata, scheduledOptions } from './render/scheduling';
import { TORCHRUN, torchrunFlags } from './render/torchrun';
import { addTrainerObjects, checkTrainerElastic, checkTrainerPort, trainerProcesses, trainerTorchrunFlags, UNBUFFERED } from './render/trainer-target';
import { checkTrainingBatchJob } from './rules/batch-job';
import { JOB_NAME_LABEL, KUEUE_JOB_POD_SET, OPERATOR_JOB_NAME_LABEL } from './rules/facts';
import { withFields } from './rules/objects';
import { checkPyTorchJob } from './rules/pytorchjob';
import { TrainingJob } from './training-job';
import { TrainingJobProps } from './training-job-props';

/**
 * Settings of a torchrun job. `command` names the launcher (default `torchrun`), `args` the script's arguments.
 */
export interface PyTorchElasticJobProps extends TrainingJobProps {
  /**
   * torchrun's settings: nodes, processes, restarts, rendezvous and run policy.
   * @default new Elastic() (one node, one process)
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly elastic?: Elastic;

  /**
   * The training script or module each process runs; `args` are its arguments.
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly entrypoint: Entrypoint;

  /**
   * Port on which the first worker serves the c10d rendezvous of a multi-node job; a single-node job has none.
   * @default 23456
   * @see https://pytorch.org/docs/stable/elastic/rendezvous.html
   */
  readonly port?: number;
}

/**
 * A torchrun training job, as the Flyte plugin's `Elastic` task runs it. One node gives a `batch/v1` Job whose
 * pod runs `torchrun --standalone`; more give a PyTorchJob of Workers only, with an elastic policy from which the
 * operator tells every pod's torchrun the rendezvous.
 *
 * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/#elastic-training
 */
export class PyTorchElasticJob extends TrainingJob {
  /** torchrun's settings. */
  public readonly elastic: Elastic;

  public constructor(scope: Construct, id: string, props: PyTorchElasticJobProps) {
    super(scope, id, props);
    const elastic = this.elastic = props.elastic ?? new Elastic();
    if (props.target?.kind === JobTargetKind.TRAINER_V2) {
      checkTrainerElastic(elastic);
      checkTrainerPort(props.port);
      const numProcPerNode = trainerProcesses(elastic.nprocPerNode, 'elastic.nprocPerNode');
      const objects = addTrainerObjects(this, {
        target: props.target,
        metadata: props.metadata,
        numNodes: elastic.nnodes.max,
        numProcPerNode,
        image: props.image,
        command: [...props.command ?? TORCHRUN, ...trainerTorchrunFlags(elastic), ...props.entrypoint.torchrunArgs],
        args: props.args,
        defaultEnv: () => [...(numProcPerNode ?? 1) > 1 ? [{ name: 'OMP_NUM_THREADS', value: '1' }] : [], UNBUFFERED],
        runPolicy: elastic.runPolicy,
        runPolicyField: 'elastic.runPolicy',
        scheduling: props.scheduling,
        podOptions: () => this._jobPodOptions(),
        jobOptions: props,
      });
      this._setApiObject(objects.trainJob, objects.runtime);
      return;
    }
    if (elastic.isSingleNode && props.port !== undefined) {
      throw new Error(`port: ${props.port} has no use in a single-node job: torchrun --standalone rendezvouses inside the pod, on a port it picks`);
    }
    if (elastic.isSingleNode && elastic.metrics !== undefined) {
      throw new Error('elastic.metrics: a single-node job has no Workers to autoscale: give nnodes a range of several nodes');
    }
    const nproc = Number(elastic.nprocPerNode.value);
    // Rendered now, not at synth: it depends on the props alone, so a bad value is refused where the job is built.
    const command = [...props.command ?? TORCHRUN, ...torchrunFlags(elastic), ...props.entrypoint.torchrunArgs];
    const scheduled = renderScheduling(props.scheduling, {
      podSets: elastic.isSingleNode ? { [KUEUE_JOB_POD_SET]: 1 } : { worker: elastic.nnodes.max },
      elasticRange: elastic.isSingleNode ? undefined : elastic.nnodes,
      batchJob: elastic.isSingleNode,
      jobOptions: props,
      replicaOptions: {},
    });
    const metadata = scheduledMetadata(props.metadata, scheduled);
    const pod = (ownPods: { [label: string]: string }, restartPolicy?: string): PodModel => podModel({
      options: scheduledOptions(this._jobPodOptions(), scheduled.podOptions),
      image: props.image,
      command,
      args: props.args,
      // The Flyte plugin's rule, written into the manifest: one OpenMP thread per process unless the user says otherwise.
      defaultEnv: nproc > 1 ? [{ name: 'OMP_NUM_THREADS', value: '1' }] : [],
      restartPolicy,
      ownPods,
    });
    if (elastic.isSingleNode) {
      const batchRunPolicy = renderBatchRunPolicy(elastic.runPolicy);
      this._setApiObject(addCheckedObject(this, BATCH_JOB_GVK, metadata, () => ({
        ...batchRunPolicy,
        template: renderPodTemplate(pod({ [JOB_NAME_LABEL]: this.name }, 'Never')),
      }), checkTrainingBatchJob));
    } else {
      const runPolicy = renderRunPolicy(elastic.runPolicy, scheduled.schedulingPolicy);
      this._setApiObject(addCheckedObject(this, PYTORCHJOB_GVK, metadata,
        () => {
          const elasticPod = withFields(pod({ [OPERATOR_JOB_NAME_LABEL]: this.name }), { port: props.port });
          return renderElasticSpec(elastic, elasticPod, runPolicy, scheduled, this.name);
        },
        checkPyTorchJob, `-worker-${elastic.nnodes.max - 1}`));
    }
  }
}

function renderElasticSpec(elastic: Elastic, pod: ReplicaSpecInput, runPolicy: unknown, scheduled: ScheduledJob, name: string) {
  const rdzvConf = Object.entries(elastic.rdzvConfigs).map(([key, value]) => ({ key, value }));
  // Typed by the generated L1, so that a misspelt field fails to compile (the metrics are cdk8s-plus's own JSON).
  const elasticPolicy: Omit<PyTorchJobSpecElasticPolicy, 'metrics'> & { metrics?: unknown[] } = {
    minReplicas: elastic.nnodes.min,
    maxReplicas: elastic.nnodes.max,
    rdzvBackend: 'c10d',
    maxRestarts: elastic.maxRestarts,
    // The operator crashes on an empty list: leave it out.
    rdzvConf: rdzvConf.length > 0 ? rdzvConf : undefined,
    metrics: elastic.metrics?.map(metric => k8s.toJson_MetricSpecV2(metric._toKube())),
  };
  return {
    pytorchReplicaSpecs: {
      Worker: replicaSpecRenderer(pod)('Worker', elastic.nnodes.max, podSetOptions({}, scheduled, 'worker', name)),
    },
    elasticPolicy,
    nprocPerNode: elastic.nprocPerNode.value,
    runPolicy,
  };
}
