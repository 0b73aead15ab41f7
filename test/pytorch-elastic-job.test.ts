import * as fs from 'fs';
import { Chart, Duration, Testing } from 'cdk8s';
import { EnvValue, Metric, MetricTarget } from 'cdk8s-plus-28';
import {
  CleanPodPolicy, Elastic, ElasticProps, Entrypoint, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchElasticJobProps,
  ManagedBy, RunPolicy, StartMethod,
} from '../src';
import { expectValidPyTorchJob, validatePodTemplateSchema, validatePyTorchJobSchema } from './support/crd-schema';
import { elasticContainer, elasticPodTemplate, Manifest, synthElastic } from './support/synth-elastic';
import { checkTrainingBatchJob } from '../src/rules/batch-job';
import { operatorEnv } from '../src/rules/operator-env';
import { formatProblem, Problem, ProblemKind } from '../src/rules/problem';
import { checkPyTorchJob } from '../src/rules/pytorchjob';
import { checkRdzvConf, checkTorchrunCommand } from '../src/rules/torchrun';

const IMAGE = 'ghcr.io/example/train:2.4.0';
const SCRIPT = 'train.py';
const SHM_VOLUME = { name: 'shm', emptyDir: { medium: 'Memory' } };
const SHM_MOUNT = { name: 'shm', mountPath: '/dev/shm' };
const TRAINING_PORT = { name: 'pytorchjob-port', containerPort: 23456, protocol: 'TCP' };
const { WEBHOOK, OPERATIONAL } = ProblemKind;

/** The props every test starts from: only what the construct requires. */
function jobProps(props: Partial<PyTorchElasticJobProps> = {}): PyTorchElasticJobProps {
  return { image: IMAGE, entrypoint: Entrypoint.script(SCRIPT), ...props };
}

/** One PyTorchElasticJob with construct id `job` in a fresh chart, synthesized and checked; it must be of `kind`. */
function synthWith(kind: 'Job' | 'PyTorchJob', elastic?: ElasticProps, props: Partial<PyTorchElasticJobProps> = {}): Manifest {
  const chart = Testing.chart();
  new PyTorchElasticJob(chart, 'job', jobProps({ elastic: elastic && new Elastic(elastic), ...props }));
  return synthElastic(chart, kind);
}

/** A single-node job: a `batch/v1` Job. */
function singleNode(elastic?: ElasticProps, props: Partial<PyTorchElasticJobProps> = {}): Manifest {
  return synthWith('Job', elastic, props);
}

/** A multi-node job: a PyTorchJob. */
function multiNode(elastic: ElasticProps, props: Partial<PyTorchElasticJobProps> = {}): Manifest {
  return synthWith('PyTorchJob', elastic, props);
}

/** The container's whole command line: `command`, then `args`. */
function argv(manifest: Manifest): string[] {
  const container = elasticContainer(manifest);
  return [...container.command ?? [], ...container.args ?? []];
}

/** The variables the operator injects into worker `index` of a PyTorchJob, as a map. */
function injected(manifest: Manifest, index = 0): { [name: string]: string } {
  return Object.fromEntries(operatorEnv(manifest, 'Worker', index).map(v => [v.name, v.value]));
}

/** The error cdk8s throws when validation of the construct at `test/job` fails with these problems. */
function validationError(...problems: string[]): string {
  return ['Validation failed with the following errors:', ...problems.map(p => `  [test/job] ${p}`)].join('\n');
}

/**
 * Runs an app the way a cdk8s program does (build the constructs, then synthesize): it must fail with exactly
 * `message`, thrown while the constructs are built (`construction`) or by `app.synth()` (`synth`), and the
 * output directory must stay empty.
 */
function expectRefused(when: 'construction' | 'synth', message: string, build: (chart: Chart) => void): void {
  const app = Testing.app();
  let built = false;
  expect(() => {
    build(new Chart(app, 'test'));
    built = true;
    app.synth();
  }).toThrow(new Error(when === 'synth' ? validationError(message) : message));
  expect(built).toBe(when === 'synth');
  expect(fs.readdirSync(app.outdir)).toEqual([]);
}

/** Builds a job with these elastic settings; the settings are made inside the program, as a user's app would. */
function jobWith(elastic: () => ElasticProps, props: Partial<PyTorchElasticJobProps> = {}): (chart: Chart) => void {
  return chart => {
    new PyTorchElasticJob(chart, 'job', jobProps({ elastic: new Elastic(elastic()), ...props }));
  };
}

const SINGLE_NODE_DEFAULT_COMMAND = [
  'torchrun', '--standalone', '--nnodes=1', '--nproc_per_node=1', '--max_restarts=0', '--monitor_interval=5',
  '--start_method=spawn', '--rdzv_conf=timeout=900,join_timeout=900', SCRIPT,
];

