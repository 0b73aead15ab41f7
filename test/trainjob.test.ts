import { App, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { Cpu, EnvValue, NodeTaintQuery, Volume } from 'cdk8s-plus-28';
import {
  CleanPodPolicy, ClusterTrainingRuntime, Elastic, Entrypoint, JobTarget, Master, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchJob,
  PyTorchJobProps, RestartPolicy, RunPolicy, RuntimePatch, Scheduling, SharedMemory, TrainingRuntime, TrainingRuntimeRef, TrainJob, Worker,
} from '../src';
import { crdSchema } from './support/crd-schema';
import { formatProblem } from '../src/rules/problem';
import { TrainerSchema } from '../src/rules/trainer-schema';
import { checkTrainingRuntime, checkTrainJob } from '../src/rules/trainjob';

const IMAGE = 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime';
const trainer = TrainerSchema.bundled();

/** Synthesizes a chart; every object is checked against its CRD: Trainer v2.3.0 strict with CEL, or the PyTorchJob v1.9.4 one. */
function synth(scope: Chart): any[] {
  const manifests = Testing.synth(scope);
  for (const manifest of manifests) {
    const problems = trainer.checks(manifest) ? trainer.check(manifest) : crdSchema().checkPyTorchJob(manifest);
    if (problems.length > 0) throw new Error(`${manifest.kind} does not match its CRD:\n${problems.map(p => `  ${p.path} ${p.message}`).join('\n')}`);
  }
  return manifests;
}

function byKind(manifests: any[], kind: string): any {
  const found = manifests.filter(m => m.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
}

function chart(): Chart {
  return new Chart(Testing.app(), 'test');
}

/** One definition: a Master and two Workers, with GPUs, shared memory, placement, Kueue and run settings. */
function definition(): PyTorchJobProps {
  return {
    metadata: { name: 'resnet', namespace: 'ml', labels: { team: 'vision' } },
    image: IMAGE,
    command: ['torchrun', 'train.py'],
    args: ['--epochs', '10'],
    env: { LOG_LEVEL: EnvValue.fromValue('info') },
    requests: { cpu: Cpu.units(8), memory: Size.gibibytes(32) },
    limits: { gpu: 2 },
    nprocPerNode: NprocPerNode.count(2),
    sharedMemory: SharedMemory.enabled(Size.gibibytes(16)),
    nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d' },
    tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
    podLabels: { app: 'resnet' },
    master: new Master(),
    worker: new Worker({ replicas: 2 }),
    runPolicy: new RunPolicy({ activeDeadline: Duration.hours(6), backoffLimit: 3, suspend: true }),
    scheduling: Scheduling.kueue({ queueName: 'gpu-queue', priorityClass: 'high' }),
  };
}

describe('one definition, two targets', () => {
  test('each field of the PyTorchJob has its counterpart in the TrainJob and its runtime', () => {
    const v1Chart = chart();
    const v2Chart = chart();
    new PyTorchJob(v1Chart, 'job', definition());
    new PyTorchJob(v2Chart, 'job', { ...definition(), target: JobTarget.trainerV2() });
    const v1 = byKind(synth(v1Chart), 'PyTorchJob');
    const v2 = synth(v2Chart);
    // The runtime comes first: the webhook refuses a TrainJob whose runtime does not exist yet.
    expect(v2.map(m => m.kind)).toEqual(['TrainingRuntime', 'TrainJob']);
    const [runtime, trainJob] = v2;
    const master = v1.spec.pytorchReplicaSpecs.Master;
    const worker = v1.spec.pytorchReplicaSpecs.Worker;
    const v1Pod = worker.template.spec;
    const v1Container = v1Pod.containers[0];
    const v2Pod = runtime.spec.template.spec.replicatedJobs[0].template.spec.template.spec;
    const v2Container = v2Pod.containers[0];

    // Name, namespace and labels: the TrainJob's; the runtime is named like it, in its namespace.
    expect(trainJob.metadata).toEqual(v1.metadata);
    expect(runtime.metadata).toEqual({ name: 'resnet', namespace: 'ml', labels: { 'trainer.kubeflow.org/framework': 'torch' } });
    expect(trainJob.spec.runtimeRef).toEqual({ apiGroup: 'trainer.kubeflow.org', kind: 'TrainingRuntime', name: 'resnet' });
    // Nodes: the Master and the Workers are the nodes of one replicated job.
    expect(trainJob.spec.trainer.numNodes).toBe(master.replicas + worker.replicas);
    expect(runtime.spec.mlPolicy).toEqual({ numNodes: 3, torch: {} });
    expect(runtime.spec.template.spec.replicatedJobs[0]).toMatchObject({ name: 'node', replicas: 1, template: { metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } } } });
    // Processes: an integer.
    expect(trainJob.spec.trainer.numProcPerNode).toBe(Number(v1.spec.nprocPerNode));
    // The container: the trainer's image, command, args, env and resources; the runtime's mounts.
    expect(v2Container.name).toBe('node');
    expect(trainJob.spec.trainer.image).toBe(v1Container.image);
    expect(v2Container.image).toBe(v1Container.image);
    expect(trainJob.spec.trainer.command).toEqual(v1Container.command);
    expect(trainJob.spec.trainer.args).toEqual(v1Container.args);
    expect(trainJob.spec.trainer.resourcesPerNode).toEqual(v1Container.resources);
    expect(v2Container.volumeMounts).toEqual(v1Container.volumeMounts);
    expect(v2Container.imagePullPolicy).toBe(v1Container.imagePullPolicy);
    // The user's env first, then what the training operator would have injected and the torch plugin does not.
    expect(trainJob.spec.trainer.env).toEqual([
      ...v1Container.env,
      { name: 'MASTER_ADDR', value: 'resnet-node-0-0.resnet' },
      { name: 'MASTER_PORT', value: '29500' },
      { name: 'WORLD_SIZE', value: '6' },
      { name: 'RANK', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
      { name: 'PYTHONUNBUFFERED', value: '1' },
    ]);
    // The pod: volumes (/dev/shm), placement, labels, restart policy.
    expect(v2Pod.volumes).toEqual(v1Pod.volumes);
    expect(v2Pod.nodeSelector).toEqual(v1Pod.nodeSelector);
    expect(v2Pod.tolerations).toEqual(v1Pod.tolerations);
    expect(runtime.spec.template.spec.replicatedJobs[0].template.spec.template.metadata).toEqual(worker.template.metadata);
    expect(v2Pod.restartPolicy).toBe(worker.restartPolicy);
    // Run policy: the deadline and suspension on the TrainJob, the retries on the node Job.
    expect(trainJob.spec.activeDeadlineSeconds).toBe(v1.spec.runPolicy.activeDeadlineSeconds);
    expect(trainJob.spec.suspend).toBe(v1.spec.runPolicy.suspend);
    expect(runtime.spec.template.spec.replicatedJobs[0].template.spec.backoffLimit).toBe(v1.spec.runPolicy.backoffLimit);
    // No field left over on either side.
    expect(Object.keys(trainJob.spec).sort()).toEqual(['activeDeadlineSeconds', 'runtimeRef', 'suspend', 'trainer']);
    expect(Object.keys(v2Container).sort()).toEqual(['image', 'imagePullPolicy', 'name', 'volumeMounts']);
  });

  test('an elastic definition of fixed size: torchrun with the restarts and rendezvous settings as flags, the rest from PET_*', () => {
    const c = chart();
    const runPolicy = new RunPolicy({ activeDeadline: Duration.hours(1) });
    const elastic = new Elastic({ nnodes: Nnodes.fixed(2), nprocPerNode: NprocPerNode.count(4), maxRestarts: 2, runPolicy });
    new PyTorchElasticJob(c, 'job', { metadata: { name: 'bert' }, image: IMAGE, entrypoint: Entrypoint.script('train.py'), args: ['--lr', '0.1'], elastic, target: JobTarget.trainerV2() });
    const trainJob = byKind(synth(c), 'TrainJob');
    expect(trainJob.spec.trainer).toEqual({
      image: IMAGE,
      command: ['torchrun', '--monitor_interval=5', '--start_method=spawn', '--max_restarts=2', '--rdzv_conf=timeout=900,join_timeout=900', 'train.py'],
      args: ['--lr', '0.1'],
      env: [{ name: 'OMP_NUM_THREADS', value: '1' }, { name: 'PYTHONUNBUFFERED', value: '1' }],
      numNodes: 2,
      numProcPerNode: 4,
    });
    expect(trainJob.spec.activeDeadlineSeconds).toBe(3600);
  });

  test('a single-node elastic job is a TrainJob of one node (no --standalone: the plugin gives the master)', () => {
    const c = chart();
    new PyTorchElasticJob(c, 'job', { metadata: { name: 'one' }, image: IMAGE, entrypoint: Entrypoint.script('train.py'), target: JobTarget.trainerV2({ clusterRuntime: true }) });
    const [runtime, trainJob] = synth(c);
    expect(runtime.kind).toBe('ClusterTrainingRuntime');
    expect(runtime.metadata.namespace).toBeUndefined();
    expect(trainJob.spec.trainer.numNodes).toBe(1);
    expect(trainJob.spec.trainer.command).not.toContain('--standalone');
  });

  test('on an existing runtime: the pod options become a runtime patch under a domain-prefixed manager', () => {
    const c = chart();
    const { scheduling, runPolicy, ...rest } = definition();
    void scheduling; void runPolicy;
    new PyTorchJob(c, 'job', { ...rest, target: JobTarget.trainerV2({ runtime: TrainingRuntimeRef.clusterRuntime('torch-distributed') }) });
    const manifests = synth(c);
    expect(manifests.map(m => m.kind)).toEqual(['TrainJob']);
    const [trainJob] = manifests;
    expect(trainJob.spec.runtimeRef).toEqual({ apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'torch-distributed' });
    expect(trainJob.spec.runtimePatches).toEqual([{
      manager: 'kfpytorch.cdk8s.io/job',
      trainingRuntimeSpec: {
        template: {
          spec: {
            replicatedJobs: [{
              name: 'node',
              template: {
                spec: {
                  template: {
                    metadata: { labels: { app: 'resnet' } },
                    spec: {
                      volumes: [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } }],
                      containers: [{ name: 'node', volumeMounts: [{ name: 'shm', mountPath: '/dev/shm' }] }],
                      nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d' },
                      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
                    },
                  },
                },
              },
            }],
          },
        },
      },
    }]);
  });

  test('gang scheduling: the podGroupPolicy and the scheduler name in the runtime, the Volcano queue on its template', () => {
    const volcano = chart();
    new PyTorchJob(volcano, 'job', { image: IMAGE, worker: new Worker({ replicas: 3 }), scheduling: Scheduling.volcano({ queue: 'research' }), target: JobTarget.trainerV2() });
    const [runtime] = synth(volcano);
    expect(runtime.spec.podGroupPolicy).toEqual({ volcano: {} });
    expect(runtime.spec.template.metadata).toEqual({ annotations: { 'scheduling.volcano.sh/queue-name': 'research' } });
    expect(runtime.spec.template.spec.replicatedJobs[0].template.spec.template.spec.schedulerName).toBe('volcano');
    const cosched = chart();
    new PyTorchJob(cosched, 'job', { image: IMAGE, worker: new Worker(), scheduling: Scheduling.coscheduling({ scheduleTimeout: Duration.minutes(2) }), target: JobTarget.trainerV2() });
    const [coRuntime] = synth(cosched);
    expect(coRuntime.spec.podGroupPolicy).toEqual({ coscheduling: { scheduleTimeoutSeconds: 120 } });
    expect(coRuntime.spec.template.spec.replicatedJobs[0].template.spec.template.spec.schedulerName).toBe('scheduler-plugins-scheduler');
    const kai = chart();
    new PyTorchJob(kai, 'job', { image: IMAGE, worker: new Worker(), scheduling: Scheduling.kai({ queue: 'team-a' }), target: JobTarget.trainerV2() });
    const [kaiRuntime, kaiJob] = synth(kai);
    expect(kaiRuntime.spec.podGroupPolicy).toBeUndefined();
    expect(kaiRuntime.spec.template.spec.replicatedJobs[0].template.spec.template).toMatchObject({ metadata: { labels: { 'kai.scheduler/queue': 'team-a' } }, spec: { schedulerName: 'kai-scheduler' } });
    expect(kaiJob.metadata.labels).toEqual({ 'kai.scheduler/queue': 'team-a' });
  });

  test('amendments reach the runtime made for the job', () => {
    const c = chart();
    const job = new PyTorchJob(c, 'job', { image: IMAGE, worker: new Worker(), target: JobTarget.trainerV2() });
    job.addNodeSelector('pool', 'gpu');
    job.addEnv('EXTRA', EnvValue.fromValue('1'));
    const [runtime, trainJob] = synth(c);
    expect(job.trainingRuntime?.name).toBe(job.name);
    expect(runtime.spec.template.spec.replicatedJobs[0].template.spec.template.spec.nodeSelector).toEqual({ pool: 'gpu' });
    expect(trainJob.spec.trainer.env[0]).toEqual({ name: 'EXTRA', value: '1' });
  });
});

