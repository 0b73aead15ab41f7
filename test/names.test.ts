import { checkTrainingBatchJob } from '../src/rules/batch-job';
import { checkImages, checkPodTemplate, InjectedEnv } from '../src/rules/pod-template';
import { Json, Problem, ProblemKind } from '../src/rules/problem';
import { checkPyTorchJob } from '../src/rules/pytorchjob';

const OPERATIONAL = ProblemKind.OPERATIONAL;
const NONE: InjectedEnv = new Map();
const TEMPLATE = 'spec.template';
const CONTAINER = `${TEMPLATE}.spec.containers[0]`;

function template(container: Json = {}, spec: Json = {}, metadata?: Json): Json {
  return { ...metadata ? { metadata } : {}, spec: { containers: [{ name: 'pytorch', image: 'ghcr.io/example/train:1.0', ...container }], ...spec } };
}

function problems(container: Json = {}, spec: Json = {}, metadata?: Json): Problem[] {
  return checkPodTemplate(template(container, spec, metadata), TEMPLATE, NONE);
}

/** A valid two-pod PyTorchJob named `train`, with the fields given merged into its metadata. */
function pytorchJob(metadata: Json): Json {
  const replica = { replicas: 1, restartPolicy: 'OnFailure', template: template({ command: ['python', 'train.py'] }) };
  return { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata, spec: { pytorchReplicaSpecs: { Master: replica, Worker: replica } } };
}

const IMAGE_RULE = 'is not an image reference: the kubelet fails the pod with InvalidImageName; use [registry/]path[:tag][@digest], with a path of lower-case letters, digits and separators';

describe('images', () => {
  const CONTAINERS = 'spec.template.spec.containers';
  /** The callers check the images of the regular containers, with who refuses them: the webhook, or here the kubelet. */
  const imageProblems = (image: string) => checkImages([{ name: 'pytorch', image }], CONTAINERS, OPERATIONAL);

  test.each([
    'pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime',
    'docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727',
    'nvcr.io/nvidia/pytorch:24.07-py3',
    'localhost:5000/team/train',
    '123456789012.dkr.ecr.us-west-2.amazonaws.com/train:latest',
    `ghcr.io/example/train@sha256:${'a'.repeat(64)}`,
    `ghcr.io/example/train:1.0@sha256:${'0'.repeat(64)}`,
    '[::1]:5000/train:dev',
    'busybox',
  ])('%s is an image reference', (image) => {
    expect(imageProblems(image)).toEqual([]);
  });

  test.each([
    'gcr.io/<your_project>/train:latest',
    'ghcr.io/Example/train:1.0',
    'ghcr.io/example/train:',
    'ghcr.io/example/train@sha256:abc',
    'ghcr.io//train',
    '${IMAGE}',
  ])('%s fails as InvalidImageName', (image) => {
    expect(imageProblems(image)).toEqual([{ path: `${CONTAINERS}[0].image`, message: `${JSON.stringify(image)} ${IMAGE_RULE}`, kind: OPERATIONAL }]);
  });

  test('space around an image is refused by the API server, in init containers too', () => {
    const message = '" ghcr.io/example/train:1.0\\n" has space around it: the API server refuses an image with leading or trailing whitespace';
    expect(imageProblems(' ghcr.io/example/train:1.0\n')).toEqual([{ path: `${CONTAINERS}[0].image`, message, kind: OPERATIONAL }]);
    expect(problems({}, { initContainers: [{ name: 'stage', image: ' ghcr.io/example/train:1.0\n' }] }))
      .toEqual([{ path: `${TEMPLATE}.spec.initContainers[0].image`, message, kind: OPERATIONAL }]);
  });
});

describe('environment variable names', () => {
  test.each(['NCCL_DEBUG', 'my.setting', 'with-dash', '1STARTS_WITH_DIGIT', 'lower case with spaces'])('%j is taken since Kubernetes 1.32', (name) => {
    expect(problems({ env: [{ name, value: 'x' }] })).toEqual([]);
  });

  test.each(['', 'A=B', 'TAB\tINSIDE', 'ÜBER'])('%j no version takes', (name) => {
    expect(problems({ env: [{ name, value: 'x' }] })).toEqual([{
      path: `${CONTAINER}.env[0].name`,
      message: `${JSON.stringify(name)} is not an environment variable name: it must be non-empty printable ASCII without '='`,
      kind: OPERATIONAL,
    }]);
  });
});

