import { expectValidPyTorchJob } from './support/crd-schema';
import { checkTrainingBatchJob } from '../src/rules/batch-job';
import { checkPodTemplate, InjectedEnv } from '../src/rules/pod-template';
import { formatProblem, isWholeNumber, Problem, ProblemKind, Severity, show } from '../src/rules/problem';
import { checkJobName, checkPyTorchJob } from '../src/rules/pytorchjob';
import { parseQuantity } from '../src/rules/quantity';
import { checkNodeRange, checkRdzvConf, findTorchrun, optionValue, torchrunArgsStart } from '../src/rules/torchrun';

const WEBHOOK = ProblemKind.WEBHOOK;
const OPERATIONAL = ProblemKind.OPERATIONAL;

const MASTER = 'spec.pytorchReplicaSpecs[Master]';
const WORKER = 'spec.pytorchReplicaSpecs[Worker]';
const WORKER_CONTAINERS = `${WORKER}.template.spec.containers`;
const DNS_1035 = 'is not a DNS-1035 label: lower-case letters, digits and \'-\', starting with a letter, ending with a letter or digit, at most 63 characters';

type Json = { [key: string]: any };

function container(fields: Json = {}): Json {
  return { name: 'pytorch', image: 'docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727', ...fields };
}

const SHM_MOUNT = { name: 'shm', mountPath: '/dev/shm' };
const SHM_VOLUME = { name: 'shm', emptyDir: { medium: 'Memory' } };

/** A replica whose `pytorch` container has a memory-backed /dev/shm, as every multi-process pod needs. */
function replica(replicas: number | undefined, containers: Json[] = [container()]): Json {
  const withShm = containers.map(c => (c.name === 'pytorch' ? { ...c, volumeMounts: [SHM_MOUNT, ...c.volumeMounts ?? []] } : c));
  return { ...(replicas === undefined ? {} : { replicas }), restartPolicy: 'OnFailure', template: { spec: { containers: withShm, volumes: [SHM_VOLUME] } } };
}

/**
 * kubeflow.md's minimal valid job: name `test`, Master (1) and Worker (1), each with one `pytorch` container.
 * A fresh object per call, so tests can change it freely.
 */
function validJob(): Json {
  return {
    apiVersion: 'kubeflow.org/v1',
    kind: 'PyTorchJob',
    metadata: { name: 'test' },
    spec: { pytorchReplicaSpecs: { Master: replica(1), Worker: replica(1) } },
  };
}

/** A job with only the given replica specs. */
function jobWith(replicaSpecs: Json, spec: Json = {}): Json {
  const job = validJob();
  job.spec = { ...spec, pytorchReplicaSpecs: replicaSpecs };
  return job;
}

/**
 * The rules' problems with a manifest that the CRD schema accepts, so that what is reported is
 * caught by the rules and would otherwise reach the webhook or the cluster.
 */
function problemsOf(job: Json): Problem[] {
  expectValidPyTorchJob(job);
  return checkPyTorchJob(job);
}

describe('checkPyTorchJob accepts what the webhook accepts', () => {
  test('the minimal valid job', () => {
    expect(problemsOf(validJob())).toEqual([]);
  });

  test('a Worker-only job with 3 replicas, and one whose replica count is omitted', () => {
    expect(problemsOf(jobWith({ Worker: replica(3) }))).toEqual([]);
    expect(problemsOf(jobWith({ Worker: replica(undefined) }))).toEqual([]);
  });

  test('a Master-only job', () => {
    expect(problemsOf(jobWith({ Master: replica(1) }))).toEqual([]);
  });

  test('a pytorch container with a sidecar', () => {
    const job = jobWith({ Master: replica(1), Worker: replica(2, [container(), { name: 'log-shipper', image: 'fluent/fluent-bit:3.0' }]) });
    expect(problemsOf(job)).toEqual([]);
  });

  test.each(['kubeflow.org/training-operator', 'kueue.x-k8s.io/multikueue'])('runPolicy.managedBy %s', (managedBy) => {
    const job = validJob();
    job.spec.runPolicy = { managedBy };
    expect(problemsOf(job)).toEqual([]);
  });

  test.each(['auto', 'cpu', 'gpu', '1', '8'])('nprocPerNode %j', (nprocPerNode) => {
    const job = validJob();
    job.spec.nprocPerNode = nprocPerNode;
    expect(problemsOf(job)).toEqual([]);
  });

  test.each(['Always', 'OnFailure', 'Never', 'ExitCode'])('restartPolicy %s', (restartPolicy) => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.restartPolicy = restartPolicy;
    expect(problemsOf(job)).toEqual([]);
  });

  test('a run policy at its lowest allowed values', () => {
    const job = validJob();
    job.spec.runPolicy = {
      cleanPodPolicy: 'All',
      backoffLimit: 0,
      ttlSecondsAfterFinished: 0,
      activeDeadlineSeconds: 1,
      schedulingPolicy: { minAvailable: 1, scheduleTimeoutSeconds: 1 },
    };
    expect(problemsOf(job)).toEqual([]);
  });

  test('T1: managedBy training-operator and elasticPolicy {rdzvBackend: c10d} raise no webhook problem', () => {
    const job = validJob();
    job.spec.runPolicy = { managedBy: 'kubeflow.org/training-operator' };
    job.spec.elasticPolicy = { rdzvBackend: 'c10d' };
    // A Master whose container does not run torchrun takes no part in the rendezvous.
    expect(problemsOf(job)).toEqual([]);
  });

  test('a Master that runs torchrun in an elastic job is one node too many', () => {
    const job = validJob();
    job.spec.elasticPolicy = { rdzvBackend: 'c10d' };
    job.spec.pytorchReplicaSpecs.Master.template.spec.containers[0].command = ['torchrun', 'train.py'];
    expect(problemsOf(job)).toEqual([{
      path: MASTER,
      message: 'runs torchrun in an elastic job: the operator counts only the Workers in the node range it gives torchrun, so the Master is one node too many for the rendezvous',
      kind: OPERATIONAL,
    }]);
  });
});