describe('what Trainer v2.3 cannot express is refused, never dropped', () => {
  const v2 = JobTarget.trainerV2();
  const refuse = (props: Partial<PyTorchJobProps>) => () => new PyTorchJob(chart(), 'job', { image: IMAGE, worker: new Worker(), target: v2, ...props });

  test.each([
    ['a Master that differs from the Workers', { master: new Master({ image: 'other:1' }), worker: new Worker({ replicas: 2 }) },
      'master.image: the Master differs from the Workers in image, which Trainer v2.3 cannot express: a TrainJob\'s nodes are the pods of one replicated job, all alike; '
      + 'give the field to the job, or the same to both, or target the training operator'],
    ['per-replica differences', { worker: new Worker({ replicas: 2, nodeSelector: { pool: 'spot' } }) },
      'master.nodeSelector: the Master differs from the Workers in nodeSelector, which Trainer v2.3 cannot express: a TrainJob\'s nodes are the pods of one replicated job, all alike; '
      + 'give the field to the job, or the same to both, or target the training operator'],
    ['a TTL after finishing', { runPolicy: new RunPolicy({ ttlAfterFinished: Duration.hours(1) }) },
      'runPolicy.ttlAfterFinished: Trainer v2.3 cannot delete a TrainJob after it finishes (it has no ttlSecondsAfterFinished): leave it out, or target the training operator'],
    ['a clean-pod policy', { runPolicy: new RunPolicy({ cleanPodPolicy: CleanPodPolicy.ALL }) },
      'runPolicy.cleanPodPolicy: All cannot be honoured by Trainer v2.3, which keeps the pods of a finished TrainJob (as CleanPodPolicy.NONE does)'],
    ['a port other than 29500', { port: 23456 },
      'port: 23456 cannot be honoured by Trainer v2.3, whose torch plugin always gives the master port 29500: leave it out'],
    ['processes per CPU', { nprocPerNode: NprocPerNode.CPU },
      'nprocPerNode: "cpu" cannot be expressed in Trainer v2.3, whose numProcPerNode is a whole number (or, left out, auto): give the count'],
    ['an ExitCode restart policy', { master: new Master({ restartPolicy: RestartPolicy.EXIT_CODE }), worker: new Worker({ restartPolicy: RestartPolicy.EXIT_CODE }) },
      'restartPolicy: ExitCode cannot be honoured by Trainer v2, whose nodes are the pods of a batch Job: use ON_FAILURE or NEVER'],
    ['a PodGroup minResources', { scheduling: Scheduling.volcano({ minResources: { cpu: Cpu.units(4) } }) },
      'scheduling.minResources: Trainer v2.3 makes the PodGroup\'s minResources the sum of the pods\' requests: it cannot be given'],
    ['a Kueue topology per replica type', { scheduling: Scheduling.kueue({ queueName: 'q', workerTopology: undefined, masterTopology: undefined, groupPodSets: true }) },
      'scheduling.groupPodSets: a TrainJob has one pod set, node: there is nothing to group'],
  ])('%s', (_name, props, message) => {
    expect(refuse(props as Partial<PyTorchJobProps>)).toThrow(message);
  });

  test('an elastic node range and an autoscaler', () => {
    expect(() => new PyTorchElasticJob(chart(), 'job', { image: IMAGE, entrypoint: Entrypoint.script('t.py'), elastic: new Elastic({ nnodes: Nnodes.range(2, 4) }), target: v2 }))
      .toThrow('elastic.nnodes: 2:4 is a node range, which Trainer v2.3 cannot run: it has no elastic training (KEP-2903 is not released): give a fixed node count, or target the training operator');
  });

  test('on an existing runtime: a sidecar, a scheduler, retries', () => {
    const existing = JobTarget.trainerV2({ runtime: TrainingRuntimeRef.clusterRuntime('torch-distributed') });
    expect(refuse({ target: existing, sidecars: [{ name: 'log', image: 'fluent-bit:3' }] }))
      .toThrow('.sidecars: a runtime patch cannot add a sidecar (v2.3 patches only the containers the runtime has)');
    expect(refuse({ target: existing, scheduling: Scheduling.volcano() }))
      .toThrow('scheduling: volcano needs the runtime\'s template, which a patch cannot set (podGroupPolicy): give the scheduling to runtime "torch-distributed", or let the job make its own runtime');
    expect(refuse({ target: existing, runPolicy: new RunPolicy({ backoffLimit: 2 }) }))
      .toThrow('runPolicy.backoffLimit: the Job\'s backoffLimit is the runtime\'s, which a patch cannot set: give it to runtime "torch-distributed"');
  });

  test('resources, an image and a sidecar in a TrainJob\'s runtime patch', () => {
    const runtime = TrainingRuntimeRef.clusterRuntime('torch-distributed');
    const patch = (props: object) => () => new TrainJob(chart(), 'job', { runtime, runtimePatches: [new RuntimePatch({ manager: 'example.com/p', ...props })] });
    expect(patch({ limits: { gpu: 1 } })).toThrow('runtimePatches[0].limits: a runtime patch cannot set resources: give them to the trainer (resourcesPerNode)');
    expect(patch({ sidecars: [{ name: 'proxy', image: 'envoy:1' }] })).toThrow('runtimePatches[0].sidecars: a runtime patch cannot add a sidecar (v2.3 patches only the containers the runtime has)');
    expect(patch({ containers: [{ name: 'proxy', image: 'envoy:1' }] })).toThrow('runtimePatches[0].containers: a runtime patch cannot add a container (v2.3 patches only the containers the runtime has)');
    expect(patch({ image: 'x:1' })).toThrow('runtimePatches[0].image: a runtime patch cannot set an image: give it to the trainer (TrainJob image)');
  });
});

