import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  Elastic, Entrypoint, KueueTopology, Master, Nnodes, PyTorchElasticJob, PyTorchElasticJobProps, PyTorchJob, PyTorchJobProps, Scheduling, Worker,
} from '../src';
import { expectValidPyTorchJob } from './support/crd-schema';
import { synthJob } from './support/synth';
import { synthElastic } from './support/synth-elastic';
import { checkTrainingBatchJob } from '../src/rules/batch-job';
import { formatProblem, Json, Problem, ProblemKind, Severity } from '../src/rules/problem';
import { checkPyTorchJob } from '../src/rules/pytorchjob';

const IMAGE = 'ghcr.io/example/train:2.4.0';
const OPERATIONAL = ProblemKind.OPERATIONAL;

function pytorchJob(props: Partial<PyTorchJobProps>): Json {
  const chart = Testing.chart();
  new PyTorchJob(chart, 'job', { metadata: { name: 'bert' }, image: IMAGE, command: ['torchrun', 'train.py'], worker: new Worker({ replicas: 3 }), ...props });
  return synthJob(chart);
}

function elasticJob(nnodes: Nnodes, props: Partial<PyTorchElasticJobProps>): Json {
  const chart = Testing.chart();
  new PyTorchElasticJob(chart, 'job', { metadata: { name: 'bert' }, image: IMAGE, entrypoint: Entrypoint.script('train.py'), elastic: new Elastic({ nnodes }), ...props });
  return synthElastic(chart, nnodes.max > 1 ? 'PyTorchJob' : 'Job');
}

function template(job: Json, type: 'Master' | 'Worker'): Json {
  return job.spec.pytorchReplicaSpecs[type].template;
}

describe('Kueue', () => {
  test('the queue and priority labels on the job itself, not on its pods; neither suspend nor managedBy written', () => {
    const job = pytorchJob({ scheduling: Scheduling.kueue({ queueName: 'team-a', priorityClass: 'high' }), metadata: { name: 'bert', labels: { team: 'a' } } });
    expect(job.metadata.labels).toEqual({ 'team': 'a', 'kueue.x-k8s.io/queue-name': 'team-a', 'kueue.x-k8s.io/priority-class': 'high' });
    expect(job.spec.runPolicy).toEqual({ cleanPodPolicy: 'None' });
    for (const type of ['Master', 'Worker'] as const) {
      expect(template(job, type).metadata).toBeUndefined();
      expect(template(job, type).spec.schedulerName).toBeUndefined();
    }
  });

  test('topology-aware scheduling: annotations per pod set, a pod set of its own overriding, slices and a group', () => {
    const job = pytorchJob({
      scheduling: Scheduling.kueue({
        queueName: 'team-a',
        topology: KueueTopology.preferred('cloud.google.com/gce-topology-block'),
        workerTopology: KueueTopology.required('cloud.google.com/gce-topology-block', { sliceLevel: 'cloud.google.com/gce-topology-host', sliceSize: 3 }),
        groupPodSets: true,
      }),
    });
    expect(template(job, 'Master').metadata.annotations).toEqual({
      'kueue.x-k8s.io/podset-preferred-topology': 'cloud.google.com/gce-topology-block',
      'kueue.x-k8s.io/podset-group-name': 'bert',
    });
    expect(template(job, 'Worker').metadata.annotations).toEqual({
      'kueue.x-k8s.io/podset-required-topology': 'cloud.google.com/gce-topology-block',
      'kueue.x-k8s.io/podset-slice-required-topology': 'cloud.google.com/gce-topology-host',
      'kueue.x-k8s.io/podset-slice-size': '3',
      'kueue.x-k8s.io/podset-group-name': 'bert',
    });
  });

  test('unconstrained topology, and the user\'s own pod annotations kept beside', () => {
    const job = pytorchJob({ scheduling: Scheduling.kueue({ queueName: 'q', topology: KueueTopology.unconstrained() }), podAnnotations: { 'example.com/owner': 'ml' } });
    expect(template(job, 'Worker').metadata.annotations).toEqual({ 'example.com/owner': 'ml', 'kueue.x-k8s.io/podset-unconstrained-topology': 'true' });
  });

  test('an elastic job with a fixed node count is queued; its one pod set is the Workers', () => {
    const job = elasticJob(Nnodes.fixed(4), { scheduling: Scheduling.kueue({ queueName: 'q', topology: KueueTopology.required('rack') }) });
    expect(job.metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'q' });
    expect(job.spec.pytorchReplicaSpecs.Worker.template.metadata.annotations).toEqual({ 'kueue.x-k8s.io/podset-required-topology': 'rack' });
  });

  test('the single-node Job gets the queue and priority labels only', () => {
    const job = elasticJob(Nnodes.fixed(1), { scheduling: Scheduling.kueue({ queueName: 'q', priorityClass: 'low' }) });
    expect(job.metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'q', 'kueue.x-k8s.io/priority-class': 'low' });
    expect(job.spec.suspend).toBeUndefined();
    expect(job.spec.template.metadata).toBeUndefined();
  });
});