describe('checkPyTorchJob: the operator\'s webhook rules', () => {
  test.each(['0-test', 'MyJob', 'My_Job', 'test-', '-test', 'a'.repeat(64), ''])('V1: metadata.name %j is not a DNS-1035 label', (name) => {
    const job = validJob();
    job.metadata.name = name;
    expect(problemsOf(job)).toEqual([{ path: 'metadata.name', message: `${JSON.stringify(name)} ${DNS_1035}`, kind: WEBHOOK }]);
  });

  test('V7: a job without a spec (the schema requires the replica specs only inside one)', () => {
    const job = validJob();
    delete job.spec;
    expect(problemsOf(job)).toEqual([{ path: 'spec.pytorchReplicaSpecs', message: 'is missing: a PyTorchJob needs its replica specs', kind: WEBHOOK }]);
  });

  test('V1: an omitted metadata.name', () => {
    const job = validJob();
    delete job.metadata.name;
    expect(problemsOf(job)).toEqual([{ path: 'metadata.name', message: `(omitted) ${DNS_1035}`, kind: WEBHOOK }]);
  });

  test('V1: a 63-character name is a DNS-1035 label', () => {
    expect(checkJobName({ name: 'a'.repeat(63) }, {}, WEBHOOK)).toEqual([]);
  });

  test.each(['other-job-controller', ''])('V3: runPolicy.managedBy %j is not supported', (managedBy) => {
    const job = validJob();
    job.spec.runPolicy = { managedBy };
    expect(problemsOf(job)).toEqual([{
      path: 'spec.runPolicy.managedBy',
      message: `${JSON.stringify(managedBy)} is not supported: use "kubeflow.org/training-operator" or "kueue.x-k8s.io/multikueue"`,
      kind: WEBHOOK,
    }]);
  });

  test('V4 (T11): an elastic policy without a Worker', () => {
    const job = jobWith({ Master: replica(1) }, { elasticPolicy: {} });
    expect(problemsOf(job)).toEqual([
      { path: WORKER, message: 'is missing: an elastic policy needs a Worker replica spec', kind: WEBHOOK },
      { path: 'spec.elasticPolicy.minReplicas', message: 'minimum 0 must be a whole number of at least 1', kind: OPERATIONAL },
    ]);
  });

  test('V6 (T8): elasticPolicy.nProcPerNode together with spec.nprocPerNode', () => {
    const job = jobWith({ Worker: replica(1) }, { nprocPerNode: '1', elasticPolicy: { nProcPerNode: 1 } });
    expect(problemsOf(job)).toEqual([
      { path: 'spec.elasticPolicy.nProcPerNode', message: '1 must not be used with spec.nprocPerNode', kind: WEBHOOK },
    ]);
  });

  test.each(['worker', 'Chief', 'PS'])('V8: replica type %s', (type) => {
    const job = jobWith({ Master: replica(1), [type]: replica(1) });
    expect(problemsOf(job)).toEqual([{
      path: `spec.pytorchReplicaSpecs[${type}]`,
      message: `"${type}" is not a replica type: use "Master" or "Worker"`,
      kind: WEBHOOK,
    }]);
  });

  test('V9 and V11 (T3): a replica with an empty container list gets both errors', () => {
    const job = jobWith({ Master: replica(1), Worker: replica(undefined, []) });
    expect(problemsOf(job)).toEqual([
      { path: WORKER_CONTAINERS, message: 'is empty: a replica needs at least one container', kind: WEBHOOK },
      { path: WORKER_CONTAINERS, message: 'has no container named "pytorch": the operator needs one', kind: WEBHOOK },
    ]);
  });

  test('V9 and V11: a replica whose template has no pod spec', () => {
    const job = jobWith({ Master: replica(1), Worker: { replicas: 1, template: {} } });
    expect(problemsOf(job)).toEqual([
      { path: WORKER_CONTAINERS, message: 'is empty: a replica needs at least one container', kind: WEBHOOK },
      { path: WORKER_CONTAINERS, message: 'has no container named "pytorch": the operator needs one', kind: WEBHOOK },
    ]);
  });

  test('V10 (T4): a container whose image is empty', () => {
    const job = jobWith({ Master: replica(1), Worker: replica(undefined, [container({ image: '' })]) });
    expect(problemsOf(job)).toEqual([
      { path: `${WORKER_CONTAINERS}[0].image`, message: '"" is empty: every container needs an image', kind: WEBHOOK },
    ]);
  });

  test('V10: a sidecar without an image, reported at its own index', () => {
    const job = jobWith({ Master: replica(1), Worker: replica(1, [container(), { name: 'sidecar' }]) });
    expect(problemsOf(job)).toEqual([
      { path: `${WORKER_CONTAINERS}[1].image`, message: '(omitted) is empty: every container needs an image', kind: WEBHOOK },
    ]);
  });

  test.each(['', 'PyTorch', 'trainer'])('V11 (T5): no container named exactly pytorch, only %j', (name) => {
    const job = jobWith({ Master: replica(1), Worker: replica(1, [container({ name })]) });
    expect(problemsOf(job)).toEqual([
      { path: WORKER_CONTAINERS, message: 'has no container named "pytorch": the operator needs one', kind: WEBHOOK },
    ]);
  });

  test.each([[undefined, '(omitted)'], [0, '0'], [2, '2']])('V12 (T6): Master replicas %p', (replicas, shown) => {
    const job = jobWith({ Master: replica(replicas), Worker: replica(1) });
    expect(problemsOf(job)).toEqual([
      { path: `${MASTER}.replicas`, message: `${shown} must be 1: a job has exactly one Master, written explicitly`, kind: WEBHOOK },
    ]);
  });

  test.each([0, -1])('V13: Worker replicas %d, without an elastic policy', (replicas) => {
    const job = jobWith({ Master: replica(1), Worker: replica(replicas) });
    expect(problemsOf(job)).toEqual([
      { path: `${WORKER}.replicas`, message: `${replicas} must be a whole number of at least 1`, kind: WEBHOOK },
    ]);
  });

  test('V13 (T12): Worker replicas 0 with an elastic policy', () => {
    const job = jobWith({ Worker: replica(0) }, { elasticPolicy: {} });
    expect(problemsOf(job)).toEqual([
      { path: 'spec.elasticPolicy.minReplicas', message: 'minimum 0 must be a whole number of at least 1', kind: OPERATIONAL },
      { path: `${WORKER}.replicas`, message: '0 must be a whole number of at least 1', kind: WEBHOOK },
    ]);
  });

  test('V13: a fractional Worker count, which the schema also rejects', () => {
    const job = jobWith({ Master: replica(1), Worker: replica(2.5) });
    expect(checkPyTorchJob(job)).toEqual([
      { path: `${WORKER}.replicas`, message: '2.5 must be a whole number of at least 1', kind: WEBHOOK },
    ]);
  });

  test('errors accumulate (case 33): a bad name and Master replicas 2', () => {
    const job = jobWith({ Master: replica(2), Worker: replica(1) });
    job.metadata.name = '0-test';
    expect(problemsOf(job)).toEqual([
      { path: 'metadata.name', message: `"0-test" ${DNS_1035}`, kind: WEBHOOK },
      { path: `${MASTER}.replicas`, message: '2 must be 1: a job has exactly one Master, written explicitly', kind: WEBHOOK },
    ]);
  });
});

describe('checkPyTorchJob: operational rules on the job', () => {
  test('several processes per pod without a memory-backed /dev/shm', () => {
    const job = validJob();
    job.spec.nprocPerNode = '4';
    for (const type of ['Master', 'Worker']) {
      const template = job.spec.pytorchReplicaSpecs[type].template;
      template.spec.containers[0].command = ['torchrun', 'train.py'];
      delete template.spec.containers[0].volumeMounts;
      delete template.spec.volumes;
    }
    const message = 'has no memory-backed volume at /dev/shm while 4 processes share the pod: DataLoader workers may exhaust the runtime\'s 64 MiB';
    expect(problemsOf(job)).toEqual([
      { path: `${MASTER}.template.spec.containers[0].volumeMounts`, message, kind: OPERATIONAL, severity: Severity.WARNING },
      { path: `${WORKER}.template.spec.containers[0].volumeMounts`, message, kind: OPERATIONAL, severity: Severity.WARNING },
    ]);
  });

  test('several GPU processes per pod without a memory-backed /dev/shm: NCCL fails, an error', () => {
    const job = jobWith({ Worker: replica(2, [container({ command: ['torchrun', 'train.py'], resources: { limits: { 'nvidia.com/gpu': 8 } } })]) });
    const template = job.spec.pytorchReplicaSpecs.Worker.template;
    delete template.spec.containers[0].volumeMounts;
    delete template.spec.volumes;
    expect(problemsOf(job)).toEqual([{
      path: `${WORKER}.template.spec.containers[0].volumeMounts`,
      message: 'has no memory-backed volume at /dev/shm while 8 GPU processes share the pod: NCCL fails on the runtime\'s 64 MiB',
      kind: OPERATIONAL,
    }]);
  });

  test('a disk-backed volume at /dev/shm does not count as shared memory', () => {
    const job = jobWith({ Worker: replica(2, [container({ command: ['torchrun', 'train.py'] })]) }, { nprocPerNode: '2' });
    job.spec.pytorchReplicaSpecs.Worker.template.spec.volumes = [{ name: 'shm', emptyDir: {} }];
    expect(problemsOf(job).map(formatProblem)).toEqual([
      `${WORKER}.template.spec.containers[0].volumeMounts: has no memory-backed volume at /dev/shm while 2 processes share the pod: DataLoader workers may exhaust the runtime's 64 MiB`,
    ]);
  });

  test('nprocPerNode on a job whose command is not torchrun', () => {
    const job = jobWith({ Worker: replica(2, [container({ command: ['python', 'train.py'] })]) }, { nprocPerNode: '4' });
    expect(problemsOf(job).map(formatProblem)).toEqual([
      `spec.nprocPerNode: "4" has no effect on ${WORKER}.template.spec.containers[0], which does not run torchrun, but the operator still counts it in WORLD_SIZE`,
    ]);
  });

  test('a pod restart policy in a replica template', () => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.template.spec.restartPolicy = 'Always';
    expect(problemsOf(job).map(formatProblem)).toEqual([
      `${WORKER}.template.spec.restartPolicy: "Always" is ignored: the operator sets the pod's restart policy from ${WORKER}.restartPolicy`,
    ]);
  });

  test('a name that leaves no room for <name>-worker-<last index> in 63 characters', () => {
    const name = 'a'.repeat(54);
    const job = jobWith({ Master: replica(1), Worker: replica(10) });
    job.metadata.name = name;
    expect(problemsOf(job)).toEqual([]);
    expect(checkJobName({ name }, { Master: replica(1), Worker: replica(10) }, WEBHOOK)).toEqual([]);
    expect(checkJobName({ name }, { Master: replica(1), Worker: replica(11) }, WEBHOOK)).toEqual([{
      path: 'metadata.name',
      message: `"${name}" is too long: the operator names a pod and its Service "${name}-worker-10" (64 characters), above the 63 allowed`,
      kind: OPERATIONAL,
    }]);
  });

  test('a name too long even for the first pod counts an omitted Worker count as 1', () => {
    const job = jobWith({ Worker: replica(undefined) });
    const name = 'a'.repeat(55);
    job.metadata.name = name;
    expect(problemsOf(job)).toEqual([{
      path: 'metadata.name',
      message: `"${name}" is too long: the operator names a pod and its Service "${name}-worker-0" (64 characters), above the 63 allowed`,
      kind: OPERATIONAL,
    }]);
  });

  test.each(['banana', '0', '-1', '1.5', 'AUTO', ''])('nprocPerNode %j', (nprocPerNode) => {
    const job = validJob();
    job.spec.nprocPerNode = nprocPerNode;
    expect(problemsOf(job)).toEqual([{
      path: 'spec.nprocPerNode',
      message: `${JSON.stringify(nprocPerNode)} is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1`,
      kind: OPERATIONAL,
    }]);
  });

  test('nprocPerNode written as a number, which the schema also rejects', () => {
    const job = validJob();
    job.spec.nprocPerNode = 4;
    expect(checkPyTorchJob(job)).toEqual([{
      path: 'spec.nprocPerNode',
      message: '4 is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1',
      kind: OPERATIONAL,
    }]);
  });

  test.each(['Foo', 'onFailure', 'OnFailure '])('restartPolicy %j', (restartPolicy) => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.restartPolicy = restartPolicy;
    expect(problemsOf(job)).toEqual([{
      path: `${WORKER}.restartPolicy`,
      message: `${JSON.stringify(restartPolicy)} is not a restart policy: use "Always", "OnFailure", "Never", "ExitCode"`,
      kind: OPERATIONAL,
    }]);
  });

  test('cleanPodPolicy Foo', () => {
    const job = validJob();
    job.spec.runPolicy = { cleanPodPolicy: 'Foo' };
    expect(problemsOf(job)).toEqual([
      { path: 'spec.runPolicy.cleanPodPolicy', message: '"Foo" is not a clean-pod policy: use "None", "Running", "All"', kind: OPERATIONAL },
    ]);
  });

  test('every run-policy count below its minimum, each reported', () => {
    const job = validJob();
    job.spec.runPolicy = {
      backoffLimit: -1,
      ttlSecondsAfterFinished: -1,
      activeDeadlineSeconds: 0,
      schedulingPolicy: { minAvailable: 0, scheduleTimeoutSeconds: 0 },
    };
    expect(problemsOf(job)).toEqual([
      { path: 'spec.runPolicy.backoffLimit', message: '-1 must be a whole number of at least 0', kind: OPERATIONAL },
      { path: 'spec.runPolicy.ttlSecondsAfterFinished', message: '-1 must be a whole number of seconds, at least 0', kind: OPERATIONAL },
      { path: 'spec.runPolicy.activeDeadlineSeconds', message: '0 must be a whole number of seconds, at least 1', kind: OPERATIONAL },
      { path: 'spec.runPolicy.schedulingPolicy.scheduleTimeoutSeconds', message: '0 must be a whole number of seconds, at least 1', kind: OPERATIONAL },
      { path: 'spec.runPolicy.schedulingPolicy.minAvailable', message: '0 must be a whole number of at least 1', kind: OPERATIONAL },
    ]);
  });
});