describe('Nnodes', () => {
  test('fixed, range and parse give the minimum, the maximum and torchrun\'s text form', () => {
    const cases: Array<[Nnodes, number, number, string]> = [
      [Nnodes.fixed(3), 3, 3, '3'],
      [Nnodes.range(2, 4), 2, 4, '2:4'],
      [Nnodes.parse('2'), 2, 2, '2'],
      [Nnodes.parse('2:4'), 2, 4, '2:4'],
      [Nnodes.parse('3:3'), 3, 3, '3'],
    ];
    for (const [nnodes, min, max, text] of cases) {
      expect({ min: nnodes.min, max: nnodes.max, text: nnodes.toString() }).toEqual({ min, max, text });
    }
  });

  test.each([
    ['1:2:3', 'nnodes: "1:2:3" is not in "MIN:MAX" format'],
    ['a:b', 'nnodes: "a:b" is not in "MIN:MAX" format: "a" is not a whole number'],
    ['', 'nnodes: "" is not in "MIN:MAX" format: "" is not a whole number'],
    ['2:', 'nnodes: "2:" is not in "MIN:MAX" format: "" is not a whole number'],
    ['-1', 'nnodes: "-1" is not in "MIN:MAX" format: "-1" is not a whole number'],
  ])('parse(%j) is refused, as torchrun refuses it', (text, message) => {
    expectRefused('construction', message, jobWith(() => ({ nnodes: Nnodes.parse(text) })));
  });

  test('a parsed range gives an elastic PyTorchJob', () => {
    const job = multiNode({ nnodes: Nnodes.parse('2:4') });
    expect(job.spec.elasticPolicy).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(job.spec.pytorchReplicaSpecs.Worker.replicas).toBe(4);
    expect(injected(job).PET_NNODES).toBe('2:4');
  });

  test('a range whose maximum is 1 is a single node', () => {
    expect(singleNode({ nnodes: Nnodes.parse('1:1') }).kind).toBe('Job');
    expect(new Elastic({ nnodes: Nnodes.range(1, 2) }).isSingleNode).toBe(false);
  });
});

describe('refused elastic settings', () => {
  const workerCommand = 'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].command';
  const jobCommand = 'spec.template.spec.containers[0].command';
  const multi = { nnodes: Nnodes.fixed(2) };

  test.each<[string, 'construction' | 'synth', () => ElasticProps, string]>([
    ['nnodes below 1 (one node)', 'synth', () => ({ nnodes: Nnodes.fixed(0) }),
      `${jobCommand}[2]: --nnodes "0": minimum 0 must be a whole number of at least 1`],
    ['nnodes below 1 (range)', 'synth', () => ({ nnodes: Nnodes.range(0, 2) }),
      'spec.elasticPolicy.minReplicas: minimum 0 must be a whole number of at least 1'],
    ['a minimum above the maximum', 'synth', () => ({ nnodes: Nnodes.range(3, 2) }),
      'spec.elasticPolicy.minReplicas: minimum 3 is above maximum 2'],
    ['a minimum above a maximum of 1', 'synth', () => ({ nnodes: Nnodes.range(2, 1) }),
      `${jobCommand}[2]: --nnodes "2:1": minimum 2 is above maximum 1`],
    ['nproc below 1 (one node)', 'synth', () => ({ nprocPerNode: NprocPerNode.count(0) }),
      `${jobCommand}[3]: --nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1`],
    ['nproc below 1 (nodes)', 'synth', () => ({ ...multi, nprocPerNode: NprocPerNode.count(0) }),
      'spec.nprocPerNode: "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1'],
    ['negative maxRestarts (one node)', 'synth', () => ({ maxRestarts: -1 }),
      `${jobCommand}[4]: --max_restarts "-1" must be a whole number of at least 0`],
    ['negative maxRestarts (nodes)', 'synth', () => ({ ...multi, maxRestarts: -1 }),
      'spec.elasticPolicy.maxRestarts: -1 must be a whole number of at least 0'],
    ['a fractional monitor interval (one node)', 'construction', () => ({ monitorInterval: Duration.millis(1500) }),
      'elastic.monitorInterval: 1 second 500 millis is not a whole number of seconds'],
    ['a fractional monitor interval (nodes)', 'construction', () => ({ ...multi, monitorInterval: Duration.millis(1500) }),
      'elastic.monitorInterval: 1 second 500 millis is not a whole number of seconds'],
    ['a zero monitor interval (one node)', 'synth', () => ({ monitorInterval: Duration.seconds(0) }),
      `${jobCommand}[5]: --monitor_interval "0" must be a whole number of seconds, at least 1`],
    ['a zero monitor interval (nodes)', 'synth', () => ({ ...multi, monitorInterval: Duration.seconds(0) }),
      `${workerCommand}[1]: --monitor_interval "0" must be a whole number of seconds, at least 1`],
    ['a rendezvous value with a comma', 'construction', () => ({ rdzvConfigs: { join_timeout: '60', is_host: 'a,b' } }),
      'rdzvConfigs[1].value: "a,b" is not a rendezvous value for "is_host": it must be non-empty, without \',\''],
    ['a rendezvous key with "="', 'construction', () => ({ ...multi, rdzvConfigs: { 'join_timeout=60': '1' } }),
      'rdzvConfigs[0].key: "join_timeout=60" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces'],
    ['a rendezvous key with a comma', 'construction', () => ({ rdzvConfigs: { 'a,b': '1' } }),
      'rdzvConfigs[0].key: "a,b" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces'],
    ['an empty rendezvous key', 'construction', () => ({ rdzvConfigs: { '': '1' } }),
      'rdzvConfigs[0].key: "" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces'],
    ['an empty rendezvous value', 'construction', () => ({ ...multi, rdzvConfigs: { join_timeout: '' } }),
      'rdzvConfigs[0].value: "" is not a rendezvous value for "join_timeout": it must be non-empty, without \',\''],
  ])('%s is refused', (_name, when, elastic, message) => {
    expectRefused(when, message, jobWith(elastic));
  });

  test('a bad rendezvous setting is refused by Elastic itself, before any job uses it', () => {
    expect(() => new Elastic({ rdzvConfigs: { timeout: '9,0' } }))
      .toThrow(new Error('rdzvConfigs[0].value: "9,0" is not a rendezvous value for "timeout": it must be non-empty, without \',\''));
  });
});

