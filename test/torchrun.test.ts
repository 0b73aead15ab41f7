import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-28';
import { Elastic, ElasticProps, Entrypoint, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchElasticJobProps } from '../src';
import { expectValidPyTorchJob } from './support/crd-schema';
import { elasticContainer, Manifest, plainEnv, synthElastic } from './support/synth-elastic';
import { operatorEnv } from '../src/rules/operator-env';
import { checkPyTorchJob } from '../src/rules/pytorchjob';

/*
 * Runs what the synthesized manifests say, with the real torchrun from Debian's python3-torch (torch 1.13, gloo on
 * CPU): the single-node Job's container command as written, and the multi-node PyTorchJob's container command in
 * two "pods" with the environment the training operator would inject. No mocks.
 */

const TORCHRUN = '/usr/bin/torchrun';
const FIXTURES = path.join(__dirname, 'fixtures');
/** The fixed rendezvous port of `torchrun --standalone`. */
const STANDALONE_PORT = 29400;
/** Each run takes about 6 to 8 s: the manifests write `--monitor_interval=5`, and torchrun polls at that pace. */
const TIMEOUT_MS = 90_000;

/** One line per rank, written by test/fixtures/allreduce.py. */
const RANK_LINE = /rank=(\d+) world=(\d+) sum=(\d+) omp=(\S+) args=(\[[^\]\n]*\])/g;

interface RankReport {
  readonly rank: number;
  readonly world: number;
  readonly sum: number;
  readonly omp: string;
  readonly args: string[];
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();
let logDir: string;

beforeEach(() => {
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kfpytorch-torchrun-'));
});

afterEach(() => {
  // Each torchrun leads its own process group (spawned detached), so this ends it and the workers it started.
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group has already exited
    }
  }
  running.clear();
  fs.rmSync(logDir, { recursive: true, force: true });
});

/** Fails the test, rather than skipping it, when the torchrun these tests need is not installed. */
function requireTorchrun(): void {
  if (!fs.existsSync(TORCHRUN)) {
    throw new Error(`${TORCHRUN} is missing: these tests run the real torchrun. Install it with `
      + '`apt-get update && apt-get install -y python3-torch` (Debian; CI installs it).');
  }
}

/**
 * The environment of a run, built from scratch: the container's and the operator's variables, plus the
 * settings this test machine needs (never part of a manifest):
 * - `PET_REDIRECTS=2 PET_TEE=2`: Debian's torch 1.13 build crashes under Python 3.11 with the default 0;
 * - `PET_LOG_DIR`: torchrun otherwise leaves a directory in /tmp per run;
 * - `PYTHONDONTWRITEBYTECODE=1`: no `__pycache__` in test/fixtures.
 */
function runEnv(vars: { [name: string]: string }): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    ...vars,
    PET_REDIRECTS: '2',
    PET_TEE: '2',
    PET_LOG_DIR: logDir,
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** The container's command line, as the kubelet would run it; `torchrun` is found on PATH=/usr/bin:/bin. */
function containerArgv(container: Manifest): string[] {
  const argv: string[] = [...container.command ?? [], ...container.args ?? []];
  expect(argv[0]).toBe('torchrun');
  return argv;
}

