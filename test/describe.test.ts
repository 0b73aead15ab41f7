import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { stringify } from 'yaml';
import { buildExampleApp } from '../examples/main';
import {
  Elastic, Entrypoint, KueueTopology, Master, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchElasticJobProps, PyTorchJob, PyTorchJobProps,
  Scheduling, Worker,
} from '../src';
import { kfpytorch } from './support/cli';
import { describeJob, formatMermaid, formatSummary } from '../src/tools/describe';

type Json = { [key: string]: any };

let root: string;
let examples: string;

/** The synthesized file of one of the example app's charts. */
function example(chart: 'ddp-resnet50' | 'cpu-mnist' | 'elastic-single-node' | 'elastic-multi-node'): string {
  return join(examples, `${chart}.k8s.yaml`);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kfpytorch-describe-'));
  examples = join(root, 'examples');
  buildExampleApp(examples).synth();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const DDP_TABLE = `PyTorchJob resnet50-ddp
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Master   1     1              1         8        48Gi
Worker   3     1              1         8        48Gi
pods: 4   GPUs: 4   world size: 4
rendezvous: resnet50-ddp-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
`;

const ELASTIC_TABLE = `PyTorchJob gpt-pretrain
REPLICA  PODS    PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Worker   2 to 4  8              8         64       512Gi
pods: 2 to 4   GPUs: 16 to 32   world size: 16 to 32
quota must admit: 4 pods, 32 GPUs (the operator creates the 4 pod(s) of Worker.replicas; without elasticPolicy.metrics nothing scales them)
rendezvous: gpt-pretrain-worker-0:23456 (c10d, elastic)
`;

const SINGLE_NODE_TABLE = `Job bert-finetune
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Job      1     4              4         16       64Gi
pods: 1   GPUs: 4   world size: 4
rendezvous: localhost (torchrun --standalone, inside the pod)
`;

const INFINIBAND_TABLE = `PyTorchJob llm-ib-2x8
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Master   1     8              8         96       1Ti
Worker   1     8              8         96       1Ti
pods: 2   GPUs: 16   world size: 16
rendezvous: llm-ib-2x8-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
`;

const CPU_TABLE = `PyTorchJob mnist-cpu
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Master   1     auto           0         4        4Gi
Worker   2     auto           0         4        4Gi
pods: 3   GPUs: 0   world size: 3 × auto
rendezvous: mnist-cpu-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
`;

describe('kfpytorch describe on the example app', () => {
  test('the DDP job: 1 master and 3 workers of 1 process and 1 GPU, world size 4, rendezvous at the master', async () => {
    expect(await kfpytorch('describe', example('ddp-resnet50'))).toEqual({ status: 0, stdout: DDP_TABLE, stderr: '' });
  });

  test('the elastic multi-node job: 2 to 4 pods of 8 processes, world size 16 to 32, the 4 Worker pods a quota must admit, c10d at worker 0', async () => {
    expect(await kfpytorch('describe', example('elastic-multi-node'))).toEqual({ status: 0, stdout: ELASTIC_TABLE, stderr: '' });
  });

  test('the single-node Job: one pod, 4 processes meeting inside it (torchrun --standalone)', async () => {
    expect(await kfpytorch('describe', example('elastic-single-node'))).toEqual({ status: 0, stdout: SINGLE_NODE_TABLE, stderr: '' });
  });

  test('the CPU job with nprocPerNode left to torchrun: processes auto, world size 3 × auto', async () => {
    expect(await kfpytorch('describe', example('cpu-mnist'))).toEqual({ status: 0, stdout: CPU_TABLE, stderr: '' });
  });

  test('several files: one table per job, a blank line between; --job picks one', async () => {
    const files = [example('ddp-resnet50'), example('elastic-multi-node')];
    expect(await kfpytorch('describe', ...files)).toEqual({ status: 0, stdout: `${DDP_TABLE}\n${ELASTIC_TABLE}`, stderr: '' });
    expect(await kfpytorch('describe', ...files, '--job', 'gpt-pretrain')).toEqual({ status: 0, stdout: ELASTIC_TABLE, stderr: '' });
    expect(await kfpytorch('describe', ...files, '--format=text', '--job=resnet50-ddp')).toEqual({ status: 0, stdout: DDP_TABLE, stderr: '' });
  });

  test('a folder: every job of its YAML files, in file-name order; a format describe does not write is refused', async () => {
    expect(await kfpytorch('describe', examples)).toEqual({
      status: 0, stdout: [CPU_TABLE, DDP_TABLE, ELASTIC_TABLE, SINGLE_NODE_TABLE, INFINIBAND_TABLE].join('\n'), stderr: '',
    });
    expect(await kfpytorch('describe', examples, '--format', 'json'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --format "json": describe writes text or mermaid\n' });
  });

  test('--format mermaid: the DDP job', async () => {
    expect(await kfpytorch('describe', example('ddp-resnet50'), '--format', 'mermaid')).toEqual({
      status: 0,
      stdout: `flowchart LR
  rdzv(["rendezvous<br/>resnet50-ddp-master-0:23456"])
  master0["resnet50-ddp-master-0<br/>1 process(es), 1 GPU(s)"] --- rdzv
  worker0["resnet50-ddp-worker-0<br/>1 process(es), 1 GPU(s)"] --- rdzv
  worker1["resnet50-ddp-worker-1<br/>1 process(es), 1 GPU(s)"] --- rdzv
  worker2["resnet50-ddp-worker-2<br/>1 process(es), 1 GPU(s)"] --- rdzv
`,
      stderr: '',
    });
  });

  test('--format mermaid: the elastic job shows three workers and folds the rest', async () => {
    expect(await kfpytorch('describe', example('elastic-multi-node'), '--format', 'mermaid')).toEqual({
      status: 0,
      stdout: `flowchart LR
  rdzv(["rendezvous<br/>gpt-pretrain-worker-0:23456"])
  worker0["gpt-pretrain-worker-0<br/>8 process(es), 8 GPU(s)"] --- rdzv
  worker1["gpt-pretrain-worker-1<br/>8 process(es), 8 GPU(s)"] --- rdzv
  worker2["gpt-pretrain-worker-2<br/>8 process(es), 8 GPU(s)"] --- rdzv
  workermore["… 1 more worker pod(s)"] --- rdzv
`,
      stderr: '',
    });
  });

  test('--format mermaid: the single-node Job', async () => {
    expect(await kfpytorch('describe', example('elastic-single-node'), '--format', 'mermaid')).toEqual({
      status: 0,
      stdout: `flowchart LR
  rdzv(["rendezvous<br/>localhost"])
  job0["bert-finetune pod<br/>4 process(es), 4 GPU(s)"] --- rdzv
`,
      stderr: '',
    });
  });

  test('unusable input: exit status 2 and one line on stderr', async () => {
    const configMap = join(root, 'configmap.yaml');
    writeFileSync(configMap, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n');
    const missing = join(root, 'missing.yaml');
    expect(await kfpytorch('describe', missing)).toEqual({ status: 2, stdout: '', stderr: `kfpytorch: ${missing}: cannot be read: ENOENT\n` });
    const none = await kfpytorch('describe', configMap);
    expect(none).toMatchObject({ status: 2, stdout: '' });
    expect(none.stderr).toBe(`kfpytorch: ${configMap}: no PyTorchJob, single-node torchrun Job or TrainJob in the files (found v1/ConfigMap)\n`);
    expect(await kfpytorch('describe', example('ddp-resnet50'), '--job', 'nope')).toEqual({
      status: 2,
      stdout: '',
      stderr: `kfpytorch: no job named "nope": the files hold PyTorchJob resnet50-ddp (${example('ddp-resnet50')}:1)\n`,
    });
  });

  /** A Master whose `ports` is not a list is described, not a TypeError. */
  test('a Master container whose ports is not a list: exit 0 or 2, not a TypeError', async () => {
    const file = join(root, 'ports.yaml');
    writeFileSync(file, `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: ddp}
spec:
  pytorchReplicaSpecs:
    Master: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: "x:1", ports: "23456"}]}}}
`);
    expect([0, 2]).toContain((await kfpytorch('describe', file)).status);
  });

  /** A memory quantity written as a plain number of bytes (valid Kubernetes) is shown as it is written. */
  test('memory written as a number of bytes', async () => {
    const file = join(root, 'memory-number.yaml');
    writeFileSync(file, `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: mem}
spec:
  pytorchReplicaSpecs:
    Worker: {replicas: 2, template: {spec: {containers: [{name: pytorch, image: "x:1", resources: {limits: {memory: 1073741824}}}]}}}
`);
    const run = await kfpytorch('describe', file);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Worker   2     auto           0         -        1073741824');
  });
});

/** A hand-written PyTorchJob. */
function pyTorchJob(name: string, spec: Json): Json {
  return { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name }, spec };
}

function replica(replicas: number | undefined, resources: Json = {}, fields: Json = {}): Json {
  return {
    ...(replicas === undefined ? {} : { replicas }),
    template: { spec: { containers: [{ name: 'pytorch', image: 'x:1', resources, ...fields }] } },
  };
}

describe('describeJob on hand-written manifests', () => {
  test('nprocPerNode omitted (auto): processes auto, world size N × auto; an omitted Worker count is 1', () => {
    const summary = describeJob(pyTorchJob('ddp', { pytorchReplicaSpecs: { Master: replica(1), Worker: replica(undefined) } }));
    expect(summary).toEqual({
      kind: 'PyTorchJob',
      name: 'ddp',
      replicas: [
        { type: 'Master', pods: 1, processesPerPod: 'auto', processCount: undefined, gpusPerPod: 0, cpuPerPod: undefined, memoryPerPod: undefined },
        { type: 'Worker', pods: 1, processesPerPod: 'auto', processCount: undefined, gpusPerPod: 0, cpuPerPod: undefined, memoryPerPod: undefined },
      ],
      worldSize: '2 × auto',
      rendezvous: 'ddp-master-0:23456 (static: MASTER_ADDR and RANK from the operator)',
      totalPods: '2',
      totalGpus: '0',
    });
    expect(formatSummary(summary)).toBe(`PyTorchJob ddp
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Master   1     auto           0         -        -
Worker   1     auto           0         -        -
pods: 2   GPUs: 0   world size: 2 × auto
rendezvous: ddp-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
`);
  });

  test('nprocPerNode "gpu" on a Worker-only job; GPUs in requests and limits count once; other vendors count', () => {
    const summary = describeJob(pyTorchJob('workers', {
      nprocPerNode: 'gpu',
      pytorchReplicaSpecs: {
        Worker: replica(3, { requests: { 'cpu': '500m', 'memory': '2Gi', 'amd.com/gpu': 2 }, limits: { 'amd.com/gpu': 2 } }),
      },
    }));
    expect(summary.replicas).toEqual([{ type: 'Worker', pods: 3, processesPerPod: 'gpu', processCount: 2, gpusPerPod: 2, cpuPerPod: '500m', memoryPerPod: '2Gi' }]);
    expect(summary).toMatchObject({ worldSize: '6', totalPods: '3', totalGpus: '6', rendezvous: 'workers-master-0:23456 (static: MASTER_ADDR and RANK from the operator)' });
  });

  test('a Master port other than 23456 moves the rendezvous; limits win over requests', () => {
    const summary = describeJob(pyTorchJob('custom-port', {
      nprocPerNode: '2',
      pytorchReplicaSpecs: {
        Master: replica(1, { requests: { cpu: 2, memory: '8Gi' }, limits: { 'cpu': 4, 'memory': '16Gi', 'nvidia.com/gpu': '2' } }, {
          ports: [{ name: 'pytorchjob-port', containerPort: 29500 }],
        }),
        Worker: replica(2, { limits: { 'nvidia.com/gpu': 2 } }),
      },
    }));
    expect(summary).toMatchObject({
      worldSize: '6',
      totalPods: '3',
      totalGpus: '6',
      rendezvous: 'custom-port-master-0:29500 (static: MASTER_ADDR and RANK from the operator)',
    });
    expect(summary.replicas[0]).toEqual({ type: 'Master', pods: 1, processesPerPod: '2', processCount: 2, gpusPerPod: 2, cpuPerPod: '4', memoryPerPod: '16Gi' });
  });

  test('elastic without rdzvPort: the rendezvous is on the Worker\'s pytorchjob-port, as the operator sets it', () => {
    const summary = describeJob(pyTorchJob('elastic-port', {
      elasticPolicy: { minReplicas: 2, maxReplicas: 2 },
      pytorchReplicaSpecs: { Worker: replica(2, {}, { ports: [{ name: 'pytorchjob-port', containerPort: 29500 }] }) },
    }));
    expect(summary.rendezvous).toBe('elastic-port-worker-0:29500 (c10d, elastic)');
  });

  test('elastic with a fixed node count and its own rendezvous host, port and backend', () => {
    const summary = describeJob(pyTorchJob('fixed', {
      nprocPerNode: '4',
      elasticPolicy: { minReplicas: 2, maxReplicas: 2, rdzvHost: 'etcd.training', rdzvPort: 2379, rdzvBackend: 'etcd-v2' },
      pytorchReplicaSpecs: { Worker: replica(2, { limits: { 'nvidia.com/gpu': 4 } }) },
    }));
    expect(summary).toMatchObject({ worldSize: '8', totalPods: '2', totalGpus: '8', rendezvous: 'etcd.training:2379 (etcd-v2, elastic)' });
  });

  test('elastic with a range and nprocPerNode auto: N × auto to M × auto', () => {
    const summary = describeJob(pyTorchJob('range', {
      elasticPolicy: { minReplicas: 1, maxReplicas: 3 },
      pytorchReplicaSpecs: { Worker: replica(3) },
    }));
    expect(summary).toMatchObject({ worldSize: '1 × auto to 3 × auto', totalPods: '1 to 3', totalGpus: '0 to 0', rendezvous: 'range-worker-0:23456 (c10d, elastic)' });
  });

  test('elastic without min or max: the node count comes from the Worker replicas', () => {
    const summary = describeJob(pyTorchJob('from-workers', {
      nprocPerNode: '8',
      elasticPolicy: { rdzvBackend: 'c10d' },
      pytorchReplicaSpecs: { Worker: replica(4, { limits: { 'nvidia.com/gpu': 8 } }) },
    }));
    expect(summary).toMatchObject({ worldSize: '32', totalPods: '4', totalGpus: '32' });
  });

  test('nprocPerNode "auto" on NVIDIA GPUs: one process per GPU, so the world size is a number', () => {
    const summary = describeJob(pyTorchJob('auto-gpus', {
      pytorchReplicaSpecs: { Master: replica(1, { limits: { 'nvidia.com/gpu': 8 } }), Worker: replica(3, { limits: { 'nvidia.com/gpu': 8 } }) },
    }));
    expect(summary.replicas.map(r => r.processCount)).toEqual([8, 8]);
    expect(formatSummary(summary)).toBe(`PyTorchJob auto-gpus
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Master   1     8 (auto)       8         -        -
Worker   3     8 (auto)       8         -        -
pods: 4   GPUs: 32   world size: 32
rendezvous: auto-gpus-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
`);
  });

  test('"auto" on accelerators torch.cuda does not count (Gaudi), or a Master without GPUs: torchrun decides on the node', () => {
    const gaudi = describeJob(pyTorchJob('gaudi', { pytorchReplicaSpecs: { Worker: replica(2, { limits: { 'habana.ai/gaudi': 8 } }) } }));
    expect(gaudi).toMatchObject({ worldSize: '2 × auto', totalGpus: '16' });
    expect(gaudi.replicas[0].processCount).toBeUndefined();
    const cpuMaster = describeJob(pyTorchJob('cpu-master', {
      nprocPerNode: 'gpu',
      pytorchReplicaSpecs: { Master: replica(1), Worker: replica(2, { limits: { 'nvidia.com/gpu': 4 } }) },
    }));
    expect(cpuMaster.worldSize).toBe('3 × gpu');
  });

  test('elastic without metrics: a quota must admit every Worker.replicas pod, whatever the node range', () => {
    const summary = describeJob(pyTorchJob('elastic', {
      nprocPerNode: 'gpu',
      elasticPolicy: { minReplicas: 2, maxReplicas: 4 },
      pytorchReplicaSpecs: { Worker: replica(3, { limits: { 'nvidia.com/gpu': 2 } }) },
    }));
    expect(summary.quota).toEqual({ pods: 3, gpus: 6, reason: 'the operator creates the 3 pod(s) of Worker.replicas; without elasticPolicy.metrics nothing scales them' });
    expect(formatSummary(summary)).toBe(`PyTorchJob elastic
REPLICA  PODS    PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Worker   2 to 4  2 (gpu)        2         -        -
pods: 2 to 4   GPUs: 4 to 8   world size: 4 to 8
quota must admit: 3 pods, 6 GPUs (the operator creates the 3 pod(s) of Worker.replicas; without elasticPolicy.metrics nothing scales them)
rendezvous: elastic-worker-0:23456 (c10d, elastic)
`);
  });

  test('elastic with Worker.replicas omitted: the operator creates one Worker', () => {
    const summary = describeJob(pyTorchJob('omitted', { elasticPolicy: { minReplicas: 1, maxReplicas: 3 }, pytorchReplicaSpecs: { Worker: replica(undefined) } }));
    expect(summary.quota).toEqual({ pods: 1, gpus: 0, reason: 'the operator creates the 1 pod(s) of Worker.replicas; without elasticPolicy.metrics nothing scales them' });
  });

  test('elastic with metrics: an autoscaler may run up to the maximum; a Master beside the workers counts too', () => {
    const metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    const summary = describeJob(pyTorchJob('autoscaled', {
      nprocPerNode: '4',
      elasticPolicy: { minReplicas: 2, maxReplicas: 6, metrics },
      pytorchReplicaSpecs: { Master: replica(1, { limits: { 'nvidia.com/gpu': 1 } }), Worker: replica(2, { limits: { 'nvidia.com/gpu': 4 } }) },
    }));
    expect(summary.quota).toEqual({ pods: 7, gpus: 25, reason: 'an autoscaler scales Worker.replicas, 2 as written, between 2 and 6' });
    expect(summary.worldSize).toBe('8 to 24');
  });

  test('a static job has no quota line: its pods are the quota; a job for no queue or gang scheduler has no scheduling', () => {
    const summary = describeJob(pyTorchJob('static', { pytorchReplicaSpecs: { Worker: replica(2) } }));
    expect(summary.quota).toBeUndefined();
    expect(summary.scheduling).toBeUndefined();
  });

  test('a single-node Job with --nproc_per_node=gpu and 4 GPUs: 4 processes', () => {
    const summary = describeJob({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'per-gpu' },
      spec: {
        template: {
          spec: {
            containers: [{
              name: 'pytorch',
              image: 'x:1',
              command: ['torchrun', '--standalone', '--nproc_per_node=gpu', 'train.py'],
              resources: { limits: { 'nvidia.com/gpu': 4 } },
            }],
          },
        },
      },
    });
    expect(summary).toMatchObject({ worldSize: '4', totalGpus: '4' });
    expect(summary.replicas[0]).toMatchObject({ processesPerPod: 'gpu', processCount: 4 });
  });

  test('a single-node Job launched with python -m torch.distributed.run and the dashed flag', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'single' },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{
              name: 'pytorch',
              image: 'x:1',
              command: ['python3', '-m', 'torch.distributed.run'],
              args: ['--standalone', '--nproc-per-node', '2', 'train.py'],
              resources: { limits: { 'nvidia.com/gpu': 2, 'cpu': '8', 'memory': '32Gi' } },
            }],
          },
        },
      },
    };
    const summary = describeJob(job);
    expect(summary).toEqual({
      kind: 'Job',
      name: 'single',
      replicas: [{ type: 'Job', pods: 1, processesPerPod: '2', processCount: 2, gpusPerPod: 2, cpuPerPod: '8', memoryPerPod: '32Gi' }],
      worldSize: '2',
      rendezvous: 'localhost (torchrun --standalone, inside the pod)',
      totalPods: '1',
      totalGpus: '2',
    });
    expect(formatMermaid(summary)).toBe(`flowchart LR
  rdzv(["rendezvous<br/>localhost"])
  job0["single pod<br/>2 process(es), 2 GPU(s)"] --- rdzv
`);
  });

  test('a single-node Job without --nproc_per_node runs one process', () => {
    const summary = describeJob({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'one' },
      spec: { template: { spec: { containers: [{ name: 'pytorch', image: 'x:1', command: ['torchrun', '--standalone', 'train.py'] }] } } },
    });
    expect(summary).toMatchObject({ worldSize: '1', totalPods: '1', totalGpus: '0' });
    expect(summary.replicas[0].processesPerPod).toBe('1');
  });
});

