// The example app: a data-parallel GPU job and a CPU-only job, synthesized to dist/.
import { App, Chart, Duration, Size, YamlOutputType } from 'cdk8s';
import { Cpu, EnvValue, Secret } from 'cdk8s-plus-28';
import { CleanPodPolicy, Master, NprocPerNode, PyTorchJob, RestartPolicy, RunPolicy, SharedMemory, Volume, Worker } from '../src';

const app = new App({ outdir: 'dist', yamlOutputType: YamlOutputType.FILE_PER_CHART });

const ddp = new Chart(app, 'ddp-resnet50', { namespace: 'training' });
const checkpoints = Volume.fromPersistentVolumeClaim('checkpoints', 'resnet50-checkpoints');
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
  command: ['python', 'mnist.py', '--backend=gloo', '--epochs=5'],
  requests: { cpu: Cpu.units(2), memory: Size.gibibytes(4) },
  limits: { cpu: Cpu.units(4), memory: Size.gibibytes(4) },
  sharedMemory: SharedMemory.enabled(Size.gibibytes(1)),
  worker: new Worker({ replicas: 2 }),
  runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.ALL, backoffLimit: 0 }),
});

app.synth();
for (const chart of app.charts) {
  console.log(`${app.outdir}/${chart.node.id}.k8s.yaml`);
}
