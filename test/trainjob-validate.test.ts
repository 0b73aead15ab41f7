import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { JobTarget, PyTorchJob, TrainingRuntime, TrainJob, Worker } from '../src';
import { kfpytorch } from './support/cli';

const IMAGE = 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kfpytorch-trainjob-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, manifests: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, manifests.map(m => stringify(m)).join('---\n'));
  return file;
}

describe('kfpytorch validate with TrainJobs and their runtimes', () => {
  test('a synthesized TrainJob and its runtime pass, schema and CEL included', async () => {
    const chart = new Chart(Testing.app(), 'c');
    new PyTorchJob(chart, 'job', { metadata: { name: 'resnet' }, image: IMAGE, worker: new Worker({ replicas: 2 }), target: JobTarget.trainerV2() });
    write('job.yaml', Testing.synth(chart));
    expect(await kfpytorch('validate', dir)).toEqual({ status: 0, stdout: '2 training job(s) checked, 0 error(s), 0 warning(s)\n', stderr: '' });
  });

  test('a patch naming a job the runtime in another file lacks, a reserved env and a CEL name rule (reported once)', async () => {
    const runtimeChart = new Chart(Testing.app(), 'r');
    new TrainingRuntime(runtimeChart, 'runtime', { metadata: { name: 'torch' }, image: IMAGE });
    write('runtime.yaml', Testing.synth(runtimeChart));
    const jobChart = new Chart(Testing.app(), 'j');
    const job = new TrainJob(jobChart, 'job', { metadata: { name: 'train' }, runtime: { runtimeKind: 'TrainingRuntime', runtimeName: 'torch' } });
    const manifest = job.apiObject.toJson();
    manifest.metadata.name = 'Train';
    manifest.spec.trainer = { env: [{ name: 'PET_NODE_RANK', value: '0' }] };
    manifest.spec.runtimePatches = [{ manager: 'example.com/p', trainingRuntimeSpec: { template: { spec: { replicatedJobs: [{ name: 'launcher' }] } } } }];
    const file = write('job.yaml', [manifest]);
    const run = await kfpytorch('validate', dir);
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n')).toEqual([
      `${file}:1: /: metadata.name must match RFC 1035 DNS label format (schema, error)`,
      `${file}:1: spec.trainer.env: must not have reserved envs, invalid envs configured: [PET_NODE_RANK] (webhook, error)`,
      `${file}:1: spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].name: "launcher" is not a replicated job of TrainingRuntime "torch", `
        + 'which has "node": the v2.3 webhook lets the patch through, and the pods are never created (webhook, error)',
      '2 training job(s) checked, 3 error(s), 0 warning(s)',
      '',
    ]);
  });
});

test('with --no-schema the rules still check the name as the CRD does', async () => {
  const file = write('job.yaml', [{ apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: 'Train' }, spec: { runtimeRef: { name: 'torch-distributed' } } }]);
  expect((await kfpytorch('validate', '--no-schema', file)).stdout)
    .toBe(`${file}:1: metadata.name: metadata.name must match RFC 1035 DNS label format (schema, error)\n1 training job(s) checked, 1 error(s), 0 warning(s)\n`);
});