describe('labels, annotations and node selectors', () => {
  const KEY_RULE = 'an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit';
  const VALUE_RULE = 'empty, or at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit';

  test('well-formed keys and values pass, on the pod template and the job', () => {
    const metadata = {
      labels: { 'app.kubernetes.io/name': 'train', 'kueue.x-k8s.io/queue-name': 'team-a', 'empty': '', 'Mixed.Case_ok': 'V1.2_a-b' },
      annotations: { 'Example.COM/Note': 'any text at all: spaces, / and =', 'plain': '' },
    };
    expect(problems({}, { nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge', 'nvidia.com/gpu.present': 'true' } }, metadata)).toEqual([]);
    expect(checkPyTorchJob(pytorchJob({ name: 'train', ...metadata }))).toEqual([]);
  });

  test('a label key, a label value, an annotation key and a node selector key that the API server refuses', () => {
    const metadata = { labels: { 'team/a/b': 'x', 'tier': 'has space' }, annotations: { 'under_score.example.com/note': 'x' } };
    expect(problems({}, { nodeSelector: { '-gpu': 'true', 'zone': 'a'.repeat(64) } }, metadata)).toEqual([
      { path: `${TEMPLATE}.metadata.labels[team/a/b]`, message: `"team/a/b" is not a label key: ${KEY_RULE}`, kind: OPERATIONAL },
      { path: `${TEMPLATE}.metadata.labels[tier]`, message: `"has space" is not a label value: ${VALUE_RULE}`, kind: OPERATIONAL },
      { path: `${TEMPLATE}.metadata.annotations[under_score.example.com/note]`, message: `"under_score.example.com/note" is not an annotation key: ${KEY_RULE}`, kind: OPERATIONAL },
      { path: `${TEMPLATE}.spec.nodeSelector[-gpu]`, message: `"-gpu" is not a node selector key: ${KEY_RULE}`, kind: OPERATIONAL },
      { path: `${TEMPLATE}.spec.nodeSelector[zone]`, message: `"${'a'.repeat(64)}" is not a label value: ${VALUE_RULE}`, kind: OPERATIONAL },
    ]);
  });

  test('the job\'s own labels are checked by the API server when it is applied', () => {
    expect(checkPyTorchJob(pytorchJob({ name: 'train', labels: { 'bad key': 'x' } }))).toEqual([
      { path: 'metadata.labels[bad key]', message: `"bad key" is not a label key: ${KEY_RULE}`, kind: ProblemKind.SCHEMA },
    ]);
  });

  test('more than 256 KiB of annotations', () => {
    const annotations = { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(60 * 1024) };
    expect(problems({}, {}, { annotations })).toEqual([{
      path: `${TEMPLATE}.metadata.annotations`,
      message: 'hold 266242 bytes: the API server takes at most 262144 bytes of annotations, keys and values together',
      kind: OPERATIONAL,
    }]);
  });
});

describe('volumes and mounts', () => {
  test('a volume name that is not a DNS-1123 label, as cdk8s-plus derives from a ConfigMap named with dots', () => {
    const volumes = [{ name: 'configmap-app.config', configMap: { name: 'app.config' } }];
    expect(problems({ volumeMounts: [{ name: 'configmap-app.config', mountPath: '/etc/app' }] }, { volumes })).toEqual([{
      path: `${TEMPLATE}.spec.volumes[0].name`,
      message: '"configmap-app.config" is not a DNS-1123 label: lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters',
      kind: OPERATIONAL,
    }]);
  });

  test('an empty mount path', () => {
    const volumes = [{ name: 'data', emptyDir: {} }];
    expect(problems({ volumeMounts: [{ name: 'data', mountPath: '' }] }, { volumes })).toEqual([{
      path: `${CONTAINER}.volumeMounts[0].mountPath`,
      message: '"" is empty: a mount needs the path it is mounted at',
      kind: OPERATIONAL,
    }]);
  });
});

describe('generateName', () => {
  const DNS_1035 = 'lower-case letters, digits and \'-\', starting with a letter, ending with a letter or digit, at most 63 characters';

  test('without a name, the API server names the job from it: no invalid-name report', () => {
    expect(checkPyTorchJob(pytorchJob({ generateName: 'train-' }))).toEqual([]);
    const batch = { apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'finetune-' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pytorch', image: 'ghcr.io/example/train:1.0' }] } } } };
    expect(checkTrainingBatchJob(batch)).toEqual([]);
  });

  test('a long generateName is cut to 58 characters before the random suffix, which the pod names must still fit', () => {
    expect(checkPyTorchJob(pytorchJob({ generateName: `${'a'.repeat(48)}-` }))).toEqual([]);
    expect(checkPyTorchJob(pytorchJob({ generateName: `${'a'.repeat(50)}-` }))).toEqual([{
      path: 'metadata.generateName',
      message: `"${'a'.repeat(50)}-" is too long: the operator names a pod and its Service "${'a'.repeat(50)}-xxxxx-master-0" (65 characters, xxxxx being the API server's random suffix), above the 63 allowed`,
      kind: OPERATIONAL,
    }]);
  });

  test.each(['Train-', '1train-', 'train_'])('%j cannot begin a DNS-1035 label', (generateName) => {
    expect(checkPyTorchJob(pytorchJob({ generateName }))).toEqual([{
      path: 'metadata.generateName',
      message: `${JSON.stringify(generateName)} does not begin a DNS-1035 label: ${DNS_1035}`,
      kind: ProblemKind.WEBHOOK,
    }]);
  });

  test('a name given beside it is what counts', () => {
    expect(checkPyTorchJob(pytorchJob({ name: 'Train', generateName: 'train-' }))).toEqual([
      { path: 'metadata.name', message: `"Train" is not a DNS-1035 label: ${DNS_1035}`, kind: ProblemKind.WEBHOOK },
    ]);
  });
});