describe('checkPyTorchJob: operational rules on the elastic policy', () => {
  /** An elastic Worker-only job: what PyTorchElasticJob writes for more than one node. */
  function elasticJob(elasticPolicy: Json, workers = 2): Json {
    return jobWith({ Worker: replica(workers) }, { elasticPolicy: { rdzvBackend: 'c10d', minReplicas: 1, maxReplicas: workers, ...elasticPolicy } });
  }

  test('a valid elastic job', () => {
    expect(problemsOf(elasticJob({ maxRestarts: 3, rdzvConf: [{ key: 'join_timeout', value: '900' }] }))).toEqual([]);
  });

  test('elasticPolicy.nProcPerNode counts the processes that share /dev/shm, as the operator injects it', () => {
    const job = elasticJob({ nProcPerNode: 4 });
    const template = job.spec.pytorchReplicaSpecs.Worker.template;
    template.spec.containers[0].command = ['torchrun', 'train.py'];
    delete template.spec.containers[0].volumeMounts;
    delete template.spec.volumes;
    expect(problemsOf(job)).toEqual([
      { path: 'spec.elasticPolicy.nProcPerNode', message: '4 is deprecated: use spec.nprocPerNode', kind: WEBHOOK, severity: Severity.WARNING },
      {
        path: `${WORKER}.template.spec.containers[0].volumeMounts`,
        message: 'has no memory-backed volume at /dev/shm while 4 processes share the pod: DataLoader workers may exhaust the runtime\'s 64 MiB',
        kind: OPERATIONAL,
        severity: Severity.WARNING,
      },
    ]);
  });

  test('elasticPolicy.nProcPerNode alone: deprecated (the webhook\'s V5 warning)', () => {
    expect(problemsOf(elasticJob({ nProcPerNode: 4 }))).toEqual([
      { path: 'spec.elasticPolicy.nProcPerNode', message: '4 is deprecated: use spec.nprocPerNode', kind: WEBHOOK, severity: Severity.WARNING },
    ]);
  });

  test.each([
    [{ minReplicas: 3, maxReplicas: 2 }, 'minimum 3 is above maximum 2'],
    [{ minReplicas: 0 }, 'minimum 0 must be a whole number of at least 1'],
    [{ maxReplicas: 0 }, 'maximum 0 must be a whole number of at least 1'],
  ])('node range %j', (range, message) => {
    expect(problemsOf(elasticJob(range, 1))).toEqual([{ path: 'spec.elasticPolicy.minReplicas', message, kind: OPERATIONAL }]);
  });

  test('more Workers than maxReplicas', () => {
    expect(problemsOf(jobWith({ Worker: replica(4) }, { elasticPolicy: { minReplicas: 1, maxReplicas: 2 } }))).toEqual([{
      path: `${WORKER}.replicas`,
      message: '4 is above elasticPolicy.maxReplicas 2: the extra pods could never join the rendezvous',
      kind: OPERATIONAL,
    }]);
  });

  test('maxRestarts -1', () => {
    expect(problemsOf(elasticJob({ maxRestarts: -1 }))).toEqual([
      { path: 'spec.elasticPolicy.maxRestarts', message: '-1 must be a whole number of at least 0', kind: OPERATIONAL },
    ]);
  });

  test('an unknown rendezvous backend', () => {
    expect(problemsOf(elasticJob({ rdzvBackend: 'etcd3' }))).toEqual([
      { path: 'spec.elasticPolicy.rdzvBackend', message: '"etcd3" is not a rendezvous backend: use "c10d", "etcd", "etcd-v2"', kind: OPERATIONAL },
    ]);
  });

  test('standalone true', () => {
    expect(problemsOf(elasticJob({ standalone: true }))).toEqual([{
      path: 'spec.elasticPolicy.standalone',
      message: 'true makes the operator inject PET_STANDALONE="", which torchrun cannot parse: leave it out',
      kind: OPERATIONAL,
    }]);
  });

  test('an empty rdzvConf list', () => {
    expect(problemsOf(elasticJob({ rdzvConf: [] }))).toEqual([
      { path: 'spec.elasticPolicy.rdzvConf', message: '[] crashes the operator: leave the field out when there are no settings', kind: OPERATIONAL },
    ]);
  });

  test('rdzvConf keys and values that cannot travel as k1=v1,k2=v2', () => {
    const rdzvConf = [{ key: 'a,b', value: 'x' }, { key: 'timeout', value: '' }, { key: 'k=v', value: '1,2' }];
    expect(problemsOf(elasticJob({ rdzvConf }))).toEqual([
      { path: 'spec.elasticPolicy.rdzvConf[0].key', message: '"a,b" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces', kind: OPERATIONAL },
      { path: 'spec.elasticPolicy.rdzvConf[1].value', message: '"" is not a rendezvous value for "timeout": it must be non-empty, without \',\'', kind: OPERATIONAL },
      { path: 'spec.elasticPolicy.rdzvConf[2].key', message: '"k=v" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces', kind: OPERATIONAL },
      { path: 'spec.elasticPolicy.rdzvConf[2].value', message: '"1,2" is not a rendezvous value for "k=v": it must be non-empty, without \',\'', kind: OPERATIONAL },
    ]);
  });
});

