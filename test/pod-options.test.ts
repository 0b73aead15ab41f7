import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import {
  Capability, ConfigMap, Cpu, DnsPolicy, DockerConfigSecret, EnvValue, HostPathVolumeType, ImagePullPolicy, LabelExpression,
  LabelSelector, NodeLabelQuery, NodeTaintQuery, PersistentVolumeClaim, Pod, Protocol, Secret, ServiceAccount, TaintEffect,
  Topology, Volume,
} from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { parseAllDocuments } from 'yaml';
import {
  Elastic, Entrypoint, ExtendedResource, GpuResource, Master, Nnodes, PyTorchElasticJob, PyTorchJob, PyTorchJobProps,
  RestartPolicy, TrainingJob, TrainingJobProps, UnsatisfiableConstraintAction, Worker,
} from '../src';
import { podSpec, pytorchContainer, replicaSpec, synthJob } from './support/synth';
import { expectValidElasticManifest, Manifest } from './support/synth-elastic';

const NAME = 'train';
const IMAGE = 'ghcr.io/example/train:2.4.0';
const OPERATOR_JOB_LABEL = 'training.kubeflow.org/job-name';
const BATCH_JOB_LABEL = 'batch.kubernetes.io/job-name';
const HOSTNAME = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const SHM_VOLUME = { name: 'shm', emptyDir: { medium: 'Memory' } };
const SHM_MOUNT = { name: 'shm', mountPath: '/dev/shm' };

/** A pod template of a job's manifest: its field path in rule messages, and its JSON pointer for patches. */
interface TemplateAt {
  readonly path: string;
  readonly pointer: string;
}

/** One of the three objects the two constructs write, built the same way from job-level props. */
interface Variant {
  readonly title: string;
  readonly kind: 'PyTorchJob' | 'Job';
  readonly templates: readonly TemplateAt[];
  /** The label that the controller puts on this job's pods, and nothing else does. */
  readonly ownPods: { readonly [label: string]: string };
  build(scope: Construct, id: string, props?: Partial<TrainingJobProps>): TrainingJob;
}

const MASTER_TEMPLATE = { path: 'spec.pytorchReplicaSpecs[Master].template', pointer: '/spec/pytorchReplicaSpecs/Master/template' };
const WORKER_TEMPLATE = { path: 'spec.pytorchReplicaSpecs[Worker].template', pointer: '/spec/pytorchReplicaSpecs/Worker/template' };
const JOB_TEMPLATE = { path: 'spec.template', pointer: '/spec/template' };

const PYTORCH_JOB: Variant = {
  title: 'PyTorchJob (Master and 2 Workers)',
  kind: 'PyTorchJob',
  templates: [MASTER_TEMPLATE, WORKER_TEMPLATE],
  ownPods: { [OPERATOR_JOB_LABEL]: NAME },
  build: (scope, id, props = {}) => new PyTorchJob(scope, id, {
    image: IMAGE, metadata: { name: NAME }, worker: new Worker({ replicas: 2 }), ...props,
  }),
};

const SINGLE_NODE: Variant = {
  title: 'single-node PyTorchElasticJob (batch/v1 Job)',
  kind: 'Job',
  templates: [JOB_TEMPLATE],
  ownPods: { [BATCH_JOB_LABEL]: NAME },
  build: (scope, id, props = {}) => new PyTorchElasticJob(scope, id, {
    image: IMAGE, metadata: { name: NAME }, entrypoint: Entrypoint.script('train.py'), ...props,
  }),
};

const MULTI_NODE: Variant = {
  title: 'multi-node PyTorchElasticJob (elastic PyTorchJob)',
  kind: 'PyTorchJob',
  templates: [WORKER_TEMPLATE],
  ownPods: { [OPERATOR_JOB_LABEL]: NAME },
  build: (scope, id, props = {}) => new PyTorchElasticJob(scope, id, {
    image: IMAGE, metadata: { name: NAME }, entrypoint: Entrypoint.script('train.py'), elastic: new Elastic({ nnodes: Nnodes.range(2, 4) }), ...props,
  }),
};

const VARIANTS: readonly Variant[] = [PYTORCH_JOB, SINGLE_NODE, MULTI_NODE];
const EACH = VARIANTS.map(variant => [variant.title, variant] as const);

/** Props that may create cdk8s-plus objects (volumes, Secrets) in the job's chart. */
type PropsIn = (chart: Chart) => Partial<TrainingJobProps>;

/** The job object among a chart's manifests, checked against the CRD schema and the rules. */
function jobOf(manifests: Manifest[], variant: Variant): Manifest {
  const jobs = manifests.filter(manifest => manifest.kind === variant.kind);
  expect(jobs).toHaveLength(1);
  expectValidElasticManifest(jobs[0]);
  return jobs[0];
}

/** One job of the variant with construct id `job` in a fresh chart, amended if asked, synthesized and checked. */
function synth(variant: Variant, props: PropsIn = () => ({}), amend: (job: TrainingJob) => void = () => {}): Manifest {
  const chart = Testing.chart();
  amend(variant.build(chart, 'job', props(chart)));
  return jobOf(Testing.synth(chart), variant);
}

/** The pod templates of a job's manifest, in the order of `variant.templates`. */
function templates(variant: Variant, manifest: Manifest): Manifest[] {
  return variant.templates.map(({ pointer }) => pointer.split('/').slice(1).reduce((value, key) => value?.[key], manifest as any));
}

/** The pod specs of a job's manifest. */
function specs(variant: Variant, manifest: Manifest): Manifest[] {
  return templates(variant, manifest).map(template => template.spec);
}

/** A container of a pod spec by name. */
function containerOf(spec: Manifest, name = 'pytorch'): Manifest {
  const container = (spec.containers as Manifest[]).find(c => c.name === name);
  if (!container) throw new Error(`the pod has no container ${name}`);
  return container;
}

/** The error cdk8s throws when validation of the construct at `test/job` fails with these problems. */
function validationError(...problems: string[]): Error {
  return new Error(['Validation failed with the following errors:', ...problems.map(p => `  [test/job] ${p}`)].join('\n'));
}

/** The same problem in every pod template of the variant, the problem's path relative to the template. */
function inEveryTemplate(variant: Variant, problem: string): string[] {
  return variant.templates.map(({ path: at }) => `${at}.${problem}`);
}

/**
 * Builds an app as a cdk8s program does and synthesizes it into a fresh temporary directory: it must fail with
 * exactly these validation problems, and write no file.
 */
function expectRefused(build: (chart: Chart) => void, ...problems: string[]): void {
  const app = Testing.app();
  build(new Chart(app, 'test'));
  expect(() => app.synth()).toThrow(validationError(...problems));
  expect(fs.readdirSync(app.outdir)).toEqual([]);
}

/** An app synthesized to YAML, its job of the variant checked; returns the YAML text. */
function checkedYaml(app: App, variant: Variant): string {
  const yaml = app.synthYaml();
  jobOf(parseAllDocuments(yaml).map(doc => doc.toJS()).filter(doc => doc !== null), variant);
  return yaml;
}

/** Synthesizes an app into its output directory and reads back every object written, in file order. */
function synthToFiles(app: App): Manifest[] {
  app.synth();
  return fs.readdirSync(app.outdir).sort().flatMap(file => parseAllDocuments(fs.readFileSync(path.join(app.outdir, file), 'utf8'))
    .map(doc => doc.toJS()).filter(doc => doc !== null));
}

