import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Elastic } from './elastic';
import { Entrypoint } from './entrypoint';
import type { PyTorchJobSpecElasticPolicy } from '../imports/kubeflow.org';
import { BATCH_JOB_GVK, PYTORCHJOB_GVK } from './private/gvk';
import { addCheckedObject } from './private/manifest';
import { EnvVar, PodTemplateInput, renderPodTemplate } from './private/pod-template';
import { replicaSpecRenderer } from './private/replica-spec';
import { renderBatchRunPolicy, renderRunPolicy } from './private/run-policy';
import { TORCHRUN, torchrunFlags } from './private/torchrun';
import { checkTrainingBatchJob } from './rules/batch-job';
import { checkPyTorchJob } from './rules/pytorchjob';
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
export class PyTorchElasticJob extends Construct {
  /** The Job or PyTorchJob object. */
  public readonly apiObject: ApiObject;
  /** The job's name. */
  public readonly name: string;
  /** torchrun's settings. */
  public readonly elastic: Elastic;

  public constructor(scope: Construct, id: string, props: PyTorchElasticJobProps) {
    super(scope, id);
    const elastic = this.elastic = props.elastic ?? new Elastic();
    const nproc = Number(elastic.nprocPerNode.value);
    const template: PodTemplateInput = {
      job: props,
      command: [...props.command ?? TORCHRUN, ...torchrunFlags(elastic), ...props.entrypoint.torchrunArgs],
      args: props.args,
      // The Flyte plugin's rule, written into the manifest: one OpenMP thread per process unless the user says otherwise.
      defaultEnv: nproc > 1 ? [{ name: 'OMP_NUM_THREADS', value: '1' } as EnvVar] : [],
    };
    if (elastic.isSingleNode && props.port !== undefined) {
      throw new Error(`port: ${props.port} has no use in a single-node job: torchrun --standalone rendezvouses inside the pod, on a port it picks`);
    }
    if (elastic.isSingleNode && elastic.metrics !== undefined) {
      throw new Error('elastic.metrics: a single-node job has no Workers to autoscale: give nnodes a range of several nodes');
    }
    this.apiObject = elastic.isSingleNode
      ? addCheckedObject(this, BATCH_JOB_GVK, props.metadata, renderBatchJobSpec(elastic, template), checkTrainingBatchJob)
      : addCheckedObject(this, PYTORCHJOB_GVK, props.metadata, renderElasticSpec(elastic, template, props.port), checkPyTorchJob,
        `-worker-${elastic.nnodes.max - 1}`);
    this.name = this.apiObject.name;
  }
}

function renderElasticSpec(elastic: Elastic, template: PodTemplateInput, port: number | undefined) {
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
      Worker: replicaSpecRenderer({ ...template, port })(elastic.nnodes.max),
    },
    elasticPolicy,
    nprocPerNode: elastic.nprocPerNode.value,
    runPolicy: renderRunPolicy(elastic.runPolicy),
  };
}

function renderBatchJobSpec(elastic: Elastic, template: PodTemplateInput) {
  return {
    ...renderBatchRunPolicy(elastic.runPolicy),
    template: renderPodTemplate({ ...template, podRestartPolicy: 'Never' }),
  };
}
