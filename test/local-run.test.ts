import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import { Chart, Duration, Testing } from 'cdk8s';
import { EnvValue, Secret } from 'cdk8s-plus-28';
import { stringify } from 'yaml';
import {
  Elastic, Entrypoint, GpuResource, Master, Nnodes, NprocPerNode, PyTorchElasticJob, PyTorchJob, RestartPolicy, RunPolicy, Worker,
} from '../src';
import { CliRun, kfpytorch } from './support/cli';
import { Json } from '../src/rules/problem';
import { notEnded } from '../src/tools/pod-processes';
import { LocalRunOptions, LocalRunResult, runLocally } from '../src/tools/runner';

/*
 * `kfpytorch run` and `runLocally`, end to end: the library's constructs synthesize a job, the job's YAML goes to a
 * temporary file, and the runner starts its pods as real local processes (plain Python, Debian's torch 1.13 with
 * gloo on CPU, and the real torchrun). No mocks, apart from capturing what `main` writes to stdout and stderr.
 */

const PYTHON = '/usr/bin/python3';
const TORCHRUN = '/usr/bin/torchrun';
const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join(__dirname, 'fixtures');
/** One gloo all-reduce per rank; prints `rank=R world=W sum=S ...`. */
const ALLREDUCE = path.join(FIXTURES, 'allreduce.py');
/** An all-reduce after an optional failure on purpose (see the script). */
const TRAIN = path.join(FIXTURES, 'local-run', 'train.py');
/** A pod that writes its PID files and sleeps, or fails on purpose (see the script). */
const SLEEPER = path.join(FIXTURES, 'local-run', 'sleeper.py');
/** A pod that leaves behind a process which ignores SIGTERM and holds none of its output (see the script). */
const LEAVES_CHILD = path.join(FIXTURES, 'local-run', 'leaves-child.py');
const CLI = path.join(ROOT, 'bin', 'kfpytorch');
const COMPILED_CLI = path.join(ROOT, 'lib', 'src', 'cli', 'kfpytorch.js');
/** The command from the TypeScript sources, for a real process to signal (see the file). */
const SOURCE_CLI = path.join(__dirname, 'support', 'kfpytorch-from-source.ts');
const IMAGE = 'pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime';
/** How long the sleeping pods would run if nothing stopped them. */
const SLEEP_SECONDS = 60;
const TIMEOUT_MS = 120_000;
/** The first restart's wait in the tests that are not about the back-off. */
const QUICK_RESTART_MS = 100;

/** A line of an all-reduce fixture, in the runner's log: `[pod] rank=R world=W sum=S`. */
const RANK_LINE = /rank=(\d+) world=(\d+) sum=(\d+)/g;

let tmp: string;
/** CLI processes a test started. */
const spawned = new Set<ChildProcess>();

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kfpytorch-local-run-'));
  fs.mkdirSync(path.join(tmp, 'pids'));
});