describe.each(EACH)('%s: containers besides pytorch', (_, variant) => {
  const props: PropsIn = chart => {
    const data = Volume.fromPersistentVolumeClaim(chart, 'data', PersistentVolumeClaim.fromClaimName(chart, 'claim', 'datasets'));
    const token = Secret.fromSecretName(chart, 'token', 'hf-token');
    return {
      volumeMounts: [{ volume: data, path: '/data', readOnly: true }],
      initContainers: [{
        name: 'stage',
        image: 'busybox:1.36',
        command: ['sh', '-c'],
        args: ['cp -r /data/shard-0 /tmp'],
        env: { MODE: EnvValue.fromValue('copy'), HF_TOKEN: EnvValue.fromSecretValue({ secret: token, key: 'token' }) },
        volumeMounts: [{ volume: data, path: '/data' }],
        requests: { cpu: Cpu.millis(500), memory: Size.mebibytes(512) },
        limits: { cpu: Cpu.units(1), memory: Size.gibibytes(1) },
      }],
      sidecars: [{
        name: 'metrics',
        image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5',
        ports: [{ number: 9400, name: 'metrics' }],
        volumeMounts: [{ volume: data, path: '/data', readOnly: true, subPath: 'metrics' }],
        securityContext: {
          runAsUser: 65534, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, dropCapabilities: [Capability.ALL],
        },
      }],
      containers: [{
        name: 'nccl-check',
        image: 'ghcr.io/example/nccl-tests:2.13',
        imagePullPolicy: ImagePullPolicy.ALWAYS,
        workingDir: '/opt/nccl',
        limits: { gpu: 1, extended: [ExtendedResource.of('rdma/ib', 1)] },
        securityContext: { addCapabilities: [Capability.IPC_LOCK] },
        ports: [{ number: 8080, name: 'probe', protocol: Protocol.UDP }],
      }],
    };
  };

  test('init containers, then native sidecars (restartPolicy Always) in initContainers, extra containers after pytorch, every field written', () => {
    for (const spec of specs(variant, synth(variant, props))) {
      expect(spec.initContainers).toEqual([
        {
          name: 'stage',
          image: 'busybox:1.36',
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c'],
          args: ['cp -r /data/shard-0 /tmp'],
          env: [{ name: 'MODE', value: 'copy' }, { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } }],
          resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
          volumeMounts: [{ name: 'pvc-datasets', mountPath: '/data' }],
        },
        {
          name: 'metrics',
          image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: 'metrics', containerPort: 9400, protocol: 'TCP' }],
          volumeMounts: [{ name: 'pvc-datasets', mountPath: '/data', readOnly: true, subPath: 'metrics' }],
          securityContext: { runAsUser: 65534, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          restartPolicy: 'Always',
        },
      ]);
      expect(spec.containers.map((c: Manifest) => c.name)).toEqual(['pytorch', 'nccl-check']);
      expect(spec.containers[1]).toEqual({
        name: 'nccl-check',
        image: 'ghcr.io/example/nccl-tests:2.13',
        imagePullPolicy: 'Always',
        workingDir: '/opt/nccl',
        resources: { limits: { 'nvidia.com/gpu': 1, 'rdma/ib': 1 } },
        securityContext: { capabilities: { add: ['IPC_LOCK'] } },
        ports: [{ name: 'probe', containerPort: 8080, protocol: 'UDP' }],
      });
      expect(containerOf(spec).volumeMounts).toEqual([SHM_MOUNT, { name: 'pvc-datasets', mountPath: '/data', readOnly: true }]);
    }
  });

  test('a volume that three containers mount is added to the pod once, before the shared memory', () => {
    for (const spec of specs(variant, synth(variant, props))) {
      expect(spec.volumes).toEqual([{ name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: false } }, SHM_VOLUME]);
    }
  });

  test('every container, pytorch included, is pulled IfNotPresent unless it says otherwise', () => {
    const manifest = synth(variant, () => ({
      initContainers: [{ name: 'stage', image: 'busybox:1.36' }],
      sidecars: [{ name: 'metrics', image: 'exporter:1' }],
      containers: [{ name: 'helper', image: 'helper:1' }, { name: 'pinned', image: 'pinned:1', imagePullPolicy: ImagePullPolicy.NEVER }],
    }));
    for (const spec of specs(variant, manifest)) {
      expect([...spec.initContainers, ...spec.containers].map((c: Manifest) => [c.name, c.imagePullPolicy])).toEqual([
        ['stage', 'IfNotPresent'], ['metrics', 'IfNotPresent'], ['pytorch', 'IfNotPresent'], ['helper', 'IfNotPresent'], ['pinned', 'Never'],
      ]);
    }
  });

  test('the training container takes a pull policy, a working directory and env from ConfigMap keys and Secret values', () => {
    const manifest = synth(variant, chart => {
      const config = new ConfigMap(chart, 'config', { data: { lr: '3e-4' } });
      return {
        imagePullPolicy: ImagePullPolicy.ALWAYS,
        workingDir: '/workspace',
        env: {
          LR: EnvValue.fromConfigMap(config, 'lr'),
          WANDB_API_KEY: EnvValue.fromSecretValue({ secret: Secret.fromSecretName(chart, 'wandb', 'wandb'), key: 'api-key' }),
        },
      };
    });
    for (const spec of specs(variant, manifest)) {
      const container = containerOf(spec);
      expect(container.imagePullPolicy).toBe('Always');
      expect(container.workingDir).toBe('/workspace');
      expect(container.env.slice(0, 2)).toEqual([
        { name: 'LR', valueFrom: { configMapKeyRef: { name: expect.stringMatching(/^test-config-[0-9a-f]{8}$/), key: 'lr' } } },
        { name: 'WANDB_API_KEY', valueFrom: { secretKeyRef: { name: 'wandb', key: 'api-key' } } },
      ]);
    }
  });
});

describe.each(EACH)('%s: extended resources', (_, variant) => {
  test('RDMA, EFA and hugepages go into limits beside cpu and memory; the GPU stays a count', () => {
    const manifest = synth(variant, () => ({
      requests: { cpu: Cpu.units(12), memory: Size.gibibytes(200) },
      limits: {
        cpu: Cpu.units(16),
        memory: Size.gibibytes(256),
        gpu: 8,
        extended: [ExtendedResource.of('rdma/ib', 1), ExtendedResource.efa(32), ExtendedResource.hugepages(Size.mebibytes(2), Size.gibibytes(1))],
      },
    }));
    for (const spec of specs(variant, manifest)) {
      const resources = containerOf(spec).resources;
      expect(resources).toEqual({
        requests: { cpu: '12', memory: '200Gi' },
        limits: { 'cpu': '16', 'memory': '256Gi', 'nvidia.com/gpu': 8, 'rdma/ib': 1, 'vpc.amazonaws.com/efa': 32, 'hugepages-2Mi': '1Gi' },
      });
      expect(typeof resources.limits['nvidia.com/gpu']).toBe('number');
    }
  });

  test('1 GiB hugepages and another GPU vendor, in requests and limits alike', () => {
    const resources = {
      memory: Size.gibibytes(64),
      gpu: 2,
      gpuResource: GpuResource.AMD,
      extended: [ExtendedResource.hugepages(Size.gibibytes(1), Size.gibibytes(4))],
    };
    for (const spec of specs(variant, synth(variant, () => ({ requests: resources, limits: resources })))) {
      const list = { 'memory': '64Gi', 'amd.com/gpu': 2, 'hugepages-1Gi': '4Gi' };
      expect(containerOf(spec).resources).toEqual({ requests: list, limits: list });
    }
  });

  test('an extended resource requested otherwise than limited is refused with the rule', () => {
    expectRefused(chart => variant.build(chart, 'job', {
      requests: { extended: [ExtendedResource.of('rdma/ib', 1)] },
      limits: { extended: [ExtendedResource.of('rdma/ib', 2)] },
    }), ...inEveryTemplate(variant, 'spec.containers[0].resources.requests[rdma/ib]: 1 differs from limits[rdma/ib] 2: '
      + 'an extended resource such as a GPU must have a limit equal to its request'));
  });

  test('a sidecar\'s extended resources are checked too', () => {
    expectRefused(chart => variant.build(chart, 'job', {
      sidecars: [{ name: 'metrics', image: 'exporter:1', requests: { extended: [ExtendedResource.efa(1)] } }],
    }), ...inEveryTemplate(variant, 'spec.initContainers[0].resources.requests[vpc.amazonaws.com/efa]: 1 differs from limits[vpc.amazonaws.com/efa] (omitted): '
      + 'an extended resource such as a GPU must have a limit equal to its request'));
  });

  test('hugepages without cpu or memory are refused with the rule', () => {
    expectRefused(chart => variant.build(chart, 'job', {
      limits: { extended: [ExtendedResource.hugepages(Size.mebibytes(2), Size.gibibytes(1))] },
    }), ...inEveryTemplate(variant, 'spec.containers[0].resources: has hugepages-2Mi but requests or limits neither cpu nor memory: '
      + 'the API server refuses hugepages without cpu or memory'));
  });
});