describe('checkPyTorchJob: torchrun flags in a container\'s command line', () => {
  function withCommand(command: string[], args?: string[]): Json {
    return jobWith({ Master: replica(1), Worker: replica(1, [container({ command, ...(args ? { args } : {}) })]) });
  }

  test.each([
    [['torchrun', '--nnodes=2:1', 'train.py'], '--nnodes "2:1": minimum 2 is above maximum 1'],
    [['torchrun', '--nnodes=0', 'train.py'], '--nnodes "0": minimum 0 must be a whole number of at least 1'],
    [['torchrun', '--nnodes=two', 'train.py'], '--nnodes "two" is not in "MIN:MAX" format'],
    [['torchrun', '--nnodes=1:2:3', 'train.py'], '--nnodes "1:2:3" is not in "MIN:MAX" format'],
    [['torchrun', '--nproc_per_node=0', 'train.py'], '--nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1'],
    [['torchrun', '--nproc-per-node=0', 'train.py'], '--nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1'],
    [['torchrun', '--max_restarts=-1', 'train.py'], '--max_restarts "-1" must be a whole number of at least 0'],
    [['torchrun', '--monitor_interval=0', 'train.py'], '--monitor_interval "0" must be a whole number of seconds, at least 1'],
    [['torchrun', '--start_method=threads', 'train.py'], '--start_method "threads" is not a start method: use "spawn", "fork", "forkserver"'],
  ])('%j', (command, message) => {
    expect(problemsOf(withCommand(command))).toEqual([{ path: `${WORKER_CONTAINERS}[0].command[1]`, message, kind: OPERATIONAL }]);
  });

  test('a flag in args is reported at its index in args, a separate value at the value', () => {
    expect(problemsOf(withCommand(['torchrun'], ['--monitor_interval=5', '--nproc_per_node', '0', 'train.py']))).toEqual([{
      path: `${WORKER_CONTAINERS}[0].args[2]`,
      message: '--nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1',
      kind: OPERATIONAL,
    }]);
  });

  test('python -m torch.distributed.run and a torchrun given by path are checked too', () => {
    expect(problemsOf(withCommand(['python3', '-m', 'torch.distributed.run', '--max_restarts=x', 'train.py']))).toEqual([
      { path: `${WORKER_CONTAINERS}[0].command[3]`, message: '--max_restarts "x" must be a whole number of at least 0', kind: OPERATIONAL },
    ]);
    expect(problemsOf(withCommand(['/usr/bin/torchrun', '--nnodes=0', 'train.py']))).toEqual([
      { path: `${WORKER_CONTAINERS}[0].command[1]`, message: '--nnodes "0": minimum 0 must be a whole number of at least 1', kind: OPERATIONAL },
    ]);
  });

  test('rendezvous settings given as --rdzv_conf', () => {
    expect(problemsOf(withCommand(['torchrun', '--rdzv_conf=timeout=,join_timeout=900', 'train.py']))).toEqual([{
      path: `${WORKER_CONTAINERS}[0].command[1](--rdzv_conf)[0].value`,
      message: '"" is not a rendezvous value for "timeout": it must be non-empty, without \',\'',
      kind: OPERATIONAL,
    }]);
  });

  test('flags after the script belong to the script, and other programs are not read', () => {
    expect(problemsOf(withCommand(['torchrun', '--nnodes=2', 'train.py', '--nnodes=0']))).toEqual([]);
    expect(problemsOf(withCommand(['python', 'train.py', '--nproc_per_node=0']))).toEqual([]);
  });

  test('torchrunArgsStart finds where torchrun\'s own arguments start', () => {
    expect(torchrunArgsStart(['torchrun', 'train.py'])).toBe(1);
    expect(torchrunArgsStart(['python3.11', '-m', 'torch.distributed.run', 'train.py'])).toBe(3);
    expect(torchrunArgsStart(['python', 'train.py'])).toBeUndefined();
    expect(torchrunArgsStart([])).toBeUndefined();
  });

  test('checkNodeRange and checkRdzvConf take the path they are given', () => {
    expect(checkNodeRange(1, 4, 'x')).toEqual([]);
    expect(checkNodeRange(1.5, 4, 'x')).toEqual([{ path: 'x', message: 'minimum 1.5 must be a whole number of at least 1', kind: OPERATIONAL }]);
    expect(checkRdzvConf([{ key: 'has space', value: 'v' }], 'y')).toEqual([
      { path: 'y[0].key', message: '"has space" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces', kind: OPERATIONAL },
    ]);
  });
});