afterEach(() => {
  jest.restoreAllMocks();
  for (const child of spawned) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  spawned.clear();
  // Whatever a failed test left behind: every process that belongs to this test's temporary directory.
  for (const pid of processesMentioning(tmp)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Fails the test, rather than skipping it, when the torch these tests run is not installed. */
function requireTorch(): void {
  if (!fs.existsSync(TORCHRUN)) {
    throw new Error(`${TORCHRUN} is missing: these tests run real PyTorch processes. Install Debian's torch with `
      + '`apt-get update && apt-get install -y python3-torch` (CI installs it).');
  }
}

/** Fails the test when the CLI has not been compiled: the build compiles before it tests. */
function requireCompiledCli(): void {
  if (!fs.existsSync(COMPILED_CLI)) {
    throw new Error(`${path.relative(ROOT, COMPILED_CLI)} is missing: bin/kfpytorch runs the compiled library. `
      + 'Compile first with `npx projen compile` (the build compiles before it tests).');
  }
}

/** Synthesizes what `build` adds to a chart and writes it as one multi-document YAML file. */
function writeManifests(build: (chart: Chart) => void, name = 'job.yaml'): string {
  const chart = Testing.chart();
  build(chart);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Testing.synth(chart).map(manifest => stringify(manifest)).join('---\n'));
  return file;
}

/**
 * Settings of this test machine, never part of a manifest:
 * - `PET_REDIRECTS=2 PET_TEE=2`: Debian's torch 1.13 torchrun crashes under Python 3.11 with the default 0;
 * - `PET_LOG_DIR`: torchrun otherwise leaves a directory in /tmp per run;
 * - `PYTHONDONTWRITEBYTECODE=1`: no `__pycache__` in test/fixtures.
 */
function machineEnv(): { [name: string]: string } {
  return { PET_REDIRECTS: '2', PET_TEE: '2', PET_LOG_DIR: path.join(tmp, 'torchelastic'), PYTHONDONTWRITEBYTECODE: '1' };
}

/** The same, as arguments of `kfpytorch run`. */
function machineEnvArgs(): string[] {
  return Object.entries(machineEnv()).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
}

/** A stream that keeps what is written to it, synchronously. */
class Collector extends Writable {
  public text = '';
  public _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

interface Run {
  readonly result: LocalRunResult;
  /** The pods' prefixed output and the summary. */
  readonly log: string;
  readonly elapsedMs: number;
}

async function run(file: string, options: Partial<LocalRunOptions> = {}): Promise<Run> {
  const output = new Collector();
  const started = Date.now();
  const result = await runLocally({
    files: [file],
    gracePeriodMs: 1000,
    restartDelayMs: QUICK_RESTART_MS,
    output,
    errorOutput: output,
    ...options,
    env: { ...machineEnv(), ...options.env },
  });
  return { result, log: output.text, elapsedMs: Date.now() - started };
}

/** Every all-reduce report in a log, with the pod whose output it was. */
function rankReports(log: string): Array<{ pod: string; rank: number; world: number; sum: number }> {
  const reports = [];
  for (const line of log.split('\n')) {
    const prefixed = /^\[([\w-]+)\] (.*)$/.exec(line);
    if (!prefixed) continue;
    for (const match of prefixed[2].matchAll(RANK_LINE)) {
      reports.push({ pod: prefixed[1], rank: Number(match[1]), world: Number(match[2]), sum: Number(match[3]) });
    }
  }
  return reports.sort((a, b) => a.rank - b.rank);
}

/** The summary row of a pod: name, exit code, restarts, then the time waited in back-off and the duration. */
function summaryRow(pod: string, exitCode: number | string, restarts: number): RegExp {
  return new RegExp(`^${pod}\\s+${exitCode}\\s+${restarts}\\s+\\d+\\.\\d s\\s+\\d+\\.\\d s$`, 'm');
}

/** The PIDs the sleeper fixture wrote, by file name (`<rank>.pid`, `<rank>.child.pid`). */
function pidFiles(): { [file: string]: number } {
  const dir = path.join(tmp ?? '', 'pids');
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(fs.readdirSync(dir).filter(name => name.endsWith('.pid'))
    .map(name => [name, Number(fs.readFileSync(path.join(dir, name), 'utf8'))]));
}

function recordedPids(): number[] {
  return Object.values(pidFiles()).filter(pid => pid > 0);
}

/** Whether a process exists at all: `kill(pid, 0)` fails with ESRCH once it has exited and been reaped. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Whether a process still runs. An orphan (the `sleep` a pod started, once the pod is gone) is reaped by PID 1,
 * which in a container may never reap it: a zombie has ended, so it counts as gone.
 */
function running(pid: number): boolean {
  if (!exists(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * PIDs of running processes that belong to a test: their command line or environment mentions `text` (the test's
 * temporary directory, which every pod gets in PET_LOG_DIR or PID_DIR and passes on to what it starts), or they
 * run in it.
 */
function processesMentioning(text: string): number[] {
  if (!text) return [];
  return fs.readdirSync('/proc').filter(entry => /^\d+$/.test(entry)).map(Number).filter(pid => {
    if (pid === process.pid) return false;
    try {
      const mentions = ['cmdline', 'environ'].some(file => fs.readFileSync(`/proc/${pid}/${file}`, 'utf8').includes(text))
        || fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(text);
      return mentions && running(pid);
    } catch {
      return false;
    }
  });
}

/** A word on the command line of what the leaves-child fixture leaves behind, unique to the test. */
function childMarker(): string {
  return `left-behind-${path.basename(tmp)}`;
}

/** Running processes (zombies have ended) of a process group, found in /proc. */
function processGroupMembers(groupId: number): number[] {
  return fs.readdirSync('/proc').filter(entry => /^\d+$/.test(entry)).map(Number).filter(pid => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(group) === groupId && state !== 'Z';
    } catch {
      return false;
    }
  });
}

/**
 * Checks, at once, that every pod process the leaves-child fixture recorded is gone, with what it left behind: by
 * PID, by process group, and by the marker on the command line of what was left behind.
 */
function expectNoSurvivor(ranks: string[]): void {
  const pids = pidFiles();
  expect(Object.keys(pids).sort()).toEqual(ranks.flatMap(rank => [`${rank}.child.pid`, `${rank}.pid`]).sort());
  for (const rank of ranks) {
    const [main, child] = [pids[`${rank}.pid`], pids[`${rank}.child.pid`]];
    expect({ rank, main: running(main), child: running(child), groups: [...processGroupMembers(main), ...processGroupMembers(child)] })
      .toEqual({ rank, main: false, child: false, groups: [] });
  }
  expect(processesMentioning(childMarker())).toEqual([]);
  expect(processesMentioning(tmp)).toEqual([]);
}

/**
 * Signals the runner running in this test. Jest gives a test's modules a `process` object of their own, on which the
 * runner's handlers are registered and which a real signal would not reach: emitting the signal calls them as it
 * would. The tests of the spawned command send real ones.
 */
function deliver(signal: NodeJS.Signals): void {
  expect(process.listenerCount(signal)).toBeGreaterThan(0);
  process.emit(signal, signal);
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/**
 * Checks that every pod process the sleeper fixture recorded is gone, and the `sleep` each one started too.
 * @param pods the ranks that must have written PID files
 */
async function expectPodsStopped(pods: string[]): Promise<void> {
  const pids = pidFiles();
  expect(Object.keys(pids).sort()).toEqual(pods.flatMap(rank => [`${rank}.child.pid`, `${rank}.pid`]).sort());
  for (const rank of pods) {
    // The runner has seen each pod's process end, so it has been reaped: it no longer exists at all.
    expect({ rank, exists: exists(pids[`${rank}.pid`]) }).toEqual({ rank, exists: false });
  }
  // What a pod started was stopped with it (the pod's process group), though it may take a moment to die.
  const children = pods.map(rank => pids[`${rank}.child.pid`]);
  await waitFor(() => children.every(pid => !running(pid)), `the pods' own processes (${children.join(', ')}) to end`, 3000);
  expect(processesMentioning(tmp)).toEqual([]);
}

interface SleeperJobOptions {
  readonly workers: number;
  /** Container variables, added to the fixture's PID_DIR and SLEEP_SECONDS. */
  readonly env?: { [name: string]: string };
  readonly runPolicy?: RunPolicy;
  readonly workerRestart?: RestartPolicy;
}

/** The sleeper fixture in a Master and Workers. */
function sleeperJob(chart: Chart, options: SleeperJobOptions) {
  new PyTorchJob(chart, 'job', {
    metadata: { name: 'sleeper' },
    image: IMAGE,
    command: [PYTHON, SLEEPER],
    env: Object.fromEntries(Object.entries({ PID_DIR: path.join(tmp, 'pids'), SLEEP_SECONDS: String(SLEEP_SECONDS), ...options.env })
      .map(([name, value]) => [name, EnvValue.fromValue(value)])),
    master: new Master(),
    worker: new Worker({ replicas: options.workers, restartPolicy: options.workerRestart }),
    runPolicy: options.runPolicy,
  });
}

/** Expects `main` to have refused its input: status 2, and exactly one line on stderr that matches `problem`. */
function expectRefused(captured: CliRun, problem: RegExp): void {
  expect(captured.status).toBe(2);
  expect(captured.stderr).toMatch(/^kfpytorch: [^\n]+\n$/);
  expect(captured.stderr).toMatch(problem);
  expect(captured.stdout).toBe('');
  expect(recordedPids()).toEqual([]);
  expect(processesMentioning(tmp)).toEqual([]);
}

describe('a PyTorchJob with a Master and Workers', () => {
  test('a master and two workers all-reduce across world 3 and succeed', async () => {
    requireTorch();
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'allreduce' },
      image: IMAGE,
      command: [PYTHON, ALLREDUCE],
      worker: new Worker({ replicas: 2 }),
    }));

    const { result, log } = await run(file, { gracePeriodMs: 10_000 });

    expect(result).toMatchObject({ succeeded: true, reason: expect.stringMatching(/master-0/) });
    expect(result.pods).toEqual(['master-0', 'worker-0', 'worker-1'].map(name => ({
      name, exitCode: 0, restarts: 0, backoffMs: 0, durationMs: expect.any(Number),
    })));
    expect(rankReports(log)).toEqual([
      { pod: 'master-0', rank: 0, world: 3, sum: 3 },
      { pod: 'worker-0', rank: 1, world: 3, sum: 3 },
      { pod: 'worker-1', rank: 2, world: 3, sum: 3 },
    ]);
    for (const pod of ['master-0', 'worker-0', 'worker-1']) expect(log).toMatch(summaryRow(pod, 0, 0));
    expect(log).toMatch(/^PyTorchJob allreduce: Succeeded: .*master-0/m);
    expect(result.launchOverheadMs).toBeLessThan(1000);
  }, TIMEOUT_MS);

  test('a worker that fails under restart policy Never fails the job at once and stops the others', async () => {
    const file = writeManifests(chart => sleeperJob(chart, {
      workers: 2, workerRestart: RestartPolicy.NEVER, env: { FAIL_RANK: '2', EXPECT_PIDS: '3' },
    }));

    const { result, log, elapsedMs } = await run(file);

    expect(result.succeeded).toBe(false);
    expect(result.reason).toMatch(/worker-1/);
    expect(result.reason).toMatch(/Never/);
    expect(result.pods.find(pod => pod.name === 'worker-1')).toMatchObject({ exitCode: 1, restarts: 0 });
    // The others were stopped (SIGTERM: 128 + 15), long before their sleep would have ended.
    expect(result.pods.filter(pod => pod.name !== 'worker-1').map(pod => pod.exitCode)).toEqual([143, 143]);
    expect(elapsedMs).toBeLessThan(SLEEP_SECONDS * 1000 / 4);
    expect(log).toMatch(/^\[worker-1\] rank=2 fails on purpose$/m);
    expect(log).toMatch(/^PyTorchJob sleeper: Failed: .*worker-1/m);
    await expectPodsStopped(['0', '1', '2']);
  }, TIMEOUT_MS);

  test.each([
    [2, true],
    [0, false],
  ])('a worker that fails once under OnFailure with backoffLimit %d: succeeded %s', async (backoffLimit, succeeds) => {
    requireTorch();
    const marker = path.join(tmp, 'failed-once');
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'retry' },
      image: IMAGE,
      command: [PYTHON, TRAIN],
      env: { FAIL_RANK: EnvValue.fromValue('2'), FAIL_MARKER: EnvValue.fromValue(marker) },
      worker: new Worker({ replicas: 2, restartPolicy: RestartPolicy.ON_FAILURE }),
      runPolicy: new RunPolicy({ backoffLimit }),
    }));

    const { result, log, elapsedMs } = await run(file, { gracePeriodMs: 10_000 });

    expect(fs.existsSync(marker)).toBe(true);
    expect(log).toMatch(/^\[worker-1\] rank=2 fails on purpose restart=-$/m);
    if (succeeds) {
      expect(result).toMatchObject({ succeeded: true, reason: expect.stringMatching(/master-0/) });
      expect(result.pods.map(pod => [pod.name, pod.exitCode, pod.restarts])).toEqual([
        ['master-0', 0, 0], ['worker-0', 0, 0], ['worker-1', 0, 1],
      ]);
      expect(log).toMatch(/^\[worker-1\] exited 3: restarting in 0\.1 s \(1 of 2\)$/m);
      expect(rankReports(log).map(r => [r.pod, r.rank, r.world, r.sum])).toEqual([
        ['master-0', 0, 3, 3], ['worker-0', 1, 3, 3], ['worker-1', 2, 3, 3],
      ]);
      expect(log).toMatch(summaryRow('worker-1', 0, 1));
      expect(log).toMatch(summaryRow('master-0', 0, 0));
    } else {
      expect(result.succeeded).toBe(false);
      expect(result.reason).toMatch(/worker-1/);
      expect(result.reason).toMatch(/backoff limit 0/);
      expect(result.pods.find(pod => pod.name === 'worker-1')).toMatchObject({ exitCode: 3, restarts: 0 });
      expect(log).not.toMatch(/restarting/);
      expect(rankReports(log)).toEqual([]);
      expect(log).toMatch(summaryRow('worker-1', 3, 0));
      // The master and the other worker, waiting for rank 2 to join, were stopped at once.
      expect(elapsedMs).toBeLessThan(15_000);
      expect(processesMentioning(tmp)).toEqual([]);
    }
  }, TIMEOUT_MS);

  test('past activeDeadlineSeconds every process is stopped and the job fails', async () => {
    const file = writeManifests(chart => sleeperJob(chart, {
      workers: 1, runPolicy: new RunPolicy({ activeDeadline: Duration.seconds(2) }),
    }));

    const { result, log, elapsedMs } = await run(file);

    expect(result.succeeded).toBe(false);
    expect(result.reason).toMatch(/deadline/);
    expect(result.reason).toMatch(/2 s/);
    expect(elapsedMs).toBeGreaterThanOrEqual(2000);
    expect(elapsedMs).toBeLessThan(8000);
    expect(result.pods.map(pod => pod.exitCode)).toEqual([143, 143]);
    expect(log).toMatch(/^\[master-0\] started rank=0/m);
    expect(log).toMatch(/^\[worker-0\] started rank=1/m);
    expect(log).toMatch(/^PyTorchJob sleeper: Failed: deadline/m);
    await expectPodsStopped(['0', '1']);
  }, TIMEOUT_MS);
});

