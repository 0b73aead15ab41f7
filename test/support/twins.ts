/**
 * The jobs that the tests of the other languages (test/python/) write with their bindings, written here in
 * TypeScript: the Flyte plugin's own test cases (flytekit plugins/flytekit-kf-pytorch/tests) and the README's
 * example. `ts-node test/support/twins.ts OUTDIR` synthesizes each case to OUTDIR/<case>/ (the README's to
 * OUTDIR/readme/) and writes the message of each bad input to OUTDIR/<error case>.txt; the other languages must write the same bytes.
 */
import { writeFileSync } from 'fs';
import { createRequire } from 'module';
import { join } from 'path';
import { ApiObjectMetadata, App, Chart, Duration, Size } from 'cdk8s';
import { Cpu, EnvValue } from 'cdk8s-plus-28';
import * as ts from 'typescript';
import { readmeBlock } from './readme';
import {
  CleanPodPolicy, Elastic, Entrypoint, Master, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchJob, RestartPolicy,
  RunPolicy, StartMethod, Worker,
} from '../../src';

/** The image and environment of the plugin tests' serialization settings. */
const IMAGE = 'test:tag';
const env = () => ({ FOO: EnvValue.fromValue('baz') });
const name = (text: string): ApiObjectMetadata => ({ name: text });

/** Each case adds its charts to an app; the key is the case's name in the reference's list of plugin tests. */
export const CASES: { [name: string]: (app: App) => void } = {
  // test_pytorch_task: PyTorch(num_workers=10), requests=Resources(cpu="1").
  p1: app => {
    new PyTorchJob(new Chart(app, 'p1'), 'job', {
      metadata: name('pytorch-task'),
      image: IMAGE,
      env: env(),
      requests: { cpu: Cpu.units(1) },
      worker: new Worker({ replicas: 10 }),
    });
  },
  // test_pytorch_task_with_default_config: PyTorch(worker=Worker(replicas=1)).
  p2: app => {
    new PyTorchJob(new Chart(app, 'p2'), 'job', {
      metadata: name('pytorch-task-with-default-config'),
      image: IMAGE,
      env: env(),
      requests: { cpu: Cpu.units(1) },
      worker: new Worker({ replicas: 1 }),
    });
  },
  // test_pytorch_task_with_custom_config: per-replica image, resources and restart policies, and a run policy.
  p3: app => {
    new PyTorchJob(new Chart(app, 'p3'), 'job', {
      metadata: name('pytorch-task-with-custom-config'),
      image: IMAGE,
      env: env(),
      requests: { cpu: Cpu.units(1) },
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
  },
  // test_rdzv_configs[spawn,fork]: rdzv_configs={"join_timeout": 10} replaces the default, nproc_per_node=2.
  e3: app => {
    const chart = new Chart(app, 'e3');
    for (const startMethod of [StartMethod.SPAWN, StartMethod.FORK]) {
      new PyTorchElasticJob(chart, startMethod, {
        metadata: name(`rdzv-configs-${startMethod}`),
        image: IMAGE,
        entrypoint: Entrypoint.script('train.py'),
        elastic: new Elastic({ nprocPerNode: NprocPerNode.count(2), startMethod, rdzvConfigs: { join_timeout: '10' } }),
      });
    }
  },
  // test_default_timeouts: Elastic(nnodes=1) has the 900 s rendezvous timeouts.
  e7: app => {
    new PyTorchElasticJob(new Chart(app, 'e7'), 'job', {
      metadata: name('default-timeouts'),
      image: IMAGE,
      entrypoint: Entrypoint.script('train.py'),
      elastic: new Elastic({ nnodes: Nnodes.fixed(1) }),
    });
  },
  // test_run_policy: Elastic(nnodes=2, nproc_per_node=2, run_policy=RunPolicy(ALL, ttl 600, deadline 36000)).
  e8: app => {
    new PyTorchElasticJob(new Chart(app, 'e8'), 'job', {
      metadata: name('run-policy'),
      image: IMAGE,
      entrypoint: Entrypoint.script('train.py'),
      elastic: new Elastic({
        nnodes: Nnodes.fixed(2),
        nprocPerNode: NprocPerNode.count(2),
        runPolicy: new RunPolicy({
          cleanPodPolicy: CleanPodPolicy.ALL,
          ttlAfterFinished: Duration.seconds(600),
          activeDeadline: Duration.seconds(36000),
        }),
      }),
    });
  },
  // test_omp_num_threads: with 2 processes OMP_NUM_THREADS is 1 unless the job sets it (42 stays 42).
  e9: app => {
    const chart = new Chart(app, 'e9');
    const elastic = () => new Elastic({ nprocPerNode: NprocPerNode.count(2) });
    const common = { image: IMAGE, entrypoint: Entrypoint.script('train.py') };
    new PyTorchElasticJob(chart, 'unset', { ...common, metadata: name('omp-num-threads-unset'), elastic: elastic() });
    new PyTorchElasticJob(chart, 'set', {
      ...common,
      metadata: name('omp-num-threads-set'),
      env: { OMP_NUM_THREADS: EnvValue.fromValue('42') },
      elastic: elastic(),
    });
  },
};

/** Bad inputs, each of which must fail with the same message in every language. */
export const ERRORS: { [name: string]: () => void } = {
  // Refused when the value is made: torchrun's --nnodes takes MIN:MAX.
  'nnodes-format': () => Nnodes.parse('1:2:3'),
  // Refused at synth time, by the rules that check the object as written (synthYaml checks as synth does, and
  // writes nothing).
  'zero-workers': () => {
    const app = new App();
    new PyTorchJob(new Chart(app, 'bad'), 'job', { image: IMAGE, worker: new Worker({ replicas: 0 }) });
    app.synthYaml();
  },
};

/**
 * Runs the README's example, which makes its own App, so that it writes to `outdir` (where CDK8S_OUTDIR says, as
 * `cdk8s synth` has it do) with the package's name bound to this source tree.
 */
export function synthReadme(outdir: string): void {
  process.env.CDK8S_OUTDIR = outdir;
  const source = readmeBlock('Example', 'ts');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const requireHere = createRequire(__filename);
  const load = (id: string): unknown => requireHere(id === 'cdk8s-kfpytorch' ? '../../src' : id);
  new Function('require', 'exports', js.outputText)(load, {});
}

/** The message of the error that `fail` throws. */
export function errorMessage(fail: () => void): string {
  try {
    fail();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

if (require.main === module) {
  const outdir = process.argv[2];
  if (!outdir) throw new Error('usage: twins.ts OUTDIR');
  for (const [caseName, build] of Object.entries(CASES)) {
    const app = new App({ outdir: join(outdir, caseName) });
    build(app);
    app.synth();
  }
  synthReadme(join(outdir, 'readme'));
  for (const [caseName, fail] of Object.entries(ERRORS)) writeFileSync(join(outdir, `${caseName}.txt`), errorMessage(fail));
}