describe('checkPyTorchJob: torchrun started from a shell, and flags that undo the operator\'s world', () => {
  const MASTER_CONTAINER = `${MASTER}.template.spec.containers[0]`;
  const WORKER_CONTAINER = `${WORKER_CONTAINERS}[0]`;

  /** A job with a Master and two Workers whose `pytorch` containers run the given command lines. */
  function job(worker: Json, spec: Json = {}, master: Json = worker): Json {
    return jobWith({ Master: replica(1, [container(master)]), Worker: replica(2, [container(worker)]) }, spec);
  }

  /** A multi-line block (`args: - |`): setup, then torchrun with the operator's variables (quoted: each stays one word), one flag a line. */
  const SETUP_AND_TORCHRUN = [
    'set -euo pipefail',
    'pip install --no-cache-dir -r /workspace/requirements.txt',
    'export NCCL_DEBUG=INFO',
    'export PYTHONPATH="/workspace/src:${PYTHONPATH:-}"',
    'cd /workspace',
    'torchrun \\',
    '  --nnodes="$PET_NNODES" \\',
    '  --nproc_per_node="${PET_NPROC_PER_NODE}" \\',
    '  --node_rank="$PET_NODE_RANK" \\',
    '  --master_addr="$MASTER_ADDR" \\',
    '  --master_port="$MASTER_PORT" \\',
    '  --max_restarts=3 \\',
    '  train.py --data /data/imagenet --epochs 90',
    '',
  ].join('\n');

  test.each<[string, Json, Json]>([
    ['bash -c with the script in args', { command: ['bash', '-c'], args: ['torchrun --nproc_per_node=4 --max_restarts=3 train.py --epochs 10'] }, { nprocPerNode: '4' }],
    ['/bin/sh -c, cd first', { command: ['/bin/sh', '-c', 'cd /workspace && torchrun --nproc_per_node=8 train.py'] }, {}],
    ['/bin/sh -c with spec.nprocPerNode alike', { command: ['/bin/sh', '-c', 'cd /workspace && torchrun --nproc_per_node=8 train.py'] }, { nprocPerNode: '8' }],
    ['a multi-line block with set -e, pip, export and continued lines', { command: ['/bin/bash', '-c'], args: [SETUP_AND_TORCHRUN] }, { nprocPerNode: '4' }],
    ['python -m torch.distributed.run in bash -lc', { command: ['bash', '-lc', 'python3 -u -m torch.distributed.run --nproc_per_node=2 /workspace/train.py'] }, { nprocPerNode: '2' }],
    ['exec torchrun', { command: ['sh', '-c', 'exec torchrun --nproc_per_node=2 train.py'] }, { nprocPerNode: '2' }],
    ['variables, nohup and redirections in front of torchrun, in the background',
      { command: ['bash', '-xc', 'NCCL_DEBUG=INFO nohup torchrun --nproc-per-node=2 train.py > /var/log/train.log 2>&1 &\nwait'] }, { nprocPerNode: '2' }],
    ['env with variables', { command: ['/usr/bin/env', 'NCCL_DEBUG=INFO', 'torchrun', '--nproc_per_node=2', 'train.py'] }, { nprocPerNode: '2' }],
    ['the arguments of bash -c, passed on with "$@"', { command: ['bash', '-c', 'pip install -e . && exec torchrun "$@"', '--'], args: ['--nproc_per_node=8', 'train.py'] }, { nprocPerNode: '4' }],
    ['Kubernetes references to the operator\'s variables', { command: ['torchrun', '--nnodes=$(PET_NNODES)', '--node_rank=$(PET_NODE_RANK)', 'train.py'] }, {}],
    ['a Kubernetes reference inside single quotes of a script', { command: ['bash', '-c', 'torchrun --master_addr=\'$(MASTER_ADDR)\' train.py'] }, {}],
    ['values that only the shell knows', { command: ['bash', '-c', 'torchrun --nnodes="$NODES" --master_addr="$(hostname -i)" --nproc_per_node="$GPUS" train.py'] }, { nprocPerNode: '4' }],
    ['a static rendezvous ignored for c10d', { command: ['bash', '-c', 'torchrun --rdzv_backend=c10d --node_rank=0 --rdzv_endpoint="$MASTER_ADDR:$MASTER_PORT" train.py'] }, {}],
  ])('%s: no problem', (_name, fields, spec) => {
    expect(problemsOf(job(fields, spec))).toEqual([]);
  });

  test('literal flags with the operator\'s own values: rank 0 on the Master, the master by its full DNS name', () => {
    const flags = '--nnodes=3 --master_addr=test-master-0.default.svc.cluster.local --master_port=23456';
    const master = { command: ['bash', '-c', `torchrun ${flags} --node_rank=0 train.py`] };
    const worker = { command: ['bash', '-c', `torchrun ${flags} --node_rank=$PET_NODE_RANK train.py`] };
    expect(problemsOf(job(worker, {}, master))).toEqual([]);
  });

  test('an elastic job whose torchrun repeats what the elastic policy says', () => {
    const command = ['bash', '-c', 'torchrun --nnodes=1:3 --rdzv_backend=c10d --rdzv_endpoint=test-worker-0:23456 --rdzv_id=run-1 --max_restarts=2 train.py'];
    const elastic = jobWith({ Worker: replica(2, [container({ command })]) }, { elasticPolicy: { rdzvBackend: 'c10d', minReplicas: 1, maxReplicas: 3, rdzvId: 'run-1', maxRestarts: 2 } });
    expect(problemsOf(elastic)).toEqual([]);
  });

  test.each<[string, string[]]>([
    ['a script file', ['bash', '/workspace/launch.sh']],
    ['a script as the program', ['/workspace/entrypoint.sh', '--epochs', '10']],
    ['a program in a variable', ['bash', '-c', 'source /opt/env.sh && $LAUNCHER train.py']],
    ['torchrun inside if', ['bash', '-c', 'if [ "$PET_NODE_RANK" = 0 ]; then torchrun --nproc_per_node=4 train.py --save; else torchrun --nproc_per_node=4 train.py; fi']],
    ['a wrapper', ['timeout', '24h', 'torchrun', '--nproc_per_node=4', 'train.py']],
    ['eval', ['bash', '-c', 'eval "$TRAIN_COMMAND"']],
  ])('spec.nprocPerNode is not said to have no effect when the command line may run torchrun: %s', (_name, command) => {
    expect(problemsOf(job({ command }, { nprocPerNode: '4' }))).toEqual([]);
  });

  test('spec.nprocPerNode on a script that certainly does not run torchrun', () => {
    const command = ['bash', '-c', 'pip install -r requirements.txt && python train.py --nproc_per_node=4'];
    expect(problemsOf(job({ command }, { nprocPerNode: '4' })).map(formatProblem)).toEqual([MASTER_CONTAINER, WORKER_CONTAINER].map(at =>
      `spec.nprocPerNode: "4" has no effect on ${at}, which does not run torchrun, but the operator still counts it in WORLD_SIZE`));
  });

  test('a bad flag in a script is reported at the script, by name', () => {
    const master = { command: ['bash', '-c', 'torchrun --nnodes=3 train.py'] };
    expect(problemsOf(job({ command: ['bash', '-c'], args: [SETUP_AND_TORCHRUN.replace('--max_restarts=3', '--max_restarts=-1')] }, {}, master))).toEqual([{
      path: `${WORKER_CONTAINER}.args[0]`, message: '--max_restarts "-1" must be a whole number of at least 0', kind: OPERATIONAL,
    }]);
    expect(problemsOf(job({ command: ['/bin/sh', '-c', 'cd /workspace && torchrun --nnodes=2:1 train.py'] }, {}, master))).toEqual([{
      path: `${WORKER_CONTAINER}.command[2]`, message: '--nnodes "2:1": minimum 2 is above maximum 1', kind: OPERATIONAL,
    }]);
  });

  test('--standalone in a PyTorchJob', () => {
    const message = '--standalone gives each pod a rendezvous of its own on localhost instead of the one the operator injects: the pods never form one world; leave it out';
    expect(problemsOf(job({ command: ['/bin/sh', '-c', 'torchrun --standalone --nproc_per_node=2 train.py'] }, { nprocPerNode: '2' }))).toEqual([
      { path: `${MASTER_CONTAINER}.command[2]`, message, kind: OPERATIONAL },
      { path: `${WORKER_CONTAINER}.command[2]`, message, kind: OPERATIONAL },
    ]);
  });

  test.each<[string, string, string]>([
    ['--master_addr 10.0.0.1', 'args[0]',
      '--master_addr "10.0.0.1" overrides the PET_MASTER_ADDR "test-master-0" the operator injects: the pods never meet at one master; leave it out'],
    ['--nnodes=4', 'args[0]',
      '--nnodes "4" overrides the PET_NNODES "3" the operator injects: torchrun waits for another number of nodes than the operator starts; leave it out'],
    ['--node_rank=0', 'args[0]',
      '--node_rank "0" overrides the PET_NODE_RANK the operator injects ("1", "2" in the pods): the pods\' ranks collide or leave a gap, so the world never completes; leave it out'],
    ['--master_port=29500', 'args[0]',
      '--master_port "29500" overrides the PET_MASTER_PORT "23456" the operator injects: pods that follow the operator look for the master on another port; set the Master\'s pytorchjob-port instead'],
  ])('%s on the Workers\' torchrun', (flag, at, message) => {
    const master = { command: ['bash', '-c', 'torchrun train.py'] };
    expect(problemsOf(job({ command: ['bash', '-c'], args: [`cd /workspace && NCCL_DEBUG=INFO torchrun ${flag} train.py`] }, { nprocPerNode: '4' }, master))).toEqual([
      { path: `${WORKER_CONTAINER}.${at}`, message, kind: OPERATIONAL },
    ]);
  });

  test('--nproc_per_node other than spec.nprocPerNode runs with the flag\'s count: a warning, not an error', () => {
    const master = { command: ['bash', '-c', 'torchrun train.py'] };
    expect(problemsOf(job({ command: ['bash', '-c'], args: ['torchrun --nproc_per_node 8 train.py'] }, { nprocPerNode: '4' }, master))).toEqual([{
      path: `${WORKER_CONTAINER}.args[0]`,
      message: '--nproc_per_node "8" wins over the spec.nprocPerNode "4" the operator injects as PET_NPROC_PER_NODE: '
        + 'torchrun starts the flag\'s number of processes, but the WORLD_SIZE in the container\'s environment counts the other; make them agree',
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }]);
  });

  test('the same rules without a shell', () => {
    expect(problemsOf(job({ command: ['torchrun', '--nnodes', '2', '--master_addr=10.0.0.1', 'train.py'] }, {}, { command: ['torchrun', 'train.py'] }))).toEqual([
      {
        path: `${WORKER_CONTAINER}.command[2]`,
        message: '--nnodes "2" overrides the PET_NNODES "3" the operator injects: torchrun waits for another number of nodes than the operator starts; leave it out',
        kind: OPERATIONAL,
      },
      {
        path: `${WORKER_CONTAINER}.command[3]`,
        message: '--master_addr "10.0.0.1" overrides the PET_MASTER_ADDR "test-master-0" the operator injects: the pods never meet at one master; leave it out',
        kind: OPERATIONAL,
      },
    ]);
  });

  test('an elastic job whose torchrun goes its own way', () => {
    const command = ['bash', '-c', 'torchrun --nnodes=2 --rdzv_backend=etcd --rdzv_endpoint=etcd-service:2379 --rdzv_id=run-2 --max_restarts=1 train.py'];
    const elastic = jobWith({ Worker: replica(2, [container({ command })]) }, { elasticPolicy: { rdzvBackend: 'c10d', minReplicas: 1, maxReplicas: 3, rdzvId: 'run-1', maxRestarts: 2 } });
    const path = `${WORKER_CONTAINER}.command[2]`;
    expect(problemsOf(elastic)).toEqual([
      { path, message: '--nnodes "2" overrides the PET_NNODES "1:3" the operator injects: torchrun waits for another number of nodes than the operator starts; leave it out', kind: OPERATIONAL },
      { path, message: '--rdzv_backend "etcd" overrides the PET_RDZV_BACKEND "c10d" the operator injects: torchrun no longer follows the elastic policy; set elasticPolicy.rdzvBackend instead', kind: OPERATIONAL },
      {
        path,
        message: '--rdzv_endpoint "etcd-service:2379" overrides the PET_RDZV_ENDPOINT "test-worker-0:23456" the operator injects: torchrun no longer follows the elastic policy; set elasticPolicy.rdzvHost and elasticPolicy.rdzvPort instead',
        kind: OPERATIONAL,
      },
      { path, message: '--rdzv_id "run-2" overrides the PET_RDZV_ID "run-1" the operator injects: torchrun no longer follows the elastic policy; set elasticPolicy.rdzvId instead', kind: OPERATIONAL },
      { path, message: '--max_restarts "1" overrides the PET_MAX_RESTARTS "2" the operator injects: torchrun no longer follows the elastic policy; set elasticPolicy.maxRestarts instead', kind: OPERATIONAL },
    ]);
  });

  test('a shell-wrapped torchrun with several processes needs /dev/shm, counted from its flag', () => {
    const withoutShm = job({ command: ['bash', '-c', 'torchrun --nproc_per_node=4 train.py'] }, { nprocPerNode: '4' });
    delete withoutShm.spec.pytorchReplicaSpecs.Worker.template.spec.volumes;
    delete withoutShm.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].volumeMounts;
    expect(problemsOf(withoutShm).map(formatProblem)).toEqual([
      `${WORKER_CONTAINER}.volumeMounts: has no memory-backed volume at /dev/shm while 4 processes share the pod: DataLoader workers may exhaust the runtime's 64 MiB`,
    ]);
  });

  describe('findTorchrun', () => {
    const AT = 'c';

    test('torchrun found for certain, with certain and uncertain options, up to a word that may split', () => {
      expect(findTorchrun({ command: ['bash', '-c', 'torchrun --nnodes=2 --nproc_per_node="$N" --max_restarts 3 $EXTRA --nnodes=0 train.py'] }, AT)).toEqual({
        launches: [{
          options: [
            { name: 'nnodes', value: '2', path: 'c.command[2]' },
            { name: 'nproc_per_node', path: 'c.command[2]' },
            { name: 'max_restarts', value: '3', path: 'c.command[2]' },
          ],
          allOptionsRead: false,
        }],
        fullyRead: true,
      });
    });

    test('every start of torchrun, and its options up to the script or module', () => {
      const use = findTorchrun({ command: ['torchrun', '--standalone', '-r', '2', '-m', 'pkg.prep'], args: ['&&'] }, AT);
      expect(use).toEqual({ launches: [{ options: [{ name: 'standalone', path: 'c.command[1]' }, { name: 'redirects', value: '2', path: 'c.command[3]' }], allOptionsRead: true }], fullyRead: true });
      const script = findTorchrun({ command: ['sh', '-c', 'torchrun --nproc_per_node=1 prep.py && torchrun --nproc-per-node=8 train.py --nproc_per_node=2'] }, AT);
      expect(script.launches.map(launch => optionValue(launch, 'nproc_per_node'))).toEqual(['1', '8']);
    });

    test('certainly no torchrun, and cannot tell', () => {
      expect(findTorchrun({ command: ['bash', '-c', 'set -e; pip install .; python train.py'] }, AT)).toEqual({ launches: [], fullyRead: true });
      for (const command of [['bash', 'run.sh'], ['bash', '-c', '$CMD'], ['bash', '-c', 'for i in 1; do torchrun x; done'], ['python', '-c', 'import torch'], ['uv', 'run', 'torchrun', 'x']]) {
        expect(findTorchrun({ command }, AT)).toEqual({ launches: [], fullyRead: false });
      }
      // Without a command the image's entrypoint runs first.
      expect(findTorchrun({ args: ['torchrun', 'train.py'] }, AT)).toEqual({ launches: [{ options: [], allOptionsRead: true }], fullyRead: false });
    });

    test('optionValue: written, certainly absent (null), or not shown (undefined)', () => {
      const [launch] = findTorchrun({ command: ['sh', '-c', 'torchrun --nnodes=$N $FLAGS train.py'] }, AT).launches;
      expect([optionValue(launch, 'nnodes'), optionValue(launch, 'nproc_per_node')]).toEqual([undefined, undefined]);
      const [plain] = findTorchrun({ command: ['torchrun', '--nnodes=2', 'train.py'] }, AT).launches;
      expect([optionValue(plain, 'nnodes'), optionValue(plain, 'nproc_per_node')]).toEqual(['2', null]);
    });

    test('an option this reader does not know ends what is known, rather than guessing whether it takes a value', () => {
      expect(findTorchrun({ command: ['torchrun', '--nnodes=2', '--future-flag', 'x', '--nnodes=0', 'train.py'] }, AT).launches).toEqual([
        { options: [{ name: 'nnodes', value: '2', path: 'c.command[1]' }], allOptionsRead: false },
      ]);
    });
  });
});

