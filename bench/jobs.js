// The benchmark's jobs, built with the library (compiled, from lib/): a PyTorchJob with a master on on-demand nodes
// and 4 workers, 8 GPUs and an RDMA device each, IPC_LOCK, one pod per node, an init container and a metrics
// sidecar, 16 GiB of shared memory, a run policy and env; an elastic job of 2 to 4 such nodes; and the same five
// nodes for Kubeflow Trainer v2.3, a TrainingRuntime and its TrainJob (without what v2.3 cannot express: a Master
// unlike the Workers, a TTL).
//
// Each job's props are the common ones with its own assigned onto them, not `{ ...common(name), command }`: on Node 20
// V8 gives every object made by a spread followed by more fields a hidden class of its own, kept until a full
// collection. That is a cost of the app's code (about 5 MiB at N = 1,000 here), which the raw baseline's code does not
// carry either, and not of the library.
const { Duration, Size } = require('cdk8s');
const { Capability, Cpu, EnvValue, NodeTaintQuery } = require('cdk8s-plus-28');
const kf = require('../lib/src');

const common = (name) => ({
  metadata: { name },
  image: 'ghcr.io/example/train:2.4.0',
  env: { NCCL_DEBUG: EnvValue.fromValue('WARN'), EPOCHS: EnvValue.fromValue('90') },
  requests: { cpu: Cpu.units(32), memory: Size.gibibytes(256) },
  limits: { cpu: Cpu.units(32), memory: Size.gibibytes(256), gpu: 8, extended: [kf.ExtendedResource.of('rdma/ib', 1)] },
  securityContext: { addCapabilities: [Capability.IPC_LOCK] },
  sharedMemory: kf.SharedMemory.enabled(Size.gibibytes(16)),
  onePodPerNode: true,
  tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
  initContainers: [{ name: 'check-fabric', image: 'ghcr.io/example/rdma-tools:1.0', command: ['sh', '-c', 'ibv_devinfo | grep -q PORT_ACTIVE'] }],
  sidecars: [{ name: 'gpu-metrics', image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5', ports: [{ number: 9400, name: 'metrics' }] }],
});

/** Adds job `i` of each kind to `chart`. */
function addJobs(chart, i) {
  new kf.PyTorchJob(chart, `ddp-${i}`, Object.assign(common(`ddp-${i}`), {
    command: ['torchrun', 'train.py'],
    nprocPerNode: kf.NprocPerNode.count(8),
    master: new kf.Master({ nodeSelector: { 'node.example.com/lifecycle': 'on-demand' } }),
    worker: new kf.Worker({ replicas: 4 }),
    runPolicy: new kf.RunPolicy({ cleanPodPolicy: kf.CleanPodPolicy.RUNNING, backoffLimit: 3, activeDeadline: Duration.hours(12) }),
  }));
  new kf.PyTorchElasticJob(chart, `elastic-${i}`, Object.assign(common(`elastic-${i}`), {
    entrypoint: kf.Entrypoint.script('train.py'),
    elastic: new kf.Elastic({
      nnodes: kf.Nnodes.range(2, 4),
      nprocPerNode: kf.NprocPerNode.count(8),
      maxRestarts: 3,
      runPolicy: new kf.RunPolicy({ cleanPodPolicy: kf.CleanPodPolicy.RUNNING, ttlAfterFinished: Duration.days(1) }),
    }),
  }));
  new kf.PyTorchJob(chart, `trainjob-${i}`, Object.assign(common(`trainjob-${i}`), {
    command: ['torchrun', 'train.py'],
    nprocPerNode: kf.NprocPerNode.count(8),
    worker: new kf.Worker({ replicas: 4 }),
    runPolicy: new kf.RunPolicy({ activeDeadline: Duration.hours(12) }),
    target: kf.JobTarget.trainerV2(),
  }));
}

/** The jobs addJobs adds per index, one of each kind. */
const KINDS = 3;

module.exports = { addJobs, KINDS };