describe.each(EACH)('%s: security', (_, variant) => {
  test('capabilities added and dropped, privileged, and the pod\'s security', () => {
    const manifest = synth(variant, () => ({
      securityContext: {
        privileged: true, runAsUser: 0, addCapabilities: [Capability.IPC_LOCK, Capability.SYS_NICE], dropCapabilities: [Capability.NET_RAW],
      },
      podSecurity: { runAsUser: 1000, runAsGroup: 100, fsGroup: 100, runAsNonRoot: false },
      sidecars: [{ name: 'fabric-manager', image: 'fm:1', securityContext: { privileged: true } }],
    }));
    for (const spec of specs(variant, manifest)) {
      expect(containerOf(spec).securityContext).toEqual({ privileged: true, runAsUser: 0, capabilities: { add: ['IPC_LOCK', 'SYS_NICE'], drop: ['NET_RAW'] } });
      expect(spec.initContainers[0].securityContext).toEqual({ privileged: true });
      expect(spec.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 100, fsGroup: 100, runAsNonRoot: false });
    }
  });

  test('nothing is written when no security is given', () => {
    for (const spec of specs(variant, synth(variant))) {
      expect(spec).not.toHaveProperty('securityContext');
      expect(containerOf(spec)).not.toHaveProperty('securityContext');
    }
  });
});

describe.each(EACH)('%s: placement', (_, variant) => {
  const own = { matchLabels: variant.ownPods };

  test('required and preferred node affinity', () => {
    const manifest = synth(variant, () => ({
      nodeAffinity: [NodeLabelQuery.is('node.kubernetes.io/instance-type', 'p5.48xlarge'), NodeLabelQuery.exists('nvidia.com/gpu.present')],
      preferredNodeAffinity: [
        { weight: 80, queries: [NodeLabelQuery.in(ZONE, ['us-east-1a', 'us-east-1b'])] },
        { weight: 1, queries: [NodeLabelQuery.notIn('example.com/pool', ['shared'])] },
      ],
    }));
    for (const spec of specs(variant, manifest)) {
      expect(spec.affinity).toEqual({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{
              matchExpressions: [
                { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['p5.48xlarge'] },
                { key: 'nvidia.com/gpu.present', operator: 'Exists' },
              ],
            }],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 80, preference: { matchExpressions: [{ key: ZONE, operator: 'In', values: ['us-east-1a', 'us-east-1b'] }] } },
            { weight: 1, preference: { matchExpressions: [{ key: 'example.com/pool', operator: 'NotIn', values: ['shared'] }] } },
          ],
        },
      });
    }
  });

  test('pod affinity and anti-affinity, with a selector and with the default (this job\'s pods on the same node)', () => {
    const manifest = synth(variant, () => ({
      podAffinity: [
        { selector: LabelSelector.of({ labels: { app: 'feature-cache' } }), topology: Topology.ZONE, namespaces: ['data'] },
        { weight: 50 },
      ],
      podAntiAffinity: [
        { selector: LabelSelector.of({ expressions: [LabelExpression.in('team', ['inference'])] }), weight: 100 },
        {},
      ],
    }));
    for (const spec of specs(variant, manifest)) {
      expect(spec.affinity).toEqual({
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'feature-cache' } }, topologyKey: ZONE, namespaces: ['data'] }],
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: own, topologyKey: HOSTNAME } }],
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: own, topologyKey: HOSTNAME }],
          preferredDuringSchedulingIgnoredDuringExecution: [{
            weight: 100,
            podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['inference'] }] }, topologyKey: HOSTNAME },
          }],
        },
      });
    }
  });

  test('onePodPerNode is a required anti-affinity to this job\'s pods on the hostname, after the user\'s own', () => {
    const alone = synth(variant, () => ({ onePodPerNode: true }));
    for (const spec of specs(variant, alone)) {
      expect(spec.affinity).toEqual({
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: own, topologyKey: HOSTNAME }] },
      });
    }
    const withOwn = synth(variant, () => ({ onePodPerNode: true, podAntiAffinity: [{ selector: LabelSelector.of({ labels: { app: 'db' } }), topology: Topology.ZONE }] }));
    for (const spec of specs(variant, withOwn)) {
      expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
        { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: ZONE },
        { labelSelector: own, topologyKey: HOSTNAME },
      ]);
    }
    for (const spec of specs(variant, synth(variant, () => ({ onePodPerNode: false })))) expect(spec).not.toHaveProperty('affinity');
  });

  test('topology spread: zone, maxSkew 1, DoNotSchedule and this job\'s pods by default; each field when given', () => {
    const manifest = synth(variant, () => ({
      topologySpread: [
        {},
        { topology: Topology.HOSTNAME, maxSkew: 2, whenUnsatisfiable: UnsatisfiableConstraintAction.SCHEDULE_ANYWAY, selector: LabelSelector.of({ labels: { team: 'ml' } }) },
      ],
    }));
    for (const spec of specs(variant, manifest)) {
      expect(spec.topologySpreadConstraints).toEqual([
        { maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: own },
        { maxSkew: 2, topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { team: 'ml' } } },
      ]);
    }
  });

  test('scheduler, priority class, termination grace period in whole seconds, node selector and tolerations', () => {
    const manifest = synth(variant, () => ({
      schedulerName: 'volcano',
      priorityClassName: 'training-high',
      terminationGracePeriod: Duration.minutes(2),
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
      tolerations: [
        NodeTaintQuery.exists('nvidia.com/gpu', { effect: TaintEffect.NO_SCHEDULE }),
        NodeTaintQuery.is('spot', 'true', { effect: TaintEffect.NO_EXECUTE, evictAfter: Duration.minutes(5) }),
      ],
    }));
    for (const spec of specs(variant, manifest)) {
      expect(spec).toMatchObject({
        schedulerName: 'volcano',
        priorityClassName: 'training-high',
        terminationGracePeriodSeconds: 120,
        nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
        tolerations: [
          { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
          { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoExecute', tolerationSeconds: 300 },
        ],
      });
    }
  });

  test('hostNetwork writes dnsPolicy ClusterFirstWithHostNet; an explicit dnsPolicy wins; hostIpc', () => {
    for (const spec of specs(variant, synth(variant, () => ({ hostNetwork: true, hostIpc: true })))) {
      expect(spec).toMatchObject({ hostNetwork: true, hostIPC: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    }
    const custom = { dnsPolicy: DnsPolicy.NONE, dnsConfig: { nameservers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'] } };
    for (const spec of specs(variant, synth(variant, () => ({ hostNetwork: true, ...custom })))) {
      expect(spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'None', dnsConfig: custom.dnsConfig });
      expect(spec).not.toHaveProperty('hostIPC');
    }
    for (const spec of specs(variant, synth(variant, () => ({ hostNetwork: false })))) {
      expect(spec.hostNetwork).toBe(false);
      expect(spec).not.toHaveProperty('dnsPolicy');
    }
    for (const spec of specs(variant, synth(variant))) {
      for (const field of ['hostNetwork', 'hostIPC', 'dnsPolicy', 'dnsConfig']) expect(spec).not.toHaveProperty(field);
    }
  });

  test('an explicit dnsPolicy with hostNetwork is written as given and judged by the rules', () => {
    const props = () => ({ hostNetwork: true, dnsPolicy: DnsPolicy.DEFAULT });
    if (variant.kind === 'Job') {
      // A single-node job reaches no Service: the node's resolver is the user's choice.
      for (const spec of specs(variant, synth(variant, props))) expect(spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'Default' });
    } else {
      const service = `${NAME}-${variant.templates.length > 1 ? 'master' : 'worker'}-0`;
      expectRefused(chart => variant.build(chart, 'job', props()), ...inEveryTemplate(variant,
        `spec.dnsPolicy: "Default" with hostNetwork resolves names with the node's DNS and cannot find the Service "${service}": use "ClusterFirstWithHostNet"`));
    }
  });

  test('dnsPolicy and dnsConfig, with options that have a value and one that has none', () => {
    const manifest = synth(variant, () => ({
      dnsPolicy: DnsPolicy.NONE,
      dnsConfig: { nameservers: ['10.96.0.10'], searches: ['training.svc.cluster.local'], options: { 'ndots': '2', 'edns0': '', 'single-request-reopen': '' } },
    }));
    for (const spec of specs(variant, manifest)) {
      expect(spec.dnsPolicy).toBe('None');
      expect(spec.dnsConfig).toEqual({
        nameservers: ['10.96.0.10'],
        searches: ['training.svc.cluster.local'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }, { name: 'single-request-reopen' }],
      });
    }
  });

  test('pod labels and annotations go on the pod template\'s metadata', () => {
    const manifest = synth(variant, () => ({ podLabels: { team: 'ml' }, podAnnotations: { 'example.com/owner': 'ml-platform' } }));
    for (const template of templates(variant, manifest)) {
      expect(template.metadata).toEqual({ labels: { team: 'ml' }, annotations: { 'example.com/owner': 'ml-platform' } });
    }
  });
});

describe.each(EACH)('%s: cdk8s-plus objects', (_, variant) => {
  test('a ServiceAccount object, and Secret objects as imagePullSecrets', () => {
    let names: string[] = [];
    const manifest = synth(variant, chart => {
      const account = new ServiceAccount(chart, 'trainer');
      const registry = new DockerConfigSecret(chart, 'registry', { data: { auths: {} } });
      names = [account.name, registry.name];
      return { serviceAccount: account, imagePullSecrets: [registry, Secret.fromSecretName(chart, 'ghcr', 'ghcr-pull')] };
    });
    expect(names[0]).toMatch(/^test-trainer-[0-9a-f]{8}$/);
    for (const spec of specs(variant, manifest)) {
      expect(spec.serviceAccountName).toBe(names[0]);
      expect(spec.imagePullSecrets).toEqual([{ name: names[1] }, { name: 'ghcr-pull' }]);
    }
  });

  test('an imported ServiceAccount by name', () => {
    const manifest = synth(variant, chart => ({ serviceAccount: ServiceAccount.fromServiceAccountName(chart, 'sa', 'trainer') }));
    for (const spec of specs(variant, manifest)) expect(spec.serviceAccountName).toBe('trainer');
  });

  test('volumes of every source, each written as cdk8s-plus writes it', () => {
    const chart = Testing.chart();
    const claim = new PersistentVolumeClaim(chart, 'checkpoints', { storage: Size.gibibytes(100) });
    const config = new ConfigMap(chart, 'config', { data: { 'train.yaml': 'lr: 3e-4' } });
    const credentials = new Secret(chart, 'credentials', { stringData: { token: 'x' } });
    const volumes = [
      Volume.fromPersistentVolumeClaim(chart, 'ckpt', claim),
      Volume.fromPersistentVolumeClaim(chart, 'datasets', PersistentVolumeClaim.fromClaimName(chart, 'datasets-claim', 'datasets'), { readOnly: true }),
      Volume.fromConfigMap(chart, 'cfg', config, { items: { 'train.yaml': { path: 'config/train.yaml' } } }),
      Volume.fromSecret(chart, 'creds', credentials, { defaultMode: 0o400 }),
      Volume.fromEmptyDir(chart, 'scratch', 'scratch', { sizeLimit: Size.gibibytes(10) }),
      Volume.fromHostPath(chart, 'nvme', 'nvme', { path: '/mnt/nvme', type: HostPathVolumeType.DIRECTORY }),
      Volume.fromNfs(chart, 'nfs', 'shared', { server: 'fs-1.efs.example.com', path: '/export', readOnly: true }),
      Volume.fromCsi(chart, 'fuse', 'gcsfuse.csi.storage.gke.io', { name: 'gcs', readOnly: true, attributes: { bucketName: 'datasets' } }),
    ];
    variant.build(chart, 'job', { volumeMounts: volumes.map((volume, i) => ({ volume, path: `/mnt/${i}` })) });
    const manifest = jobOf(Testing.synth(chart), variant);
    const expected = [
      { name: `pvc-${claim.name}`, persistentVolumeClaim: { claimName: claim.name, readOnly: false } },
      { name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } },
      { name: `configmap-${config.name}`, configMap: { name: config.name, items: [{ key: 'train.yaml', path: 'config/train.yaml' }] } },
      { name: `secret-${credentials.name}`, secret: { secretName: credentials.name, defaultMode: 0o400 } },
      { name: 'scratch', emptyDir: { sizeLimit: '10240Mi' } },
      { name: 'nvme', hostPath: { path: '/mnt/nvme', type: 'Directory' } },
      { name: 'shared', nfs: { server: 'fs-1.efs.example.com', path: '/export', readOnly: true } },
      { name: 'gcs', csi: { driver: 'gcsfuse.csi.storage.gke.io', readOnly: true, volumeAttributes: { bucketName: 'datasets' } } },
    ];
    // What cdk8s-plus itself writes for a Pod that mounts the same volumes.
    const reference = new Pod(new Chart(new App(), 'reference'), 'pod', {
      containers: [{ image: IMAGE, volumeMounts: volumes.map((volume, i) => ({ volume, path: `/mnt/${i}` })) }],
    });
    expect(ApiObject.of(reference).toJson().spec.volumes).toEqual(expected);
    for (const spec of specs(variant, manifest)) {
      expect(spec.volumes).toEqual([...expected, SHM_VOLUME]);
      expect(containerOf(spec).volumeMounts).toEqual([SHM_MOUNT, ...expected.map((volume, i) => ({ name: volume.name, mountPath: `/mnt/${i}` }))]);
    }
  });
});

