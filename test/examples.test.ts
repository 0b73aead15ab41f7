import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { PassThrough } from 'stream';
import { parseAllDocuments } from 'yaml';
import { buildExampleApp } from '../examples/main';
import { PyTorchJob as PyTorchJobL1 } from '../imports/kubeflow.org';
import { validatePodTemplateSchema } from './support/crd-schema';
import { expectValidJobs, Manifest } from './support/synth';
import { PYTORCHJOB_GVK } from '../src/render/gvk';
import { checkTrainingBatchJob } from '../src/rules/batch-job';
import { formatProblem } from '../src/rules/problem';
import { runLocally } from '../src/tools/runner';

const outdirs: string[] = [];
afterAll(() => outdirs.forEach(dir => rmSync(dir, { recursive: true, force: true })));

function synthExamples(): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kfpytorch-examples-'));
  outdirs.push(dir);
  buildExampleApp(dir).synth();
  return { dir, files: readdirSync(dir).sort() };
}

function readManifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map(doc => doc.toJS());
}

test('the example app writes one file per chart', () => {
  expect(synthExamples().files).toEqual([
    'cpu-mnist.k8s.yaml', 'ddp-resnet50.k8s.yaml', 'elastic-multi-node.k8s.yaml', 'elastic-single-node.k8s.yaml',
    'infiniband-2x8.k8s.yaml',
  ]);
});

test('every example manifest passes the CRD schema and the manifest rules', () => {
  const { dir, files } = synthExamples();
  const manifests = files.flatMap(file => readManifests(join(dir, file)));
  expect(manifests.map(m => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
    'Job/bert-finetune', 'PyTorchJob/gpt-pretrain', 'PyTorchJob/llm-ib-2x8', 'PyTorchJob/mnist-cpu', 'PyTorchJob/resnet50-ddp',
  ]);
  expect(expectValidJobs(manifests)).toHaveLength(4);
  for (const job of manifests.filter(m => m.kind === 'Job')) {
    expect(validatePodTemplateSchema(job.spec.template)).toEqual([]);
    expect(checkTrainingBatchJob(job).map(formatProblem)).toEqual([]);
  }
});

test('the DDP example has 1 master and 3 workers with 1 GPU each and 16 GiB of shared memory', () => {
  const { dir } = synthExamples();
  const [job] = readManifests(join(dir, 'ddp-resnet50.k8s.yaml'));
  for (const [type, replicas] of [['Master', 1], ['Worker', 3]] as const) {
    const replica = job.spec.pytorchReplicaSpecs[type];
    expect(replica.replicas).toBe(replicas);
    expect(replica.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(replica.template.spec.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } });
  }
  expect(job.spec.runPolicy).toEqual({ cleanPodPolicy: 'Running', backoffLimit: 3, activeDeadlineSeconds: 43200, ttlSecondsAfterFinished: 86400 });
});

test('synthesizing the examples twice gives byte-identical files', () => {
  const first = synthExamples();
  const second = synthExamples();
  expect(second.files).toEqual(first.files);
  for (const file of first.files) {
    expect(readFileSync(join(second.dir, file), 'utf8')).toEqual(readFileSync(join(first.dir, file), 'utf8'));
  }
});

test('the CPU example runs for real with kfpytorch run: a master and two workers train with gloo', async () => {
  if (!existsSync('/usr/bin/torchrun')) throw new Error('Debian\'s torch is missing: apt-get update && apt-get install -y python3-torch');
  const { dir } = synthExamples();
  const output = new PassThrough();
  let log = '';
  output.on('data', chunk => { log += chunk; });
  const result = await runLocally({
    files: [join(dir, 'cpu-mnist.k8s.yaml')],
    workingDirectory: join(__dirname, '..', 'examples'),
    // Debian's python3, which has torch, first on PATH; no bytecode written into examples/.
    env: { PATH: '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1' },
    output,
  });
  expect(result.succeeded).toBe(true);
  expect(result.pods.map(pod => [pod.name, pod.exitCode])).toEqual([['master-0', 0], ['worker-0', 0], ['worker-1', 0]]);
  expect(log).toMatch(/^\[master-0\] epoch 5\/5: loss \d+\.\d+ across 3 processes$/m);
}, 60_000);

test('the written-out PyTorchJob kind is the one the generated L1 declares', () => {
  expect(PYTORCHJOB_GVK).toEqual(PyTorchJobL1.GVK);
});