describe('Volcano', () => {
  test('schedulerName volcano on every pod, and the scheduling policy with minAvailable every pod by default', () => {
    const job = pytorchJob({ scheduling: Scheduling.volcano({ queue: 'research', priorityClass: 'high', minResources: { cpu: Cpu.units(16), memory: Size.gibibytes(64), gpu: 4 } }) });
    expect(job.spec.runPolicy.schedulingPolicy).toEqual({
      minAvailable: 4, queue: 'research', priorityClass: 'high', minResources: { 'cpu': '16', 'memory': '64Gi', 'nvidia.com/gpu': 4 },
    });
    for (const type of ['Master', 'Worker'] as const) expect(template(job, type).spec.schedulerName).toBe('volcano');
    expect(job.metadata.labels).toBeUndefined();
  });

  test('an elastic job\'s gang is its node minimum', () => {
    const job = elasticJob(Nnodes.range(2, 4), { scheduling: Scheduling.volcano() });
    expect(job.spec.runPolicy.schedulingPolicy).toEqual({ minAvailable: 2 });
    expect(job.spec.pytorchReplicaSpecs.Worker.template.spec.schedulerName).toBe('volcano');
  });
});

describe('scheduler-plugins coscheduling', () => {
  test('its usual install name, minAvailable and the schedule timeout in seconds', () => {
    const job = pytorchJob({ scheduling: Scheduling.coscheduling({ minAvailable: 4, scheduleTimeout: Duration.minutes(10) }) });
    expect(job.spec.runPolicy.schedulingPolicy).toEqual({ minAvailable: 4, scheduleTimeoutSeconds: 600 });
    for (const type of ['Master', 'Worker'] as const) expect(template(job, type).spec.schedulerName).toBe('scheduler-plugins-scheduler');
  });

  test('a scheduler name of one\'s own', () => {
    const job = pytorchJob({ scheduling: Scheduling.coscheduling({ schedulerName: 'coscheduler' }) });
    expect(template(job, 'Worker').spec.schedulerName).toBe('coscheduler');
    expect(job.spec.runPolicy.schedulingPolicy).toEqual({ minAvailable: 4 });
  });
});

describe('KAI', () => {
  test('the queue label on the job and its pods, and schedulerName kai-scheduler', () => {
    const job = pytorchJob({ scheduling: Scheduling.kai({ queue: 'team-a' }) });
    expect(job.metadata.labels).toEqual({ 'kai.scheduler/queue': 'team-a' });
    for (const type of ['Master', 'Worker'] as const) {
      expect(template(job, type).spec.schedulerName).toBe('kai-scheduler');
      expect(template(job, type).metadata.labels).toEqual({ 'kai.scheduler/queue': 'team-a' });
    }
    expect(job.spec.runPolicy).toEqual({ cleanPodPolicy: 'None' });
  });

  test('a single-node Job too', () => {
    const job = elasticJob(Nnodes.fixed(1), { scheduling: Scheduling.kai({ queue: 'team-a' }) });
    expect(job.metadata.labels).toEqual({ 'kai.scheduler/queue': 'team-a' });
    expect(job.spec.template.spec.schedulerName).toBe('kai-scheduler');
  });
});