describe('what a pod sees and how its end is reported', () => {
  test('a pod ended by any signal reports 128 + the signal number', async () => {
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'aborts' },
      image: IMAGE,
      command: ['/bin/sh', '-c', 'kill -ABRT $$'],
      master: new Master({ restartPolicy: RestartPolicy.NEVER }),
      worker: new Worker({ restartPolicy: RestartPolicy.NEVER }),
    }));

    const { result } = await run(file);

    expect(result.succeeded).toBe(false);
    expect(result.reason).toMatch(/exited 134 under restart policy Never/);
  }, TIMEOUT_MS);

  test('the caller\'s own distributed variables and devices do not reach the pods; torchrun\'s output settings and the rest do', async () => {
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'env' },
      image: IMAGE,
      command: ['/bin/sh', '-c', 'echo "rdzv=${PET_RDZV_ID-unset} local=${LOCAL_RANK-unset} world=$WORLD_SIZE home=${HOME:+set}"'
        + ' "redirects=${PET_REDIRECTS-unset} tee=${PET_TEE-unset} cuda=[${CUDA_VISIBLE_DEVICES-unset}] hip=${HIP_VISIBLE_DEVICES-unset}"'],
      worker: new Worker(),
    }));
    const saved = { ...process.env };
    Object.assign(process.env, {
      PET_RDZV_ID: 'from-the-shell', LOCAL_RANK: '5', WORLD_SIZE: '99', PET_REDIRECTS: '1', PET_TEE: '1', CUDA_VISIBLE_DEVICES: '3', HIP_VISIBLE_DEVICES: '1',
    });
    try {
      // Not through run(), which passes the tests' own PET_REDIRECTS and PET_TEE: the shell's are the ones that reach the pods.
      const output = new Collector();
      const result = await runLocally({ files: [file], output, errorOutput: output });
      const log = output.text;
      expect(result.succeeded).toBe(true);
      for (const pod of ['master-0', 'worker-0']) {
        expect(log).toMatch(new RegExp(`^\\[${pod}\\] rdzv=unset local=unset world=2 home=set redirects=1 tee=1 cuda=\\[\\] hip=unset$`, 'm'));
      }
    } finally {
      process.env = saved;
    }
  }, TIMEOUT_MS);
});

