import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Writable } from 'stream';
import { Chart, Testing } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { JobTarget, NprocPerNode, PyTorchJob, PyTorchJobProps, Scheduling, TrainingRuntimeRef, Worker } from '../src';
import { kfpytorch } from './support/cli';
import { runtimeFinder } from '../src/rules/trainjob';
import { describeJob, formatMermaid } from '../src/tools/describe';
import { runLocally } from '../src/tools/runner';

/*
 * kfpytorch describe and run on TrainJobs: the library synthesizes a TrainJob and its runtime, the tools read them
 * back from the same files or folders, as they read v1 jobs; run starts real torchrun processes (Debian's torch).
 */

const TORCHRUN = '/usr/bin/torchrun';
/** One gloo all-reduce per rank; prints `rank=R world=W sum=S ...`. */
const ALLREDUCE = join(__dirname, 'fixtures', 'allreduce.py');
const TIMEOUT_MS = 120_000;

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kfpytorch-trainjob-tools-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const DEFINITION: PyTorchJobProps = {
  metadata: { name: 'resnet', namespace: 'ml' },
  image: 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime',
  command: ['torchrun', 'train.py'],
  limits: { gpu: 2 },
  nprocPerNode: NprocPerNode.count(2),
  worker: new Worker({ replicas: 1 }),
  scheduling: Scheduling.kueue({ queueName: 'gpu-queue' }),
  target: JobTarget.trainerV2(),
};

/** The objects a chart synthesizes, as YAML documents in a file of their own (or one file per object with `split`). */
function write(name: string, build: (chart: Chart) => void, split = false): string {
  const chart = Testing.chart();
  build(chart);
  const manifests = Testing.synth(chart);
  if (!split) {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, manifests.map(m => stringify(m)).join('---\n'));
    return file;
  }
  const folder = mkdtempSync(join(root, `${name}-`));
  manifests.forEach((m, i) => writeFileSync(join(folder, `${i}-${m.kind}.yaml`), stringify(m)));
  return folder;
}

const RESNET = `TrainJob resnet
runtime: TrainingRuntime resnet
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
node     2     2              2         -        -
node pods: resnet-node-0-0, resnet-node-0-1
pods: 2   GPUs: 4   world size: 4
rendezvous: resnet-node-0-0.resnet:29500 (static: PET_MASTER_ADDR and PET_NODE_RANK from the torch plugin)
scheduling: Kueue: LocalQueue gpu-queue
needs: Kueue's trainer.kubeflow.org/trainjob integration enabled (integrations.frameworks), as it is by default, in Kueue v0.17 or later, the first to write Trainer v2.2's runtime patches
POD SET  PODS  REQUESTS/POD
node     2     nvidia.com/gpu 2
queue quota must admit: 2 pods, nvidia.com/gpu 4
`;

test('a TrainJob finds its runtime by kind and name, a TrainingRuntime in its own namespace only, the first of two alike', () => {
  const runtime = (kind: string, name: string, namespace?: string, marker = '') => ({ kind, metadata: { name, namespace }, marker });
  const trainJob = (name: string, kind: string | undefined, namespace?: string) => ({ kind: 'TrainJob', metadata: { name: 'j', namespace }, spec: { runtimeRef: { name, kind } } });
  const find = runtimeFinder([
    runtime('TrainingRuntime', 'torch', 'ml', 'ml'), runtime('TrainingRuntime', 'torch', 'ml', 'second'), runtime('TrainingRuntime', 'torch', undefined, 'default'),
    runtime('ClusterTrainingRuntime', 'torch', undefined, 'cluster'),
  ]);
  expect(find(trainJob('torch', 'TrainingRuntime', 'ml'))?.marker).toBe('ml');
  expect(find(trainJob('torch', 'TrainingRuntime', 'default'))?.marker).toBe('default');
  expect(find(trainJob('torch', 'TrainingRuntime', 'other'))).toBeUndefined();
  expect(find(trainJob('torch', undefined, 'other'))?.marker).toBe('cluster');
  expect(find(trainJob('torch', 'ClusterTrainingRuntime', 'ml'))?.marker).toBe('cluster');
  expect(find(trainJob('missing', 'ClusterTrainingRuntime'))).toBeUndefined();
});