describe('PyTorchJob: per-replica pod options, merged over the job\'s', () => {
  /** A PyTorchJob `train` built in a fresh chart, synthesized and checked. */
  function pytorchJob(props: (chart: Chart) => Partial<PyTorchJobProps>): Manifest {
    const chart = Testing.chart();
    new PyTorchJob(chart, 'job', { image: IMAGE, metadata: { name: NAME }, worker: new Worker({ replicas: 2 }), ...props(chart) });
    return synthJob(chart);
  }

  test('env: the replica\'s keys replace the job\'s in place, the others are kept', () => {
    const job = pytorchJob(() => ({
      env: { DATA: EnvValue.fromValue('/data'), LOG_LEVEL: EnvValue.fromValue('info') },
      master: new Master({ env: { LOG_LEVEL: EnvValue.fromValue('debug'), CHECKPOINT_WRITER: EnvValue.fromValue('1') } }),
    }));
    expect(pytorchContainer(job, 'Master').env).toEqual([
      { name: 'DATA', value: '/data' }, { name: 'LOG_LEVEL', value: 'debug' }, { name: 'CHECKPOINT_WRITER', value: '1' },
    ]);
    expect(pytorchContainer(job, 'Worker').env).toEqual([{ name: 'DATA', value: '/data' }, { name: 'LOG_LEVEL', value: 'info' }]);
  });

  test('command and args: each replaced as a whole', () => {
    const job = pytorchJob(() => ({
      command: ['python', 'train.py'],
      args: ['--epochs', '10'],
      master: new Master({ command: ['python', '-X', 'faulthandler', 'train.py'] }),
      worker: new Worker({ replicas: 2, args: ['--epochs', '10', '--eval-every', '0'] }),
    }));
    expect(pytorchContainer(job, 'Master')).toMatchObject({ command: ['python', '-X', 'faulthandler', 'train.py'], args: ['--epochs', '10'] });
    expect(pytorchContainer(job, 'Worker')).toMatchObject({ command: ['python', 'train.py'], args: ['--epochs', '10', '--eval-every', '0'] });
  });

  test('labels and annotations: maps merged key by key', () => {
    const job = pytorchJob(() => ({
      podLabels: { team: 'ml', tier: 'batch' },
      podAnnotations: { 'example.com/owner': 'ml-platform' },
      worker: new Worker({ replicas: 2, podLabels: { tier: 'preemptible' }, podAnnotations: { 'karpenter.sh/do-not-disrupt': 'false' } }),
    }));
    expect(replicaSpec(job, 'Master').template.metadata).toEqual({ labels: { team: 'ml', tier: 'batch' }, annotations: { 'example.com/owner': 'ml-platform' } });
    expect(replicaSpec(job, 'Worker').template.metadata).toEqual({
      labels: { team: 'ml', tier: 'preemptible' },
      annotations: { 'example.com/owner': 'ml-platform', 'karpenter.sh/do-not-disrupt': 'false' },
    });
  });

  test('volumes and mounts: the job\'s, then the replica\'s', () => {
    const job = pytorchJob(chart => {
      const data = Volume.fromPersistentVolumeClaim(chart, 'data', PersistentVolumeClaim.fromClaimName(chart, 'claim', 'datasets'));
      const scratch = Volume.fromEmptyDir(chart, 'scratch', 'scratch', { sizeLimit: Size.gibibytes(100) });
      return {
        volumeMounts: [{ volume: data, path: '/data', readOnly: true }],
        worker: new Worker({ replicas: 2, volumeMounts: [{ volume: scratch, path: '/scratch' }, { volume: data, path: '/cache', subPath: 'cache' }] }),
      };
    });
    const data = { name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: false } };
    expect(podSpec(job, 'Master').volumes).toEqual([data, SHM_VOLUME]);
    expect(pytorchContainer(job, 'Master').volumeMounts).toEqual([SHM_MOUNT, { name: 'pvc-datasets', mountPath: '/data', readOnly: true }]);
    expect(podSpec(job, 'Worker').volumes).toEqual([data, { name: 'scratch', emptyDir: { sizeLimit: '102400Mi' } }, SHM_VOLUME]);
    expect(pytorchContainer(job, 'Worker').volumeMounts).toEqual([
      SHM_MOUNT,
      { name: 'pvc-datasets', mountPath: '/data', readOnly: true },
      { name: 'scratch', mountPath: '/scratch' },
      { name: 'pvc-datasets', mountPath: '/cache', subPath: 'cache' },
    ]);
  });

  test('node selector merged key by key; tolerations and affinity terms appended', () => {
    const job = pytorchJob(() => ({
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'example.com/pool': 'training' },
      tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
      nodeAffinity: [NodeLabelQuery.exists('nvidia.com/gpu.present')],
      podAntiAffinity: [{ selector: LabelSelector.of({ labels: { app: 'inference' } }), weight: 10 }],
      worker: new Worker({
        replicas: 2,
        nodeSelector: { 'example.com/pool': 'spot' },
        tolerations: [NodeTaintQuery.is('example.com/spot', 'true', { effect: TaintEffect.NO_SCHEDULE })],
        nodeAffinity: [NodeLabelQuery.in('node.kubernetes.io/instance-type', ['p5.48xlarge'])],
        onePodPerNode: true,
      }),
    }));
    expect(podSpec(job, 'Master')).toMatchObject({
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'example.com/pool': 'training' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
    });
    const antiAffinity = { weight: 10, podAffinityTerm: { labelSelector: { matchLabels: { app: 'inference' } }, topologyKey: HOSTNAME } };
    expect(podSpec(job, 'Master').affinity).toEqual({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'nvidia.com/gpu.present', operator: 'Exists' }] }] } },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [antiAffinity] },
    });
    expect(podSpec(job, 'Worker')).toMatchObject({
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'example.com/pool': 'spot' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }, { key: 'example.com/spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
    });
    expect(podSpec(job, 'Worker').affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{
            matchExpressions: [
              { key: 'nvidia.com/gpu.present', operator: 'Exists' },
              { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['p5.48xlarge'] },
            ],
          }],
        },
      },
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { [OPERATOR_JOB_LABEL]: NAME } }, topologyKey: HOSTNAME }],
        preferredDuringSchedulingIgnoredDuringExecution: [antiAffinity],
      },
    });
  });

  test('image and restart policy: replaced per replica', () => {
    const job = pytorchJob(() => ({
      master: new Master({ restartPolicy: RestartPolicy.NEVER }),
      worker: new Worker({ replicas: 2, image: `${IMAGE}-debug`, restartPolicy: RestartPolicy.EXIT_CODE }),
    }));
    expect(replicaSpec(job, 'Master').restartPolicy).toBe('Never');
    expect(replicaSpec(job, 'Worker').restartPolicy).toBe('ExitCode');
    expect(pytorchContainer(job, 'Master').image).toBe(IMAGE);
    expect(pytorchContainer(job, 'Worker').image).toBe(`${IMAGE}-debug`);
  });

  test('resources key by key, an extended resource of the same name replaced and the others kept', () => {
    const job = pytorchJob(() => ({
      requests: { cpu: Cpu.units(12), memory: Size.gibibytes(200) },
      limits: { cpu: Cpu.units(16), memory: Size.gibibytes(256), gpu: 8, extended: [ExtendedResource.of('rdma/ib', 1), ExtendedResource.efa(32)] },
      master: new Master({ requests: { memory: Size.gibibytes(64) } }),
      worker: new Worker({ replicas: 2, limits: { gpu: 4, extended: [ExtendedResource.of('rdma/ib', 2)] } }),
    }));
    expect(pytorchContainer(job, 'Master').resources).toEqual({
      requests: { cpu: '12', memory: '64Gi' },
      limits: { 'cpu': '16', 'memory': '256Gi', 'nvidia.com/gpu': 8, 'rdma/ib': 1, 'vpc.amazonaws.com/efa': 32 },
    });
    expect(pytorchContainer(job, 'Worker').resources).toEqual({
      requests: { cpu: '12', memory: '200Gi' },
      limits: { 'cpu': '16', 'memory': '256Gi', 'nvidia.com/gpu': 4, 'rdma/ib': 2, 'vpc.amazonaws.com/efa': 32 },
    });
  });

  test('security contexts field by field; containers appended after the job\'s; scalars replaced', () => {
    const job = pytorchJob(() => ({
      securityContext: { runAsUser: 1000, addCapabilities: [Capability.IPC_LOCK] },
      podSecurity: { fsGroup: 100 },
      initContainers: [{ name: 'stage', image: 'busybox:1.36' }],
      schedulerName: 'default-scheduler',
      priorityClassName: 'standard',
      terminationGracePeriod: Duration.seconds(60),
      master: new Master({ podSecurity: { runAsUser: 1000 }, terminationGracePeriod: Duration.minutes(5), priorityClassName: 'critical' }),
      worker: new Worker({
        replicas: 2,
        securityContext: { privileged: true },
        initContainers: [{ name: 'warm-cache', image: 'cache:1' }],
        sidecars: [{ name: 'metrics', image: 'exporter:1' }],
        containers: [{ name: 'profiler', image: 'profiler:1' }],
        hostNetwork: true,
      }),
    }));
    const master = podSpec(job, 'Master');
    const worker = podSpec(job, 'Worker');
    expect(pytorchContainer(job, 'Master').securityContext).toEqual({ runAsUser: 1000, capabilities: { add: ['IPC_LOCK'] } });
    expect(containerOf(worker).securityContext).toEqual({ runAsUser: 1000, privileged: true, capabilities: { add: ['IPC_LOCK'] } });
    expect(master.securityContext).toEqual({ fsGroup: 100, runAsUser: 1000 });
    expect(worker.securityContext).toEqual({ fsGroup: 100 });
    expect(master.initContainers.map((c: Manifest) => c.name)).toEqual(['stage']);
    expect(worker.initContainers.map((c: Manifest) => [c.name, c.restartPolicy])).toEqual([['stage', undefined], ['warm-cache', undefined], ['metrics', 'Always']]);
    expect(worker.containers.map((c: Manifest) => c.name)).toEqual(['pytorch', 'profiler']);
    expect(master).toMatchObject({ schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 300, priorityClassName: 'critical' });
    expect(master).not.toHaveProperty('hostNetwork');
    expect(worker).toMatchObject({
      schedulerName: 'default-scheduler', priorityClassName: 'standard', terminationGracePeriodSeconds: 60, hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet',
    });
  });

  test('a Master on on-demand nodes with other env and labels than the Workers on spot nodes', () => {
    const job = pytorchJob(() => ({
      env: { NCCL_DEBUG: EnvValue.fromValue('WARN') },
      podLabels: { team: 'ml' },
      tolerations: [NodeTaintQuery.exists('nvidia.com/gpu', { effect: TaintEffect.NO_SCHEDULE })],
      master: new Master({
        nodeSelector: { 'karpenter.sh/capacity-type': 'on-demand' },
        env: { CHECKPOINT_WRITER: EnvValue.fromValue('1') },
        podLabels: { capacity: 'on-demand' },
      }),
      worker: new Worker({
        replicas: 4,
        nodeSelector: { 'karpenter.sh/capacity-type': 'spot' },
        tolerations: [NodeTaintQuery.is('karpenter.sh/capacity-type', 'spot', { effect: TaintEffect.NO_SCHEDULE })],
        env: { CHECKPOINT_WRITER: EnvValue.fromValue('0') },
        podLabels: { capacity: 'spot' },
      }),
    }));
    const gpu = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
    expect(replicaSpec(job, 'Master').template.metadata).toEqual({ labels: { team: 'ml', capacity: 'on-demand' } });
    expect(podSpec(job, 'Master')).toMatchObject({ nodeSelector: { 'karpenter.sh/capacity-type': 'on-demand' }, tolerations: [gpu] });
    expect(pytorchContainer(job, 'Master').env).toEqual([{ name: 'NCCL_DEBUG', value: 'WARN' }, { name: 'CHECKPOINT_WRITER', value: '1' }]);
    expect(replicaSpec(job, 'Worker').replicas).toBe(4);
    expect(replicaSpec(job, 'Worker').template.metadata).toEqual({ labels: { team: 'ml', capacity: 'spot' } });
    expect(podSpec(job, 'Worker')).toMatchObject({
      nodeSelector: { 'karpenter.sh/capacity-type': 'spot' },
      tolerations: [gpu, { key: 'karpenter.sh/capacity-type', operator: 'Equal', value: 'spot', effect: 'NoSchedule' }],
    });
    expect(pytorchContainer(job, 'Worker').env).toEqual([{ name: 'NCCL_DEBUG', value: 'WARN' }, { name: 'CHECKPOINT_WRITER', value: '0' }]);
  });

  test('a replica that sets no pod option has the job\'s template, whatever else it sets', () => {
    const job = pytorchJob(() => ({
      env: { LOG_LEVEL: EnvValue.fromValue('info') },
      tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
      master: new Master({ restartPolicy: RestartPolicy.NEVER }),
      worker: new Worker({ replicas: 3 }),
    }));
    expect(replicaSpec(job, 'Master').template).toEqual(replicaSpec(job, 'Worker').template);
    expect(podSpec(job, 'Worker').tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists' }]);
    const overridden = pytorchJob(() => ({ worker: new Worker({ replicas: 3, podLabels: { a: 'b' } }) }));
    expect(replicaSpec(overridden, 'Master').template).not.toEqual(replicaSpec(overridden, 'Worker').template);
  });

  test('amendments add to the job level, under each replica\'s own settings', () => {
    const chart = Testing.chart();
    const construct = new PyTorchJob(chart, 'job', {
      image: IMAGE,
      metadata: { name: NAME },
      worker: new Worker({ replicas: 2, nodeSelector: { 'example.com/pool': 'spot' }, env: { ROLE: EnvValue.fromValue('worker') } }),
    });
    construct.addNodeSelector('example.com/pool', 'on-demand');
    construct.addEnv('ROLE', EnvValue.fromValue('any'));
    construct.addToleration(NodeTaintQuery.exists('nvidia.com/gpu'));
    const job = synthJob(chart);
    expect(podSpec(job, 'Master').nodeSelector).toEqual({ 'example.com/pool': 'on-demand' });
    expect(podSpec(job, 'Worker').nodeSelector).toEqual({ 'example.com/pool': 'spot' });
    expect(pytorchContainer(job, 'Master').env).toEqual([{ name: 'ROLE', value: 'any' }]);
    expect(pytorchContainer(job, 'Worker').env).toEqual([{ name: 'ROLE', value: 'worker' }]);
    for (const type of ['Master', 'Worker'] as const) expect(podSpec(job, type).tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists' }]);
  });
});