/** The one object a chart synthesizes, as `cdk8s synth` writes it. */
function synthesized(build: (chart: Chart) => void): Json {
  const chart = Testing.chart();
  build(chart);
  const manifests = Testing.synth(chart);
  expect(manifests).toHaveLength(1);
  return manifests[0];
}

/** A data-parallel job of one Master and three Workers, each pod 8 CPUs, 48 GiB and a GPU. */
function ddpJob(props: Partial<PyTorchJobProps>): Json {
  return synthesized(chart => new PyTorchJob(chart, 'job', {
    metadata: { name: 'bert' },
    image: 'ghcr.io/example/train:2.4.0',
    command: ['torchrun', 'train.py'],
    nprocPerNode: NprocPerNode.count(1),
    requests: { cpu: Cpu.units(8), memory: Size.gibibytes(48) },
    limits: { gpu: 1 },
    worker: new Worker({ replicas: 3 }),
    ...props,
  }));
}

function elasticJob(nnodes: Nnodes, props: Partial<PyTorchElasticJobProps>): Json {
  return synthesized(chart => new PyTorchElasticJob(chart, 'job', {
    metadata: { name: 'gpt' },
    image: 'ghcr.io/example/train:2.4.0',
    entrypoint: Entrypoint.script('pretrain.py'),
    limits: { cpu: Cpu.units(64), memory: Size.gibibytes(512), gpu: 8 },
    elastic: new Elastic({ nnodes, nprocPerNode: NprocPerNode.count(8) }),
    ...props,
  }));
}