describe('every integration on every target: the PyTorchJob, the elastic PyTorchJob and the single-node Job', () => {
  /** What each controller reads: the job's labels, every pod's scheduler name and labels, and the operator's scheduling policy. */
  function seen(job: Json): Json {
    const templates: Json[] = job.kind === 'Job' ? [job.spec.template] : Object.values(job.spec.pytorchReplicaSpecs).map((r: any) => r.template);
    const [first, ...others] = templates;
    const read = (pod: Json) => ({ scheduler: pod.spec.schedulerName, labels: pod.metadata?.labels });
    for (const other of others) expect(read(other)).toEqual(read(first));
    return {
      jobLabels: job.metadata.labels,
      schedulerName: first.spec.schedulerName,
      podLabels: first.metadata?.labels,
      schedulingPolicy: job.spec.runPolicy?.schedulingPolicy,
    };
  }
  const targets: Array<[string, (scheduling: Scheduling) => Json, number]> = [
    ['PyTorchJob of 4 pods', scheduling => pytorchJob({ scheduling }), 4],
    ['elastic PyTorchJob of 2 to 2 nodes', scheduling => elasticJob(Nnodes.fixed(2), { scheduling }), 2],
    ['single-node Job', scheduling => elasticJob(Nnodes.fixed(1), { scheduling }), 0],
  ];
  const cases: Array<[string, () => Scheduling, (gang: number) => Json]> = [
    ['Kueue', () => Scheduling.kueue({ queueName: 'team-a', priorityClass: 'high' }),
      () => ({ jobLabels: { 'kueue.x-k8s.io/queue-name': 'team-a', 'kueue.x-k8s.io/priority-class': 'high' } })],
    ['Volcano', () => Scheduling.volcano(),
      gang => ({ schedulerName: 'volcano', schedulingPolicy: gang > 0 ? { minAvailable: gang } : undefined })],
    ['coscheduling', () => Scheduling.coscheduling(),
      gang => ({ schedulerName: 'scheduler-plugins-scheduler', schedulingPolicy: gang > 0 ? { minAvailable: gang } : undefined })],
    ['KAI', () => Scheduling.kai({ queue: 'team-a' }),
      () => ({ jobLabels: { 'kai.scheduler/queue': 'team-a' }, schedulerName: 'kai-scheduler', podLabels: { 'kai.scheduler/queue': 'team-a' } })],
  ];
  const nothing = { jobLabels: undefined, schedulerName: undefined, podLabels: undefined, schedulingPolicy: undefined };
  const table = cases.flatMap(([name, scheduling, expected]) => targets
    .map(([target, build, gang]) => [name, target, scheduling, build, expected(gang)] as const));
  test.each(table)('%s on a %s', (_name, _target, scheduling, build, expected) => {
    expect(seen(build(scheduling()))).toEqual({ ...nothing, ...expected });
  });
});

