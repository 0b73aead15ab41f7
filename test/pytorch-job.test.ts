import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import {
  ConfigMap, Cpu, EnvValue, ImagePullPolicy, NodeLabelQuery, NodeTaintQuery, PersistentVolumeClaim, Secret, ServiceAccount,
  TaintEffect, Volume,
} from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  CleanPodPolicy, GpuResource, ManagedBy, Master, NprocPerNode, PyTorchJob, PyTorchJobProps, RestartPolicy,
  RunPolicy, SharedMemory, Warnings, Worker,
} from '../src';
import { Manifest, podSpec, pytorchContainer, replicaSpec, ReplicaType, synthJob, synthJobs, synthYaml } from './support/synth';

const IMAGE = 'ghcr.io/example/train:2.4.0';
const REPLICAS: ReplicaType[] = ['Master', 'Worker'];

/** The props every test starts from: only what the construct requires. */
function minimal(props: Partial<PyTorchJobProps> = {}): PyTorchJobProps {
  return { image: IMAGE, worker: new Worker(), ...props };
}

/** Props, or a function of the chart that returns them (for the cdk8s-plus objects that need a scope: volumes, secrets). */
type PropsIn = Partial<PyTorchJobProps> | ((chart: Chart) => Partial<PyTorchJobProps>);

/** One PyTorchJob with construct id `job` in a fresh chart, synthesized and checked. */
function synthWith(props: PropsIn = {}): Manifest {
  return synthJob(chartWith(props));
}

/**
 * A chart holding one PyTorchJob with construct id `job`, for tests that expect synthesis to fail.
 * With `fatalWarnings`, its app makes the rules' warnings fail synthesis.
 */
function chartWith(props: PropsIn, { fatalWarnings = false } = {}): Chart {
  const app = Testing.app();
  if (fatalWarnings) Warnings.makeFatal(app);
  const chart = new Chart(app, 'test');
  new PyTorchJob(chart, 'job', minimal(typeof props === 'function' ? props(chart) : props));
  return chart;
}

/** A cdk8s-plus volume of a PersistentVolumeClaim, named `name`, in `scope`. */
function pvcVolume(scope: Construct, name: string, claim: string): Volume {
  return Volume.fromPersistentVolumeClaim(scope, `${name}-volume`, PersistentVolumeClaim.fromClaimName(scope, `${name}-claim`, claim), { name });
}

/** A cdk8s-plus emptyDir volume named `name`, in `scope`. */
function emptyDirVolume(scope: Construct, name: string, id = name): Volume {
  return Volume.fromEmptyDir(scope, `${id}-volume`, name);
}

/** The error cdk8s throws when validation of the construct at `test/job` fails with these problems. */
function validationError(...problems: string[]): Error {
  return new Error(['Validation failed with the following errors:', ...problems.map(p => `  [test/job] ${p}`)].join('\n'));
}

/** What synthesis writes to standard error while `run` runs (the rules' warnings), one entry per write. */
function warningsOf(run: () => void): string[] {
  const written: string[] = [];
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    stderr.mockRestore();
  }
  return written;
}

/** The same problem reported for the Master and the Worker pod template, in that order. */
function onBothReplicas(problem: (type: ReplicaType) => string): string[] {
  return REPLICAS.map(problem);
}

const SHM_VOLUME = { name: 'shm', emptyDir: { medium: 'Memory' } };
const SHM_MOUNT = { name: 'shm', mountPath: '/dev/shm' };
const TRAINING_PORT = { name: 'pytorchjob-port', containerPort: 23456, protocol: 'TCP' };

describe('a minimal PyTorchJob', () => {
  test('is exactly the documented defaults, with nothing from cdk8s-plus', () => {
    const replica = {
      replicas: 1,
      restartPolicy: 'OnFailure',
      template: {
        spec: {
          containers: [{
            name: 'pytorch',
            image: IMAGE,
            imagePullPolicy: 'IfNotPresent',
            ports: [TRAINING_PORT],
            volumeMounts: [SHM_MOUNT],
          }],
          volumes: [SHM_VOLUME],
        },
      },
    };
    expect(synthWith({ metadata: { name: 'train' } })).toStrictEqual({
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name: 'train' },
      spec: {
        pytorchReplicaSpecs: { Master: replica, Worker: replica },
        runPolicy: { cleanPodPolicy: 'None' },
      },
    });
  });

  test('writes no cdk8s-plus default anywhere in its YAML', () => {
    const app = Testing.app();
    new PyTorchJob(new Chart(app, 'test'), 'job', minimal());
    const yaml = synthYaml(app);
    for (const leak of ['cdk8s.io/metadata.addr', 'runAsNonRoot', 'readOnlyRootFilesystem', 'securityContext', 'resources', 'Always']) {
      expect(yaml).not.toContain(leak);
    }
  });

  test('has no pod-level restartPolicy in either template: the replica restartPolicy is the one the operator applies', () => {
    const job = synthWith();
    for (const type of REPLICAS) {
      expect(replicaSpec(job, type).restartPolicy).toBe('OnFailure');
      expect(podSpec(job, type)).not.toHaveProperty('restartPolicy');
    }
  });

  test('writes Master replicas 1 and Worker replicas 1 when neither count is given', () => {
    const job = synthWith({ master: undefined, worker: new Worker() });
    expect(replicaSpec(job, 'Master').replicas).toBe(1);
    expect(replicaSpec(job, 'Worker').replicas).toBe(1);
  });

  test('gets a generated DNS-1035 name, exposed as the construct\'s name', () => {
    const chart = Testing.chart();
    const construct = new PyTorchJob(chart, 'job', minimal());
    const job = synthJob(chart);
    expect(job.metadata.name).toMatch(/^test-job-[0-9a-f]{8}$/);
    expect(construct.name).toBe(job.metadata.name);
  });

  test('exposes the Master and Worker it was given, and a default Master', () => {
    const worker = new Worker({ replicas: 3 });
    const withoutMaster = new PyTorchJob(Testing.chart(), 'job', minimal({ worker }));
    expect(withoutMaster.worker).toBe(worker);
    expect(withoutMaster.master.replicas).toBe(1);
    const master = new Master({ restartPolicy: RestartPolicy.NEVER });
    expect(new PyTorchJob(Testing.chart(), 'job', minimal({ master })).master).toBe(master);
  });
});