describe('one node: a batch/v1 Job running torchrun --standalone', () => {
  test('a port is refused: torchrun --standalone picks its own', () => {
    expectRefused('construction',
      'port: 29500 has no use in a single-node job: torchrun --standalone rendezvouses inside the pod, on a port it picks',
      jobWith(() => ({}), { port: 29500 }));
  });

  test('a launcher that is not torchrun is refused: it would be given torchrun\'s flags', () => {
    expectRefused('synth',
      'spec.template.spec.containers[0].command[0]: "python" is given torchrun\'s flags but is not torchrun: use torchrun or python -m torch.distributed.run',
      jobWith(() => ({}), { command: ['python'] }));
  });

  test('the defaults, exactly', () => {
    const chart = Testing.chart();
    new PyTorchElasticJob(chart, 'job', jobProps({ metadata: { name: 'train' } }));
    expect(synthElastic(chart, 'Job')).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train' },
      spec: {
        backoffLimit: 6,
        template: {
          spec: {
            containers: [{
              name: 'pytorch',
              image: IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: SINGLE_NODE_DEFAULT_COMMAND,
              volumeMounts: [SHM_MOUNT],
            }],
            restartPolicy: 'Never',
            volumes: [SHM_VOLUME],
          },
        },
      },
    });
  });

  test('an explicit new Elastic() is the default', () => {
    expect(singleNode({})).toEqual(singleNode());
  });

  test('every torchrun setting is a flag, in underscore spelling, before the script and its arguments', () => {
    const job = singleNode({
      nprocPerNode: NprocPerNode.count(4),
      startMethod: StartMethod.FORKSERVER,
      monitorInterval: Duration.seconds(2),
      maxRestarts: 3,
      rdzvConfigs: { join_timeout: '60', read_timeout: '120' },
    }, { args: ['--epochs', '10'] });
    const container = elasticContainer(job);
    expect(container.command).toEqual([
      'torchrun', '--standalone', '--nnodes=1', '--nproc_per_node=4', '--max_restarts=3', '--monitor_interval=2',
      '--start_method=forkserver', '--rdzv_conf=join_timeout=60,read_timeout=120', SCRIPT,
    ]);
    expect(container.args).toEqual(['--epochs', '10']);
  });

  test.each([
    ['auto', NprocPerNode.AUTO],
    ['cpu', NprocPerNode.CPU],
    ['gpu', NprocPerNode.GPU],
  ])('nprocPerNode %s is passed on as written', (flag, nproc) => {
    expect(argv(singleNode({ nprocPerNode: nproc }))).toContain(`--nproc_per_node=${flag}`);
  });

  test('a module entrypoint is run with -m', () => {
    expect(argv(singleNode(undefined, { entrypoint: Entrypoint.module('pkg.train'), args: ['--lr', '0.1'] })))
      .toEqual([...SINGLE_NODE_DEFAULT_COMMAND.slice(0, -1), '-m', 'pkg.train', '--lr', '0.1']);
  });

  test('a custom command replaces the launcher, and the flags follow it', () => {
    expect(elasticContainer(singleNode(undefined, { command: ['python3', '-m', 'torch.distributed.run'] })).command)
      .toEqual(['python3', '-m', 'torch.distributed.run', ...SINGLE_NODE_DEFAULT_COMMAND.slice(1)]);
  });

  test('no rendezvous settings leave --rdzv_conf out', () => {
    expect(argv(singleNode({ rdzvConfigs: {} }))).toEqual(SINGLE_NODE_DEFAULT_COMMAND.filter(a => !a.startsWith('--rdzv_conf')));
  });

  test('the pod never restarts in place and has no ports', () => {
    const template = elasticPodTemplate(singleNode({ nprocPerNode: NprocPerNode.count(2) }));
    expect(template.spec.restartPolicy).toBe('Never');
    expect(template.spec.containers[0].ports).toBeUndefined();
  });

  test('the run policy maps onto the Job\'s own fields, zeros included', () => {
    const spec = (runPolicy: RunPolicy) => {
      const { template, ...fields } = singleNode({ runPolicy }).spec;
      return fields;
    };
    expect(spec(new RunPolicy())).toEqual({ backoffLimit: 6 });
    expect(spec(new RunPolicy({ backoffLimit: 0 }))).toEqual({ backoffLimit: 0 });
    expect(spec(new RunPolicy({
      backoffLimit: 2,
      activeDeadline: Duration.hours(10),
      ttlAfterFinished: Duration.minutes(10),
      suspend: true,
    }))).toEqual({ backoffLimit: 2, activeDeadlineSeconds: 36000, ttlSecondsAfterFinished: 600, suspend: true });
    expect(spec(new RunPolicy({ ttlAfterFinished: Duration.seconds(0), suspend: false })))
      .toEqual({ backoffLimit: 6, ttlSecondsAfterFinished: 0, suspend: false });
    // A Job keeps its pods anyway, so "keep every pod" is honoured and one run policy serves both kinds of job.
    expect(spec(new RunPolicy({ cleanPodPolicy: CleanPodPolicy.NONE }))).toEqual({ backoffLimit: 6 });
  });

  test('the default rendezvous settings are shared by no two jobs', () => {
    const first = new Elastic();
    expect(() => { (first.rdzvConfigs as { [key: string]: string }).read_timeout = '1,2'; }).toThrow(TypeError);
    expect(() => { (Elastic.DEFAULT_RDZV_CONFIGS as { [key: string]: string }).read_timeout = '60'; }).toThrow(TypeError);
    expect(new Elastic().rdzvConfigs).toEqual({ timeout: '900', join_timeout: '900' });
  });

  test.each<[string, RunPolicy, string]>([
    ['a clean-pod policy', new RunPolicy({ cleanPodPolicy: CleanPodPolicy.ALL }), 'cleanPodPolicy: "All"'],
    ['an owner', new RunPolicy({ managedBy: ManagedBy.MULTIKUEUE }), 'managedBy: "kueue.x-k8s.io/multikueue"'],
  ])('%s is refused as soon as the job is built', (_name, runPolicy, what) => {
    expectRefused('construction',
      `elastic.runPolicy.${what} cannot be honoured by a single-node job, which is a batch/v1 Job: it takes only backoffLimit, activeDeadline, ttlAfterFinished and suspend`,
      jobWith(() => ({ runPolicy })));
  });

  test('run-policy values the Job controller refuses are refused at synth', () => {
    expectRefused('synth', 'spec.backoffLimit: -1 must be a whole number of at least 0',
      jobWith(() => ({ runPolicy: new RunPolicy({ backoffLimit: -1 }) })));
    expectRefused('synth', 'spec.activeDeadlineSeconds: 0 must be a whole number of seconds, at least 1',
      jobWith(() => ({ runPolicy: new RunPolicy({ activeDeadline: Duration.seconds(0) }) })));
  });

  test('snapshot', () => {
    expect(singleNode({
      nprocPerNode: NprocPerNode.count(2),
      maxRestarts: 1,
      runPolicy: new RunPolicy({ backoffLimit: 0, ttlAfterFinished: Duration.hours(1) }),
    }, {
      metadata: { name: 'mnist', namespace: 'ml' },
      args: ['--epochs', '3'],
      env: { WANDB_MODE: EnvValue.fromValue('offline') },
    })).toMatchSnapshot();
  });
});