describe('PyTorchElasticJob under the real torchrun', () => {
  test('two nodes of two processes each form one world of 4 and succeed', async () => {
    requireTorch();
    const file = writeManifests(chart => new PyTorchElasticJob(chart, 'job', {
      metadata: { name: 'elastic' },
      image: IMAGE,
      command: [TORCHRUN],
      entrypoint: Entrypoint.script(ALLREDUCE),
      elastic: new Elastic({
        nnodes: Nnodes.fixed(2),
        nprocPerNode: NprocPerNode.count(2),
        rdzvConfigs: { join_timeout: '60' },
        // torchrun polls its processes at this pace: 1 s keeps the test short.
        monitorInterval: Duration.seconds(1),
      }),
    }));

    const { result, log } = await run(file, { gracePeriodMs: 10_000 });

    expect(result).toMatchObject({ succeeded: true });
    expect(result.pods.map(pod => [pod.name, pod.exitCode, pod.restarts])).toEqual([['worker-0', 0, 0], ['worker-1', 0, 0]]);
    const reports = rankReports(log);
    expect(reports.map(r => [r.rank, r.world, r.sum])).toEqual([[0, 4, 6], [1, 4, 6], [2, 4, 6], [3, 4, 6]]);
    // Two processes in each pod.
    expect(reports.filter(r => r.pod === 'worker-0')).toHaveLength(2);
    expect(reports.filter(r => r.pod === 'worker-1')).toHaveLength(2);
    expect(log).toMatch(/^PyTorchJob elastic: Succeeded: /m);
  }, TIMEOUT_MS);

  test('a single-node Job runs torchrun --standalone with two processes, world 2', async () => {
    requireTorch();
    const file = writeManifests(chart => new PyTorchElasticJob(chart, 'job', {
      metadata: { name: 'single' },
      image: IMAGE,
      command: [TORCHRUN],
      entrypoint: Entrypoint.script(ALLREDUCE),
      elastic: new Elastic({ nprocPerNode: NprocPerNode.count(2), monitorInterval: Duration.seconds(1) }),
    }));

    const { result, log } = await run(file);

    expect(result).toMatchObject({ succeeded: true, pods: [{ name: 'job-0', exitCode: 0, restarts: 0 }] });
    expect(rankReports(log).map(r => [r.pod, r.rank, r.world, r.sum])).toEqual([['job-0', 0, 2, 1], ['job-0', 1, 2, 1]]);
    expect(log).toMatch(summaryRow('job-0', 0, 0));
    expect(log).toMatch(/^Job single: Succeeded: /m);
  }, TIMEOUT_MS);

  test('torchrun restarts the group after a failure on the first attempt (maxRestarts 1) and the job succeeds', async () => {
    requireTorch();
    const file = writeManifests(chart => new PyTorchElasticJob(chart, 'job', {
      metadata: { name: 'restarts' },
      image: IMAGE,
      command: [TORCHRUN],
      entrypoint: Entrypoint.script(TRAIN),
      // Rank 1 fails on the first attempt only (the marker makes it once, whichever pod rank 1 lands on).
      env: {
        FAIL_RANK: EnvValue.fromValue('1'),
        FAIL_ON_RESTART: EnvValue.fromValue('0'),
        FAIL_MARKER: EnvValue.fromValue(path.join(tmp, 'failed-once')),
      },
      elastic: new Elastic({
        nnodes: Nnodes.fixed(2),
        nprocPerNode: NprocPerNode.count(2),
        maxRestarts: 1,
        rdzvConfigs: { join_timeout: '60' },
        monitorInterval: Duration.seconds(1),
        // No pod restarts: only torchrun's own restart can save the job.
        runPolicy: new RunPolicy({ backoffLimit: 0 }),
      }),
    }));

    const { result, log } = await run(file, { gracePeriodMs: 10_000 });

    expect(result).toMatchObject({ succeeded: true });
    expect(result.pods.map(pod => [pod.name, pod.exitCode, pod.restarts])).toEqual([['worker-0', 0, 0], ['worker-1', 0, 0]]);
    expect(log).toMatch(/rank=1 fails on purpose restart=0/);
    const reports = rankReports(log);
    expect(reports.map(r => [r.rank, r.world, r.sum])).toEqual([[0, 4, 6], [1, 4, 6], [2, 4, 6], [3, 4, 6]]);
    // The pod whose process failed restarted its group: its processes ran a second attempt.
    expect(log).toMatch(/rank=\d world=4 sum=6 restart=1/);
  }, TIMEOUT_MS);

  test.each([
    [1, true],
    [0, false],
  ])('a single-node Job\'s backoffLimit %d counts failed pods: succeeded %s', async (backoffLimit, succeeds) => {
    requireTorch();
    const file = writeManifests(chart => new PyTorchElasticJob(chart, 'job', {
      metadata: { name: 'job-retry' },
      image: IMAGE,
      command: [TORCHRUN],
      entrypoint: Entrypoint.script(TRAIN),
      // The only process fails once: torchrun (no restarts of its own) exits 1, and the pod fails.
      env: { FAIL_RANK: EnvValue.fromValue('0'), FAIL_MARKER: EnvValue.fromValue(path.join(tmp, 'failed-once')) },
      elastic: new Elastic({ monitorInterval: Duration.seconds(1), runPolicy: new RunPolicy({ backoffLimit }) }),
    }));

    const { result, log } = await run(file);

    expect(log).toMatch(/^\[job-0\] rank=0 fails on purpose restart=0$/m);
    if (succeeds) {
      expect(result).toMatchObject({ succeeded: true, pods: [{ name: 'job-0', exitCode: 0, restarts: 1 }] });
      expect(rankReports(log).map(r => [r.pod, r.rank, r.world, r.sum])).toEqual([['job-0', 0, 1, 0]]);
      expect(log).toMatch(summaryRow('job-0', 0, 1));
    } else {
      expect(result).toMatchObject({ succeeded: false, pods: [{ name: 'job-0', exitCode: 1, restarts: 0 }] });
      expect(result.reason).toMatch(/job-0.*backoff limit 0/);
      expect(log).toMatch(summaryRow('job-0', 1, 0));
      expect(log).toMatch(/^Job job-retry: Failed: /m);
    }
  }, TIMEOUT_MS);
});

describe('kfpytorch run (main)', () => {
  test('--dry-run prints each pod\'s command and environment and starts nothing', async () => {
    const file = writeManifests(chart => sleeperJob(chart, { workers: 2 }));

    const { status, stdout, stderr } = await kfpytorch('run', '--dry-run', file);

    expect(status).toBe(0);
    expect(stderr).toBe('');
    for (const [pod, rank] of [['master-0', 0], ['worker-0', 1], ['worker-1', 2]] as const) {
      const lines = stdout.split('\n').filter(line => line.startsWith(`[${pod}] `)).map(line => line.slice(pod.length + 3));
      expect(lines[0]).toBe(`command: ${PYTHON} ${SLEEPER}`);
      const env = Object.fromEntries(lines.slice(1).map(line => {
        const [, name, value] = /^ +(\w+)=(.*)$/.exec(line)!;
        return [name, value];
      }));
      expect(env).toMatchObject({
        PID_DIR: path.join(tmp, 'pids'),
        PYTHONUNBUFFERED: '1',
        MASTER_ADDR: '127.0.0.1',
        PET_MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: expect.stringMatching(/^\d+$/),
        WORLD_SIZE: '3',
        RANK: String(rank),
        PET_NODE_RANK: String(rank),
        PET_NNODES: '3',
      });
      expect(Number(env.MASTER_PORT)).not.toBe(23456);
    }
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(recordedPids()).toEqual([]);
    expect(processesMentioning(tmp)).toEqual([]);
  });

  test('a variable from a Secret needs --env; with it, the process sees the value', async () => {
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'secret' },
      image: IMAGE,
      command: ['/bin/sh', '-c', 'echo "token=$API_TOKEN"'],
      env: { API_TOKEN: EnvValue.fromSecretValue({ secret: Secret.fromSecretName(chart, 'credentials', 'training-credentials'), key: 'token' }) },
      worker: new Worker({ replicas: 1 }),
    }));

    expectRefused(await kfpytorch('run', file), /API_TOKEN.*Secret training-credentials.*--env/);

    const { status, stdout, stderr } = await kfpytorch('run', file, '--env', 'API_TOKEN=s3cr3t');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^\[master-0\] token=s3cr3t$/m);
    expect(stdout).toMatch(/^\[worker-0\] token=s3cr3t$/m);
    expect(stdout).toMatch(/^PyTorchJob secret: Succeeded: /m);
  }, TIMEOUT_MS);

  test('--workdir sets where the processes run; the status is 1 when the job fails', async () => {
    const workdir = path.join(tmp, 'work');
    fs.mkdirSync(workdir);
    fs.writeFileSync(path.join(workdir, 'data.txt'), 'local data\n');
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'workdir' },
      image: IMAGE,
      // The worker (RANK 1) exits 7 at once; the master would wait.
      command: ['/bin/sh', '-c', 'echo "cwd=$(pwd)"; cat data.txt; if [ "$RANK" = 1 ]; then exit 7; fi; sleep 30'],
      worker: new Worker({ replicas: 1, restartPolicy: RestartPolicy.NEVER }),
    }));

    const { status, stdout, stderr } = await kfpytorch('run', file, '--workdir', workdir);

    expect(stderr).toBe('');
    expect(stdout).toMatch(new RegExp(`^\\[master-0\\] cwd=${workdir}$`, 'm'));
    expect(stdout).toMatch(/^\[worker-0\] local data$/m);
    // The worker exits 7 under Never: the job fails, and the master is stopped.
    expect(stdout).toMatch(summaryRow('worker-0', 7, 0));
    expect(stdout).toMatch(summaryRow('master-0', 143, 0));
    expect(stdout).toMatch(/^PyTorchJob workdir: Failed: worker-0 exited 7/m);
    expect(status).toBe(1);
  }, TIMEOUT_MS);

  describe('refuses input it cannot use with one line on stderr and status 2', () => {
    const job = (chart: Chart) => new PyTorchJob(chart, 'job', {
      metadata: { name: 'present' }, image: IMAGE, command: [PYTHON, SLEEPER], worker: new Worker({ replicas: 1 }),
    });

    test('a file that is not YAML', async () => {
      const file = path.join(tmp, 'broken.yaml');
      fs.writeFileSync(file, 'apiVersion: kubeflow.org/v1\nkind: [PyTorchJob\nmetadata: {name: x\n');
      expectRefused(await kfpytorch('run', file), /broken\.yaml.*not valid YAML/);
    });

    test('a binary file', async () => {
      const file = path.join(tmp, 'model.bin');
      fs.writeFileSync(file, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0xfe, 0x0a, 0x00]));
      expectRefused(await kfpytorch('run', file), /model\.bin.*binary/);
    });

    test('a manifest of another kind', async () => {
      const file = path.join(tmp, 'deployment.yaml');
      fs.writeFileSync(file, stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      }));
      expectRefused(await kfpytorch('run', file), /Deployment/);
    });

    test('--job with a name the files do not hold', async () => {
      const file = writeManifests(job);
      expectRefused(await kfpytorch('run', file, '--job', 'missing'), /"missing".*PyTorchJob present/);
    });

    test('a duplicate key', async () => {
      const file = path.join(tmp, 'duplicate.yaml');
      fs.writeFileSync(file, 'apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nkind: Job\nmetadata:\n  name: x\n');
      expectRefused(await kfpytorch('run', file), /duplicate\.yaml.*(unique|duplicate)/i);
    });

    test('a list, not a mapping', async () => {
      const file = path.join(tmp, 'list.yaml');
      fs.writeFileSync(file, '- apiVersion: kubeflow.org/v1\n- kind: PyTorchJob\n');
      expectRefused(await kfpytorch('run', file), /list\.yaml.*not a mapping/);
    });
  });
});

