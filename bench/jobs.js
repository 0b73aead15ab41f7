// The benchmark's jobs, built with the library (compiled, from lib/): a PyTorchJob with a master and 4 workers,
// 8 GPUs each, 16 GiB of shared memory, a run policy and env; and an elastic job of 2 to 4 such nodes.
const { Duration, Size } = require('cdk8s');
const { Cpu, EnvValue } = require('cdk8s-plus-28');
const kf = require('../lib/src');

const common = (name) => ({
  metadata: { name },
  image: 'ghcr.io/example/train:2.4.0',
  env: { NCCL_DEBUG: EnvValue.fromValue('WARN'), EPOCHS: EnvValue.fromValue('90') },
  requests: { cpu: Cpu.units(32), memory: Size.gibibytes(256) },
  limits: { cpu: Cpu.units(32), memory: Size.gibibytes(256), gpu: 8 },
  sharedMemory: kf.SharedMemory.enabled(Size.gibibytes(16)),
});

/** Adds job `i` of each kind to `chart`. */
function addJobs(chart, i) {
  new kf.PyTorchJob(chart, `ddp-${i}`, {
    ...common(`ddp-${i}`),
    command: ['torchrun', 'train.py'],
    nprocPerNode: kf.NprocPerNode.count(8),
    worker: new kf.Worker({ replicas: 4 }),
    runPolicy: new kf.RunPolicy({ cleanPodPolicy: kf.CleanPodPolicy.RUNNING, backoffLimit: 3, activeDeadline: Duration.hours(12) }),
  });
  new kf.PyTorchElasticJob(chart, `elastic-${i}`, {
    ...common(`elastic-${i}`),
    entrypoint: kf.Entrypoint.script('train.py'),
    elastic: new kf.Elastic({
      nnodes: kf.Nnodes.range(2, 4),
      nprocPerNode: kf.NprocPerNode.count(8),
      maxRestarts: 3,
      runPolicy: new kf.RunPolicy({ cleanPodPolicy: kf.CleanPodPolicy.RUNNING, ttlAfterFinished: Duration.days(1) }),
    }),
  });
}

module.exports = { addJobs };