describe('TrainingRuntime, ClusterTrainingRuntime and TrainJob', () => {
  test('a runtime and two TrainJobs on it, with patches, Kueue, suspension and a deadline; the runtime first', () => {
    const c = chart();
    const shm = Volume.fromEmptyDir(c, 'scratch', 'scratch');
    const runtime = new ClusterTrainingRuntime(c, 'runtime', {
      metadata: { name: 'torch-gpu' },
      image: IMAGE,
      numNodes: 2,
      scheduling: Scheduling.coscheduling(),
      limits: { gpu: 8 },
    });
    new TrainJob(c, 'a', {
      metadata: { name: 'job-a', namespace: 'ml' },
      runtime,
      image: 'example.com/train:1',
      command: ['torchrun', 'train.py'],
      numNodes: 4,
      numProcPerNode: 8,
      requests: { cpu: Cpu.units(32), memory: Size.gibibytes(256) },
      env: { NCCL_DEBUG: EnvValue.fromValue('WARN') },
      suspend: true,
      activeDeadline: Duration.hours(12),
      scheduling: Scheduling.kueue({ queueName: 'gpu' }),
      runtimePatches: [new RuntimePatch({
        manager: 'platform.example.com/placement',
        nodeSelector: { pool: 'a100' },
        tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
        sharedMemory: SharedMemory.enabled(Size.gibibytes(64)),
        volumeMounts: [{ path: '/scratch', volume: shm }],
        terminationGracePeriod: Duration.seconds(60),
      })],
    });
    const manifests = synth(c);
    expect(manifests.map(m => m.kind)).toEqual(['ClusterTrainingRuntime', 'TrainJob']);
    const [r, job] = manifests;
    expect(r.spec.podGroupPolicy).toEqual({ coscheduling: {} });
    expect(r.spec.template.spec.replicatedJobs[0].template.spec.template.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 8 } });
    expect(job.metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'gpu' });
    expect(job.spec).toEqual({
      runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'torch-gpu' },
      trainer: {
        image: 'example.com/train:1',
        command: ['torchrun', 'train.py'],
        env: [{ name: 'NCCL_DEBUG', value: 'WARN' }],
        numNodes: 4,
        numProcPerNode: 8,
        resourcesPerNode: { requests: { cpu: '32', memory: '256Gi' } },
      },
      runtimePatches: [{
        manager: 'platform.example.com/placement',
        trainingRuntimeSpec: {
          template: {
            spec: {
              replicatedJobs: [{
                name: 'node',
                template: {
                  spec: {
                    template: {
                      spec: {
                        volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '64Gi' } }],
                        containers: [{ name: 'node', volumeMounts: [{ name: 'shm', mountPath: '/dev/shm' }, { name: 'scratch', mountPath: '/scratch' }] }],
                        nodeSelector: { pool: 'a100' },
                        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
                        terminationGracePeriodSeconds: 60,
                      },
                    },
                  },
                },
              }],
            },
          },
        },
      }],
      suspend: true,
      activeDeadlineSeconds: 43200,
    });
  });

  test('runtimes refuse what belongs to the TrainJob, and a namespace on a cluster runtime', () => {
    expect(() => new TrainingRuntime(chart(), 'r', { image: IMAGE, scheduling: Scheduling.kueue({ queueName: 'q' }) }))
      .toThrow('scheduling: Kueue admits the TrainJob, not its runtime: give Scheduling.kueue() to the TrainJob');
    expect(() => new ClusterTrainingRuntime(chart(), 'r', { image: IMAGE, metadata: { namespace: 'ml' } }))
      .toThrow('metadata.namespace: a ClusterTrainingRuntime belongs to no namespace');
    expect(() => new TrainJob(chart(), 'j', { runtime: TrainingRuntimeRef.namespacedRuntime('r'), scheduling: Scheduling.volcano() }))
      .toThrow('scheduling: volcano schedules the runtime\'s pods: give it to the runtime (its podGroupPolicy and scheduler name), not the TrainJob');
  });
});