describe('no process a pod started outlives the pod or the run', () => {
  test('a process killed is waited for by number until it has ended, a zombie counting as ended', async () => {
    // Not reaped until its exit event: once killed it stays a zombie, which has ended.
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    expect(notEnded([pid])).toEqual([pid]);
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill('SIGKILL');
    for (let waited = 0; notEnded([pid]).length > 0 && waited < 5_000; waited += 20) await new Promise(resolve => setTimeout(resolve, 20));
    expect(notEnded([pid])).toEqual([]);
    await exited;
    expect(notEnded([pid])).toEqual([]);
  });

  /** How each run below ends, and how it should be reported. */
  interface ExitPath {
    readonly name: string;
    /** What each rank does once it has left its process behind (the fixture's THEN_<RANK>); the others wait. */
    readonly then?: { [rank: string]: string };
    readonly ignoreTerm?: boolean;
    readonly workerRestart?: RestartPolicy;
    readonly runPolicy?: RunPolicy;
    /** Signals sent to the runner once both pods have started, 300 ms apart. */
    readonly signals?: NodeJS.Signals[];
    readonly reason: RegExp;
  }

  const exitPaths: ExitPath[] = [
    { name: 'the job succeeds', then: { 0: 'exit 0', 1: 'exit 0' }, reason: /master-0 succeeded/ },
    { name: 'a pod fails', then: { 1: 'exit 1' }, workerRestart: RestartPolicy.NEVER, reason: /worker-0 exited 1/ },
    { name: 'the deadline passes', runPolicy: new RunPolicy({ activeDeadline: Duration.seconds(2) }), reason: /deadline/ },
    { name: 'Ctrl-C', signals: ['SIGINT'], reason: /interrupted/ },
    { name: 'SIGTERM', signals: ['SIGTERM'], reason: /interrupted/ },
    { name: 'a second Ctrl-C, the pods ignoring SIGTERM', ignoreTerm: true, signals: ['SIGINT', 'SIGINT'], reason: /interrupted/ },
  ];

  /** A Master and a Worker, each leaving behind a process that ignores SIGTERM and has let go of the pod's output. */
  function leavesChildJob(chart: Chart, exitPath: ExitPath, newSession: boolean) {
    new PyTorchJob(chart, 'job', {
      metadata: { name: 'leaves-child' },
      image: IMAGE,
      command: [PYTHON, LEAVES_CHILD],
      env: Object.fromEntries(Object.entries({
        PID_DIR: path.join(tmp, 'pids'),
        MARKER: childMarker(),
        NEW_SESSION: newSession ? '1' : '0',
        IGNORE_TERM: exitPath.ignoreTerm ? '1' : '0',
        EXPECT_PIDS: '2',
        ...Object.fromEntries(Object.entries(exitPath.then ?? {}).map(([rank, then]) => [`THEN_${rank}`, then])),
      }).map(([name, value]) => [name, EnvValue.fromValue(value)])),
      master: new Master({ restartPolicy: exitPath.workerRestart }),
      worker: new Worker({ restartPolicy: exitPath.workerRestart }),
      runPolicy: exitPath.runPolicy,
    });
  }

  describe.each([
    ['in the pod\'s process group', false],
    ['in a session of its own (setsid)', true],
  ])('a left-behind process %s', (_where, newSession) => {
    test.each(exitPaths)('is gone when the run ends: $name', async exitPath => {
      const file = writeManifests(chart => leavesChildJob(chart, exitPath, newSession));
      const output = new Collector();
      const started = Date.now();
      const job = runLocally({ files: [file], output, errorOutput: output, gracePeriodMs: 10_000, env: machineEnv() });
      if (exitPath.signals) {
        await waitFor(() => /^\[master-0\] started/m.test(output.text) && /^\[worker-0\] started/m.test(output.text), 'both pods to start', 30_000);
        for (const signal of exitPath.signals) {
          deliver(signal);
          await new Promise(resolve => setTimeout(resolve, 300));
        }
      }
      const result = await job;

      expect(result.succeeded).toBe(exitPath.then?.[0] === 'exit 0');
      expect(result.reason).toMatch(exitPath.reason);
      // Nothing waited for the 10 s grace period: the left-behind processes were killed with their pods.
      if (exitPath.name !== 'the job succeeds') expect(Date.now() - started).toBeLessThan(10_000);
      expectNoSurvivor(['0', '1']);
    }, TIMEOUT_MS);
  });

  test('what a pod left behind dies when the pod ends, while the job runs on', async () => {
    const file = writeManifests(chart => leavesChildJob(chart, { name: 'worker ends', then: { 1: 'exit 0' }, reason: /./ }, false));
    const output = new Collector();
    const job = runLocally({ files: [file], output, errorOutput: output, env: machineEnv() });
    try {
      await waitFor(() => pidFiles()['1.pid'] !== undefined && !exists(pidFiles()['1.pid']), 'worker-0 to end', 30_000);
      await waitFor(() => !running(pidFiles()['1.child.pid']), 'what worker-0 left behind to die', 2000);
      expect(processGroupMembers(pidFiles()['1.pid'])).toEqual([]);
      expect(running(pidFiles()['0.child.pid'])).toBe(true);
    } finally {
      deliver('SIGINT');
    }
    expect(await job).toMatchObject({ succeeded: false, reason: expect.stringMatching(/interrupted/) });
    expectNoSurvivor(['0', '1']);
  }, TIMEOUT_MS);
});