describe.each(EACH)('%s: amendments after construction', (_, variant) => {
  /** Every amendment method, called once each on `job`, with volumes and Secrets made in its chart. */
  function amendments(job: TrainingJob): Array<() => void> {
    const chart = Chart.of(job);
    const data = Volume.fromPersistentVolumeClaim(chart, 'data', PersistentVolumeClaim.fromClaimName(chart, 'claim', 'datasets'));
    const token = Secret.fromSecretName(chart, 'token', 'hf-token');
    return [
      () => job.addEnv('HF_TOKEN', EnvValue.fromSecretValue({ secret: token, key: 'token' })),
      () => job.addVolumeMount({ volume: data, path: '/data', readOnly: true }),
      () => job.addToleration(NodeTaintQuery.exists('nvidia.com/gpu', { effect: TaintEffect.NO_SCHEDULE })),
      () => job.addNodeSelector('nvidia.com/gpu.product', 'NVIDIA-H100-80GB-HBM3'),
      () => job.addInitContainer({ name: 'stage', image: 'busybox:1.36', volumeMounts: [{ volume: data, path: '/data' }] }),
      () => job.addSidecar({ name: 'metrics', image: 'exporter:1', ports: [{ number: 9400 }] }),
      () => job.addContainer({ name: 'profiler', image: 'profiler:1' }),
      () => job.addPodLabel('team', 'ml'),
      () => job.addPodAnnotation('example.com/owner', 'ml-platform'),
    ];
  }

  test('each add* method writes its field in every pod template', () => {
    const manifest = synth(variant, undefined, job => amendments(job).forEach(amend => amend()));
    for (const template of templates(variant, manifest)) {
      expect(template.metadata).toEqual({ labels: { team: 'ml' }, annotations: { 'example.com/owner': 'ml-platform' } });
      const spec = template.spec;
      expect(spec.initContainers).toEqual([
        { name: 'stage', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', volumeMounts: [{ name: 'pvc-datasets', mountPath: '/data' }] },
        { name: 'metrics', image: 'exporter:1', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 9400, protocol: 'TCP' }], restartPolicy: 'Always' },
      ]);
      expect(spec.containers.map((c: Manifest) => c.name)).toEqual(['pytorch', 'profiler']);
      expect(spec.containers[1]).toEqual({ name: 'profiler', image: 'profiler:1', imagePullPolicy: 'IfNotPresent' });
      expect(containerOf(spec).env).toEqual([{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } }]);
      expect(containerOf(spec).volumeMounts).toEqual([SHM_MOUNT, { name: 'pvc-datasets', mountPath: '/data', readOnly: true }]);
      expect(spec.volumes).toEqual([{ name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: false } }, SHM_VOLUME]);
      expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
      expect(spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    }
  });

  test('amendments are rendered at synth: the same manifest in any order, before or after a first synthesis', () => {
    /** An app with the job and a ConfigMap after it, amended in `order` (indexes into the amendments). */
    const build = (order: number[], midway?: number) => {
      const app = Testing.app();
      const chart = new Chart(app, 'test');
      const job = variant.build(chart, 'job', { env: { LOG_LEVEL: EnvValue.fromValue('info') } });
      new ConfigMap(chart, 'config', { data: { a: 'b' } });
      const amend = amendments(job);
      order.forEach((index, i) => {
        if (i === midway) jobOf(Testing.synth(chart), variant);
        amend[index]();
      });
      return checkedYaml(app, variant);
    };
    const indexes = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    expect(amendments(variant.build(Testing.chart(), 'job'))).toHaveLength(indexes.length);
    const forward = build(indexes);
    expect(build([...indexes].reverse())).toBe(forward);
    expect(build([4, 0, 8, 2, 6, 1, 5, 3, 7], 3)).toBe(forward);
    expect(forward).toContain('name: profiler');
  });

  test('an amendment made after a synthesis shows in the next one', () => {
    const chart = Testing.chart();
    const job = variant.build(chart, 'job');
    expect(specs(variant, jobOf(Testing.synth(chart), variant))[0]).not.toHaveProperty('tolerations');
    job.addToleration(NodeTaintQuery.exists('nvidia.com/gpu'));
    for (const spec of specs(variant, jobOf(Testing.synth(chart), variant))) expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists' }]);
  });

  test('amendments equal to props give the props\' manifest', () => {
    const build = (useProps: boolean) => {
      const app = Testing.app();
      const chart = new Chart(app, 'test');
      const props: Partial<TrainingJobProps> = {
        env: { LOG_LEVEL: EnvValue.fromValue('info') },
        tolerations: [NodeTaintQuery.exists('nvidia.com/gpu')],
        podLabels: { team: 'ml' },
        sidecars: [{ name: 'metrics', image: 'exporter:1' }],
      };
      if (useProps) {
        variant.build(chart, 'job', props);
      } else {
        const job = variant.build(chart, 'job', { env: props.env });
        job.addSidecar(props.sidecars![0]);
        job.addPodLabel('team', 'ml');
        job.addToleration(props.tolerations![0]);
      }
      return checkedYaml(app, variant);
    };
    expect(build(false)).toBe(build(true));
  });

  test('colliding amendments are refused at the call, with the key or name and the rule, and leave the job as it was', () => {
    const chart = Testing.chart();
    const job = variant.build(chart, 'job', {
      env: { LOG_LEVEL: EnvValue.fromValue('info') },
      podLabels: { team: 'ml' },
      nodeSelector: { pool: 'gpu' },
      initContainers: [{ name: 'stage', image: 'busybox:1.36' }],
      volumeMounts: [{ volume: Volume.fromEmptyDir(chart, 'scratch', 'scratch'), path: '/scratch' }],
    });
    const already = (method: string, key: string) => new Error(`${method}: "${key}" is already set on this job: each key is set once, so that the order of amendments does not matter`);
    const container = (method: string, name: string) => new Error(`${method}: "${name}" is already a container of the job's pods: `
      + 'a replica or an amendment adds containers to the job\'s and cannot replace one; give it another name');
    expect(() => job.addEnv('LOG_LEVEL', EnvValue.fromValue('debug'))).toThrow(already('addEnv', 'LOG_LEVEL'));
    job.addEnv('NCCL_DEBUG', EnvValue.fromValue('WARN'));
    expect(() => job.addEnv('NCCL_DEBUG', EnvValue.fromValue('INFO'))).toThrow(already('addEnv', 'NCCL_DEBUG'));
    expect(() => job.addPodLabel('team', 'research')).toThrow(already('addPodLabel', 'team'));
    job.addPodAnnotation('example.com/owner', 'a');
    expect(() => job.addPodAnnotation('example.com/owner', 'b')).toThrow(already('addPodAnnotation', 'example.com/owner'));
    expect(() => job.addNodeSelector('pool', 'cpu')).toThrow(already('addNodeSelector', 'pool'));
    expect(() => job.addContainer({ name: 'stage', image: 'other:1' })).toThrow(container('addContainer', 'stage'));
    job.addInitContainer({ name: 'warm-cache', image: 'cache:1' });
    // The index is that of the entry in this call, not of its place among the earlier amendments.
    job.addSidecar({ name: 'metrics', image: 'exporter:1' });
    expect(() => job.addSidecar({ name: 'warm-cache', image: 'cache:2' })).toThrow(container('addSidecar', 'warm-cache'));
    expect(() => job.addSidecar({ name: 'stage', image: 'cache:2' })).toThrow(container('addSidecar', 'stage'));
    expect(() => job.addInitContainer({ name: 'metrics', image: 'exporter:2' })).toThrow(container('addInitContainer', 'metrics'));
    job.addVolumeMount({ volume: Volume.fromEmptyDir(chart, 'cache', 'cache'), path: '/cache' });
    for (const at of ['/scratch', '/cache']) {
      expect(() => job.addVolumeMount({ volume: Volume.fromEmptyDir(chart, `other${at}`, 'other'), path: at })).toThrow(new Error(
        `addVolumeMount: "${at}" is already mounted by the job: a replica or an amendment adds mounts to the job's and cannot replace one; mount it elsewhere`));
    }
    for (const spec of specs(variant, jobOf(Testing.synth(chart), variant))) {
      expect(containerOf(spec).env).toEqual([{ name: 'LOG_LEVEL', value: 'info' }, { name: 'NCCL_DEBUG', value: 'WARN' }]);
      expect(spec.initContainers.map((c: Manifest) => c.name)).toEqual(['stage', 'warm-cache', 'metrics']);
      expect(containerOf(spec).volumeMounts.map((m: Manifest) => m.mountPath)).toEqual(['/dev/shm', '/scratch', '/cache']);
      expect(spec.nodeSelector).toEqual({ pool: 'gpu' });
    }
  });

  test('an amendment that mounts at /dev/shm is refused by the rule on what is written', () => {
    expectRefused(chart => {
      const job = variant.build(chart, 'job');
      job.addVolumeMount({ volume: Volume.fromEmptyDir(chart, 'shm2', 'my-shm'), path: '/dev/shm' });
    }, ...inEveryTemplate(variant, 'spec.containers[0].volumeMounts[1].mountPath: "/dev/shm" is mounted twice: each path takes one volume '
      + '(a job built with the constructs mounts its shared memory there unless given SharedMemory.disabled())'));
  });
});