describe('kfpytorch describe on a TrainJob', () => {
  test('with its runtime in the same file: the JobSet\'s pod names, processes per node, world size, rendezvous at node 0, GPUs, Kueue\'s pod set', async () => {
    const file = write('resnet', chart => new PyTorchJob(chart, 'resnet', DEFINITION));
    expect(await kfpytorch('describe', file)).toEqual({ status: 0, stdout: RESNET, stderr: '' });
  });

  test('with its runtime in another file of the folder given', async () => {
    const folder = write('resnet-split', chart => new PyTorchJob(chart, 'resnet', DEFINITION), true);
    expect(await kfpytorch('describe', folder)).toEqual({ status: 0, stdout: RESNET, stderr: '' });
  });

  test('without its runtime: one line says so, and the rest is what the TrainJob alone says', async () => {
    const file = write('builtin', chart => new PyTorchJob(chart, 'builtin', {
      ...DEFINITION,
      metadata: { name: 'builtin' },
      scheduling: undefined,
      worker: new Worker({ replicas: 3 }),
      target: JobTarget.trainerV2({ runtime: TrainingRuntimeRef.clusterRuntime('torch-distributed') }),
    }));
    expect((await kfpytorch('describe', file)).stdout).toBe(`TrainJob builtin
runtime: ClusterTrainingRuntime torch-distributed is not in the files: described from the TrainJob alone
REPLICA  PODS  PROCESSES/POD  GPUS/POD  CPU/POD  MEMORY/POD
node     4     2              2         -        -
node pods: builtin-node-0-0, builtin-node-0-1, … builtin-node-0-3
pods: 4   GPUs: 8   world size: 8
rendezvous: builtin-node-0-0.builtin:29500 (static: PET_MASTER_ADDR and PET_NODE_RANK from the torch plugin)
`);
  });

  test('a TrainJob that writes no numNodes and whose runtime is missing: one node is assumed, and said to be', () => {
    const summary = describeJob({
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: 'bare' },
      spec: { runtimeRef: { name: 'torch-distributed' }, trainer: { image: 'img', resourcesPerNode: { requests: { cpu: '3500m' } } } },
    });
    expect(summary).toMatchObject({
      runtime: 'ClusterTrainingRuntime torch-distributed is not in the files: described from the TrainJob alone, and one node is assumed for its mlPolicy.numNodes',
      totalPods: '1',
      // The torch plugin turns auto into the CPU count of a node without GPUs, rounded up.
      worldSize: '4',
      replicas: [{ type: 'node', pods: 1, processesPerPod: '4', cpuPerPod: '3500m' }],
    });
  });

  test('the runtime\'s node count, resources and other replicated jobs count when the TrainJob leaves them out; its gang counts every pod', () => {
    const runtime = {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'ClusterTrainingRuntime',
      metadata: { name: 'gang' },
      spec: {
        mlPolicy: { numNodes: 3, torch: {} },
        podGroupPolicy: { coscheduling: { scheduleTimeoutSeconds: 120 } },
        template: {
          spec: {
            replicatedJobs: [
              { name: 'dataset-initializer', template: { metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'dataset-initializer' } }, spec: { template: { spec: { containers: [{ name: 'dataset-initializer', image: 'init', resources: { requests: { cpu: '1' } } }] } } } } },
              { name: 'node', template: { metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } }, spec: { template: { spec: { schedulerName: 'scheduler-plugins-scheduler', containers: [{ name: 'node', image: 'img', resources: { limits: { 'nvidia.com/gpu': 1, 'cpu': '8' } } }] } } } } },
            ],
          },
        },
      },
    };
    const job = { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: 'g' }, spec: { runtimeRef: { name: 'gang' }, trainer: { numProcPerNode: 1 } } };
    const summary = describeJob(job, runtimeFinder([runtime]));
    expect(summary).toMatchObject({ runtime: 'ClusterTrainingRuntime gang', totalPods: '3', totalGpus: '3', worldSize: '3' });
    expect(summary.scheduling).toEqual({
      schedulers: [{
        scheduler: 'scheduler-plugins coscheduling',
        settings: 'schedulerName scheduler-plugins-scheduler, minMember 4 of 4 pods (every pod of every replicated job), scheduleTimeoutSeconds 120',
        needs: 'the scheduler-plugins scheduler installed: Trainer makes the PodGroup from the runtime\'s podGroupPolicy',
        queues: false,
      }],
      podSets: [
        { name: 'dataset-initializer', pods: 1, requestsPerPod: { cpu: '1' } },
        { name: 'node', pods: 3, requestsPerPod: { 'cpu': '8', 'nvidia.com/gpu': '1' } },
      ],
      total: { pods: 4, requests: { 'cpu': '25', 'nvidia.com/gpu': '3' } },
    });
    expect(formatMermaid(summary)).toBe(`flowchart LR
  rdzv(["rendezvous<br/>g-node-0-0.g:29500"])
  node0["g-node-0-0<br/>1 process(es), 1 GPU(s)"] --- rdzv
  node1["g-node-0-1<br/>1 process(es), 1 GPU(s)"] --- rdzv
  node2["g-node-0-2<br/>1 process(es), 1 GPU(s)"] --- rdzv
`);
  });
});