describe('restarts back off as on a cluster', () => {
  /** A Master that waits and a Worker that fails at once, appending the time of each of its starts to `starts`. */
  function crashingWorker(chart: Chart, starts: string, restartPolicy: RestartPolicy, failure = 'exit 1', backoffLimit?: number) {
    new PyTorchJob(chart, 'job', {
      metadata: { name: 'crashes' },
      image: IMAGE,
      command: ['/bin/sh', '-c', `if [ "$RANK" = 1 ]; then date +%s%3N >> ${starts}; ${failure}; fi; exec sleep ${SLEEP_SECONDS}`],
      worker: new Worker({ restartPolicy }),
      runPolicy: new RunPolicy({ backoffLimit }),
    });
  }

  test('a pod that fails at once waits the first delay before its restart, then twice as long each time', async () => {
    const starts = path.join(tmp, 'starts');
    const file = writeManifests(chart => crashingWorker(chart, starts, RestartPolicy.ON_FAILURE, 'exit 1', 3));

    const { result, log } = await run(file, { restartDelayMs: 300 });

    const times = fs.readFileSync(starts, 'utf8').trim().split('\n').map(Number);
    const waits = times.slice(1).map((time, i) => time - times[i]);
    // At least each wait, in order, however loaded the machine (the clock of `date` is read in whole milliseconds).
    expect(waits).toHaveLength(3);
    [300, 600, 1200].forEach((least, i) => expect({ restart: i + 1, waited: waits[i] >= least - 1 }).toEqual({ restart: i + 1, waited: true }));
    const restartLines = log.split('\n').filter(line => line.startsWith('[worker-0] exited'));
    expect(restartLines).toEqual([
      '[worker-0] exited 1: restarting in 0.3 s (1 of 3)',
      '[worker-0] exited 1: restarting in 0.6 s (2 of 3)',
      '[worker-0] exited 1: restarting in 1.2 s (3 of 3)',
    ]);
    expect(result).toMatchObject({ succeeded: false, reason: expect.stringMatching(/backoff limit 3/) });
    const worker = result.pods.find(pod => pod.name === 'worker-0')!;
    expect(worker).toMatchObject({ exitCode: 1, restarts: 3 });
    expect(worker.backoffMs).toBeGreaterThanOrEqual(2100);
    const backoffColumn = /^worker-0\s+1\s+3\s+(\d+\.\d) s\s+\d+\.\d s$/m.exec(log);
    expect(Number(backoffColumn?.[1])).toBeGreaterThanOrEqual(2.1);
  }, TIMEOUT_MS);

  test('by default the first restart waits the kubelet\'s 10 s, and Ctrl-C does not wait it out', async () => {
    const file = writeManifests(chart => crashingWorker(chart, path.join(tmp, 'starts'), RestartPolicy.ON_FAILURE));
    const output = new Collector();
    const started = Date.now();
    const job = runLocally({ files: [file], output, errorOutput: output, env: machineEnv() });

    await waitFor(() => /^\[worker-0\] exited 1: restarting in 10\.0 s \(1 of unlimited\)$/m.test(output.text), 'the first restart', 30_000);
    deliver('SIGINT');
    const result = await job;

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.reason).toMatch(/interrupted/);
    const worker = result.pods.find(pod => pod.name === 'worker-0')!;
    expect(worker).toMatchObject({ exitCode: 1, restarts: 0 });
    expect(worker.backoffMs).toBeGreaterThan(0);
    expect(worker.backoffMs).toBeLessThan(10_000);
    expect(output.text).toMatch(summaryRow('worker-0', 1, 0));
  }, TIMEOUT_MS);

  test('a pod the training operator makes again (ExitCode, 137) restarts at once, as a new pod has no back-off', async () => {
    const starts = path.join(tmp, 'starts');
    const file = writeManifests(chart => crashingWorker(chart, starts, RestartPolicy.EXIT_CODE, 'kill -KILL $$', 1));
    const output = new Collector();
    const started = Date.now();

    const result = await runLocally({ files: [file], output, errorOutput: output, env: machineEnv(), gracePeriodMs: 1000 });

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(output.text).toMatch(/^\[worker-0\] exited 137: restarting in 0\.0 s \(1 of 1\)$/m);
    expect(result).toMatchObject({ succeeded: false, reason: expect.stringMatching(/worker-0 exited 137: backoff limit 1/) });
    expect(fs.readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(2);
  }, TIMEOUT_MS);

  test('--restart-delay sets the first wait; it must be a number of seconds', async () => {
    const file = writeManifests(chart => crashingWorker(chart, path.join(tmp, 'starts'), RestartPolicy.ON_FAILURE, 'exit 1', 1));

    const { status, stdout } = await kfpytorch('run', file, '--restart-delay', '0.2', ...machineEnvArgs());
    expect(status).toBe(1);
    expect(stdout).toMatch(/^\[worker-0\] exited 1: restarting in 0\.2 s \(1 of 1\)$/m);

    for (const delay of ['soon', '-1', '']) {
      expectRefused(await kfpytorch('run', file, '--restart-delay', delay), /--restart-delay .* is not a number of seconds/);
    }
  }, TIMEOUT_MS);
});