describe('job metadata', () => {
  test('a generated name is shortened, keeping its hash, so that the operator\'s pod and Service names fit', () => {
    const chart = Testing.chart();
    const id = 'a-construct-id-long-enough-to-make-a-generated-name-too-long';
    new PyTorchJob(chart, id, minimal({ worker: new Worker({ replicas: 11 }) }));
    const [job] = synthJobs(chart);
    const defaultName = new PyTorchJob(Testing.chart(), id, minimal()).name;
    expect(defaultName.length).toBeGreaterThan(63 - '-worker-10'.length);
    expect(job.metadata.name.length).toBeLessThanOrEqual(63 - '-worker-10'.length);
    expect(job.metadata.name.slice(-8)).toBe(defaultName.slice(-8));
  });

  test.each([
    ['1st', 'my_job', 'job-1st-my-job-c8d6ef76'],
    ['Chart.One', 'job.v2', 'chart-one-job-v2-c8ab43af'],
    ['x', '9lives', 'x-9lives-c846649a'],
    ['__', '__', 'job-c8b72b18'],
  ])('a name generated from chart %j and id %j is made a DNS-1035 label, keeping the hash: %s', (chartId, id, name) => {
    const chart = new Chart(Testing.app(), chartId);
    new PyTorchJob(chart, id, minimal());
    expect(synthJob(chart).metadata.name).toBe(name);
  });

  test('a name the user gave is refused, never changed', () => {
    expect(() => Testing.synth(chartWith({ metadata: { name: 'my_job' } }))).toThrow(validationError(
      'metadata.name: "my_job" is not a DNS-1035 label: lower-case letters, digits and \'-\', starting with a letter, ending with a letter or digit, at most 63 characters'));
  });

  test('puts name, namespace, labels and annotations on the custom resource only', () => {
    const job = synthWith({
      metadata: { name: 'resnet50-ddp', namespace: 'training', labels: { team: 'vision' }, annotations: { 'example.com/owner': 'ml-platform' } },
    });
    expect(job.metadata).toEqual({
      name: 'resnet50-ddp',
      namespace: 'training',
      labels: { team: 'vision' },
      annotations: { 'example.com/owner': 'ml-platform' },
    });
    for (const type of REPLICAS) {
      expect(replicaSpec(job, type).template).not.toHaveProperty('metadata');
    }
  });

  test('puts pod labels and annotations on every replica\'s pod template only', () => {
    const job = synthWith({
      metadata: { name: 'train' },
      podLabels: { 'app.kubernetes.io/name': 'resnet50' },
      podAnnotations: { 'sidecar.istio.io/inject': 'false' },
    });
    expect(job.metadata).toEqual({ name: 'train' });
    for (const type of REPLICAS) {
      expect(replicaSpec(job, type).template.metadata).toEqual({
        labels: { 'app.kubernetes.io/name': 'resnet50' },
        annotations: { 'sidecar.istio.io/inject': 'false' },
      });
    }
  });

  test('takes the chart\'s namespace when none is given', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'ml' });
    new PyTorchJob(chart, 'job', minimal());
    expect(synthJob(chart).metadata.namespace).toBe('ml');
  });
});

describe('the training container', () => {
  test('carries image, command, args and working directory on every replica', () => {
    const job = synthWith({
      command: ['torchrun', 'train.py'],
      args: ['--epochs=90', '--lr=0.1'],
      workingDir: '/workspace',
    });
    for (const type of REPLICAS) {
      expect(pytorchContainer(job, type)).toMatchObject({
        image: IMAGE,
        command: ['torchrun', 'train.py'],
        args: ['--epochs=90', '--lr=0.1'],
        workingDir: '/workspace',
      });
    }
  });

  test('writes plain, Secret-key and ConfigMap-key variables in the order given', () => {
    const chart = Testing.chart();
    new PyTorchJob(chart, 'job', minimal({
      env: {
        NCCL_DEBUG: EnvValue.fromValue('WARN'),
        WANDB_API_KEY: EnvValue.fromSecretValue({ secret: Secret.fromSecretName(chart, 's', 'wandb-credentials'), key: 'api-key' }),
        TRAIN_CONFIG: EnvValue.fromConfigMap(ConfigMap.fromConfigMapName(chart, 'c', 'train-config'), 'config.yaml'),
      },
    }));
    const job = synthJob(chart);
    for (const type of REPLICAS) {
      expect(pytorchContainer(job, type).env).toStrictEqual([
        { name: 'NCCL_DEBUG', value: 'WARN' },
        { name: 'WANDB_API_KEY', valueFrom: { secretKeyRef: { name: 'wandb-credentials', key: 'api-key' } } },
        { name: 'TRAIN_CONFIG', valueFrom: { configMapKeyRef: { name: 'train-config', key: 'config.yaml' } } },
      ]);
    }
  });

  test('never copies a secret value into the job, even when the Secret is defined in the same chart', () => {
    const chart = Testing.chart();
    const secret = new Secret(chart, 'wandb', { stringData: { 'api-key': 'hunter2-not-for-git' } });
    new PyTorchJob(chart, 'job', minimal({ env: { WANDB_API_KEY: EnvValue.fromSecretValue({ secret, key: 'api-key' }) } }));
    const manifests = Testing.synth(chart);
    // The value is in the chart (in the Secret), so its absence from the job is not an accident of the test.
    expect(JSON.stringify(manifests.find(m => m.kind === 'Secret'))).toContain('hunter2-not-for-git');
    const [job] = synthJobs(chart);
    expect(JSON.stringify(job)).not.toContain('hunter2-not-for-git');
    expect(pytorchContainer(job, 'Worker').env).toStrictEqual([
      { name: 'WANDB_API_KEY', valueFrom: { secretKeyRef: { name: secret.name, key: 'api-key' } } },
    ]);
  });

  test('pulls IfNotPresent by default and writes the pull policy given', () => {
    for (const type of REPLICAS) {
      expect(pytorchContainer(synthWith(), type).imagePullPolicy).toBe('IfNotPresent');
      expect(pytorchContainer(synthWith({ imagePullPolicy: ImagePullPolicy.ALWAYS }), type).imagePullPolicy).toBe('Always');
      expect(pytorchContainer(synthWith({ imagePullPolicy: ImagePullPolicy.NEVER }), type).imagePullPolicy).toBe('Never');
    }
  });

  test('writes the container and pod security context where Kubernetes expects each field', () => {
    const job = synthWith({
      podSecurity: { runAsUser: 1000, runAsGroup: 1001, fsGroup: 2000, runAsNonRoot: true },
      securityContext: { readOnlyRootFilesystem: false, allowPrivilegeEscalation: false },
    });
    for (const type of REPLICAS) {
      expect(podSpec(job, type).securityContext).toStrictEqual({ runAsUser: 1000, runAsGroup: 1001, fsGroup: 2000, runAsNonRoot: true });
      expect(pytorchContainer(job, type).securityContext).toStrictEqual({ readOnlyRootFilesystem: false, allowPrivilegeEscalation: false });
    }
  });
});