describe('a visitor over the app, in the style of a cdk8s aspect', () => {
  /** What a platform team runs over every app: every training job tolerates the GPU nodes' taint. */
  function tolerateGpuNodes(root: IConstruct): number {
    let amended = 0;
    for (const construct of root.node.findAll()) {
      if (construct instanceof TrainingJob) {
        construct.addToleration(NodeTaintQuery.exists('nvidia.com/gpu', { effect: TaintEffect.NO_SCHEDULE }));
        amended++;
      }
    }
    return amended;
  }

  test('amends every job of both constructs in every chart, nested or not', () => {
    const app = Testing.app();
    const training = new Chart(app, 'training');
    PYTORCH_JOB.build(training, 'pretrain', { metadata: { name: 'pretrain' } });
    SINGLE_NODE.build(new Construct(training, 'team-a'), 'finetune', { metadata: { name: 'finetune' } });
    const evaluation = new Chart(app, 'evaluation');
    MULTI_NODE.build(evaluation, 'eval', { metadata: { name: 'eval' }, tolerations: [NodeTaintQuery.exists('example.com/eval')] });
    new ConfigMap(evaluation, 'config', { data: { a: 'b' } });
    expect(tolerateGpuNodes(app)).toBe(3);
    const written = synthToFiles(app);
    expect(fs.readdirSync(app.outdir).sort()).toEqual(['evaluation.k8s.yaml', 'training.k8s.yaml']);
    const jobs = written.filter(manifest => manifest.kind !== 'ConfigMap');
    expect(jobs.map(manifest => `${manifest.kind}/${manifest.metadata.name}`)).toEqual(['PyTorchJob/eval', 'PyTorchJob/pretrain', 'Job/finetune']);
    const gpu = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
    const [evalJob, pretrain, finetune] = jobs;
    jobs.forEach(expectValidElasticManifest);
    expect(specs(MULTI_NODE, evalJob).map(spec => spec.tolerations)).toEqual([[{ key: 'example.com/eval', operator: 'Exists' }, gpu]]);
    expect(specs(PYTORCH_JOB, pretrain).map(spec => spec.tolerations)).toEqual([[gpu], [gpu]]);
    expect(specs(SINGLE_NODE, finetune).map(spec => spec.tolerations)).toEqual([[gpu]]);
  });
});