describe('GPUs are divided among the pods by their limits', () => {
  const SHOW_DEVICES = 'echo "cuda=[${CUDA_VISIBLE_DEVICES-unset}] rocr=[${ROCR_VISIBLE_DEVICES-unset}] ze=[${ZE_AFFINITY_MASK-unset}]"';

  /** A Master and two Workers that print the devices they are given. */
  function gpuJob(chart: Chart, gpus: { master: number; worker: number }, resource = GpuResource.NVIDIA, workerResource = resource) {
    new PyTorchJob(chart, 'job', {
      metadata: { name: 'gpus' },
      image: IMAGE,
      command: ['/bin/sh', '-c', SHOW_DEVICES],
      master: new Master({ limits: gpus.master > 0 ? { gpu: gpus.master, gpuResource: resource } : undefined }),
      worker: new Worker({ replicas: 2, limits: gpus.worker > 0 ? { gpu: gpus.worker, gpuResource: workerResource } : undefined }),
    });
  }

  /** What each pod printed: `cuda=[…] rocr=[…] ze=[…]`. */
  function devices(stdout: string): { [pod: string]: string } {
    return Object.fromEntries([...stdout.matchAll(/^\[([\w-]+)\] (cuda=.*)$/gm)].map(([, pod, line]) => [pod, line]));
  }

  /** Runs `body` with a fake `nvidia-smi` first on PATH, which prints `output` and exits with `status`. */
  async function withNvidiaSmi(output: string, status: number, body: () => Promise<void>): Promise<void> {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'nvidia-smi'), `#!/bin/sh\ncat <<'EOF'\n${output}\nEOF\nexit ${status}\n`, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      await body();
    } finally {
      process.env.PATH = saved;
    }
  }

  test('--gpus: each pod sees its own GPUs, as many as its limit; a pod without a limit sees none', async () => {
    const file = writeManifests(chart => gpuJob(chart, { master: 2, worker: 1 }));

    const { status, stdout, stderr } = await kfpytorch('run', file, '--gpus', 'GPU-a,GPU-b,GPU-c,GPU-d,GPU-e');

    expect(status).toBe(0);
    expect(stderr).toBe('GPUs (CUDA_VISIBLE_DEVICES): master-0 GPU-a,GPU-b; worker-0 GPU-c; worker-1 GPU-d\n');
    expect(devices(stdout)).toEqual({
      'master-0': 'cuda=[GPU-a,GPU-b] rocr=[unset] ze=[unset]',
      'worker-0': 'cuda=[GPU-c] rocr=[unset] ze=[unset]',
      'worker-1': 'cuda=[GPU-d] rocr=[unset] ze=[unset]',
    });

    const cpuWorkers = writeManifests(chart => gpuJob(chart, { master: 1, worker: 0 }), 'cpu-workers.yaml');
    const mixed = await kfpytorch('run', cpuWorkers, '--gpus', '0,1');
    expect(devices(mixed.stdout)).toEqual({
      'master-0': 'cuda=[0] rocr=[unset] ze=[unset]',
      'worker-0': 'cuda=[] rocr=[unset] ze=[unset]',
      'worker-1': 'cuda=[] rocr=[unset] ze=[unset]',
    });
  }, TIMEOUT_MS);

  test.each([
    ['AMD', GpuResource.AMD, (gpu: string) => `cuda=[unset] rocr=[${gpu}] ze=[unset]`],
    ['Intel', GpuResource.INTEL, (gpu: string) => `cuda=[unset] rocr=[unset] ze=[${gpu}]`],
  ])('%s GPUs are given through their own variable', async (_vendor, resource, given) => {
    const file = writeManifests(chart => gpuJob(chart, { master: 0, worker: 1 }, resource));

    const { status, stdout } = await kfpytorch('run', file, '--gpus', '1,2');

    expect(status).toBe(0);
    expect(devices(stdout)).toEqual({ 'master-0': 'cuda=[] rocr=[unset] ze=[unset]', 'worker-0': given('1'), 'worker-1': given('2') });
  }, TIMEOUT_MS);

  test('the GPUs nvidia-smi -L lists, by UUID, a GPU split into MIG slices giving its slices', async () => {
    const file = writeManifests(chart => gpuJob(chart, { master: 1, worker: 1 }));
    await withNvidiaSmi([
      'GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-0f0e5b6c-0000-0000-0000-000000000000)',
      'GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-1f0e5b6c-0000-0000-0000-000000000000)',
      '  MIG 3g.40gb     Device  0: (UUID: MIG-aaaa)',
      '  MIG 3g.40gb     Device  1: (UUID: MIG-bbbb)',
    ].join('\n'), 0, async () => {
      const { status, stdout } = await kfpytorch('run', file);
      expect(status).toBe(0);
      expect(devices(stdout)).toEqual({
        'master-0': 'cuda=[GPU-0f0e5b6c-0000-0000-0000-000000000000] rocr=[unset] ze=[unset]',
        'worker-0': 'cuda=[MIG-aaaa] rocr=[unset] ze=[unset]',
        'worker-1': 'cuda=[MIG-bbbb] rocr=[unset] ze=[unset]',
      });
    });
  }, TIMEOUT_MS);

  test('too few GPUs, or none, refuse the job before it starts; with --no-gpus it runs on CPU and says so', async () => {
    const file = writeManifests(chart => gpuJob(chart, { master: 2, worker: 1 }));

    expectRefused(await kfpytorch('run', file, '--gpus', '0,1,2'),
      /^kfpytorch: PyTorchJob gpus asks for 4 nvidia\.com\/gpu, and --gpus names 3: name the GPUs with --gpus 0,1,…, or run it on CPU with --no-gpus\n$/);
    await withNvidiaSmi('No devices were found', 6, async () => {
      expectRefused(await kfpytorch('run', file), /asks for 4 nvidia\.com\/gpu, and nvidia-smi -L fails \(No devices were found\): .*--no-gpus/);

      const { status, stdout, stderr } = await kfpytorch('run', file, '--no-gpus');
      expect(status).toBe(0);
      expect(stderr).toBe('PyTorchJob gpus asks for 4 nvidia.com/gpu: running on CPU (--no-gpus), with no GPU in any pod\n');
      expect(Object.values(devices(stdout))).toEqual(Array(3).fill('cuda=[] rocr=[unset] ze=[unset]'));
    });
  }, TIMEOUT_MS);

  test('a job that mixes kinds of GPU, or a --gpus list with a gap or a repeat, is refused', async () => {
    const mixed = writeManifests(chart => gpuJob(chart, { master: 1, worker: 1 }, GpuResource.AMD, GpuResource.NVIDIA));
    expectRefused(await kfpytorch('run', mixed, '--gpus', '0,1,2'), /asks for amd\.com\/gpu and nvidia\.com\/gpu: the runner gives one kind of GPU per run/);
    expectRefused(await kfpytorch('run', mixed, '--gpus', '0,,1'), /--gpus "0,,1": an empty GPU ID/);
    expectRefused(await kfpytorch('run', mixed, '--gpus', '0,1,0'), /--gpus "0,1,0": 0 is named twice/);
  });
});