describe('more than one node: a PyTorchJob of Workers with an elastic policy', () => {
  test('the defaults for two nodes, exactly', () => {
    const chart = Testing.chart();
    new PyTorchElasticJob(chart, 'job', jobProps({
      metadata: { name: 'train' },
      elastic: new Elastic({ nnodes: Nnodes.fixed(2), nprocPerNode: NprocPerNode.count(2) }),
    }));
    expect(synthElastic(chart, 'PyTorchJob')).toEqual({
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name: 'train' },
      spec: {
        elasticPolicy: {
          minReplicas: 2,
          maxReplicas: 2,
          rdzvBackend: 'c10d',
          maxRestarts: 0,
          rdzvConf: [{ key: 'timeout', value: '900' }, { key: 'join_timeout', value: '900' }],
        },
        nprocPerNode: '2',
        pytorchReplicaSpecs: {
          Worker: {
            replicas: 2,
            restartPolicy: 'OnFailure',
            template: {
              spec: {
                containers: [{
                  name: 'pytorch',
                  image: IMAGE,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['torchrun', '--monitor_interval=5', '--start_method=spawn', SCRIPT],
                  env: [{ name: 'OMP_NUM_THREADS', value: '1' }],
                  ports: [TRAINING_PORT],
                  volumeMounts: [SHM_MOUNT],
                }],
                volumes: [SHM_VOLUME],
              },
            },
          },
        },
        runPolicy: { cleanPodPolicy: 'None' },
      },
    });
  });

  test('a range gives as many Workers as its maximum, no Master, and never standalone or nProcPerNode', () => {
    const job = multiNode({ nnodes: Nnodes.range(2, 5), nprocPerNode: NprocPerNode.GPU });
    expect(Object.keys(job.spec.pytorchReplicaSpecs)).toEqual(['Worker']);
    expect(job.spec.pytorchReplicaSpecs.Worker.replicas).toBe(5);
    expect(job.spec.elasticPolicy).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(job.spec.elasticPolicy).not.toHaveProperty('standalone');
    expect(job.spec.elasticPolicy).not.toHaveProperty('nProcPerNode');
    expect(job.spec.nprocPerNode).toBe('gpu');
  });

  test('the command carries only what the operator cannot: the monitor interval and the start method', () => {
    const job = multiNode({
      nnodes: Nnodes.range(1, 3),
      nprocPerNode: NprocPerNode.count(8),
      startMethod: StartMethod.FORK,
      monitorInterval: Duration.seconds(1),
      maxRestarts: 2,
      rdzvConfigs: { join_timeout: '300' },
    }, { args: ['--epochs', '1'] });
    expect(argv(job)).toEqual(['torchrun', '--monitor_interval=1', '--start_method=fork', SCRIPT, '--epochs', '1']);
    expect(argv(job).join(' ')).not.toMatch(/--(standalone|nnodes|nproc_per_node|max_restarts|rdzv_)/);
  });

  test.each<[string, ElasticProps, Partial<PyTorchElasticJobProps>, { [name: string]: string }]>([
    ['the defaults for two nodes', { nnodes: Nnodes.fixed(2) }, {}, {
      PET_NNODES: '2:2',
      PET_NPROC_PER_NODE: '1',
      PET_MAX_RESTARTS: '0',
      PET_RDZV_BACKEND: 'c10d',
      PET_RDZV_CONF: 'timeout=900,join_timeout=900',
      PET_RDZV_ENDPOINT: 'train-worker-0:23456',
    }],
    ['a range with restarts and custom rendezvous', {
      nnodes: Nnodes.range(2, 4),
      nprocPerNode: NprocPerNode.count(8),
      maxRestarts: 3,
      rdzvConfigs: { join_timeout: '60', read_timeout: '120' },
    }, {}, {
      PET_NNODES: '2:4',
      PET_NPROC_PER_NODE: '8',
      PET_MAX_RESTARTS: '3',
      PET_RDZV_BACKEND: 'c10d',
      PET_RDZV_CONF: 'join_timeout=60,read_timeout=120',
      PET_RDZV_ENDPOINT: 'train-worker-0:23456',
    }],
    ['a chosen port and nprocPerNode auto', { nnodes: Nnodes.fixed(3), nprocPerNode: NprocPerNode.AUTO }, { port: 29500 }, {
      PET_NNODES: '3:3',
      PET_NPROC_PER_NODE: 'auto',
      PET_MAX_RESTARTS: '0',
      PET_RDZV_BACKEND: 'c10d',
      PET_RDZV_CONF: 'timeout=900,join_timeout=900',
      PET_RDZV_ENDPOINT: 'train-worker-0:29500',
    }],
  ])('the operator tells torchrun the elastic settings: %s', (_name, elastic, props, expected) => {
    const job = multiNode(elastic, { metadata: { name: 'train' }, ...props });
    const max = job.spec.elasticPolicy.maxReplicas;
    for (let index = 0; index < max; index++) {
      expect(injected(job, index)).toEqual({ PYTHONUNBUFFERED: '1', ...expected });
    }
  });

  test('the port serves the rendezvous on the training container', () => {
    expect(elasticContainer(multiNode({ nnodes: Nnodes.fixed(2) }, { port: 29500 })).ports)
      .toEqual([{ ...TRAINING_PORT, containerPort: 29500 }]);
  });

  test('no rendezvous settings leave rdzvConf out, and the operator injects no PET_RDZV_CONF', () => {
    const job = multiNode({ nnodes: Nnodes.fixed(2), rdzvConfigs: {} });
    expect(job.spec.elasticPolicy).toEqual({ minReplicas: 2, maxReplicas: 2, rdzvBackend: 'c10d', maxRestarts: 0 });
    expect(injected(job)).not.toHaveProperty('PET_RDZV_CONF');
  });

  test('a module entrypoint and a custom launcher', () => {
    const job = multiNode({ nnodes: Nnodes.fixed(2) }, {
      command: ['python3', '-m', 'torch.distributed.run'],
      entrypoint: Entrypoint.module('pkg.train'),
    });
    expect(argv(job)).toEqual(['python3', '-m', 'torch.distributed.run', '--monitor_interval=5', '--start_method=spawn', '-m', 'pkg.train']);
  });

  test('the whole run policy is written', () => {
    const job = multiNode({
      nnodes: Nnodes.fixed(2),
      runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.RUNNING, backoffLimit: 0, suspend: true }),
    });
    expect(job.spec.runPolicy).toEqual({ cleanPodPolicy: 'Running', backoffLimit: 0, suspend: true });
  });

  test('snapshot', () => {
    expect(multiNode({
      nnodes: Nnodes.range(2, 4),
      nprocPerNode: NprocPerNode.count(4),
      maxRestarts: 3,
      rdzvConfigs: { join_timeout: '600' },
      runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.RUNNING, ttlAfterFinished: Duration.days(1) }),
    }, {
      metadata: { name: 'mnist', namespace: 'ml' },
      args: ['--epochs', '3'],
      env: { WANDB_MODE: EnvValue.fromValue('offline') },
    })).toMatchSnapshot();
  });
});