/** The lines of `describe` above its scheduling, the same for every DDP job above. */
const DDP_JOB = `PyTorchJob bert
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Master   1     1              1         8        48Gi
Worker   3     1              1         8        48Gi
pods: 4   GPUs: 4   world size: 4
rendezvous: bert-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
`;

const DDP_POD_SETS = `POD SET  PODS  REQUESTS/POD
master   1     cpu 8, memory 48Gi, nvidia.com/gpu 1
worker   3     cpu 8, memory 48Gi, nvidia.com/gpu 1
`;

describe('kfpytorch describe: what a queue or gang scheduler sees, for manifests synthesized with Scheduling', () => {
  async function describeFile(name: string, manifest: Json): Promise<unknown> {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, stringify(manifest));
    return kfpytorch('describe', file);
  }

  test('Kueue: the LocalQueue and WorkloadPriorityClass, the Kueue integration to enable, the pod sets master and worker and the quota', async () => {
    const job = ddpJob({ scheduling: Scheduling.kueue({ queueName: 'team-a', priorityClass: 'high', topology: KueueTopology.required('cloud.google.com/gce-topology-block') }) });
    expect(await describeFile('kueue', job)).toEqual({
      status: 0,
      stdout: `${DDP_JOB}scheduling: Kueue: LocalQueue team-a, WorkloadPriorityClass high
needs: Kueue's kubeflow.org/pytorchjob integration enabled (integrations.frameworks), which Kueue v0.19 turned off by default
${DDP_POD_SETS}queue quota must admit: 4 pods, cpu 32, memory 192Gi, nvidia.com/gpu 4
`,
      stderr: '',
    });
  });

  test('Volcano: schedulerName, the scheduling policy with minAvailable every pod, and the operator flag', async () => {
    const job = ddpJob({ scheduling: Scheduling.volcano({ queue: 'research', priorityClass: 'high' }) });
    expect(await describeFile('volcano', job)).toEqual({
      status: 0,
      stdout: `${DDP_JOB}scheduling: Volcano: schedulerName volcano, minAvailable 4 of 4 pods, queue research, priorityClass high
needs: the training operator started with --gang-scheduler-name=volcano; without it there is no PodGroup and no gang
${DDP_POD_SETS}queue quota must admit: 4 pods, cpu 32, memory 192Gi, nvidia.com/gpu 4
`,
      stderr: '',
    });
    const minResources = { cpu: Cpu.units(32), memory: Size.gibibytes(192), gpu: 4 };
    const withMinResources = ddpJob({ scheduling: Scheduling.volcano({ minAvailable: 4, minResources }) });
    expect(formatSummary(describeJob(withMinResources)))
      .toContain('\nscheduling: Volcano: schedulerName volcano, minAvailable 4 of 4 pods, minResources cpu 32, memory 192Gi, nvidia.com/gpu 4\n');
  });

  test('scheduler-plugins coscheduling: its install name, which the operator flag must name too, and the schedule timeout', async () => {
    const job = ddpJob({ scheduling: Scheduling.coscheduling({ scheduleTimeout: Duration.minutes(10) }) });
    expect(await describeFile('coscheduling', job)).toEqual({
      status: 0,
      stdout: `${DDP_JOB}scheduling: scheduler-plugins coscheduling: schedulerName scheduler-plugins-scheduler, minAvailable 4 of 4 pods, scheduleTimeoutSeconds 600
needs: the training operator started with --gang-scheduler-name=scheduler-plugins-scheduler; without it there is no PodGroup and no gang
${DDP_POD_SETS}the gang needs at once: 4 pods, cpu 32, memory 192Gi, nvidia.com/gpu 4
`,
      stderr: '',
    });
    expect(formatSummary(describeJob(ddpJob({ scheduling: Scheduling.coscheduling({ schedulerName: 'coscheduler', minAvailable: 4 }) }))))
      .toContain('needs: the training operator started with --gang-scheduler-name=coscheduler;');
  });

  test('KAI: the queue and schedulerName, and no operator flag', async () => {
    expect(await describeFile('kai', ddpJob({ scheduling: Scheduling.kai({ queue: 'team-a' }) }))).toEqual({
      status: 0,
      stdout: `${DDP_JOB}scheduling: KAI: queue team-a, schedulerName kai-scheduler
needs: no operator flag: KAI's pod grouper gangs the job's pods
${DDP_POD_SETS}queue quota must admit: 4 pods, cpu 32, memory 192Gi, nvidia.com/gpu 4
`,
      stderr: '',
    });
  });

  test('an elastic job on Volcano: the gang is the node minimum, the pod set every Worker.replicas pod', () => {
    const job = elasticJob(Nnodes.range(2, 4), { scheduling: Scheduling.volcano() });
    expect(formatSummary(describeJob(job))).toBe(`PyTorchJob gpt
REPLICA  PODS    PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Worker   2 to 4  8              8         64       512Gi
pods: 2 to 4   GPUs: 16 to 32   world size: 16 to 32
quota must admit: 4 pods, 32 GPUs (the operator creates the 4 pod(s) of Worker.replicas; without elasticPolicy.metrics nothing scales them)
rendezvous: gpt-worker-0:23456 (c10d, elastic)
scheduling: Volcano: schedulerName volcano, minAvailable 2 of 4 pods
needs: the training operator started with --gang-scheduler-name=volcano; without it there is no PodGroup and no gang
POD SET  PODS  REQUESTS/POD
worker   4     cpu 64, memory 512Gi, nvidia.com/gpu 8
queue quota must admit: 4 pods, cpu 256, memory 2Ti, nvidia.com/gpu 32
`);
  });

  test('Kueue on an elastic job of a fixed node count: one pod set, the Workers', () => {
    const summary = describeJob(elasticJob(Nnodes.fixed(2), { scheduling: Scheduling.kueue({ queueName: 'q' }) }));
    expect(summary.scheduling?.podSets).toEqual([{ name: 'worker', pods: 2, requestsPerPod: { 'cpu': '64', 'memory': '512Gi', 'nvidia.com/gpu': '8' } }]);
    expect(summary.scheduling?.total).toEqual({ pods: 2, requests: { 'cpu': '128', 'memory': '1Ti', 'nvidia.com/gpu': '16' } });
  });

  test('the single-node Job: the pod set main, and Kueue\'s batch/job integration, on by default', async () => {
    const job = elasticJob(Nnodes.fixed(1), { metadata: { name: 'ft' }, scheduling: Scheduling.kueue({ queueName: 'q', priorityClass: 'low' }) });
    expect(await describeFile('kueue-job', job)).toEqual({
      status: 0,
      stdout: `Job ft
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Job      1     8              8         64       512Gi
pods: 1   GPUs: 8   world size: 8
rendezvous: localhost (torchrun --standalone, inside the pod)
scheduling: Kueue: LocalQueue q, WorkloadPriorityClass low
needs: Kueue's batch/job integration enabled (integrations.frameworks), as it is by default
POD SET  PODS  REQUESTS/POD
main     1     cpu 64, memory 512Gi, nvidia.com/gpu 8
queue quota must admit: 1 pod, cpu 64, memory 512Gi, nvidia.com/gpu 8
`,
      stderr: '',
    });
  });

  test('the single-node Job on KAI or Volcano: no gang, and no operator involved', () => {
    const kai = describeJob(elasticJob(Nnodes.fixed(1), { scheduling: Scheduling.kai({ queue: 'team-a' }) }));
    expect(kai.scheduling?.schedulers).toEqual([{ scheduler: 'KAI', settings: 'queue team-a, schedulerName kai-scheduler', needs: 'no operator flag: KAI\'s pod grouper gangs the job\'s pods', queues: true }]);
    const volcano = describeJob(elasticJob(Nnodes.fixed(1), { scheduling: Scheduling.volcano() }));
    expect(volcano.scheduling?.schedulers).toEqual([{
      scheduler: 'Volcano', settings: 'schedulerName volcano', needs: 'nothing more: a Job\'s one pod is no gang, and no training operator takes part', queues: true,
    }]);
    expect(volcano.scheduling?.podSets.map(p => p.name)).toEqual(['main']);
  });

  test('a Master of its own size: each pod set its own requests', () => {
    const job = ddpJob({ master: new Master({ requests: { cpu: Cpu.units(4), memory: Size.gibibytes(16) }, limits: { gpu: 0 } }), scheduling: Scheduling.kueue({ queueName: 'q' }) });
    expect(describeJob(job).scheduling).toMatchObject({
      podSets: [
        { name: 'master', pods: 1, requestsPerPod: { 'cpu': '4', 'memory': '16Gi', 'nvidia.com/gpu': '0' } },
        { name: 'worker', pods: 3, requestsPerPod: { 'cpu': '8', 'memory': '48Gi', 'nvidia.com/gpu': '1' } },
      ],
      total: { pods: 4, requests: { 'cpu': '28', 'memory': '160Gi', 'nvidia.com/gpu': '3' } },
    });
  });
});