describe('what the runner checks before it starts anything', () => {
  /** A PyTorchJob written by hand, with one container for both replicas. */
  function handWritten(container: Json, workers: number | string = 1): string {
    const replica = (replicas: number | string) => ({
      replicas, restartPolicy: 'OnFailure', template: { spec: { containers: [{ name: 'pytorch', image: IMAGE, ...container }] } },
    });
    const file = path.join(tmp, 'hand-written.yaml');
    fs.writeFileSync(file, stringify({
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name: 'by-hand' },
      spec: { pytorchReplicaSpecs: { Master: replica(1), Worker: replica(workers) } },
    }));
    return file;
  }

  test('errors of the rules refuse the job, listed as kfpytorch validate lists them, with status 2', async () => {
    const file = handWritten({ command: ['/bin/true'], env: [{ name: 'RANK=7', value: 'x' }] });

    const { status, stdout, stderr } = await kfpytorch('run', file);

    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([
      ...['Master', 'Worker'].map(type => `${file}:1: spec.pytorchReplicaSpecs[${type}].template.spec.containers[0].env[0].name: `
        + '"RANK=7" is not an environment variable name: it must be non-empty printable ASCII without \'=\' (operational, error)'),
      'kfpytorch: PyTorchJob by-hand: 2 error(s): nothing was started',
      '',
    ]);
    expect(recordedPids()).toEqual([]);
  });

  test('warnings of the rules are shown and the job runs', async () => {
    const file = handWritten({ command: ['/bin/true'], env: [{ name: 'WORLD_SIZE', value: '5' }] });

    const { status, stderr } = await kfpytorch('run', file);

    expect(stderr).toMatch(/^[^\n]+:1: spec\.pytorchReplicaSpecs\[Master\]\.template\.spec\.containers\[0\]\.env[^\n]*WORLD_SIZE[^\n]*\(\w+, warning\)$/m);
    expect(status).toBe(0);
  });

  test('CPU and memory requests above this machine\'s give one line, and the job runs', async () => {
    const file = handWritten({ command: ['/bin/true'], resources: { requests: { cpu: '1000', memory: '64Ti' } } });

    const { status, stderr } = await kfpytorch('run', file);

    expect(stderr).toMatch(new RegExp(`^note: the pods request 2000 CPUs and 131072\\.0 GiB of memory, and this machine has ${os.cpus().length} CPUs `
      + 'and \\d+\\.\\d GiB: they share what there is\\n$'));
    expect(status).toBe(0);
  });

  describe('input it cannot use: one line, status 2, nothing started', () => {
    test.each([
      ['a billion workers', () => handWritten({ command: ['/bin/true'] }, 1e9), [],
        /PyTorchJob by-hand has 1000000001 pods, and a node runs at most 110 \(the kubelet's default maxPods\)/],
      ['a NUL character in the command', () => handWritten({ command: ['/bin/sh', '-c', 'echo a\u0000b'] }), [],
        /the Master replica's "pytorch" container: command\[2\] holds a NUL character, which no process can be given/],
      ['a NUL character in an env value', () => handWritten({ command: ['/bin/true'], env: [{ name: 'A', value: 'x\u0000y' }] }), [],
        /the Master replica's "pytorch" container: env\[0\] holds a NUL character/],
      ['--workdir naming a file', () => handWritten({ command: ['/bin/true'] }), ['--workdir', '{file}'],
        /hand-written\.yaml: cannot be the working directory: it is not a directory/],
      ['--workdir naming nothing', () => handWritten({ command: ['/bin/true'] }), ['--workdir', '{file}.missing'],
        /hand-written\.yaml\.missing: cannot be the working directory: ENOENT/],
      ['a world larger than the machine holds', () => writeManifests(chart => new PyTorchElasticJob(chart, 'job', {
        metadata: { name: 'huge' },
        image: IMAGE,
        command: [TORCHRUN],
        entrypoint: Entrypoint.script(ALLREDUCE),
        elastic: new Elastic({ nprocPerNode: NprocPerNode.count(100_000) }),
      })), [], /Job huge starts 100000 processes, and this machine's \d+\.\d GiB holds at most \d+, at 256 MiB each/],
    ])('%s', async (_name, write, args, problem) => {
      const file = write();
      expectRefused(await kfpytorch('run', file, ...args.map(arg => arg.replace('{file}', file))), problem);
    });
  });
});

describe('Debian\'s torch', () => {
  test('a torchrun that fails for want of PET_REDIRECTS and PET_TEE is pointed to them', async () => {
    requireTorch();
    const file = writeManifests(chart => new PyTorchElasticJob(chart, 'job', {
      metadata: { name: 'debian' },
      image: IMAGE,
      command: [TORCHRUN],
      entrypoint: Entrypoint.script(ALLREDUCE),
      elastic: new Elastic({ monitorInterval: Duration.seconds(1), runPolicy: new RunPolicy({ backoffLimit: 0 }) }),
    }));
    const output = new Collector();
    const errors = new Collector();

    // torchrun's defaults, written out: a shell may set others, which reach the pods.
    const env = { PET_REDIRECTS: '0', PET_TEE: '0', PET_LOG_DIR: path.join(tmp, 'torchelastic') };
    const result = await runLocally({ files: [file], output, errorOutput: errors, env });

    expect(result).toMatchObject({ succeeded: false, pods: [{ name: 'job-0', exitCode: 1 }] });
    expect(output.text).toMatch(/^\[job-0\] AttributeError: 'NoneType' object has no attribute 'get'$/m);
    expect(errors.text).toBe('job-0: torchrun failed as Debian\'s torch 1.13 does under Python 3.11 with --redirects and --tee at their default 0: '
      + 'run with PET_REDIRECTS=2 PET_TEE=2 in your shell or as --env (the README\'s "Debian\'s torch")\n');
  }, TIMEOUT_MS);
});

describe('the kfpytorch command from the sources, signalled for real', () => {
  test('SIGTERM stops every pod and what they left behind in sessions of their own, and exits 1', async () => {
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'leaves-child' },
      image: IMAGE,
      command: [PYTHON, LEAVES_CHILD],
      env: { PID_DIR: EnvValue.fromValue(path.join(tmp, 'pids')), MARKER: EnvValue.fromValue(childMarker()), NEW_SESSION: EnvValue.fromValue('1') },
      worker: new Worker(),
    }));
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', SOURCE_CLI, 'run', file, '--workdir', tmp, ...machineEnvArgs()],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
    await waitFor(() => /^\[master-0\] started/m.test(stdout) && /^\[worker-0\] started/m.test(stdout), 'both pods to start', 60_000);

    child.kill('SIGTERM');

    expect(await exited).toBe(1);
    expect(stdout).toMatch(/^PyTorchJob leaves-child: Failed: interrupted/m);
    expectNoSurvivor(['0', '1']);
  }, TIMEOUT_MS);
});

describe('the kfpytorch command (bin/kfpytorch, compiled)', () => {
  test('launches quickly: runLocally starts the first process within 1 s, and the CLI dry run is quick', async () => {
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'quick' }, image: IMAGE, command: ['/bin/true'], worker: new Worker({ replicas: 1 }),
    }));
    const { result } = await run(file);
    expect(result).toMatchObject({ succeeded: true, pods: [{ name: 'master-0', exitCode: 0 }, { name: 'worker-0', exitCode: 0 }] });
    expect(result.launchOverheadMs).toBeGreaterThanOrEqual(0);
    expect(result.launchOverheadMs).toBeLessThan(1000);

    requireCompiledCli();
    const started = Date.now();
    const dryRun = spawnSync(process.execPath, [CLI, 'run', '--dry-run', file], { cwd: tmp, encoding: 'utf8', timeout: 30_000 });
    const elapsedMs = Date.now() - started;
    expect({ status: dryRun.status, stderr: dryRun.stderr }).toEqual({ status: 0, stderr: '' });
    expect(dryRun.stdout).toMatch(/^\[master-0\] command: \/bin\/true$/m);
    expect(dryRun.stdout).toMatch(/^\[worker-0\] {3}RANK=1$/m);
    expect(dryRun.stdout).toMatch(/^\[worker-0\] {3}MASTER_ADDR=127\.0\.0\.1$/m);
    // Node's start and the library's load included.
    expect(elapsedMs).toBeLessThan(5000);
  }, TIMEOUT_MS);

  test('refuses bad input with status 2 and one line on stderr', () => {
    requireCompiledCli();
    const file = path.join(tmp, 'list.yaml');
    fs.writeFileSync(file, '- a\n- b\n');
    const refused = spawnSync(process.execPath, [CLI, 'run', file], { cwd: tmp, encoding: 'utf8', timeout: 30_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^kfpytorch: [^\n]*not a mapping[^\n]*\n$/);
  }, TIMEOUT_MS);

  test('a second Ctrl-C kills pods that ignore SIGTERM, without waiting for the grace period', async () => {
    requireCompiledCli();
    const file = writeManifests(chart => new PyTorchJob(chart, 'job', {
      metadata: { name: 'stubborn' },
      image: IMAGE,
      command: ['/bin/sh', '-c', 'trap "" TERM; echo started; while true; do sleep 1; done'],
      worker: new Worker(),
    }));
    const child = spawn(process.execPath, [CLI, 'run', file], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
    await waitFor(() => /^\[master-0\] started/m.test(stdout) && /^\[worker-0\] started/m.test(stdout), 'both pods to start', 30_000);

    const interrupted = Date.now();
    child.kill('SIGINT');
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(processesMentioning(tmp).length).toBeGreaterThan(0);
    child.kill('SIGINT');

    expect(await exited).toBe(1);
    // The runner's grace period is 5 s: the second Ctrl-C did not wait for it.
    expect(Date.now() - interrupted).toBeLessThan(4000);
    await waitFor(() => processesMentioning(tmp).length === 0, 'every pod process to end', 3000);
  }, TIMEOUT_MS);

  test('Ctrl-C (SIGINT) stops every pod and exits non-zero', async () => {
    requireCompiledCli();
    const file = writeManifests(chart => sleeperJob(chart, { workers: 1 }));
    const child = spawn(process.execPath, [CLI, 'run', file], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });

    await waitFor(() => /^\[master-0\] started/m.test(stdout) && /^\[worker-0\] started/m.test(stdout),
      `both pods' first line (output so far: ${JSON.stringify(stdout + stderr)})`, 30_000);
    const pods = recordedPids();
    expect(pods.every(running)).toBe(true);
    const interrupted = Date.now();
    child.kill('SIGINT');
    const { code, signal } = await exited;

    expect(Date.now() - interrupted).toBeLessThan(5000);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stdout).toMatch(/^PyTorchJob sleeper: Failed: interrupted/m);
    await expectPodsStopped(['0', '1']);
  }, TIMEOUT_MS);
});