describe('bad input is refused where the job is built, naming the field', () => {
  const build = (props: Partial<PyTorchJobProps>) => () => new PyTorchJob(Testing.chart(), 'job', { image: IMAGE, worker: new Worker({ replicas: 3 }), ...props });
  const buildElastic = (nnodes: Nnodes, props: Partial<PyTorchElasticJobProps>) => () => new PyTorchElasticJob(Testing.chart(), 'job',
    { image: IMAGE, entrypoint: Entrypoint.script('train.py'), elastic: new Elastic({ nnodes }), ...props });

  test.each(['team a', '-team', 'a'.repeat(64), ''])('a queue name %j that is not a label value', (queueName) => {
    expect(build({ scheduling: Scheduling.kueue({ queueName }) })).toThrow(new Error(`scheduling.queueName: ${JSON.stringify(queueName)} is not a label value: `
      + 'empty, or at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit, and not empty'));
  });

  test('Kueue with an elastic node range', () => {
    expect(buildElastic(Nnodes.range(2, 4), { scheduling: Scheduling.kueue({ queueName: 'q' }) })).toThrow(new Error('scheduling: Kueue cannot run an elastic '
      + 'node range (2 to 4): it does not admit elastic PyTorchJobs, and a change of the Worker count suspends and requeues the whole job; give a fixed node count'));
  });

  test('two schedulers at once: a scheduler name of the pods\' own beside the scheduling\'s', () => {
    expect(build({ schedulerName: 'default-scheduler', scheduling: Scheduling.volcano() })).toThrow(new Error('schedulerName: "default-scheduler" contradicts '
      + 'Scheduling.volcano(), whose pods ask for "volcano": a job has one scheduler'));
    expect(build({ worker: new Worker({ replicas: 3, schedulerName: 'volcano' }), scheduling: Scheduling.kueue({ queueName: 'q' }) })).toThrow(new Error(
      'worker.schedulerName: "volcano" contradicts Scheduling.kueue(), whose pods the cluster\'s default scheduler places: a job has one scheduler'));
    // The same name twice is one scheduler.
    expect(build({ master: new Master({ schedulerName: 'volcano' }), scheduling: Scheduling.volcano() })).not.toThrow();
  });

  test.each([
    [5, 'scheduling.minAvailable: 5 must be a whole number from 4 to 4: the job has 4 pods, so the gang would never be complete'],
    [2, 'scheduling.minAvailable: 2 must be a whole number from 4 to 4: fewer than every pod would start a training that waits for the rest'],
  ])('minAvailable %p on a job of 4 pods', (minAvailable, message) => {
    expect(build({ scheduling: Scheduling.volcano({ minAvailable }) })).toThrow(new Error(message));
  });

  test('minAvailable below the elastic minimum', () => {
    expect(buildElastic(Nnodes.range(3, 4), { scheduling: Scheduling.coscheduling({ minAvailable: 2 }) })).toThrow(new Error(
      'scheduling.minAvailable: 2 must be a whole number from 3 to 4: fewer than the elastic minimum would start a training that waits for the rest'));
  });

  test('gang fields on a single-node Job, and Kueue topology on it', () => {
    expect(buildElastic(Nnodes.fixed(1), { scheduling: Scheduling.volcano({ queue: 'q' }) })).toThrow(new Error('scheduling.queue: cannot be honoured by a '
      + 'single-node job, which is a batch/v1 Job of one pod: there is no gang, and no operator to make a PodGroup; give only the scheduler'));
    expect(buildElastic(Nnodes.fixed(1), { scheduling: Scheduling.kueue({ queueName: 'q', topology: KueueTopology.required('rack') }) })).toThrow(new Error(
      'scheduling.topology: a single-node job is a batch/v1 Job, which Kueue admits as one pod set: it takes the queue and priority labels only'));
  });

  test('a Master topology for a job without a Master, and a slice size that does not divide the pod set', () => {
    expect(buildElastic(Nnodes.fixed(2), { scheduling: Scheduling.kueue({ queueName: 'q', masterTopology: KueueTopology.unconstrained() }) }))
      .toThrow(new Error('scheduling.masterTopology: the job has no Master: use topology'));
    expect(build({ scheduling: Scheduling.kueue({ queueName: 'q', workerTopology: KueueTopology.required('block', { sliceLevel: 'host', sliceSize: 2 }) }) }))
      .toThrow(new Error('scheduling.workerTopology.sliceSize: 2 must be a whole number that divides the 3 pods of pod set "worker"'));
  });

  test('a schedule timeout that is not whole seconds', () => {
    expect(build({ scheduling: Scheduling.coscheduling({ scheduleTimeout: Duration.millis(1500) }) }))
      .toThrow(new Error('scheduling.scheduleTimeout: 1 second 500 millis is not a whole number of seconds'));
  });

  test('a job label that contradicts the scheduling', () => {
    expect(build({ metadata: { labels: { 'kueue.x-k8s.io/queue-name': 'other' } }, scheduling: Scheduling.kueue({ queueName: 'q' }) })).toThrow(new Error(
      'metadata.labels[kueue.x-k8s.io/queue-name]: "other" contradicts the scheduling, which writes "q"'));
  });

  test('a schedule timeout of 0 seconds reaches the rules, which refuse it at synth', () => {
    const chart = new Chart(Testing.app(), 'test');
    new PyTorchJob(chart, 'job', { image: IMAGE, worker: new Worker({ replicas: 3 }), scheduling: Scheduling.coscheduling({ scheduleTimeout: Duration.seconds(0) }) });
    expect(() => Testing.synth(chart)).toThrow(new Error('Validation failed with the following errors:\n'
      + '  [test/job] spec.runPolicy.schedulingPolicy.scheduleTimeoutSeconds: 0 must be a whole number of seconds, at least 1'));
  });
});