describe('checkPyTorchJob: the operator\'s environment variables', () => {
  /** The warning for a variable the operator appends again, with the value it appends (as shown). */
  function overridden(path: string, name: string, value: string): Problem {
    return {
      path,
      message: `"${name}" is set by the training operator, which appends ${value} after yours, and the last value wins: remove it`,
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    };
  }

  function withEnv(replicaSpecs: Json, names: string[], spec: Json = {}, value = 'x'): Json {
    const env = names.map(name => ({ name, value }));
    for (const replicaSpec of Object.values(replicaSpecs)) replicaSpec.template.spec.containers[0].env = env;
    return jobWith(replicaSpecs, spec);
  }

  test('a job with a Master warns of MASTER_ADDR, WORLD_SIZE, RANK, PET_NNODES and PYTHONUNBUFFERED with other values, on every replica', () => {
    const names = ['NCCL_DEBUG', 'MASTER_ADDR', 'WORLD_SIZE', 'RANK', 'PET_NNODES', 'PYTHONUNBUFFERED'];
    const job = withEnv({ Master: replica(1), Worker: replica(1) }, names);
    const appended: { [type: string]: string[] } = {
      Master: ['"test-master-0"', '"2"', '"0"', '"2"', '"1"'],
      Worker: ['"test-master-0"', '"2"', '"1"', '"2"', '"1"'],
    };
    expect(problemsOf(job)).toEqual(['Master', 'Worker'].flatMap(type => names.slice(1).map((name, i) =>
      overridden(`spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].env[${i + 1}].name`, name, appended[type][i]))));
  });

  test('the same value as the operator\'s is harmless, as upstream manifests write PYTHONUNBUFFERED=1', () => {
    const job = validJob();
    for (const type of ['Master', 'Worker']) {
      job.spec.pytorchReplicaSpecs[type].template.spec.containers[0].env = [
        { name: 'PYTHONUNBUFFERED', value: '1' }, { name: 'MASTER_ADDR', value: 'test-master-0' }, { name: 'MASTER_PORT', value: '23456' },
      ];
    }
    expect(problemsOf(job)).toEqual([]);
  });

  test('a rank differs per pod: no one value matches all Workers', () => {
    const job = withEnv({ Master: replica(1), Worker: replica(3) }, ['RANK'], {}, '1');
    expect(problemsOf(job)).toEqual([
      overridden('spec.pytorchReplicaSpecs[Master].template.spec.containers[0].env[0].name', 'RANK', '"0"'),
      overridden(`${WORKER_CONTAINERS}[0].env[0].name`, 'RANK', 'its own value ("1", "3" in the pods)'),
    ]);
  });

  test('the full list injected into a job with a Master', () => {
    const names = ['PYTHONUNBUFFERED', 'MASTER_PORT', 'PET_MASTER_PORT', 'MASTER_ADDR', 'PET_MASTER_ADDR', 'WORLD_SIZE', 'RANK', 'PET_NODE_RANK', 'PET_NPROC_PER_NODE', 'PET_NNODES'];
    const problems = problemsOf(withEnv({ Master: replica(1) }, names));
    expect(problems.map(p => p.path.replace(/.*\.env\[(\d+)\]\.name$/, '$1'))).toEqual(names.map((_, i) => String(i)));
    expect(problems.every(p => p.severity === Severity.WARNING)).toBe(true);
  });

  test('a Worker-only job leaves MASTER_ADDR, WORLD_SIZE and RANK to the user, but not PET_NNODES', () => {
    const job = withEnv({ Worker: replica(2) }, ['MASTER_ADDR', 'WORLD_SIZE', 'RANK', 'PET_NNODES']);
    expect(problemsOf(job)).toEqual([overridden(`${WORKER_CONTAINERS}[0].env[3].name`, 'PET_NNODES', '"2"')]);
  });

  test('an elastic job warns of the rendezvous variables', () => {
    const job = withEnv({ Worker: replica(2) }, ['PET_RDZV_ENDPOINT', 'PET_RDZV_BACKEND', 'PET_MAX_RESTARTS'],
      { elasticPolicy: { rdzvBackend: 'c10d', minReplicas: 1, maxReplicas: 2, maxRestarts: 3 } });
    expect(problemsOf(job)).toEqual([
      overridden(`${WORKER_CONTAINERS}[0].env[0].name`, 'PET_RDZV_ENDPOINT', '"test-worker-0:23456"'),
      overridden(`${WORKER_CONTAINERS}[0].env[1].name`, 'PET_RDZV_BACKEND', '"c10d"'),
      overridden(`${WORKER_CONTAINERS}[0].env[2].name`, 'PET_MAX_RESTARTS', '"3"'),
    ]);
  });
});