/** A stream that keeps what is written to it. */
class Collector extends Writable {
  public text = '';
  public _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/**
 * Settings of this machine, never part of a manifest: Debian's torch 1.13 torchrun crashes under Python 3.11 unless
 * PET_REDIRECTS and PET_TEE are 2; PET_LOG_DIR keeps its logs out of /tmp; no bytecode in test/fixtures.
 */
function machineEnv(): { [name: string]: string } {
  return { PET_REDIRECTS: '2', PET_TEE: '2', PET_LOG_DIR: join(root, 'torchelastic'), PYTHONDONTWRITEBYTECODE: '1' };
}

describe('kfpytorch run on a TrainJob with its runtime', () => {
  const twoByTwo = (chart: Chart) => new PyTorchJob(chart, 'allreduce', {
    metadata: { name: 'allreduce' },
    image: 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime',
    command: [TORCHRUN, ALLREDUCE],
    nprocPerNode: NprocPerNode.count(2),
    worker: new Worker({ replicas: 1 }),
    target: JobTarget.trainerV2(),
  });

  test('two nodes of two processes under the real torchrun: the JobSet\'s pod names, world 4, node rank 0 decides', async () => {
    if (!existsSync(TORCHRUN)) throw new Error(`${TORCHRUN} is missing: install Debian's torch with \`apt-get install -y python3-torch\``);
    const file = write('allreduce', twoByTwo);
    const output = new Collector();
    const result = await runLocally({ files: [file], env: machineEnv(), gracePeriodMs: 10_000, restartDelayMs: 100, output, errorOutput: output });

    expect(result).toMatchObject({ succeeded: true, reason: 'allreduce-node-0-0 succeeded (node rank 0)' });
    expect(result.pods.map(pod => [pod.name, pod.exitCode, pod.restarts])).toEqual([['allreduce-node-0-0', 0, 0], ['allreduce-node-0-1', 0, 0]]);
    const ranks = [...output.text.matchAll(/^\[(allreduce-node-0-\d)\] .*?rank=(\d+) world=(\d+) sum=(\d+)/gm)]
      .map(([, pod, rank, world, sum]) => [pod, Number(rank), Number(world), Number(sum)])
      .sort((a, b) => Number(a[1]) - Number(b[1]));
    // torchrun numbers the processes of node rank N from N × 2.
    expect(ranks).toEqual([
      ['allreduce-node-0-0', 0, 4, 6], ['allreduce-node-0-0', 1, 4, 6],
      ['allreduce-node-0-1', 2, 4, 6], ['allreduce-node-0-1', 3, 4, 6],
    ]);
    expect(output.text).toMatch(/^TrainJob allreduce: Succeeded: allreduce-node-0-0 succeeded \(node rank 0\)$/m);
  }, TIMEOUT_MS);

  test('each node gets the torch plugin\'s PET_* with its rank, node 0\'s address and port pointed at this machine', async () => {
    const file = write('dry', twoByTwo);
    const output = new Collector();
    await runLocally({ files: [file], dryRun: true, output, errorOutput: output });
    const env = (pod: string) => Object.fromEntries([...output.text.matchAll(new RegExp(`^\\[${pod}\\]   (\\w+)=(.*)$`, 'gm'))].map(([, name, value]) => [name, value]));
    const first = env('allreduce-node-0-0');
    expect(first).toMatchObject({
      JOB_COMPLETION_INDEX: '0', PET_NNODES: '2', PET_NPROC_PER_NODE: '2', PET_NODE_RANK: '0', PET_MASTER_ADDR: '127.0.0.1', MASTER_ADDR: '127.0.0.1', RANK: '0',
    });
    expect(first.PET_MASTER_PORT).toMatch(/^\d+$/);
    expect(first.MASTER_PORT).toBe(first.PET_MASTER_PORT);
    expect(env('allreduce-node-0-1')).toMatchObject({ JOB_COMPLETION_INDEX: '1', PET_NODE_RANK: '1', RANK: '1', PET_MASTER_PORT: first.PET_MASTER_PORT });
  });

  test('its runtime is checked too: one whose node job the torch plugin does not know is refused, and nothing starts', async () => {
    const file = write('unlabelled', twoByTwo);
    const manifests = parseAllDocuments(readFileSync(file, 'utf8')).map(doc => doc.toJS());
    delete manifests.find(m => m.kind === 'TrainingRuntime').spec.template.spec.replicatedJobs[0].template.metadata.labels;
    writeFileSync(file, manifests.map(m => stringify(m)).join('---\n'));
    const output = new Collector();
    await expect(runLocally({ files: [file], dryRun: true, output, errorOutput: output })).rejects.toThrow('TrainingRuntime allreduce: 1 error(s): nothing was started');
    expect(output.text).toContain(': spec.template.spec.replicatedJobs: no replicated job is labelled trainer.kubeflow.org/trainjob-ancestor-step: trainer: '
      + 'the torch plugin injects PET_* into none, and torchrun runs each node alone (operational, error)');
    expect(output.text).not.toContain('command:');
  });

  test('a TrainJob whose runtime is not in the files runs what it alone says, after one line that says so', async () => {
    const file = write('alone', chart => new PyTorchJob(chart, 'alone', {
      metadata: { name: 'alone' },
      image: 'img',
      command: ['true'],
      worker: new Worker({ replicas: 1 }),
      target: JobTarget.trainerV2({ runtime: TrainingRuntimeRef.clusterRuntime('torch-distributed') }),
    }));
    const output = new Collector();
    const result = await runLocally({ files: [file], dryRun: true, output, errorOutput: output });
    expect(result.succeeded).toBe(true);
    expect(output.text).toMatch(/^note: ClusterTrainingRuntime torch-distributed is not in the files: the nodes run what the TrainJob alone says$/m);
    expect(output.text).toMatch(/^\[alone-node-0-0\] command: true$/m);
  });
});