describe.each(EACH)('%s: what is written is checked, JSON patches included', (_, variant) => {
  const emptyImage = (job: TrainingJob) => job.apiObject.addJsonPatch(JsonPatch.replace(`${variant.templates[0].pointer}/spec/containers/0/image`, ''));
  const imageProblem = `${variant.templates[0].path}.spec.containers[0].image: "" is empty: every container needs an image`;

  test('a patch that empties an image fails app.synth() with the rule and writes nothing', () => {
    expectRefused(chart => emptyImage(variant.build(chart, 'job')), imageProblem);
  });

  test('Testing.synth and the object\'s own toJson refuse the bad patch too, also after a clean synthesis', () => {
    const chart = Testing.chart();
    const job = variant.build(chart, 'job');
    jobOf(Testing.synth(chart), variant);
    emptyImage(job);
    expect(() => Testing.synth(chart)).toThrow(validationError(imageProblem));
    expect(() => job.apiObject.toJson()).toThrow(validationError(imageProblem));
  });

  test('a valid patch passes and is in the files written', () => {
    const app = Testing.app();
    const job = variant.build(new Chart(app, 'test'), 'job');
    job.apiObject.addJsonPatch(JsonPatch.add(`${variant.templates[0].pointer}/spec/priorityClassName`, 'patched'));
    const [manifest] = synthToFiles(app);
    expect(fs.readdirSync(app.outdir)).toEqual(['test.k8s.yaml']);
    expectValidElasticManifest(manifest);
    expect(specs(variant, manifest).map(spec => spec.priorityClassName)).toEqual(variant.templates.map((_t, i) => (i === 0 ? 'patched' : undefined)));
  });
});

describe.each([PYTORCH_JOB, MULTI_NODE].map(variant => [variant.title, variant] as const))('%s: a patch to the replica count', (_, variant) => {
  test('Worker.replicas 0 fails app.synth() with the webhook rule and writes nothing', () => {
    expectRefused(chart => variant.build(chart, 'job').apiObject.addJsonPatch(JsonPatch.replace('/spec/pytorchReplicaSpecs/Worker/replicas', 0)),
      'spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1');
  });
});