describe('checkPodTemplate', () => {
  const TEMPLATE = 'spec.template';
  const CONTAINER = `${TEMPLATE}.spec.containers[0]`;
  const NONE: InjectedEnv = new Map();

  function template(containerFields: Json, volumes?: Json[]): Json {
    return { spec: { containers: [container(containerFields)], ...(volumes ? { volumes } : {}) } };
  }

  function resources(requests: Json | undefined, limits: Json | undefined): Json {
    return template({ resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });
  }

  test('accepts a template without resources, env or volumes, and one that is not an object', () => {
    expect(checkPodTemplate(template({}), TEMPLATE, NONE)).toEqual([]);
    expect(checkPodTemplate(undefined, TEMPLATE, NONE)).toEqual([]);
  });

  test('a negative quantity', () => {
    expect(checkPodTemplate(resources(undefined, { cpu: '-1' }), TEMPLATE, NONE)).toEqual([
      { path: `${CONTAINER}.resources.limits[cpu]`, message: '"-1" is negative: a resource quantity must be at least 0', kind: OPERATIONAL },
    ]);
  });

  test('a request equal to its limit in other units is not above it', () => {
    expect(checkPodTemplate(resources({ cpu: '700m', memory: '1024Mi' }, { cpu: '0.7', memory: '1Gi' }), TEMPLATE, NONE)).toEqual([]);
    expect(checkPodTemplate(resources({ cpu: '2300m' }, { cpu: '2.3' }), TEMPLATE, NONE)).toEqual([]);
  });

  test.each([0, 70000, 1.5])('container port %p', (containerPort) => {
    expect(checkPodTemplate(template({ ports: [{ name: 'pytorchjob-port', containerPort }] }), TEMPLATE, NONE)).toEqual([
      { path: `${CONTAINER}.ports[0].containerPort`, message: `${containerPort} is not a port: use a whole number from 1 to 65535`, kind: OPERATIONAL },
    ]);
  });

  test('two volumes with the same name', () => {
    const volumes = [{ name: 'data', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'imagenet' } }];
    expect(checkPodTemplate(template({}, volumes), TEMPLATE, NONE)).toEqual([
      { path: `${TEMPLATE}.spec.volumes[1].name`, message: '"data" names two volumes: each volume needs its own name', kind: OPERATIONAL },
    ]);
  });

  test('a value that is not a Kubernetes quantity', () => {
    expect(checkPodTemplate(resources(undefined, { memory: '16 GiB' }), TEMPLATE, NONE)).toEqual([
      { path: `${CONTAINER}.resources.limits[memory]`, message: '"16 GiB" is not a Kubernetes quantity (such as 4, 500m or 16Gi)', kind: OPERATIONAL },
    ]);
  });

  test.each(['1.5', '500m', 0.5])('a GPU count of %p, not whole devices', (count) => {
    expect(checkPodTemplate(resources(undefined, { 'nvidia.com/gpu': count }), TEMPLATE, NONE)).toEqual([{
      path: `${CONTAINER}.resources.limits[nvidia.com/gpu]`,
      message: `${JSON.stringify(count)} is not a whole number: nvidia.com/gpu is counted in whole devices`,
      kind: OPERATIONAL,
    }]);
  });

  test('an extended resource whose request differs from its limit', () => {
    expect(checkPodTemplate(resources({ 'nvidia.com/gpu': 2 }, { 'nvidia.com/gpu': 1 }), TEMPLATE, NONE)).toEqual([{
      path: `${CONTAINER}.resources.requests[nvidia.com/gpu]`,
      message: '2 differs from limits[nvidia.com/gpu] 1: an extended resource such as a GPU must have a limit equal to its request',
      kind: OPERATIONAL,
    }]);
  });

  test('an extended resource requested without a limit', () => {
    expect(checkPodTemplate(resources({ 'amd.com/gpu': 1 }, { cpu: '4' }), TEMPLATE, NONE)).toEqual([{
      path: `${CONTAINER}.resources.requests[amd.com/gpu]`,
      message: '1 differs from limits[amd.com/gpu] (omitted): an extended resource such as a GPU must have a limit equal to its request',
      kind: OPERATIONAL,
    }]);
  });

  test('an extended resource with a limit only, or equal request and limit written differently, is fine', () => {
    expect(checkPodTemplate(resources(undefined, { 'nvidia.com/gpu': 8 }), TEMPLATE, NONE)).toEqual([]);
    expect(checkPodTemplate(resources({ 'nvidia.com/gpu': '2' }, { 'nvidia.com/gpu': 2 }), TEMPLATE, NONE)).toEqual([]);
  });

  test.each([
    ['cpu', '4', '2000m'],
    ['cpu', '1001m', '1'],
    ['memory', '32Gi', '16Gi'],
    ['memory', '1025Mi', '1Gi'],
    ['ephemeral-storage', '101Gi', '100Gi'],
  ])('a %s request of %s above its limit of %s', (name, request, limit) => {
    expect(checkPodTemplate(resources({ [name]: request }, { [name]: limit }), TEMPLATE, NONE)).toEqual([{
      path: `${CONTAINER}.resources.requests[${name}]`,
      message: `"${request}" is above its limit "${limit}": a request may not exceed its limit`,
      kind: OPERATIONAL,
    }]);
  });

  test.each([
    ['cpu', '2000m', '2'],
    ['cpu', '500m', '0.5'],
    ['memory', '1024Mi', '1Gi'],
    ['memory', '1G', '1Gi'],
  ])('a %s request of %s within its limit of %s', (name, request, limit) => {
    expect(checkPodTemplate(resources({ [name]: request }, { [name]: limit }), TEMPLATE, NONE)).toEqual([]);
  });

  test('a request without a limit is not compared', () => {
    expect(checkPodTemplate(resources({ cpu: '64', memory: '1Ti' }, undefined), TEMPLATE, NONE)).toEqual([]);
  });

  test('an environment variable set twice', () => {
    const env = [{ name: 'NCCL_DEBUG', value: 'WARN' }, { name: 'LR', value: '0.1' }, { name: 'NCCL_DEBUG', value: 'INFO' }];
    expect(checkPodTemplate(template({ env }), TEMPLATE, NONE)).toEqual([
      { path: `${CONTAINER}.env[2].name`, message: '"NCCL_DEBUG" is set twice: each environment variable may be set once', kind: OPERATIONAL },
    ]);
  });

  test('an environment variable the operator injects with another value is a warning; with the same value, nothing', () => {
    const env = [{ name: 'MASTER_ADDR', value: 'localhost' }, { name: 'PYTHONUNBUFFERED', value: '1' }, { name: 'RANK', value: '1' }];
    const injected: InjectedEnv = new Map([['MASTER_ADDR', ['job-master-0']], ['PYTHONUNBUFFERED', ['1']], ['RANK', ['1', '2']]]);
    expect(checkPodTemplate(template({ env }), TEMPLATE, NONE)).toEqual([]);
    expect(checkPodTemplate(template({ env }), TEMPLATE, injected)).toEqual([{
      path: `${CONTAINER}.env[0].name`,
      message: '"MASTER_ADDR" is set by the training operator, which appends "job-master-0" after yours, and the last value wins: remove it',
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }, {
      path: `${CONTAINER}.env[2].name`,
      message: '"RANK" is set by the training operator, which appends its own value ("1", "2" in the pods) after yours, and the last value wins: remove it',
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }]);
  });

  test('a second mount at /dev/shm names the shared-memory switch', () => {
    const volumes = [{ name: 'shm', emptyDir: { medium: 'Memory' } }, { name: 'my-shm', emptyDir: {} }];
    const volumeMounts = [{ name: 'shm', mountPath: '/dev/shm' }, { name: 'my-shm', mountPath: '/dev/shm' }];
    expect(checkPodTemplate(template({ volumeMounts }, volumes), TEMPLATE, NONE)).toEqual([{
      path: `${CONTAINER}.volumeMounts[1].mountPath`,
      message: '"/dev/shm" is mounted twice: each path takes one volume (a job built with the constructs mounts its shared memory there unless given SharedMemory.disabled())',
      kind: OPERATIONAL,
    }]);
  });

  test('two mounts at the same other path', () => {
    const volumes = [{ name: 'a', emptyDir: {} }, { name: 'b', emptyDir: {} }];
    const volumeMounts = [{ name: 'a', mountPath: '/data' }, { name: 'b', mountPath: '/data' }];
    expect(checkPodTemplate(template({ volumeMounts }, volumes), TEMPLATE, NONE)).toEqual([
      { path: `${CONTAINER}.volumeMounts[1].mountPath`, message: '"/data" is mounted twice: each path takes one volume', kind: OPERATIONAL },
    ]);
  });

  test('a mount of a volume the pod does not have', () => {
    const volumeMounts = [{ name: 'checkpoints', mountPath: '/checkpoints' }];
    expect(checkPodTemplate(template({ volumeMounts }), TEMPLATE, NONE)).toEqual([
      { path: `${CONTAINER}.volumeMounts[0].name`, message: '"checkpoints" is not a volume of the pod', kind: OPERATIONAL },
    ]);
  });

  test('checks every container, at its own index', () => {
    const tpl = { spec: { containers: [container(), container({ name: 'sidecar', env: [{ name: 'A' }, { name: 'A' }] })] } };
    expect(checkPodTemplate(tpl, TEMPLATE, NONE)).toEqual([
      { path: `${TEMPLATE}.spec.containers[1].env[1].name`, message: '"A" is set twice: each environment variable may be set once', kind: OPERATIONAL },
    ]);
  });

  test('is what checkPyTorchJob applies to each replica\'s template', () => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].volumeMounts = [{ name: 'missing', mountPath: '/m' }];
    expect(problemsOf(job)).toEqual([
      { path: `${WORKER_CONTAINERS}[0].volumeMounts[0].name`, message: '"missing" is not a volume of the pod', kind: OPERATIONAL },
    ]);
  });
});