/** Starts a command line in test/fixtures and resolves when it exits; the process is killed after the test. */
function run(argv: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const [program, ...args] = argv;
  const child = spawn(program, args, { cwd: FIXTURES, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', chunk => stdout += chunk);
  child.stderr!.on('data', chunk => stderr += chunk);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Every rank's line, sorted by rank. */
function ranks(stdout: string): RankReport[] {
  return [...stdout.matchAll(RANK_LINE)]
    .map(([, rank, world, sum, omp, args]) => ({ rank: Number(rank), world: Number(world), sum: Number(sum), omp, args: JSON.parse(args) }))
    .sort((a, b) => a.rank - b.rank);
}

/** Shows a run's whole output when an expectation about it fails. */
function expectSuccess(result: RunResult, what: string): void {
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code ?? result.signal}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something listens on a local port. */
function portInUse(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/**
 * Waits until nobody listens on a local port. `torchrun --standalone` always hosts its rendezvous on port 29400:
 * a second one started meanwhile (another test run on this machine) would join the first one's store as a
 * client and fail when that one exits.
 */
async function waitForFreePort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await portInUse(port)) {
    if (Date.now() > deadline) {
      throw new Error(`port ${port} has been in use for ${timeoutMs / 1000} s: torchrun --standalone hosts its rendezvous there, so it cannot run now`);
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

/** Synthesizes one PyTorchElasticJob running test/fixtures/allreduce.py and returns its checked manifest. */
function synth(kind: 'Job' | 'PyTorchJob', elastic: ElasticProps, props: Partial<PyTorchElasticJobProps> = {}): Manifest {
  const chart: Chart = Testing.chart();
  new PyTorchElasticJob(chart, 'j', { image: 'x', entrypoint: Entrypoint.script('allreduce.py'), elastic: new Elastic(elastic), ...props });
  return synthElastic(chart, kind);
}

/** The sum the fixture's all-reduce of the ranks 0 … world-1 must give. */
function expectedSum(world: number): number {
  return world * (world - 1) / 2;
}

describe('the single-node Job, run by the real torchrun', () => {
  async function runJob(manifest: Manifest): Promise<RunResult> {
    requireTorchrun();
    await waitForFreePort(STANDALONE_PORT, 45_000);
    const container = elasticContainer(manifest);
    return run(containerArgv(container), runEnv(plainEnv(container)));
  }

  test('two processes form world size 2 and all-reduce, with one OpenMP thread each', async () => {
    const manifest = synth('Job', { nprocPerNode: NprocPerNode.count(2) });
    expect(elasticContainer(manifest).command).toEqual([
      'torchrun', '--standalone', '--nnodes=1', '--nproc_per_node=2', '--max_restarts=0', '--monitor_interval=5',
      '--start_method=spawn', '--rdzv_conf=timeout=900,join_timeout=900', 'allreduce.py',
    ]);

    const result = await runJob(manifest);

    expectSuccess(result, 'torchrun');
    expect(ranks(result.stdout)).toEqual([0, 1].map(rank => ({ rank, world: 2, sum: expectedSum(2), omp: '1', args: [] })));
  }, TIMEOUT_MS);

  test('a module entrypoint gets its arguments, and the user\'s OMP_NUM_THREADS wins', async () => {
    const manifest = synth('Job', { nprocPerNode: NprocPerNode.count(2) }, {
      entrypoint: Entrypoint.module('allreduce'),
      args: ['--epochs', '2', 'data dir'],
      env: { OMP_NUM_THREADS: EnvValue.fromValue('3') },
    });
    expect(elasticContainer(manifest).command.slice(-2)).toEqual(['-m', 'allreduce']);

    const result = await runJob(manifest);

    expectSuccess(result, 'torchrun');
    expect(ranks(result.stdout)).toEqual([0, 1].map(rank => ({ rank, world: 2, sum: expectedSum(2), omp: '3', args: ['--epochs', '2', 'data dir'] })));
  }, TIMEOUT_MS);
});

describe('the multi-node PyTorchJob, run as two pods with the operator\'s environment', () => {
  test('two workers of two processes each form world size 4 through the c10d rendezvous', async () => {
    requireTorchrun();
    const manifest = synth('PyTorchJob', {
      nnodes: Nnodes.fixed(2),
      nprocPerNode: NprocPerNode.count(2),
      rdzvConfigs: { join_timeout: '60' },
    });
    const container = elasticContainer(manifest);
    expect(container.command).toEqual(['torchrun', '--monitor_interval=5', '--start_method=spawn', 'allreduce.py']);
    const port = await freePort();

    const pods = [0, 1].map(index => {
      const injected = Object.fromEntries(operatorEnv(manifest, 'Worker', index).map(v => [v.name, v.value]));
      // The pod <job>-worker-0 and its Service are 127.0.0.1 here; the port is a free one instead of 23456.
      expect(injected.PET_RDZV_ENDPOINT).toBe(`${manifest.metadata.name}-worker-0:23456`);
      const vars = { ...plainEnv(container), ...injected, PET_RDZV_ENDPOINT: `127.0.0.1:${port}` };
      return run(containerArgv(container), runEnv(vars));
    });
    const results = await Promise.all(pods);

    results.forEach((result, index) => expectSuccess(result, `worker ${index}`));
    const reports = ranks(results.map(r => r.stdout).join(''));
    expect(reports).toEqual([0, 1, 2, 3].map(rank => ({ rank, world: 4, sum: expectedSum(4), omp: '1', args: [] })));
    // Each pod ran two of the four ranks.
    expect(results.map(r => ranks(r.stdout).length)).toEqual([2, 2]);
  }, TIMEOUT_MS);
});

describe('a hand-written PyTorchJob that starts torchrun from bash, run as its two pods', () => {
  /** Setup, then torchrun with each flag from the variable the operator injects, as upstream examples write it. */
  const SCRIPT = [
    'set -euo pipefail',
    'export NCCL_DEBUG=INFO',
    'exec torchrun \\',
    '  --nnodes="$PET_NNODES" \\',
    '  --nproc_per_node="$PET_NPROC_PER_NODE" \\',
    '  --node_rank="$PET_NODE_RANK" \\',
    '  --master_addr="$PET_MASTER_ADDR" \\',
    '  --master_port="$PET_MASTER_PORT" \\',
    '  --monitor_interval=1 \\',
    '  allreduce.py',
    '',
  ].join('\n');

  function replica(): Manifest {
    return {
      replicas: 1,
      restartPolicy: 'OnFailure',
      template: {
        spec: {
          containers: [{
            name: 'pytorch',
            image: 'docker.io/pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime',
            command: ['/bin/bash', '-c'],
            args: [SCRIPT],
            volumeMounts: [{ name: 'shm', mountPath: '/dev/shm' }],
          }],
          volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }],
        },
      },
    };
  }

  test('the rules find nothing wrong, and the Master and the Worker form one world of four', async () => {
    requireTorchrun();
    const manifest: Manifest = {
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name: 'bash-train' },
      spec: { nprocPerNode: '2', pytorchReplicaSpecs: { Master: replica(), Worker: replica() } },
    };
    expectValidPyTorchJob(manifest);
    expect(checkPyTorchJob(manifest)).toEqual([]);
    const port = String(await freePort());

    const pods = (['Master', 'Worker'] as const).map(type => {
      const injected = Object.fromEntries(operatorEnv(manifest, type, 0).map(v => [v.name, v.value]));
      expect(injected.PET_MASTER_ADDR).toBe('bash-train-master-0');
      // The Master's Service is 127.0.0.1 here, and its port a free one instead of 23456.
      const local = { MASTER_ADDR: '127.0.0.1', PET_MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, PET_MASTER_PORT: port };
      const container = manifest.spec.pytorchReplicaSpecs[type].template.spec.containers[0];
      return run([...container.command, ...container.args], runEnv({ ...injected, ...local }));
    });
    const results = await Promise.all(pods);

    results.forEach((result, index) => expectSuccess(result, ['Master', 'Worker'][index]));
    expect(ranks(results.map(r => r.stdout).join(''))).toEqual([0, 1, 2, 3].map(rank => ({ rank, world: 4, sum: expectedSum(4), omp: '1', args: [] })));
  }, TIMEOUT_MS);
});