describe('the v2.3 webhook rules at synth time, with their messages', () => {
  test('reserved PET_* names in the trainer env', () => {
    const c = chart();
    new TrainJob(c, 'j', {
      metadata: { name: 'j' },
      runtime: TrainingRuntimeRef.clusterRuntime('torch-distributed'),
      env: { PET_NNODES: EnvValue.fromValue('2'), PET_MASTER_ADDR: EnvValue.fromValue('x'), OK: EnvValue.fromValue('1') },
    });
    expect(() => Testing.synth(c)).toThrow('[test/j] spec.trainer.env: must not have reserved envs, invalid envs configured: [PET_MASTER_ADDR PET_NNODES]');
  });

  test('a manager that is not a domain-prefixed path', () => {
    const c = chart();
    new TrainJob(c, 'j', { metadata: { name: 'j' }, runtime: TrainingRuntimeRef.clusterRuntime('r'), runtimePatches: [new RuntimePatch({ manager: 'platform', nodeSelector: { a: 'b' } })] });
    expect(() => Testing.synth(c)).toThrow('[test/j] spec.runtimePatches[0].manager: must be a domain-prefixed path (such as "acme.io/foo")');
  });

  test('patches naming a replicated job or container the runtime in the app lacks (v2.3 lets them through)', () => {
    const c = chart();
    const runtime = new TrainingRuntime(c, 'r', { metadata: { name: 'torch' }, image: IMAGE });
    new TrainJob(c, 'j', { metadata: { name: 'j' }, runtime, runtimePatches: [new RuntimePatch({ manager: 'example.com/p', replicatedJob: 'launcher', nodeSelector: { a: 'b' } })] });
    expect(() => Testing.synth(c)).toThrow('[test/j] spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].name: "launcher" is not a replicated job of TrainingRuntime "torch", '
      + 'which has "node": the v2.3 webhook lets the patch through, and the pods are never created');
  });

  test('a TrainJob is checked against its runtime as written, a JSON patch of the runtime included, and again after an amendment', () => {
    const c = chart();
    const runtime = new TrainingRuntime(c, 'r', { metadata: { name: 'torch' }, image: IMAGE });
    new TrainJob(c, 'j', { metadata: { name: 'j' }, runtime, runtimePatches: [new RuntimePatch({ manager: 'example.com/p', nodeSelector: { a: 'b' } })] });
    expect(synth(c).map(m => m.kind)).toEqual(['TrainingRuntime', 'TrainJob']);
    runtime.apiObject.addJsonPatch(JsonPatch.replace('/spec/template/spec/replicatedJobs/0/name', 'launcher'));
    expect(() => Testing.synth(c)).toThrow('[test/j] spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].name: "node" is not a replicated job of TrainingRuntime "torch", '
      + 'which has "launcher": the v2.3 webhook lets the patch through, and the pods are never created');

    // The runtime made for a job is validated after the job's TrainJob, which reads it first.
    const made = chart();
    const job = new PyTorchJob(made, 'made', { ...definition(), target: JobTarget.trainerV2() });
    expect(synth(made).map(m => m.kind)).toEqual(['TrainingRuntime', 'TrainJob']);
    job.trainingRuntime!.addJsonPatch(JsonPatch.replace('/spec/template/spec/replicatedJobs/0/name', 'launcher'));
    expect(() => Testing.synth(made)).toThrow('[test/made/Runtime] spec.template.spec.replicatedJobs[0].name: "launcher" is the trainer job, but the torch plugin sets PET_MASTER_ADDR '
      + 'to the host of replicated job "node" (<job>-node-0-0.<job>): name it "node", or torchrun waits for a master that does not exist');
  });

  test('a container the runtime lacks, env in the node container, and the rules on hand-written manifests', () => {
    const runtime = Testing.synth((() => {
      const c = chart();
      new TrainingRuntime(c, 'r', { metadata: { name: 'torch' }, image: IMAGE });
      return c;
    })())[0];
    const patch = { manager: 'example.com/p', trainingRuntimeSpec: { template: { spec: { replicatedJobs: [{ name: 'node', template: { spec: { template: { spec: { containers: [{ name: 'sidecar' }, { name: 'node', env: [{ name: 'A', value: '1' }] }] } } } } }] } } } };
    const job = { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: 'j' }, spec: { runtimeRef: { name: 'torch', kind: 'TrainingRuntime' }, runtimePatches: [patch] } };
    const at = 'spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].template.spec.template.spec.containers';
    expect(checkTrainJob(job, runtime).map(formatProblem)).toEqual([
      `${at}[0].name: "sidecar" is not a container of replicated job "node" of TrainingRuntime "torch", which has "node": a patch cannot add a container, and the v2.3 webhook lets it through: the pods are never created`,
      `${at}[1].env: must not be set in container "node": the trainer's env is spec.trainer.env`,
    ]);
    expect(checkTrainJob({ ...job, spec: { runtimeRef: { name: 'x', kind: 'JAXRuntime' } } }).map(formatProblem)).toEqual(['spec.runtimeRef: unsupported runtime: JAXRuntime.trainer.kubeflow.org']);
  });

  test('resourcesPerNode as the node container gets it, merged over the runtime\'s, at synth time and on hand-written manifests', () => {
    const c = chart();
    const made = new PyTorchJob(c, 'j', { ...definition(), target: JobTarget.trainerV2() });
    synth(c);
    made.apiObject.addJsonPatch(JsonPatch.add('/spec/trainer/resourcesPerNode/requests/rdma~1ib', '1'));
    expect(() => Testing.synth(c)).toThrow('[test/j] spec.trainer.resourcesPerNode.requests[rdma/ib]: "1" differs from limits[rdma/ib] (omitted): '
      + 'an extended resource such as a GPU must have a limit equal to its request');

    const node = { name: 'node', image: IMAGE, resources: { limits: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': '1Gi' } } };
    const nodeJob = { metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } }, spec: { template: { spec: { containers: [node] } } } };
    const runtime = {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainingRuntime',
      metadata: { name: 'torch' },
      spec: { template: { spec: { replicatedJobs: [{ name: 'node', template: nodeJob }] } } },
    };
    const job = (resourcesPerNode: object) => ({
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: 'j' },
      spec: { runtimeRef: { name: 'torch', kind: 'TrainingRuntime' }, trainer: { resourcesPerNode } },
    });
    // The request meets the runtime's limit in the merged container.
    expect(checkTrainJob(job({ requests: { 'nvidia.com/gpu': 2 } }), runtime)).toEqual([]);
    expect(checkTrainJob(job({ requests: { 'nvidia.com/gpu': 1, 'cpu': 'lots' } }), runtime).map(formatProblem)).toEqual([
      'spec.trainer.resourcesPerNode.requests[cpu]: "lots" is not a Kubernetes quantity (such as 4, 500m or 16Gi)',
      'spec.trainer.resourcesPerNode.requests[nvidia.com/gpu]: 1 differs from limits[nvidia.com/gpu] 2: an extended resource such as a GPU must have a limit equal to its request',
    ]);
    // The runtime's hugepages without cpu or memory are the runtime's to answer for, until resourcesPerNode names hugepages.
    expect(checkTrainJob(job({ limits: { 'hugepages-2Mi': '2Gi' } }), runtime).map(formatProblem)).toEqual([
      'spec.trainer.resourcesPerNode: has hugepages-2Mi but requests or limits neither cpu nor memory: the API server refuses hugepages without cpu or memory',
    ]);
  });

  test('the CRD CEL name rules, with the CRD messages, agree with the CEL evaluation', () => {
    const job = (name: string) => ({ apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name }, spec: { runtimeRef: { name: 'r' } } });
    for (const name of ['Train', '1train', 'train-', `t${'x'.repeat(63)}`, 'train']) {
      const synthTime = checkTrainJob(job(name)).filter(p => p.kind === 'schema').map(p => p.message);
      const cel = trainer.check(job(name)).map(p => p.message);
      expect(synthTime).toEqual(cel);
    }
    expect(checkTrainJob(job('Train')).map(formatProblem)).toEqual(['metadata.name: metadata.name must match RFC 1035 DNS label format']);
    expect(checkTrainJob(job(`t${'x'.repeat(63)}`)).map(formatProblem)).toEqual(['metadata.name: metadata.name must be no more than 63 characters']);
  });

  test('a generated name leaves room for the pods\' host names; a given one too long for them is refused', () => {
    const c = chart();
    const long = new PyTorchJob(c, 'a-very-long-construct-id-that-goes-on-and-on-and-on-and-on', { image: IMAGE, worker: new Worker({ replicas: 11 }), target: JobTarget.trainerV2() });
    synth(c);
    expect(`${long.name}-node-0-11`.length).toBeLessThanOrEqual(63);
    const given = chart();
    new PyTorchJob(given, 'j', { metadata: { name: 'x'.repeat(60) }, image: IMAGE, worker: new Worker({ replicas: 11 }), target: JobTarget.trainerV2() });
    expect(() => Testing.synth(given)).toThrow(`is too long: the JobSet names the last pod's host "${'x'.repeat(60)}-node-0-11", 70 characters, more than a DNS label's 63`);
  });

  test('runtime rules: one replica, the node container, the scheduler of a podGroupPolicy', () => {
    const runtime = {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainingRuntime',
      metadata: { name: 'r' },
      spec: {
        mlPolicy: { torch: {} },
        podGroupPolicy: { volcano: {} },
        template: {
          spec: {
            replicatedJobs: [{
              name: 'node',
              replicas: 2,
              template: {
                metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } },
                spec: { template: { spec: { containers: [{ name: 'trainer', image: IMAGE }] } } },
              },
            }],
          },
        },
      },
    };
    expect(checkTrainingRuntime(runtime).map(formatProblem)).toEqual([
      'spec.template.spec.replicatedJobs[0].replicas: 2: always must be 1',
      'spec.template.spec.replicatedJobs[0].template.spec.template.spec.containers: must contain the required container for the ancestor: trainer',
      'spec.template.spec.replicatedJobs[0].template.spec.template.spec.schedulerName: (omitted) must be "volcano" with podGroupPolicy.volcano: Trainer v2 sets no scheduler name, and the default scheduler ignores the PodGroup',
    ]);
  });
});

test('an app of several jobs on both targets synthesizes each runtime before its TrainJob', () => {
  const app = new App({ outdir: Testing.app().outdir });
  const c = new Chart(app, 'c');
  for (let i = 0; i < 3; i++) new PyTorchJob(c, `job${i}`, { image: IMAGE, worker: new Worker(), target: i % 2 === 0 ? JobTarget.trainerV2() : JobTarget.trainingOperator() });
  expect(synth(c).map(m => m.kind)).toEqual(['TrainingRuntime', 'TrainJob', 'PyTorchJob', 'TrainingRuntime', 'TrainJob']);
});