describe('autoscaling (elasticPolicy.metrics)', () => {
  test('cdk8s-plus metrics become the operator\'s HPA metrics, which the CRD schema accepts', () => {
    const job = multiNode({
      nnodes: Nnodes.range(2, 8),
      metrics: [
        Metric.resourceCpu(MetricTarget.averageUtilization(80)),
        Metric.pods({ name: 'samples_per_second', target: MetricTarget.averageValue(1000) }),
      ],
    });
    expect(job.spec.elasticPolicy.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
      { type: 'Pods', pods: { metric: { name: 'samples_per_second' }, target: { type: 'AverageValue', averageValue: 1000 } } },
    ]);
  });

  test('no metrics, no autoscaler', () => {
    expect(multiNode({ nnodes: Nnodes.range(2, 8) }).spec.elasticPolicy.metrics).toBeUndefined();
  });

  test('a single-node job has nothing to autoscale', () => {
    expectRefused('construction',
      'elastic.metrics: a single-node job has no Workers to autoscale: give nnodes a range of several nodes',
      jobWith(() => ({ metrics: [Metric.resourceCpu(MetricTarget.averageUtilization(80))] })));
  });
});

describe('OMP_NUM_THREADS (Flyte E9)', () => {
  test.each<[string, (elastic: ElasticProps, props?: Partial<PyTorchElasticJobProps>) => Manifest, ElasticProps]>([
    ['one node', singleNode, {}],
    ['two nodes', multiNode, { nnodes: Nnodes.fixed(2) }],
  ])('%s: set to 1 when nproc > 1 and the user leaves it unset; the user\'s own value wins', (_name, synth, nodes) => {
    const env = (nproc: NprocPerNode, props: Partial<PyTorchElasticJobProps> = {}) =>
      elasticContainer(synth({ ...nodes, nprocPerNode: nproc }, props)).env;
    expect(env(NprocPerNode.count(2))).toEqual([{ name: 'OMP_NUM_THREADS', value: '1' }]);
    expect(env(NprocPerNode.count(1))).toBeUndefined();
    // torchrun itself decides for the symbolic counts, at run time.
    expect(env(NprocPerNode.AUTO)).toBeUndefined();
    expect(env(NprocPerNode.count(2), { env: { OMP_NUM_THREADS: EnvValue.fromValue('42') } }))
      .toEqual([{ name: 'OMP_NUM_THREADS', value: '42' }]);
    expect(env(NprocPerNode.count(2), { env: { HF_HOME: EnvValue.fromValue('/cache') } }))
      .toEqual([{ name: 'HF_HOME', value: '/cache' }, { name: 'OMP_NUM_THREADS', value: '1' }]);
  });
});