describe('kfpytorch describe: scheduling in hand-written YAML', () => {
  function writeYaml(name: string, text: string): string {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, text);
    return file;
  }

  test('Kueue without a priority label: the priority of the pods\' PriorityClass; Worker before Master is still master, worker', async () => {
    const file = writeYaml('kueue-hand-written', `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: ddp
  labels: {kueue.x-k8s.io/queue-name: team-a}
spec:
  pytorchReplicaSpecs:
    Worker:
      replicas: 2
      template:
        spec:
          priorityClassName: batch-high
          containers: [{name: pytorch, image: "x:1", resources: {limits: {cpu: "4", memory: 8Gi}}}]
    Master:
      replicas: 1
      template:
        spec:
          priorityClassName: batch-high
          containers: [{name: pytorch, image: "x:1", resources: {requests: {cpu: 500m, memory: 1Gi}}}]
`);
    expect(await kfpytorch('describe', file)).toEqual({
      status: 0,
      stdout: `PyTorchJob ddp
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
Worker   2     auto           0         4        8Gi
Master   1     auto           0         500m     1Gi
pods: 3   GPUs: 0   world size: 3 × auto
rendezvous: ddp-master-0:23456 (static: MASTER_ADDR and RANK from the operator)
scheduling: Kueue: LocalQueue team-a, priority of PriorityClass batch-high
needs: Kueue's kubeflow.org/pytorchjob integration enabled (integrations.frameworks), which Kueue v0.19 turned off by default
POD SET  PODS  REQUESTS/POD
master   1     cpu 500m, memory 1Gi
worker   2     cpu 4, memory 8Gi
queue quota must admit: 3 pods, cpu 8500m, memory 17Gi
`,
      stderr: '',
    });
  });

  test('Volcano by schedulerName alone: the operator\'s PodGroup takes every pod', async () => {
    const file = writeYaml('volcano-hand-written', `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: ddp}
spec:
  pytorchReplicaSpecs:
    Master: {replicas: 1, template: {spec: {schedulerName: volcano, containers: [{name: pytorch, image: "x:1"}]}}}
    Worker: {replicas: 2, template: {spec: {schedulerName: volcano, containers: [{name: pytorch, image: "x:1"}]}}}
`);
    const run = await kfpytorch('describe', file);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout.split('\n').slice(6)).toEqual([
      'scheduling: Volcano: schedulerName volcano, minAvailable 3 of 3 pods (not written: every pod)',
      'needs: the training operator started with --gang-scheduler-name=volcano; without it there is no PodGroup and no gang',
      'POD SET  PODS  REQUESTS/POD',
      'master   1     -',
      'worker   2     -',
      'queue quota must admit: 3 pods',
      '',
    ]);
  });

  test('a scheduling policy without a schedulerName: the operator\'s flag decides the scheduler', () => {
    const summary = describeJob(pyTorchJob('gang', {
      runPolicy: { schedulingPolicy: { minAvailable: 3, queue: 'research' } },
      pytorchReplicaSpecs: { Master: replica(1), Worker: replica(2) },
    }));
    expect(summary.scheduling?.schedulers).toEqual([{
      scheduler: 'a gang scheduler',
      settings: 'minAvailable 3 of 3 pods, queue research',
      needs: 'the training operator started with --gang-scheduler-name=volcano, which also gives the pods schedulerName volcano, '
        + 'or --gang-scheduler-name=<the scheduler-plugins scheduler\'s name>, which the pods then ask for; without it there is no PodGroup and no gang',
      queues: false,
    }]);
    expect(formatSummary(summary)).toContain('\nthe gang needs at once: 3 pods\n');
  });

  test('KAI by its queue label alone: what KAI still needs; a scheduler of one\'s own without a policy is no integration', () => {
    const kai = describeJob({ ...pyTorchJob('kai', { pytorchReplicaSpecs: { Worker: replica(2) } }), metadata: { name: 'kai', labels: { 'kai.scheduler/queue': 'team-a' } } });
    expect(kai.scheduling?.schedulers).toEqual([{
      scheduler: 'KAI',
      settings: 'queue team-a, schedulerName (none)',
      needs: 'no operator flag: KAI\'s pod grouper gangs the job\'s pods; but it needs the pods to ask for schedulerName kai-scheduler',
      queues: true,
    }]);
    const own = pyTorchJob('own', { pytorchReplicaSpecs: { Worker: replica(2) } });
    own.spec.pytorchReplicaSpecs.Worker.template.spec.schedulerName = 'my-scheduler';
    expect(describeJob(own).scheduling).toBeUndefined();
  });

  test('two queues at once (validate refuses it): each shown, with what it needs', () => {
    const job = { ...pyTorchJob('both', { pytorchReplicaSpecs: { Worker: replica(1) } }), metadata: { name: 'both', labels: { 'kueue.x-k8s.io/queue-name': 'q', 'kai.scheduler/queue': 'q' } } };
    expect(describeJob(job).scheduling?.schedulers.map(s => s.scheduler)).toEqual(['Kueue', 'KAI']);
  });

  test('requests as Kueue counts them: limits where requests are omitted, sidecars added, an init container alone if it is larger', () => {
    const summary = describeJob({
      ...pyTorchJob('sidecars', {
        pytorchReplicaSpecs: {
          Worker: {
            replicas: 2,
            template: {
              spec: {
                initContainers: [
                  // Runs alone: cpu 2, memory 1Gi, and the only container with ephemeral storage.
                  { name: 'fetch', image: 'x:1', resources: { requests: { 'cpu': '2', 'memory': '1Gi', 'ephemeral-storage': '10Gi' } } },
                  // A native sidecar, whose request is its limit: it runs beside the containers, and beside the init containers after it.
                  { name: 'proxy', image: 'x:1', restartPolicy: 'Always', resources: { limits: { cpu: '500m', memory: '256Mi' } } },
                  // Runs with the proxy: cpu 1.5, memory 40Gi + 256Mi, more memory than the running pod.
                  { name: 'warm-cache', image: 'x:1', resources: { requests: { cpu: '1', memory: '40Gi' } } },
                ],
                containers: [
                  // Memory and GPUs from the limits, cpu from the request.
                  { name: 'pytorch', image: 'x:1', resources: { requests: { cpu: '4' }, limits: { 'cpu': '8', 'memory': '16Gi', 'nvidia.com/gpu': 2 } } },
                  { name: 'logger', image: 'x:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
                ],
              },
            },
          },
        },
      }),
      metadata: { name: 'sidecars', labels: { 'kueue.x-k8s.io/queue-name': 'q' } },
    });
    // cpu: 4 + 0.1 + 0.5 running, above 2 and 1.5; memory: 40Gi + 256Mi warming the cache, above 16Gi + 64Mi + 256Mi running.
    expect(summary.scheduling?.podSets).toEqual([{
      name: 'worker', pods: 2, requestsPerPod: { 'cpu': '4600m', 'memory': '41216Mi', 'ephemeral-storage': '10Gi', 'nvidia.com/gpu': '2' },
    }]);
    expect(summary.scheduling?.total).toEqual({ pods: 2, requests: { 'cpu': '9200m', 'memory': '82432Mi', 'ephemeral-storage': '20Gi', 'nvidia.com/gpu': '4' } });
    expect(formatSummary(summary).split('\n').slice(-4)).toEqual([
      'POD SET  PODS  REQUESTS/POD',
      'worker   2     cpu 4600m, memory 41216Mi, ephemeral-storage 10Gi, nvidia.com/gpu 2',
      'queue quota must admit: 2 pods, cpu 9200m, memory 82432Mi, ephemeral-storage 20Gi, nvidia.com/gpu 4',
      '',
    ]);
  });

  test('quantities added as Kubernetes writes them: millis, and the shortest exact unit for bytes', () => {
    const summary = describeJob({
      ...pyTorchJob('units', {
        pytorchReplicaSpecs: {
          Worker: replica(3, { requests: { 'cpu': '100m', 'memory': '64G', 'hugepages-2Mi': '1Gi' }, limits: { 'hugepages-2Mi': '1Gi', 'example.com/fpga': 1 } }),
        },
      }),
      metadata: { name: 'units', labels: { 'kueue.x-k8s.io/queue-name': 'q' } },
    });
    expect(summary.scheduling?.total.requests).toEqual({ 'cpu': '300m', 'memory': '192G', 'example.com/fpga': '3', 'hugepages-2Mi': '3Gi' });
  });
});