describe('the rules recognise each integration in hand-written YAML', () => {
  function handWritten(edit: (job: Json) => void): Json {
    const replica = (replicas: number) => ({
      replicas,
      restartPolicy: 'OnFailure',
      template: { spec: { containers: [{ name: 'pytorch', image: IMAGE, command: ['python', 'train.py'] }] } },
    });
    const job: Json = { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name: 'bert' }, spec: { pytorchReplicaSpecs: { Master: replica(1), Worker: replica(3) } } };
    edit(job);
    expectValidPyTorchJob(job);
    return job;
  }
  const problemsOf = (edit: (job: Json) => void): Problem[] => checkPyTorchJob(handWritten(edit));

  test('each integration, written as its docs show, is clean', () => {
    expect(problemsOf(job => {
      job.metadata.labels = { 'kueue.x-k8s.io/queue-name': 'team-a', 'kueue.x-k8s.io/priority-class': 'high' };
      job.spec.pytorchReplicaSpecs.Worker.template.metadata = { annotations: { 'kueue.x-k8s.io/podset-required-topology': 'rack' } };
    })).toEqual([]);
    expect(problemsOf(job => {
      job.spec.runPolicy = { schedulingPolicy: { minAvailable: 4, queue: 'research', priorityClass: 'high' } };
      for (const replica of Object.values(job.spec.pytorchReplicaSpecs) as Json[]) replica.template.spec.schedulerName = 'volcano';
    })).toEqual([]);
    expect(problemsOf(job => { job.spec.runPolicy = { schedulingPolicy: { minAvailable: 4, scheduleTimeoutSeconds: 60 } }; })).toEqual([]);
    expect(problemsOf(job => { job.metadata.labels = { 'kai.scheduler/queue': 'team-a' }; })).toEqual([]);
  });

  test('the same mistakes the constructs refuse', () => {
    expect(problemsOf(job => {
      job.metadata.labels = { 'kueue.x-k8s.io/queue-name': 'q', 'kai.scheduler/queue': 'q' };
      job.spec.runPolicy = { schedulingPolicy: { minAvailable: 5, queue: 'research' } };
      job.spec.pytorchReplicaSpecs.Master.template.spec.schedulerName = 'scheduler-plugins-scheduler';
      job.spec.pytorchReplicaSpecs.Worker.template.spec.schedulerName = 'scheduler-plugins-scheduler';
      job.spec.pytorchReplicaSpecs.Worker.template.metadata = {
        annotations: {
          'kueue.x-k8s.io/podset-required-topology': 'rack', 'kueue.x-k8s.io/podset-preferred-topology': 'block', 'kueue.x-k8s.io/podset-slice-size': '2',
        },
      };
    }).map(formatProblem)).toEqual([
      'metadata.labels[kai.scheduler/queue]: "q" queues the job in KAI, and kueue.x-k8s.io/queue-name in Kueue: each would admit it on its own quota; choose one',
      'spec.pytorchReplicaSpecs[Worker].template.metadata.annotations[kueue.x-k8s.io/podset-preferred-topology]: is set beside kueue.x-k8s.io/podset-required-topology: '
        + 'Kueue takes one of required, preferred or unconstrained topology per pod set',
      'spec.pytorchReplicaSpecs[Worker].template.metadata.annotations[kueue.x-k8s.io/podset-slice-size]: is set without kueue.x-k8s.io/podset-slice-required-topology: '
        + 'Kueue takes a slice\'s level and size together',
      'spec.runPolicy.schedulingPolicy.minAvailable: 5 is above the job\'s 4 pods: the gang would never be complete, and no pod would start',
      'spec.runPolicy.schedulingPolicy.queue: "research" is read by Volcano only, but the pods ask for the scheduler "scheduler-plugins-scheduler"',
    ]);
  });

  test('Kueue on an elastic range, and a gang below the elastic minimum', () => {
    const problems = problemsOf(job => {
      delete job.spec.pytorchReplicaSpecs.Master;
      job.metadata.labels = { 'kueue.x-k8s.io/queue-name': 'q' };
      job.spec.elasticPolicy = { minReplicas: 2, maxReplicas: 3, rdzvBackend: 'c10d' };
      job.spec.runPolicy = { schedulingPolicy: { minAvailable: 1 } };
    });
    expect(problems).toEqual([{
      path: 'metadata.labels[kueue.x-k8s.io/queue-name]',
      message: '"q" queues an elastic job (2 to 3 nodes), which Kueue does not admit: a change of the Worker count suspends and requeues the whole job; '
        + 'give a fixed node count (minReplicas equal to maxReplicas)',
      kind: OPERATIONAL,
    }, {
      path: 'spec.runPolicy.schedulingPolicy.minAvailable',
      message: '1 is below elasticPolicy.minReplicas 2: the gang would start fewer nodes than the rendezvous waits for',
      kind: OPERATIONAL,
    }]);
  });

  test('pods of one gang asking for two schedulers; without a gang, a warning', () => {
    expect(problemsOf(job => { job.spec.pytorchReplicaSpecs.Worker.template.spec.schedulerName = 'volcano'; })).toEqual([{
      path: 'spec.pytorchReplicaSpecs[Worker].template.spec.schedulerName',
      message: '"volcano" differs from spec.pytorchReplicaSpecs[Master].template.spec.schedulerName (omitted): a gang is scheduled by one scheduler, '
        + 'and the pods that ask for another never join it',
      kind: OPERATIONAL,
    }]);
    expect(problemsOf(job => { job.spec.pytorchReplicaSpecs.Worker.template.spec.schedulerName = 'my-scheduler'; })).toEqual([{
      path: 'spec.pytorchReplicaSpecs[Worker].template.spec.schedulerName',
      message: '"my-scheduler" differs from spec.pytorchReplicaSpecs[Master].template.spec.schedulerName (omitted): the pods of one job are placed by two schedulers',
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }]);
  });

  test('a topology annotation without the queue label only warns: the namespace\'s default LocalQueue may take the job', () => {
    expect(problemsOf(job => {
      job.spec.pytorchReplicaSpecs.Worker.template.metadata = { annotations: { 'kueue.x-k8s.io/podset-required-topology': 'rack' } };
    })).toEqual([{
      path: 'spec.pytorchReplicaSpecs[Worker].template.metadata.annotations[kueue.x-k8s.io/podset-required-topology]',
      message: 'is read by Kueue only from a job it manages, and the job has no kueue.x-k8s.io/queue-name label: '
        + 'it has no effect unless the namespace\'s default LocalQueue takes the job',
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }]);
  });

  test('a Job with a queue label and topology is fine; two queues are not', () => {
    const batch = (labels: Json): Json => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'ft', labels },
      spec: { template: { metadata: { annotations: { 'kueue.x-k8s.io/podset-preferred-topology': 'rack' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pytorch', image: IMAGE }] } } },
    });
    expect(checkTrainingBatchJob(batch({ 'kueue.x-k8s.io/queue-name': 'q' }))).toEqual([]);
    expect(checkTrainingBatchJob(batch({ 'kueue.x-k8s.io/queue-name': 'q', 'kai.scheduler/queue': 'q' })).map(p => p.path)).toEqual(['metadata.labels[kai.scheduler/queue]']);
  });
});