describe('checkTrainingBatchJob (the batch/v1 Job of a single-node torchrun job)', () => {
  function batchJob(): Json {
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [container({ command: ['torchrun', '--standalone', '--nnodes=1', '--nproc_per_node=2', 'train.py'], volumeMounts: [SHM_MOUNT] })],
            volumes: [SHM_VOLUME],
          },
        },
      },
    };
  }

  test('two processes without a memory-backed /dev/shm', () => {
    const job = batchJob();
    delete job.spec.template.spec.containers[0].volumeMounts;
    delete job.spec.template.spec.volumes;
    expect(checkTrainingBatchJob(job).map(formatProblem)).toEqual([
      'spec.template.spec.containers[0].volumeMounts: has no memory-backed volume at /dev/shm while 2 processes share the pod: DataLoader workers may exhaust the runtime\'s 64 MiB',
    ]);
  });

  test('accepts a valid Job, whose container may set MASTER_ADDR (no operator injects it)', () => {
    const job = batchJob();
    job.spec.template.spec.containers[0].env = [{ name: 'MASTER_ADDR', value: 'localhost' }];
    expect(checkTrainingBatchJob(job)).toEqual([]);
  });

  test('a name that is not a DNS-1035 label', () => {
    const job = batchJob();
    job.metadata.name = 'Train';
    expect(checkTrainingBatchJob(job)).toEqual([{ path: 'metadata.name', message: `"Train" ${DNS_1035}`, kind: OPERATIONAL }]);
  });

  test('counts below their minimum', () => {
    const job = batchJob();
    Object.assign(job.spec, { backoffLimit: -1, ttlSecondsAfterFinished: 1.5, activeDeadlineSeconds: 0 });
    expect(checkTrainingBatchJob(job)).toEqual([
      { path: 'spec.backoffLimit', message: '-1 must be a whole number of at least 0', kind: OPERATIONAL },
      { path: 'spec.ttlSecondsAfterFinished', message: '1.5 must be a whole number of seconds, at least 0', kind: OPERATIONAL },
      { path: 'spec.activeDeadlineSeconds', message: '0 must be a whole number of seconds, at least 1', kind: OPERATIONAL },
    ]);
  });

  test.each([['Always', '"Always"'], [undefined, '(omitted)']])('pod restartPolicy %p', (restartPolicy, shown) => {
    const job = batchJob();
    job.spec.template.spec.restartPolicy = restartPolicy;
    expect(checkTrainingBatchJob(job)).toEqual([
      { path: 'spec.template.spec.restartPolicy', message: `${shown} is not allowed in a Job: use "Never" or "OnFailure"`, kind: OPERATIONAL },
    ]);
  });

  test('an empty image, a bad torchrun flag and a pod-template problem', () => {
    const job = batchJob();
    Object.assign(job.spec.template.spec.containers[0], {
      image: ' ',
      command: ['torchrun', '--standalone', '--nproc_per_node=0', 'train.py'],
      env: [{ name: 'A' }, { name: 'A' }],
    });
    expect(checkTrainingBatchJob(job)).toEqual([
      { path: 'spec.template.spec.containers[0].image', message: '" " is empty: every container needs an image', kind: OPERATIONAL },
      {
        path: 'spec.template.spec.containers[0].command[2]',
        message: '--nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1',
        kind: OPERATIONAL,
      },
      { path: 'spec.template.spec.containers[0].env[1].name', message: '"A" is set twice: each environment variable may be set once', kind: OPERATIONAL },
    ]);
  });

  test('torchrun --standalone started from a shell', () => {
    const job = batchJob();
    job.spec.template.spec.containers[0].command = ['bash', '-c', 'pip install -e . && exec torchrun --standalone --nnodes=1 --nproc_per_node=2 train.py'];
    expect(checkTrainingBatchJob(job)).toEqual([]);
  });

  test('a shell-wrapped torchrun: its bad flag at the script, its process count for /dev/shm', () => {
    const job = batchJob();
    const container0 = job.spec.template.spec.containers[0];
    container0.command = ['bash', '-c'];
    container0.args = ['torchrun --standalone --nproc_per_node=0 train.py'];
    expect(checkTrainingBatchJob(job)).toEqual([{
      path: 'spec.template.spec.containers[0].args[0]',
      message: '--nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1',
      kind: OPERATIONAL,
    }]);
    container0.args = ['cd /app\ntorchrun --standalone --nproc_per_node=4 train.py'];
    delete container0.volumeMounts;
    expect(checkTrainingBatchJob(job).map(formatProblem)).toEqual([
      'spec.template.spec.containers[0].volumeMounts: has no memory-backed volume at /dev/shm while 4 processes share the pod: DataLoader workers may exhaust the runtime\'s 64 MiB',
    ]);
  });

  test('torchrun\'s flags given to another program, and to a shell that passes them on', () => {
    const job = batchJob();
    job.spec.template.spec.containers[0].command = ['python', 'train.py', '--standalone', '--nproc_per_node=2'];
    expect(checkTrainingBatchJob(job)).toEqual([{
      path: 'spec.template.spec.containers[0].command[0]',
      message: '"python" is given torchrun\'s flags but is not torchrun: use torchrun or python -m torch.distributed.run',
      kind: OPERATIONAL,
    }]);
    job.spec.template.spec.containers[0].command = ['bash', '-c', 'exec torchrun "$@"', '--', '--standalone', '--nproc_per_node=2', 'train.py'];
    expect(checkTrainingBatchJob(job)).toEqual([]);
  });
});

describe('parseQuantity', () => {
  test.each([
    ['4', 4],
    [4, 4],
    ['500m', 0.5],
    ['16Gi', 17179869184],
    ['1536Mi', 1610612736],
    ['1k', 1000],
    ['1e3', 1000],
    ['1E3', 1000],
    ['.5', 0.5],
    ['+2', 2],
    ['-1', -1],
    ['100n', 1e-7],
  ])('%p is %p', (quantity, value) => {
    expect(parseQuantity(quantity)).toBeCloseTo(value, 12);
  });

  test('decimal suffixes parse exactly, so that equal quantities compare equal', () => {
    expect(parseQuantity('700m')).toBe(parseQuantity('0.7'));
    expect(parseQuantity('2300m')).toBe(parseQuantity('2.3'));
    expect(parseQuantity('1500M')).toBe(parseQuantity('1.5G'));
  });

  test.each(['16 GiB', '16GB', 'Gi', '', 'one', '1.2.3', Infinity, NaN, null, undefined, true])('%p is not a quantity', (quantity) => {
    expect(parseQuantity(quantity)).toBeUndefined();
  });
});

describe('problem helpers', () => {
  test('formatProblem writes "<path>: <message>"', () => {
    expect(formatProblem({ path: 'spec.runPolicy.backoffLimit', message: '-1 must be a whole number of at least 0', kind: OPERATIONAL }))
      .toBe('spec.runPolicy.backoffLimit: -1 must be a whole number of at least 0');
  });

  test('show renders JSON, or (omitted) for undefined', () => {
    expect(show(undefined)).toBe('(omitted)');
    expect(show('x')).toBe('"x"');
    expect(show(0)).toBe('0');
    expect(show(null)).toBe('null');
    expect(show([])).toBe('[]');
  });

  test('isWholeNumber takes integers at or above the minimum only', () => {
    expect(isWholeNumber(0, 0)).toBe(true);
    expect(isWholeNumber(3, 1)).toBe(true);
    expect(isWholeNumber(0, 1)).toBe(false);
    expect(isWholeNumber(1.5, 0)).toBe(false);
    expect(isWholeNumber('1', 0)).toBe(false);
    expect(isWholeNumber(undefined, 0)).toBe(false);
  });
});