describe('pod scheduling options', () => {
  test('writes service account, pull secrets, priority class, node selector, tolerations and node affinity on every pod', () => {
    const job = synthWith(chart => ({
      serviceAccount: ServiceAccount.fromServiceAccountName(chart, 'sa', 'trainer'),
      imagePullSecrets: [Secret.fromSecretName(chart, 'ghcr', 'ghcr-pull'), Secret.fromSecretName(chart, 'ecr', 'ecr-pull')],
      priorityClassName: 'training-high',
      nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
      tolerations: [
        NodeTaintQuery.is('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE }),
        NodeTaintQuery.exists('dedicated'),
      ],
      nodeAffinity: [
        NodeLabelQuery.is('topology.kubernetes.io/zone', 'us-east-1a'),
        NodeLabelQuery.in('nvidia.com/gpu.product', ['A100-SXM4-80GB', 'H100-SXM5-80GB']),
        NodeLabelQuery.exists('nvidia.com/gpu.count'),
      ],
    }));
    for (const type of REPLICAS) {
      expect(podSpec(job, type)).toMatchObject({
        serviceAccountName: 'trainer',
        imagePullSecrets: [{ name: 'ghcr-pull' }, { name: 'ecr-pull' }],
        priorityClassName: 'training-high',
        nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
        tolerations: [
          { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' },
          { key: 'dedicated', operator: 'Exists' },
        ],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{
                matchExpressions: [
                  { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] },
                  { key: 'nvidia.com/gpu.product', operator: 'In', values: ['A100-SXM4-80GB', 'H100-SXM5-80GB'] },
                  { key: 'nvidia.com/gpu.count', operator: 'Exists' },
                ],
              }],
            },
          },
        },
      });
    }
  });

  test('merges a replica\'s node selector over the job\'s key by key and appends its tolerations', () => {
    const job = synthWith({
      nodeSelector: { pool: 'training', zone: 'us-east-1a' },
      tolerations: [NodeTaintQuery.exists('dedicated')],
      worker: new Worker({
        replicas: 2,
        nodeSelector: { pool: 'gpu', accelerator: 'a100' },
        tolerations: [NodeTaintQuery.is('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })],
      }),
    });
    expect(podSpec(job, 'Worker').nodeSelector).toStrictEqual({ pool: 'gpu', zone: 'us-east-1a', accelerator: 'a100' });
    expect(podSpec(job, 'Worker').tolerations).toStrictEqual([
      { key: 'dedicated', operator: 'Exists' },
      { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' },
    ]);
    expect(podSpec(job, 'Master').nodeSelector).toStrictEqual({ pool: 'training', zone: 'us-east-1a' });
    expect(podSpec(job, 'Master').tolerations).toStrictEqual([{ key: 'dedicated', operator: 'Exists' }]);
  });

  test('gives a replica its own node selector and tolerations when the job has none', () => {
    const job = synthWith({
      master: new Master({ nodeSelector: { pool: 'cpu' }, tolerations: [NodeTaintQuery.exists('spot')] }),
    });
    expect(podSpec(job, 'Master').nodeSelector).toStrictEqual({ pool: 'cpu' });
    expect(podSpec(job, 'Master').tolerations).toStrictEqual([{ key: 'spot', operator: 'Exists' }]);
    expect(podSpec(job, 'Worker')).not.toHaveProperty('nodeSelector');
    expect(podSpec(job, 'Worker')).not.toHaveProperty('tolerations');
  });
});

describe('volumes', () => {
  test('mounts a PVC, a ConfigMap, a Secret and an emptyDir after the shared memory, each volume listed once', () => {
    const job = synthWith(chart => {
      const data = pvcVolume(chart, 'data', 'imagenet');
      const checkpoints = pvcVolume(chart, 'checkpoints', 'resnet50-checkpoints');
      const config = Volume.fromConfigMap(chart, 'config', ConfigMap.fromConfigMapName(chart, 'config-map', 'train-config'), { name: 'config', defaultMode: 0o444 });
      const credentials = Volume.fromSecret(chart, 'credentials', Secret.fromSecretName(chart, 'gcs', 'gcs-credentials'),
        { name: 'credentials', defaultMode: 0o400, optional: true });
      const scratch = emptyDirVolume(chart, 'scratch');
      return {
        volumeMounts: [
          { volume: data, path: '/data', readOnly: true },
          { volume: checkpoints, path: '/checkpoints' },
          { volume: config, path: '/etc/train/config.yaml', subPath: 'config.yaml', readOnly: true },
          { volume: config, path: '/etc/train/hparams.yaml', subPath: 'hparams.yaml', readOnly: true },
          { volume: credentials, path: '/var/secrets/gcs', readOnly: true },
          { volume: scratch, path: '/scratch' },
        ],
      };
    });
    for (const type of REPLICAS) {
      // cdk8s-plus writes a claim's readOnly, false unless the volume says otherwise; the mounts decide read-only access here.
      expect(podSpec(job, type).volumes).toStrictEqual([
        { name: 'data', persistentVolumeClaim: { claimName: 'imagenet', readOnly: false } },
        { name: 'checkpoints', persistentVolumeClaim: { claimName: 'resnet50-checkpoints', readOnly: false } },
        { name: 'config', configMap: { name: 'train-config', defaultMode: 0o444 } },
        { name: 'credentials', secret: { secretName: 'gcs-credentials', defaultMode: 0o400, optional: true } },
        { name: 'scratch', emptyDir: {} },
        SHM_VOLUME,
      ]);
      expect(pytorchContainer(job, type).volumeMounts).toStrictEqual([
        SHM_MOUNT,
        { name: 'data', mountPath: '/data', readOnly: true },
        { name: 'checkpoints', mountPath: '/checkpoints' },
        { name: 'config', mountPath: '/etc/train/config.yaml', subPath: 'config.yaml', readOnly: true },
        { name: 'config', mountPath: '/etc/train/hparams.yaml', subPath: 'hparams.yaml', readOnly: true },
        { name: 'credentials', mountPath: '/var/secrets/gcs', readOnly: true },
        { name: 'scratch', mountPath: '/scratch' },
      ]);
    }
  });
});

describe('resources', () => {
  test('renders cpu, memory, ephemeral storage and a GPU count as Kubernetes quantities', () => {
    const job = synthWith({
      requests: { cpu: Cpu.millis(7500), memory: Size.mebibytes(1536), ephemeralStorage: Size.gibibytes(100) },
      limits: { cpu: Cpu.units(8), memory: Size.gibibytes(48), ephemeralStorage: Size.tebibytes(1), gpu: 1 },
    });
    for (const type of REPLICAS) {
      expect(pytorchContainer(job, type).resources).toStrictEqual({
        requests: { 'cpu': '7500m', 'memory': '1536Mi', 'ephemeral-storage': '100Gi' },
        limits: { 'cpu': '8', 'memory': '48Gi', 'ephemeral-storage': '1Ti', 'nvidia.com/gpu': 1 },
      });
    }
  });

  test.each([
    ['GpuResource.NVIDIA', GpuResource.NVIDIA, 'nvidia.com/gpu'],
    ['GpuResource.AMD', GpuResource.AMD, 'amd.com/gpu'],
    ['GpuResource.INTEL', GpuResource.INTEL, 'gpu.intel.com/i915'],
    ['a MIG slice by name', GpuResource.of('nvidia.com/mig-1g.5gb'), 'nvidia.com/mig-1g.5gb'],
  ])('counts GPUs of %s as %s', (_label, gpuResource, resourceName) => {
    const job = synthWith({ requests: { gpu: 2, gpuResource }, limits: { gpu: 2, gpuResource } });
    expect(pytorchContainer(job, 'Worker').resources).toStrictEqual({ requests: { [resourceName]: 2 }, limits: { [resourceName]: 2 } });
  });

  test('a replica\'s limits override the job\'s key by key (the issue\'s example)', () => {
    const job = synthWith({
      limits: { cpu: Cpu.units(4), memory: Size.gibibytes(16) },
      worker: new Worker({ limits: { gpu: 2 } }),
    });
    expect(pytorchContainer(job, 'Worker').resources).toStrictEqual({ limits: { 'cpu': '4', 'memory': '16Gi', 'nvidia.com/gpu': 2 } });
    expect(pytorchContainer(job, 'Master').resources).toStrictEqual({ limits: { cpu: '4', memory: '16Gi' } });
  });

  test('a replica\'s requests override the job\'s key by key, and its limits replace only the keys it sets', () => {
    const job = synthWith({
      requests: { cpu: Cpu.units(2), memory: Size.gibibytes(8) },
      limits: { cpu: Cpu.units(4), memory: Size.gibibytes(16) },
      master: new Master({ limits: { memory: Size.gibibytes(32) } }),
      worker: new Worker({ requests: { cpu: Cpu.units(3), ephemeralStorage: Size.gibibytes(50) } }),
    });
    expect(pytorchContainer(job, 'Master').resources).toStrictEqual({
      requests: { cpu: '2', memory: '8Gi' },
      limits: { cpu: '4', memory: '32Gi' },
    });
    expect(pytorchContainer(job, 'Worker').resources).toStrictEqual({
      requests: { 'cpu': '3', 'memory': '8Gi', 'ephemeral-storage': '50Gi' },
      limits: { cpu: '4', memory: '16Gi' },
    });
  });

  test('a replica may set resources the job does not have', () => {
    const job = synthWith({ worker: new Worker({ requests: { cpu: Cpu.units(1) }, limits: { gpu: 1, gpuResource: GpuResource.AMD } }) });
    expect(pytorchContainer(job, 'Worker').resources).toStrictEqual({ requests: { cpu: '1' }, limits: { 'amd.com/gpu': 1 } });
    expect(pytorchContainer(job, 'Master')).not.toHaveProperty('resources');
  });
});

describe('replicas', () => {
  test('the job\'s image is inherited by every replica and a replica\'s own image replaces it for that replica only', () => {
    const job = synthWith({ worker: new Worker({ image: 'ghcr.io/example/train:2.5.0-rc1' }) });
    expect(pytorchContainer(job, 'Master').image).toBe(IMAGE);
    expect(pytorchContainer(job, 'Worker').image).toBe('ghcr.io/example/train:2.5.0-rc1');
    expect(pytorchContainer(synthWith({ master: new Master({ image: 'master:1' }) }), 'Master').image).toBe('master:1');
  });

  test('writes the Worker count given', () => {
    const job = synthWith({ worker: new Worker({ replicas: 16 }) });
    expect(replicaSpec(job, 'Worker').replicas).toBe(16);
    expect(replicaSpec(job, 'Master').replicas).toBe(1);
  });

  test.each([
    [RestartPolicy.ALWAYS, 'Always'],
    [RestartPolicy.ON_FAILURE, 'OnFailure'],
    [RestartPolicy.NEVER, 'Never'],
    [RestartPolicy.EXIT_CODE, 'ExitCode'],
  ])('writes restart policy %s as %s', (restartPolicy, written) => {
    const job = synthWith({ master: new Master({ restartPolicy }), worker: new Worker({ restartPolicy }) });
    expect(replicaSpec(job, 'Master').restartPolicy).toBe(written);
    expect(replicaSpec(job, 'Worker').restartPolicy).toBe(written);
  });

  test('each replica keeps its own restart policy', () => {
    const job = synthWith({
      master: new Master({ restartPolicy: RestartPolicy.EXIT_CODE }),
      worker: new Worker({ restartPolicy: RestartPolicy.NEVER }),
    });
    expect(replicaSpec(job, 'Master').restartPolicy).toBe('ExitCode');
    expect(replicaSpec(job, 'Worker').restartPolicy).toBe('Never');
  });
});

describe('run policy', () => {
  test('writes only cleanPodPolicy None when no run policy is given', () => {
    expect(synthWith().spec.runPolicy).toStrictEqual({ cleanPodPolicy: 'None' });
    expect(synthWith({ runPolicy: new RunPolicy() }).spec.runPolicy).toStrictEqual({ cleanPodPolicy: 'None' });
  });

  test.each([
    [CleanPodPolicy.NONE, 'None'],
    [CleanPodPolicy.RUNNING, 'Running'],
    [CleanPodPolicy.ALL, 'All'],
  ])('writes clean-pod policy %s as %s', (cleanPodPolicy, written) => {
    expect(synthWith({ runPolicy: new RunPolicy({ cleanPodPolicy }) }).spec.runPolicy).toStrictEqual({ cleanPodPolicy: written });
  });

  test('writes every field, with durations in whole seconds', () => {
    const job = synthWith({
      runPolicy: new RunPolicy({
        cleanPodPolicy: CleanPodPolicy.RUNNING,
        ttlAfterFinished: Duration.days(1),
        activeDeadline: Duration.hours(12),
        backoffLimit: 3,
        suspend: true,
        managedBy: ManagedBy.MULTIKUEUE,
      }),
      worker: new Worker({ replicas: 2 }),
    });
    expect(job.spec.runPolicy).toStrictEqual({
      cleanPodPolicy: 'Running',
      ttlSecondsAfterFinished: 86400,
      activeDeadlineSeconds: 43200,
      backoffLimit: 3,
      suspend: true,
      managedBy: 'kueue.x-k8s.io/multikueue',
    });
  });

  test('writes a backoff limit of 0 and a TTL of 0 seconds', () => {
    const job = synthWith({ runPolicy: new RunPolicy({ backoffLimit: 0, ttlAfterFinished: Duration.seconds(0) }) });
    expect(job.spec.runPolicy).toStrictEqual({ cleanPodPolicy: 'None', backoffLimit: 0, ttlSecondsAfterFinished: 0 });
  });

  test('writes suspend false when asked to, and the training operator as manager', () => {
    const job = synthWith({ runPolicy: new RunPolicy({ suspend: false, managedBy: ManagedBy.TRAINING_OPERATOR }) });
    expect(job.spec.runPolicy).toStrictEqual({ cleanPodPolicy: 'None', suspend: false, managedBy: 'kubeflow.org/training-operator' });
  });

  test('accepts durations given in minutes that are whole seconds', () => {
    const job = synthWith({ runPolicy: new RunPolicy({ activeDeadline: Duration.minutes(1.5) }) });
    expect(job.spec.runPolicy.activeDeadlineSeconds).toBe(90);
  });
});

describe('nprocPerNode and port', () => {
  test('leaves nprocPerNode out by default', () => {
    expect(synthWith().spec).not.toHaveProperty('nprocPerNode');
  });

  test.each([
    ['NprocPerNode.count(4)', NprocPerNode.count(4), '4'],
    ['NprocPerNode.AUTO', NprocPerNode.AUTO, 'auto'],
    ['NprocPerNode.CPU', NprocPerNode.CPU, 'cpu'],
    ['NprocPerNode.GPU', NprocPerNode.GPU, 'gpu'],
  ])('writes %s as spec.nprocPerNode %j', (_label, nprocPerNode, written) => {
    expect(synthWith({ nprocPerNode }).spec.nprocPerNode).toBe(written);
  });

  test('writes the port given as pytorchjob-port on every replica', () => {
    const job = synthWith({ port: 29500 });
    for (const type of REPLICAS) {
      expect(pytorchContainer(job, type).ports).toStrictEqual([{ name: 'pytorchjob-port', containerPort: 29500, protocol: 'TCP' }]);
    }
  });
});

describe('shared memory', () => {
  test('is required when torchrun starts several GPU processes, one per GPU under auto; several CPU processes only warn', () => {
    const perGpu = chartWith({ command: ['torchrun', 'train.py'], limits: { gpu: 8 }, sharedMemory: SharedMemory.disabled() });
    expect(() => Testing.synth(perGpu)).toThrow(validationError(...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].volumeMounts: `
      + 'has no memory-backed volume at /dev/shm while 8 GPU processes share the pod: NCCL fails on the runtime\'s 64 MiB')));
    const onCpus = { command: ['torchrun'], args: ['--nproc_per_node=2', 'train.py'], sharedMemory: SharedMemory.disabled() };
    expect(warningsOf(() => Testing.synth(chartWith(onCpus)))).toEqual(onBothReplicas(type => `[test/job] warning: spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].volumeMounts: `
      + 'has no memory-backed volume at /dev/shm while 2 processes share the pod: DataLoader workers may exhaust the runtime\'s 64 MiB\n'));
    // One process per pod, which is what a plain python command is, needs no more than the runtime's.
    expect(() => synthWith({ command: ['python', 'train.py'], limits: { gpu: 8 }, sharedMemory: SharedMemory.disabled() })).not.toThrow();
  });

  test('is a memory-backed emptyDir at /dev/shm on every replica by default, without a size limit', () => {
    const job = synthWith();
    for (const type of REPLICAS) {
      expect(podSpec(job, type).volumes).toStrictEqual([{ name: 'shm', emptyDir: { medium: 'Memory' } }]);
      expect(pytorchContainer(job, type).volumeMounts).toStrictEqual([{ name: 'shm', mountPath: '/dev/shm' }]);
    }
  });

  test.each([
    [Size.gibibytes(16), '16Gi'],
    [Size.mebibytes(512), '512Mi'],
    [Size.gibibytes(1.5), '1536Mi'],
    [Size.gibibytes(0), '0'],
  ])('carries a size limit of %s as %s', (size, written) => {
    const job = synthWith({ sharedMemory: SharedMemory.enabled(size) });
    for (const type of REPLICAS) {
      expect(podSpec(job, type).volumes).toStrictEqual([{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: written } }]);
    }
  });

  test('when disabled, leaves no volume and no mount', () => {
    const job = synthWith({ sharedMemory: SharedMemory.disabled() });
    for (const type of REPLICAS) {
      expect(podSpec(job, type)).not.toHaveProperty('volumes');
      expect(pytorchContainer(job, type)).not.toHaveProperty('volumeMounts');
    }
  });

  test('when disabled, leaves the user\'s own volumes alone, including one at /dev/shm', () => {
    const job = synthWith(chart => ({ sharedMemory: SharedMemory.disabled(), volumeMounts: [{ volume: emptyDirVolume(chart, 'my-shm'), path: '/dev/shm' }] }));
    expect(podSpec(job, 'Worker').volumes).toStrictEqual([{ name: 'my-shm', emptyDir: {} }]);
    expect(pytorchContainer(job, 'Worker').volumeMounts).toStrictEqual([{ name: 'my-shm', mountPath: '/dev/shm' }]);
  });
});

describe('determinism', () => {
  function buildApp(): App {
    const app = Testing.app();
    const chart = new Chart(app, 'training', { namespace: 'ml' });
    new PyTorchJob(chart, 'ddp', ddpProps(chart));
    new PyTorchJob(chart, 'cpu', minimal({
      env: { B: EnvValue.fromValue('2'), A: EnvValue.fromValue('1') },
      nodeSelector: { z: '1', a: '2' },
      worker: new Worker({ replicas: 7 }),
    }));
    return app;
  }

  test('synthesizing the same app twice gives byte-identical YAML', () => {
    const app = buildApp();
    const first = synthYaml(app);
    expect(first.match(/^kind: PyTorchJob$/gm)).toHaveLength(2);
    expect(synthYaml(app)).toBe(first);
  });

  test('two apps built from the same code give byte-identical YAML', () => {
    expect(synthYaml(buildApp())).toBe(synthYaml(buildApp()));
  });
});

/** The full data-parallel job: every job-level option at once. */
function ddpProps(chart: Chart): PyTorchJobProps {
  return {
    metadata: { name: 'resnet50-ddp', labels: { team: 'vision' }, annotations: { 'example.com/owner': 'ml-platform' } },
    image: IMAGE,
    command: ['torchrun', 'train.py'],
    args: ['--epochs=90', '--checkpoint-dir=/checkpoints'],
    workingDir: '/workspace',
    env: {
      NCCL_DEBUG: EnvValue.fromValue('WARN'),
      WANDB_API_KEY: EnvValue.fromSecretValue({ secret: Secret.fromSecretName(chart, 'wandb', 'wandb-credentials'), key: 'api-key' }),
      TRAIN_CONFIG: EnvValue.fromConfigMap(ConfigMap.fromConfigMapName(chart, 'config', 'train-config'), 'config.yaml'),
    },
    imagePullPolicy: ImagePullPolicy.ALWAYS,
    imagePullSecrets: [Secret.fromSecretName(chart, 'ghcr-pull', 'ghcr-pull')],
    serviceAccount: ServiceAccount.fromServiceAccountName(chart, 'trainer', 'trainer'),
    nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
    tolerations: [NodeTaintQuery.is('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })],
    nodeAffinity: [NodeLabelQuery.in('topology.kubernetes.io/zone', ['us-east-1a', 'us-east-1b'])],
    priorityClassName: 'training-high',
    podLabels: { 'app.kubernetes.io/name': 'resnet50' },
    podAnnotations: { 'sidecar.istio.io/inject': 'false' },
    podSecurity: { runAsUser: 1000, fsGroup: 1000 },
    requests: { cpu: Cpu.units(8), memory: Size.gibibytes(48) },
    limits: { cpu: Cpu.units(8), memory: Size.gibibytes(48), gpu: 8 },
    sharedMemory: SharedMemory.enabled(Size.gibibytes(16)),
    volumeMounts: [
      { volume: pvcVolume(chart, 'data', 'imagenet'), path: '/data', readOnly: true },
      { volume: pvcVolume(chart, 'checkpoints', 'resnet50-checkpoints'), path: '/checkpoints' },
    ],
    nprocPerNode: NprocPerNode.count(8),
    port: 29500,
    master: new Master({ restartPolicy: RestartPolicy.EXIT_CODE }),
    worker: new Worker({ replicas: 3, restartPolicy: RestartPolicy.EXIT_CODE }),
    runPolicy: new RunPolicy({
      cleanPodPolicy: CleanPodPolicy.RUNNING,
      backoffLimit: 3,
      activeDeadline: Duration.hours(12),
      ttlAfterFinished: Duration.days(1),
    }),
  };
}

describe('the full data-parallel job', () => {
  test('matches its snapshot', () => {
    const chart = new Chart(Testing.app(), 'training', { namespace: 'ml' });
    new PyTorchJob(chart, 'job', ddpProps(chart));
    expect(synthJob(chart)).toMatchSnapshot();
  });
});

// flytekit's plugins/flytekit-kf-pytorch/tests/test_pytorch_task.py, whose task has image test:tag,
// environment FOO=baz and requests cpu "1" in all three cases.
describe('flytekit test cases expressed with this API', () => {
  const flyteTask = { metadata: { name: 'my-pytorch-task' }, image: 'test:tag', env: { FOO: EnvValue.fromValue('baz') }, requests: { cpu: Cpu.units(1) } };

  test('P1 test_pytorch_task: PyTorch(num_workers=10) gives 1 Master and 10 Workers, each requesting cpu 1 with no limits', () => {
    const job = synthWith({ ...flyteTask, worker: new Worker({ replicas: 10 }) });
    expect(replicaSpec(job, 'Master').replicas).toBe(1);
    expect(replicaSpec(job, 'Worker').replicas).toBe(10);
    for (const type of REPLICAS) {
      expect(pytorchContainer(job, type)).toMatchObject({ image: 'test:tag', env: [{ name: 'FOO', value: 'baz' }] });
      expect(pytorchContainer(job, type).resources).toStrictEqual({ requests: { cpu: '1' } });
    }
  });

  test('P2 test_pytorch_task_with_default_config: Worker(replicas=1) gives 1 Master and 1 Worker', () => {
    const job = synthWith({ ...flyteTask, worker: new Worker({ replicas: 1 }) });
    expect(replicaSpec(job, 'Master').replicas).toBe(1);
    expect(replicaSpec(job, 'Worker').replicas).toBe(1);
    for (const type of REPLICAS) {
      expect(pytorchContainer(job, type).resources).toStrictEqual({ requests: { cpu: '1' } });
    }
  });

  describe('P3 test_pytorch_task_with_custom_config', () => {
    function p3(): Manifest {
      return synthWith({
        ...flyteTask,
        worker: new Worker({
          replicas: 5,
          requests: { cpu: Cpu.units(2), memory: Size.gibibytes(2) },
          limits: { cpu: Cpu.units(4), memory: Size.gibibytes(2) },
          image: 'worker:latest',
          restartPolicy: RestartPolicy.ON_FAILURE,
        }),
        master: new Master({ restartPolicy: RestartPolicy.ALWAYS }),
        runPolicy: new RunPolicy({
          cleanPodPolicy: CleanPodPolicy.ALL,
          backoffLimit: 5,
          activeDeadline: Duration.seconds(100),
          ttlAfterFinished: Duration.seconds(100),
        }),
      });
    }

    test('the Worker: 5 replicas of worker:latest, OnFailure, its own requests and limits', () => {
      const job = p3();
      expect(replicaSpec(job, 'Worker')).toMatchObject({ replicas: 5, restartPolicy: 'OnFailure' });
      expect(pytorchContainer(job, 'Worker').image).toBe('worker:latest');
      expect(pytorchContainer(job, 'Worker').resources).toStrictEqual({
        requests: { cpu: '2', memory: '2Gi' },
        limits: { cpu: '4', memory: '2Gi' },
      });
    });

    test('the Master: 1 replica of the task image, Always, with only the task\'s requests', () => {
      const job = p3();
      expect(replicaSpec(job, 'Master')).toMatchObject({ replicas: 1, restartPolicy: 'Always' });
      expect(pytorchContainer(job, 'Master').image).toBe('test:tag');
      expect(pytorchContainer(job, 'Master').resources).toStrictEqual({ requests: { cpu: '1' } });
    });

    test('the run policy: All, backoff 5, active deadline 100 s, TTL 100 s', () => {
      expect(p3().spec.runPolicy).toStrictEqual({
        cleanPodPolicy: 'All',
        backoffLimit: 5,
        activeDeadlineSeconds: 100,
        ttlSecondsAfterFinished: 100,
      });
    });

    test('matches its snapshot', () => {
      expect(p3()).toMatchSnapshot();
    });
  });
});

describe('bad input is refused at synth time with the field, the value and the rule', () => {
  test.each([0, -1])('Worker replicas %d', (replicas) => {
    expect(() => Testing.synth(chartWith({ worker: new Worker({ replicas }) }))).toThrow(validationError(
      `spec.pytorchReplicaSpecs[Worker].replicas: ${replicas} must be a whole number of at least 1`,
    ));
  });

  test('Worker replicas 2.5', () => {
    expect(() => Testing.synth(chartWith({ worker: new Worker({ replicas: 2.5 }) }))).toThrow(validationError(
      'spec.pytorchReplicaSpecs[Worker].replicas: 2.5 must be a whole number of at least 1',
    ));
  });

  test('an empty job image, on every replica that inherits it', () => {
    expect(() => Testing.synth(chartWith({ image: '' }))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].image: "" is empty: every container needs an image`),
    ));
  });

  test('an empty replica image', () => {
    expect(() => Testing.synth(chartWith({ worker: new Worker({ image: '' }) }))).toThrow(validationError(
      'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].image: "" is empty: every container needs an image',
    ));
    expect(() => Testing.synth(chartWith({ master: new Master({ image: '' }) }))).toThrow(validationError(
      'spec.pytorchReplicaSpecs[Master].template.spec.containers[0].image: "" is empty: every container needs an image',
    ));
  });

  test.each([
    ['My_Job'],
    ['0-test'],
    ['a'.repeat(64)],
    ['train-'],
  ])('job name %s, which is not a DNS-1035 label', (name) => {
    expect(() => Testing.synth(chartWith({ metadata: { name } }))).toThrow(validationError(
      `metadata.name: "${name}" is not a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters`,
    ));
  });

  test('a 56-character name with 10 workers, whose pod and Service names would pass 63 characters', () => {
    const name = 'a'.repeat(56);
    expect(() => Testing.synth(chartWith({ metadata: { name }, worker: new Worker({ replicas: 10 }) }))).toThrow(validationError(
      `metadata.name: "${name}" is too long: the operator names a pod and its Service "${name}-master-0" (65 characters), above the 63 allowed`,
    ));
  });

  test('a name that leaves room for <name>-worker-9 but not <name>-worker-10', () => {
    const name = 'a'.repeat(54);
    synthWith({ metadata: { name }, worker: new Worker({ replicas: 10 }) });
    expect(() => Testing.synth(chartWith({ metadata: { name }, worker: new Worker({ replicas: 11 }) }))).toThrow(validationError(
      `metadata.name: "${name}" is too long: the operator names a pod and its Service "${name}-worker-10" (64 characters), above the 63 allowed`,
    ));
  });

  test('GPU requests different from GPU limits', () => {
    expect(() => Testing.synth(chartWith({ requests: { gpu: 2 }, limits: { gpu: 1 } }))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].resources.requests[nvidia.com/gpu]: `
        + '2 differs from limits[nvidia.com/gpu] 1: an extended resource such as a GPU must have a limit equal to its request'),
    ));
  });

  test('GPU requests without GPU limits', () => {
    expect(() => Testing.synth(chartWith({ worker: new Worker({ requests: { gpu: 2 } }) }))).toThrow(validationError(
      'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].resources.requests[nvidia.com/gpu]: '
      + '2 differs from limits[nvidia.com/gpu] (omitted): an extended resource such as a GPU must have a limit equal to its request',
    ));
  });

  test('GPU requests equal to the limits are accepted', () => {
    expect(pytorchContainer(synthWith({ requests: { gpu: 4 }, limits: { gpu: 4 } }), 'Worker').resources)
      .toStrictEqual({ requests: { 'nvidia.com/gpu': 4 }, limits: { 'nvidia.com/gpu': 4 } });
  });

  test('a cpu request above its limit, compared across units', () => {
    expect(() => Testing.synth(chartWith({ requests: { cpu: Cpu.units(4) }, limits: { cpu: Cpu.millis(2000) } }))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].resources.requests[cpu]: "4" is above its limit "2000m": a request may not exceed its limit`),
    ));
  });

  test('a memory request above the limit a replica sets', () => {
    const props = { requests: { memory: Size.gibibytes(32) }, worker: new Worker({ limits: { memory: Size.gibibytes(16) } }) };
    expect(() => Testing.synth(chartWith(props))).toThrow(validationError(
      'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].resources.requests[memory]: "32Gi" is above its limit "16Gi": a request may not exceed its limit',
    ));
  });

  test('a request equal to its limit in another unit is accepted', () => {
    const job = synthWith({
      requests: { cpu: Cpu.millis(2000), memory: Size.mebibytes(2048) },
      limits: { cpu: Cpu.units(2), memory: Size.gibibytes(2) },
    });
    expect(pytorchContainer(job, 'Worker').resources).toStrictEqual({ requests: { cpu: '2000m', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } });
  });

  test.each([
    ['activeDeadline', { activeDeadline: Duration.millis(1500) }],
    ['ttlAfterFinished', { ttlAfterFinished: Duration.millis(1500) }],
  ])('%s of 1.5 s, when the job is constructed', (field, runPolicyProps) => {
    expect(() => new PyTorchJob(Testing.chart(), 'job', minimal({ runPolicy: new RunPolicy(runPolicyProps) })))
      .toThrow(new Error(`runPolicy.${field}: 1 second 500 millis is not a whole number of seconds`));
  });

  test('an active deadline of 0 seconds', () => {
    expect(() => Testing.synth(chartWith({ runPolicy: new RunPolicy({ activeDeadline: Duration.seconds(0) }) }))).toThrow(validationError(
      'spec.runPolicy.activeDeadlineSeconds: 0 must be a whole number of seconds, at least 1',
    ));
  });

  test.each([-1, 1.5])('a backoff limit of %p', (backoffLimit) => {
    expect(() => Testing.synth(chartWith({ runPolicy: new RunPolicy({ backoffLimit }) }))).toThrow(validationError(
      `spec.runPolicy.backoffLimit: ${backoffLimit} must be a whole number of at least 0`,
    ));
  });

  test('a /dev/shm mount of the user\'s own while shared memory is on', () => {
    const volumeMounts = (chart: Chart) => [{ volume: emptyDirVolume(chart, 'my-shm'), path: '/dev/shm' }];
    expect(() => Testing.synth(chartWith(chart => ({ volumeMounts: volumeMounts(chart) })))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].volumeMounts[1].mountPath: `
        + '"/dev/shm" is mounted twice: each path takes one volume (a job built with the constructs mounts its shared memory there unless given SharedMemory.disabled())'),
    ));
  });

  test.each([['MASTER_ADDR', '"test-job-c8bab9c7-master-0"'], ['WORLD_SIZE', '"2"'], ['PET_NNODES', '"2"'], ['PYTHONUNBUFFERED', '"1"']])(
    'an environment variable %s, which the operator sets again: a warning, shown once, fatal when the app says so', (name, appended) => {
      const problems = onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].env[0].name: `
        + `"${name}" is set by the training operator, which appends ${appended} after yours, and the last value wins: remove it`);
      const props = { env: { [name]: EnvValue.fromValue('x') } };
      const chart = chartWith(props);
      // cdk8s validates the app again for each chart it writes: each warning is shown once all the same.
      expect(warningsOf(() => { Testing.synth(chart); Testing.synth(chart); })).toEqual(problems.map(p => `[test/job] warning: ${p}\n`));
      expect(() => Testing.synth(chartWith(props, { fatalWarnings: true }))).toThrow(validationError(...problems));
    });

  test('the operator\'s own value for a variable it sets is no warning', () => {
    expect(warningsOf(() => synthWith({ env: { PYTHONUNBUFFERED: EnvValue.fromValue('1'), MASTER_PORT: EnvValue.fromValue('23456') } }))).toEqual([]);
  });

  test('every operator variable is reported, at its own index', () => {
    const env = { NCCL_DEBUG: EnvValue.fromValue('INFO'), RANK: EnvValue.fromValue('0'), PET_NPROC_PER_NODE: EnvValue.fromValue('2') };
    const rule = (name: string, value: string) => `"${name}" is set by the training operator, which appends ${value} after yours, and the last value wins: remove it`;
    expect(() => Testing.synth(chartWith({ env }, { fatalWarnings: true }))).toThrow(validationError(
      `spec.pytorchReplicaSpecs[Master].template.spec.containers[0].env[2].name: ${rule('PET_NPROC_PER_NODE', '"auto"')}`,
      `spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].env[1].name: ${rule('RANK', '"1"')}`,
      `spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].env[2].name: ${rule('PET_NPROC_PER_NODE', '"auto"')}`,
    ));
  });

  test('a torchrun flag that torchrun would refuse, reported at its index in args', () => {
    expect(() => Testing.synth(chartWith({ command: ['torchrun'], args: ['--nnodes=2', '--nproc_per_node=0', 'train.py'] }))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].args[1]: `
        + '--nproc_per_node "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1'),
    ));
  });

  test('NprocPerNode.count(0)', () => {
    expect(() => Testing.synth(chartWith({ nprocPerNode: NprocPerNode.count(0) }))).toThrow(validationError(
      'spec.nprocPerNode: "0" is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1',
    ));
  });

  test('two different volumes with the same name', () => {
    const volumeMounts = (chart: Chart) => [
      { volume: pvcVolume(chart, 'data', 'imagenet'), path: '/data' },
      { volume: emptyDirVolume(chart, 'data', 'scratch'), path: '/scratch' },
    ];
    expect(() => Testing.synth(chartWith(chart => ({ volumeMounts: volumeMounts(chart) })))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.volumes[1].name: "data" names two volumes: each volume needs its own name`),
    ));
  });

  test('a volume of the user\'s named like the shared-memory volume', () => {
    expect(() => Testing.synth(chartWith(chart => ({ volumeMounts: [{ volume: emptyDirVolume(chart, 'shm'), path: '/scratch' }] })))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.volumes[1].name: "shm" names two volumes: each volume needs its own name`),
    ));
  });

  test('two volumes mounted at the same path', () => {
    const volumeMounts = (chart: Chart) => [{ volume: emptyDirVolume(chart, 'a'), path: '/scratch' }, { volume: emptyDirVolume(chart, 'b'), path: '/scratch' }];
    expect(() => Testing.synth(chartWith(chart => ({ volumeMounts: volumeMounts(chart) })))).toThrow(validationError(
      ...onBothReplicas(type => `spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].volumeMounts[2].mountPath: "/scratch" is mounted twice: each path takes one volume`),
    ));
  });

  test('a fractional GPU count', () => {
    expect(() => Testing.synth(chartWith({ worker: new Worker({ limits: { gpu: 0.5 } }) }))).toThrow(validationError(
      'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].resources.limits[nvidia.com/gpu]: 0.5 is not a whole number: nvidia.com/gpu is counted in whole devices',
    ));
  });

  test('every problem at once, in the order of the manifest', () => {
    const props = { metadata: { name: 'Bad' }, worker: new Worker({ replicas: 0, image: '' }), runPolicy: new RunPolicy({ backoffLimit: -1 }) };
    expect(() => Testing.synth(chartWith(props))).toThrow(validationError(
      'metadata.name: "Bad" is not a DNS-1035 label: lower-case letters, digits and \'-\', starting with a letter, ending with a letter or digit, at most 63 characters',
      'spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1',
      'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].image: "" is empty: every container needs an image',
      'spec.runPolicy.backoffLimit: -1 must be a whole number of at least 0',
    ));
  });
});

describe('a failed synthesis writes nothing', () => {
  function appWith(props: Partial<PyTorchJobProps>): App {
    const app = Testing.app();
    new PyTorchJob(new Chart(app, 'test'), 'job', minimal(props));
    return app;
  }

  test('a valid app writes its chart to the outdir', () => {
    const app = appWith({ metadata: { name: 'train' } });
    app.synth();
    expect(fs.readdirSync(app.outdir)).toEqual(['test.k8s.yaml']);
    expect(synthYaml(app)).toBe(fs.readFileSync(path.join(app.outdir, 'test.k8s.yaml'), 'utf8'));
  });

  test('an invalid app throws and leaves the outdir empty', () => {
    const app = appWith({ worker: new Worker({ replicas: 0 }) });
    expect(() => app.synth()).toThrow(validationError('spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1'));
    expect(fs.readdirSync(app.outdir)).toEqual([]);
  });

  test('a valid chart next to an invalid one is not written either', () => {
    const app = appWith({ worker: new Worker({ replicas: 0 }) });
    new PyTorchJob(new Chart(app, 'valid'), 'job', minimal());
    expect(() => app.synth()).toThrow(validationError('spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1'));
    expect(fs.readdirSync(app.outdir)).toEqual([]);
  });
});