describe('the Flyte plugin\'s elastic cases', () => {
  test('E3: rendezvous settings replace the defaults entirely', () => {
    const elastic = { nprocPerNode: NprocPerNode.count(2), rdzvConfigs: { join_timeout: '10' } };
    expect(new Elastic(elastic).rdzvConfigs).toEqual({ join_timeout: '10' });
    expect(argv(singleNode(elastic))).toContain('--rdzv_conf=join_timeout=10');
    const job = multiNode({ ...elastic, nnodes: Nnodes.fixed(2) });
    expect(job.spec.elasticPolicy.rdzvConf).toEqual([{ key: 'join_timeout', value: '10' }]);
    expect(injected(job).PET_RDZV_CONF).toBe('join_timeout=10');
  });

  test('E7: the default rendezvous settings are timeout=900 and join_timeout=900', () => {
    expect(new Elastic().rdzvConfigs).toEqual({ timeout: '900', join_timeout: '900' });
    expect(argv(singleNode())).toContain('--rdzv_conf=timeout=900,join_timeout=900');
    expect(multiNode({ nnodes: Nnodes.fixed(2) }).spec.elasticPolicy.rdzvConf)
      .toEqual([{ key: 'timeout', value: '900' }, { key: 'join_timeout', value: '900' }]);
  });

  test('E8: the run policy of a two-node job', () => {
    const job = multiNode({
      nnodes: Nnodes.fixed(2),
      nprocPerNode: NprocPerNode.count(2),
      runPolicy: new RunPolicy({
        cleanPodPolicy: CleanPodPolicy.ALL,
        ttlAfterFinished: Duration.seconds(600),
        activeDeadline: Duration.seconds(36000),
      }),
    });
    expect(job.spec.runPolicy).toEqual({ cleanPodPolicy: 'All', ttlSecondsAfterFinished: 600, activeDeadlineSeconds: 36000 });
  });
});

