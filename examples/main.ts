// The example app: a data-parallel GPU job, a CPU-only job and two torchrun (elastic) jobs, synthesized to dist/.
import { App, Chart, Duration, Size, YamlOutputType } from 'cdk8s';
import { Capability, Cpu, EnvValue, NodeTaintQuery, PersistentVolumeClaim, Secret, Volume } from 'cdk8s-plus-28';
import {
  CleanPodPolicy, Elastic, Entrypoint, ExtendedResource, Master, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchJob,
  RestartPolicy, RunPolicy, SharedMemory, Worker,
} from '../src';

/** A cdk8s-plus volume of an existing claim, named as the pods mount it. */
function claimVolume(chart: Chart, name: string, claimName: string): Volume {
  return Volume.fromPersistentVolumeClaim(chart, `${name}-volume`, PersistentVolumeClaim.fromClaimName(chart, `${name}-claim`, claimName), { name });
}

/** Builds the example app; `outdir` is where `app.synth()` writes one YAML file per chart. */
export function buildExampleApp(outdir: string): App {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });

  const ddp = new Chart(app, 'ddp-resnet50', { namespace: 'training' });
  const checkpoints = claimVolume(ddp, 'checkpoints', 'resnet50-checkpoints');
  new PyTorchJob(ddp, 'job', {
    metadata: { name: 'resnet50-ddp', labels: { team: 'vision' } },
    image: 'ghcr.io/example/resnet50-train:2.4.0',
    // torchrun reads the rendezvous (PET_MASTER_ADDR, PET_NNODES, PET_NODE_RANK, …) from the operator's variables.
    command: ['torchrun', 'train.py'],
    args: ['--epochs=90', '--checkpoint-dir=/checkpoints'],
    nprocPerNode: NprocPerNode.count(1),
    env: {
      NCCL_DEBUG: EnvValue.fromValue('WARN'),
      WANDB_API_KEY: EnvValue.fromSecretValue({ secret: Secret.fromSecretName(ddp, 'wandb', 'wandb-credentials'), key: 'api-key' }),
    },
    requests: { cpu: Cpu.units(8), memory: Size.gibibytes(48) },
    limits: { cpu: Cpu.units(8), memory: Size.gibibytes(48), gpu: 1 },
    sharedMemory: SharedMemory.enabled(Size.gibibytes(16)),
    volumeMounts: [{ volume: checkpoints, path: '/checkpoints' }],
    master: new Master({ restartPolicy: RestartPolicy.EXIT_CODE }),
    worker: new Worker({ replicas: 3, restartPolicy: RestartPolicy.EXIT_CODE }),
    runPolicy: new RunPolicy({
      cleanPodPolicy: CleanPodPolicy.RUNNING,
      backoffLimit: 3,
      activeDeadline: Duration.hours(12),
      ttlAfterFinished: Duration.days(1),
    }),
  });

  const cpu = new Chart(app, 'cpu-mnist', { namespace: 'training' });
  new PyTorchJob(cpu, 'job', {
    metadata: { name: 'mnist-cpu' },
    image: 'ghcr.io/example/mnist-train:2.4.0',
    command: ['python3', 'mnist.py', '--backend=gloo', '--epochs=5'],
    requests: { cpu: Cpu.units(2), memory: Size.gibibytes(4) },
    limits: { cpu: Cpu.units(4), memory: Size.gibibytes(4) },
    sharedMemory: SharedMemory.enabled(Size.gibibytes(1)),
    worker: new Worker({ replicas: 2 }),
    runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.ALL, backoffLimit: 0 }),
  });

  // One node, four processes: a batch/v1 Job running `torchrun --standalone`.
  const finetune = new Chart(app, 'elastic-single-node', { namespace: 'training' });
  new PyTorchElasticJob(finetune, 'job', {
    metadata: { name: 'bert-finetune' },
    image: 'ghcr.io/example/bert-finetune:2.4.0',
    entrypoint: Entrypoint.script('finetune.py'),
    args: ['--model=bert-base-uncased', '--epochs=3'],
    limits: { cpu: Cpu.units(16), memory: Size.gibibytes(64), gpu: 4 },
    sharedMemory: SharedMemory.enabled(Size.gibibytes(8)),
    elastic: new Elastic({
      nprocPerNode: NprocPerNode.count(4),
      runPolicy: new RunPolicy({ backoffLimit: 2, activeDeadline: Duration.hours(6), ttlAfterFinished: Duration.hours(1) }),
    }),
  });

  // Two to four nodes of eight GPUs: an elastic PyTorchJob whose workers meet in a c10d rendezvous.
  const pretrain = new Chart(app, 'elastic-multi-node', { namespace: 'training' });
  new PyTorchElasticJob(pretrain, 'job', {
    metadata: { name: 'gpt-pretrain' },
    image: 'ghcr.io/example/gpt-pretrain:2.4.0',
    entrypoint: Entrypoint.module('pretrain.main'),
    args: ['--config=configs/350m.yaml'],
    limits: { cpu: Cpu.units(64), memory: Size.gibibytes(512), gpu: 8 },
    sharedMemory: SharedMemory.enabled(Size.gibibytes(64)),
    volumeMounts: [{ volume: claimVolume(pretrain, 'checkpoints', 'gpt-checkpoints'), path: '/checkpoints' }],
    elastic: new Elastic({
      nnodes: Nnodes.range(2, 4),
      nprocPerNode: NprocPerNode.count(8),
      maxRestarts: 3,
      rdzvConfigs: { timeout: '1800', join_timeout: '1800' },
      runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.RUNNING, ttlAfterFinished: Duration.days(2) }),
    }),
  });

  // Two nodes of eight GPUs on an InfiniBand fabric: each pod has a node, its RDMA device and locked memory to itself.
  const infiniband = new Chart(app, 'infiniband-2x8', { namespace: 'training' });
  const dataset = claimVolume(infiniband, 'dataset', 'llm-corpus');
  new PyTorchJob(infiniband, 'job', {
    metadata: { name: 'llm-ib-2x8' },
    image: 'ghcr.io/example/llm-train:2.4.0',
    command: ['torchrun', 'train.py'],
    args: ['--config=configs/7b.yaml', '--data=/data'],
    nprocPerNode: NprocPerNode.count(8),
    env: { NCCL_IB_HCA: EnvValue.fromValue('mlx5'), NCCL_DEBUG: EnvValue.fromValue('WARN') },
    requests: { cpu: Cpu.units(96), memory: Size.gibibytes(1024) },
    limits: { cpu: Cpu.units(96), memory: Size.gibibytes(1024), gpu: 8, extended: [ExtendedResource.of('rdma/ib', 1)] },
    // RDMA registers (pins) memory, which the container may do only with IPC_LOCK.
    securityContext: { addCapabilities: [Capability.IPC_LOCK] },
    sharedMemory: SharedMemory.enabled(Size.gibibytes(64)),
    volumeMounts: [{ volume: dataset, path: '/data', readOnly: true }],
    onePodPerNode: true,
    tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
    terminationGracePeriod: Duration.minutes(2),
    initContainers: [{
      name: 'check-fabric',
      image: 'ghcr.io/example/rdma-tools:1.0',
      command: ['sh', '-c', 'ibv_devinfo | grep -q PORT_ACTIVE'],
      limits: { extended: [ExtendedResource.of('rdma/ib', 1)] },
      securityContext: { addCapabilities: [Capability.IPC_LOCK] },
    }],
    sidecars: [{
      name: 'gpu-metrics',
      image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.0-ubuntu22.04',
      ports: [{ number: 9400, name: 'metrics' }],
      requests: { cpu: Cpu.millis(100), memory: Size.mebibytes(256) },
      limits: { memory: Size.mebibytes(256) },
    }],
    master: new Master({
      nodeSelector: { 'node.example.com/lifecycle': 'on-demand' },
      env: { CHECKPOINT_EVERY: EnvValue.fromValue('500') },
      podLabels: { role: 'master' },
    }),
    worker: new Worker({
      replicas: 1,
      nodeSelector: { 'node.example.com/lifecycle': 'spot' },
      tolerations: [NodeTaintQuery.is('node.example.com/spot', 'true')],
      podLabels: { role: 'worker' },
    }),
    runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.RUNNING, backoffLimit: 3 }),
  });
  return app;
}

if (require.main === module) {
  const app = buildExampleApp('dist');
  app.synth();
  for (const chart of app.charts) {
    console.log(`${app.outdir}/${chart.node.id}.k8s.yaml`);
  }
}