describe.each(EACH)('%s: bad pod options are refused with the field, the value and the rule', (_, variant) => {
  const refused = (props: (chart: Chart) => Partial<TrainingJobProps>, ...problems: string[]) =>
    expectRefused(chart => variant.build(chart, 'job', props(chart)), ...problems);
  const weightProblem = (field: string, weight: number) => `${field}: ${weight} must be a whole number from 1 to 100`;
  // Placement values are refused where they are given, when the job is built, before anything is rendered.
  const refusedWhenBuilt = (props: Partial<TrainingJobProps>, problem: string) =>
    expect(() => variant.build(Testing.chart(), 'job', props)).toThrow(new Error(problem));

  test.each([0, 101, 1.5])('a node affinity weight of %s', weight => {
    refusedWhenBuilt({ preferredNodeAffinity: [{ weight: 50, queries: [NodeLabelQuery.exists('a')] }, { weight, queries: [NodeLabelQuery.exists('b')] }] },
      weightProblem('preferredNodeAffinity[1].weight', weight));
  });

  test.each([0, 101])('a pod affinity or anti-affinity weight of %s', weight => {
    refusedWhenBuilt({ podAffinity: [{ weight }] }, weightProblem('podAffinity[0].weight', weight));
    refusedWhenBuilt({ podAntiAffinity: [{}, { weight }], onePodPerNode: true }, weightProblem('podAntiAffinity[1].weight', weight));
  });

  test('a maxSkew of 0', () => {
    refusedWhenBuilt({ topologySpread: [{}, { maxSkew: 0 }] }, 'topologySpread[1].maxSkew: 0 must be a whole number of at least 1');
  });

  test('a termination grace period of 1.5 s', () => {
    refusedWhenBuilt({ terminationGracePeriod: Duration.millis(1500) }, 'terminationGracePeriod: 1 second 500 millis is not a whole number of seconds');
  });

  test('two containers of one name, or an init container and a container of one name', () => {
    refused(() => ({ containers: [{ name: 'helper', image: 'a:1' }, { name: 'helper', image: 'b:1' }] }),
      ...inEveryTemplate(variant, 'spec.containers[2].name: "helper" names two containers: the containers and init containers of a pod each need their own name'));
    refused(() => ({ initContainers: [{ name: 'helper', image: 'a:1' }], containers: [{ name: 'helper', image: 'b:1' }] }),
      ...inEveryTemplate(variant, 'spec.initContainers[0].name: "helper" names two containers: the containers and init containers of a pod each need their own name'));
    refused(() => ({ sidecars: [{ name: 'pytorch', image: 'a:1' }] }),
      ...inEveryTemplate(variant, 'spec.initContainers[0].name: "pytorch" names two containers: the containers and init containers of a pod each need their own name'));
  });

  test('a container or init container without an image', () => {
    refused(() => ({ containers: [{ name: 'helper', image: '' }] }),
      ...inEveryTemplate(variant, 'spec.containers[1].image: "" is empty: every container needs an image'));
    refused(() => ({ initContainers: [{ name: 'stage', image: ' ' }] }),
      ...inEveryTemplate(variant, 'spec.initContainers[0].image: " " is empty: every container needs an image'));
  });

  test('an image emptied at the job level', () => {
    refused(() => ({ image: '' }), ...inEveryTemplate(variant, 'spec.containers[0].image: "" is empty: every container needs an image'));
  });
});

describe('PyTorchJob: bad replica pod options are refused with the replica\'s field', () => {
  const refused = (props: (chart: Chart) => Partial<PyTorchJobProps>, ...problems: string[]) =>
    expectRefused(chart => new PyTorchJob(chart, 'job', { image: IMAGE, metadata: { name: NAME }, worker: new Worker(), ...props(chart) }), ...problems);
  const containerTaken = (field: string, name: string) => `${field}.name: "${name}" is already a container of the job's pods: `
    + 'a replica or an amendment adds containers to the job\'s and cannot replace one; give it another name';

  test('a replica init container or sidecar named as one of the job\'s containers', () => {
    const job = { initContainers: [{ name: 'stage', image: 'busybox:1.36' }], containers: [{ name: 'profiler', image: 'profiler:1' }] };
    refused(() => ({ ...job, worker: new Worker({ initContainers: [{ name: 'stage', image: 'busybox:1.37' }] }) }),
      containerTaken('worker.initContainers[0]', 'stage'));
    refused(() => ({ ...job, master: new Master({ sidecars: [{ name: 'ok', image: 'a:1' }, { name: 'profiler', image: 'profiler:2' }] }) }),
      containerTaken('master.sidecars[1]', 'profiler'));
  });

  test('an amendment that names a container as a replica\'s own is refused when the replica is rendered', () => {
    expectRefused(chart => {
      const job = new PyTorchJob(chart, 'job', { image: IMAGE, metadata: { name: NAME }, worker: new Worker({ initContainers: [{ name: 'warm-cache', image: 'cache:1' }] }) });
      job.addInitContainer({ name: 'warm-cache', image: 'cache:2' });
    }, containerTaken('worker.initContainers[0]', 'warm-cache'));
  });

  test('two containers of one name within a replica', () => {
    refused(() => ({ worker: new Worker({ initContainers: [{ name: 'x', image: 'a:1' }], sidecars: [{ name: 'x', image: 'b:1' }] }) }),
      'spec.pytorchReplicaSpecs[Worker].template.spec.initContainers[1].name: "x" names two containers: the containers and init containers of a pod each need their own name');
  });

  test('a replica mount at a path the job mounts', () => {
    refused(chart => {
      const data = Volume.fromPersistentVolumeClaim(chart, 'data', PersistentVolumeClaim.fromClaimName(chart, 'claim', 'datasets'));
      return {
        volumeMounts: [{ volume: data, path: '/data' }],
        worker: new Worker({ volumeMounts: [{ volume: Volume.fromEmptyDir(chart, 'scratch', 'scratch'), path: '/scratch' }, { volume: data, path: '/data', readOnly: true }] }),
      };
    }, 'worker.volumeMounts[1].path: "/data" is already mounted by the job: a replica or an amendment adds mounts to the job\'s and cannot replace one; mount it elsewhere');
  });

  test('a replica\'s weight, maxSkew or grace period, at its own index rather than its place in the merged list, when the job is built', () => {
    const refusedWhenBuilt = (props: Partial<PyTorchJobProps>, problem: string) =>
      expect(() => new PyTorchJob(Testing.chart(), 'job', { image: IMAGE, metadata: { name: NAME }, worker: new Worker(), ...props })).toThrow(new Error(problem));
    const job = {
      preferredNodeAffinity: [{ weight: 50, queries: [NodeLabelQuery.exists('a')] }],
      podAntiAffinity: [{ weight: 10 }],
      topologySpread: [{}],
    };
    refusedWhenBuilt({ ...job, worker: new Worker({ preferredNodeAffinity: [{ weight: 0, queries: [NodeLabelQuery.exists('b')] }] }) },
      'worker.preferredNodeAffinity[0].weight: 0 must be a whole number from 1 to 100');
    refusedWhenBuilt({ ...job, master: new Master({ podAntiAffinity: [{ weight: 101 }] }) },
      'master.podAntiAffinity[0].weight: 101 must be a whole number from 1 to 100');
    refusedWhenBuilt({ ...job, worker: new Worker({ topologySpread: [{ maxSkew: 0 }] }) },
      'worker.topologySpread[0].maxSkew: 0 must be a whole number of at least 1');
    refusedWhenBuilt({ ...job, master: new Master({ terminationGracePeriod: Duration.millis(1500) }) },
      'master.terminationGracePeriod: 1 second 500 millis is not a whole number of seconds');
  });

  test('a replica image emptied, and a replica extended resource request differing from its limit', () => {
    refused(() => ({ worker: new Worker({ image: '' }) }),
      'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].image: "" is empty: every container needs an image');
    refused(() => ({ limits: { extended: [ExtendedResource.efa(32)] }, master: new Master({ requests: { extended: [ExtendedResource.efa(16)] } }) }),
      'spec.pytorchReplicaSpecs[Master].template.spec.containers[0].resources.requests[vpc.amazonaws.com/efa]: 16 differs from limits[vpc.amazonaws.com/efa] 32: '
      + 'an extended resource such as a GPU must have a limit equal to its request');
  });

  test('an init container named as the operator\'s own, in the Worker pods of a job with a Master', () => {
    refused(() => ({ initContainers: [{ name: 'init-pytorch', image: 'busybox:1.36' }] }),
      'spec.pytorchReplicaSpecs[Worker].template.spec.initContainers[0].name: "init-pytorch" is the name of the init container the operator adds '
      + 'to Worker pods of a job with a Master: choose another name');
  });
});