describe('elastic rules over hand-written manifests', () => {
  const WORKER_CONTAINER = 'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0]';

  /** A valid two-node elastic PyTorchJob, written by hand as the library would write it; `edit` changes it in place. */
  function elasticJob(edit: (job: Manifest) => void = () => undefined): Manifest {
    const job: Manifest = {
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name: 'train' },
      spec: {
        elasticPolicy: { minReplicas: 2, maxReplicas: 2, rdzvBackend: 'c10d', maxRestarts: 0, rdzvConf: [{ key: 'join_timeout', value: '900' }] },
        nprocPerNode: '2',
        pytorchReplicaSpecs: {
          Worker: {
            replicas: 2,
            template: {
              spec: {
                containers: [{
                  name: 'pytorch',
                  image: IMAGE,
                  command: ['torchrun', '--monitor_interval=5', '--start_method=spawn', SCRIPT],
                  volumeMounts: [{ ...SHM_MOUNT }],
                }],
                volumes: [structuredClone(SHM_VOLUME)],
              },
            },
          },
        },
      },
    };
    edit(job);
    return job;
  }

  function described(problems: Problem[]): Array<[ProblemKind, string]> {
    return problems.map(problem => [problem.kind, formatProblem(problem)]);
  }

  test('the starting manifest is valid', () => {
    const job = elasticJob();
    expectValidPyTorchJob(job);
    expect(described(checkPyTorchJob(job))).toEqual([]);
  });

  test.each<[string, (job: Manifest) => void, Array<[ProblemKind, string]>]>([
    ['standalone: true', job => job.spec.elasticPolicy.standalone = true, [[OPERATIONAL,
      'spec.elasticPolicy.standalone: true makes the operator inject PET_STANDALONE="", which torchrun cannot parse: leave it out']]],
    ['an empty rdzvConf', job => job.spec.elasticPolicy.rdzvConf = [], [[OPERATIONAL,
      'spec.elasticPolicy.rdzvConf: [] crashes the operator: leave the field out when there are no settings']]],
    ['a bad rdzvConf entry', job => job.spec.elasticPolicy.rdzvConf.push({ key: 'read_timeout', value: '1,2' }), [[OPERATIONAL,
      'spec.elasticPolicy.rdzvConf[1].value: "1,2" is not a rendezvous value for "read_timeout": it must be non-empty, without \',\'']]],
    ['minReplicas above maxReplicas', job => job.spec.elasticPolicy.minReplicas = 3, [[OPERATIONAL,
      'spec.elasticPolicy.minReplicas: minimum 3 is above maximum 2']]],
    ['a Master that runs torchrun in an elastic job', job => job.spec.pytorchReplicaSpecs.Master = { ...job.spec.pytorchReplicaSpecs.Worker, replicas: 1 }, [[OPERATIONAL,
      'spec.pytorchReplicaSpecs[Master]: runs torchrun in an elastic job: the operator counts only the Workers in the node range it gives torchrun, so the Master is one node too many for the rendezvous']]],
    ['a Master that does not run torchrun beside an elastic policy', job => {
      const template = structuredClone(job.spec.pytorchReplicaSpecs.Worker.template);
      template.spec.containers[0].command = ['python', 'serve_metrics.py'];
      job.spec.pytorchReplicaSpecs.Master = { replicas: 1, template };
      // Left to torchrun's own flags: the Master would otherwise count it in WORLD_SIZE without running it.
      delete job.spec.nprocPerNode;
    }, []],
    ['the deprecated elasticPolicy.nProcPerNode alone', job => {
      delete job.spec.nprocPerNode;
      job.spec.elasticPolicy.nProcPerNode = 2;
    }, [[WEBHOOK, 'spec.elasticPolicy.nProcPerNode: 2 is deprecated: use spec.nprocPerNode']]],
    ['elasticPolicy.nProcPerNode with spec.nprocPerNode', job => job.spec.elasticPolicy.nProcPerNode = 2, [[WEBHOOK,
      'spec.elasticPolicy.nProcPerNode: 2 must not be used with spec.nprocPerNode']]],
    ['an unknown rdzvBackend', job => job.spec.elasticPolicy.rdzvBackend = 'C10D', [[OPERATIONAL,
      'spec.elasticPolicy.rdzvBackend: "C10D" is not a rendezvous backend: use "c10d", "etcd", "etcd-v2"']]],
    ['more Workers than maxReplicas', job => job.spec.pytorchReplicaSpecs.Worker.replicas = 3, [[OPERATIONAL,
      'spec.pytorchReplicaSpecs[Worker].replicas: 3 is above elasticPolicy.maxReplicas 2: the extra pods could never join the rendezvous']]],
    ['an elastic policy without Workers', job => {
      job.spec.pytorchReplicaSpecs = { Master: { replicas: 1, template: job.spec.pytorchReplicaSpecs.Worker.template } };
    }, [
      [WEBHOOK, 'spec.pytorchReplicaSpecs[Worker]: is missing: an elastic policy needs a Worker replica spec'],
      [OPERATIONAL, 'spec.pytorchReplicaSpecs[Master]: runs torchrun in an elastic job: the operator counts only the Workers in the node range it gives torchrun, so the Master is one node too many for the rendezvous'],
    ]],
    ['--start_method=bogus', job => job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].command[2] = '--start_method=bogus', [[OPERATIONAL,
      `${WORKER_CONTAINER}.command[2]: --start_method "bogus" is not a start method: use "spawn", "fork", "forkserver"`]]],
    ['--nnodes=1:2:3', job => job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].command.splice(1, 0, '--nnodes=1:2:3'), [[OPERATIONAL,
      `${WORKER_CONTAINER}.command[1]: --nnodes "1:2:3" is not in "MIN:MAX" format`]]],
  ])('%s', (_name, edit, expected) => {
    const job = elasticJob(edit);
    // The CRD schema has no rule for any of these: only the library's rules catch them before the operator does.
    expect(validatePyTorchJobSchema(job)).toEqual([]);
    expect(described(checkPyTorchJob(job))).toEqual(expected);
  });

  test('torchrun flags split between command and args are reported where they are written', () => {
    const job = elasticJob(j => {
      j.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].command = ['torchrun'];
      j.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].args = ['--monitor_interval=5', '--max_restarts=-1', SCRIPT];
    });
    expect(described(checkPyTorchJob(job))).toEqual([[OPERATIONAL, `${WORKER_CONTAINER}.args[1]: --max_restarts "-1" must be a whole number of at least 0`]]);
  });

  test.each<[string, string[], string[]]>([
    ['--start_method=bogus', ['torchrun', '--start_method=bogus', SCRIPT],
      ['c[1]: --start_method "bogus" is not a start method: use "spawn", "fork", "forkserver"']],
    ['--nnodes=1:2:3', ['torchrun', '--nnodes=1:2:3', SCRIPT], ['c[1]: --nnodes "1:2:3" is not in "MIN:MAX" format']],
    ['--max_restarts=-1', ['torchrun', '--max_restarts=-1', SCRIPT], ['c[1]: --max_restarts "-1" must be a whole number of at least 0']],
    ['--max_restarts -1, as two words', ['/usr/bin/torchrun', '--max_restarts', '-1', SCRIPT],
      ['c[2]: --max_restarts "-1" must be a whole number of at least 0']],
    ['python -m torch.distributed.run --nproc_per_node=0', ['python3.11', '-m', 'torch.distributed.run', '--nproc_per_node=0', SCRIPT],
      ['c[3]: --nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1']],
    ['a --rdzv_conf entry without a value', ['torchrun', '--rdzv_conf=timeout=900,join_timeout', SCRIPT],
      ['c[1](--rdzv_conf)[1].value: (omitted) is not a rendezvous value for "join_timeout": it must be non-empty, without \',\'']],
    ['abbreviations, read as the flag they abbreviate (as torchrun\'s parser does)', ['torchrun', '--max_rest', '-1', '--nproc-per=0', '--standa', SCRIPT], [
      'c[1]: --max_rest abbreviates --max_restarts, which torchrun\'s argument parser takes only while it matches one option string: torch 2 spells '
        + 'most flags with both - and _, and a newer torch may add flags; either makes torchrun exit with "ambiguous option". Write --max_restarts',
      'c[2]: --max_restarts "-1" must be a whole number of at least 0',
      'c[3]: --nproc-per abbreviates --nproc_per_node, which torchrun\'s argument parser takes only while it matches one option string: torch 2 spells '
        + 'most flags with both - and _, and a newer torch may add flags; either makes torchrun exit with "ambiguous option". Write --nproc_per_node',
      'c[3]: --nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1',
      'c[4]: --standa abbreviates --standalone, which torchrun\'s argument parser takes only while it matches one option string: torch 2 spells '
        + 'most flags with both - and _, and a newer torch may add flags; either makes torchrun exit with "ambiguous option". Write --standalone',
    ]],
    ['a prefix of several flags is left unread', ['torchrun', '--n', '4', '--max_restarts=-1', SCRIPT], []],
    ['flags after -m belong to the module', ['torchrun', '-m', 'pkg.train', '--max_restarts=-1'], []],
    ['flags after the script belong to the script', ['torchrun', SCRIPT, '--start_method=bogus'], []],
    ['a command that is not torchrun', ['python3', SCRIPT, '--nnodes=1:2:3'], []],
  ])('checkTorchrunCommand: %s', (_name, command, expected) => {
    expect(checkTorchrunCommand(command, 'c').map(formatProblem)).toEqual(expected);
  });

  test('checkRdzvConf: every entry that could not be split back', () => {
    expect(checkRdzvConf([{ key: 'join_timeout', value: '60' }, { key: 'a b', value: '1' }, { key: 'x' }], 'conf').map(formatProblem)).toEqual([
      'conf[1].key: "a b" is not a rendezvous key: it must be non-empty, without \',\', \'=\' or spaces',
      'conf[2].value: (omitted) is not a rendezvous value for "x": it must be non-empty, without \',\'',
    ]);
  });

  test('a single-node Job: torchrun flags and the pod restart policy', () => {
    const job: Manifest = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train' },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Always',
            containers: [{ name: 'pytorch', image: IMAGE, command: ['torchrun', '--standalone', '--nnodes=1:2:3', '--start_method=bogus'], args: ['--max_restarts=-1', SCRIPT] }],
          },
        },
      },
    };
    expect(validatePodTemplateSchema(job.spec.template)).toEqual([]);
    expect(described(checkTrainingBatchJob(job))).toEqual([
      [OPERATIONAL, 'spec.template.spec.restartPolicy: "Always" is not allowed in a Job: use "Never" or "OnFailure"'],
      [OPERATIONAL, 'spec.template.spec.containers[0].command[2]: --nnodes "1:2:3" is not in "MIN:MAX" format'],
      [OPERATIONAL, 'spec.template.spec.containers[0].command[3]: --start_method "bogus" is not a start method: use "spawn", "fork", "forkserver"'],
      [OPERATIONAL, 'spec.template.spec.containers[0].args[0]: --max_restarts "-1" must be a whole number of at least 0'],
    ]);
  });
});
