import { ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import { statSync } from 'fs';
import { createServer } from 'net';
import { constants } from 'os';
import { RestartBackoff } from './backoff';
import { DebianTorchCrashWatch, debianTorchAdvice } from './debian-torch';
import { DEVICE_SELECTION_ENV, divideGpus, GpuOptions } from './gpus';
import { isTrainingRuntime, isTrainJob, loadManifests, selectJob } from './manifests';
import { JobPlan, PodPlan, planJob, SuccessRule } from './plan';
import { killPodProcesses, notEnded, POD_MARK_ENV, PodMembership, signalGroup, startPodProcess } from './pod-processes';
import { checkJobRules, checkPodCount, checkWorldSize, jobLabel, resourceNote } from './preflight';
import { formatTable } from './table';
import { UnusableInputError } from '../rules/problem';
import { runtimeFinder, runtimeRefOf } from '../rules/trainjob';

/** Options of a local run. */
export interface LocalRunOptions extends GpuOptions {
  /** YAML files holding the job, as `cdk8s synth` writes them. */
  readonly files: string[];
  /** The job to run when the files hold several. */
  readonly jobName?: string;
  /** Where the processes run; the container's own working directory is a path in the image. */
  readonly workingDirectory?: string;
  /** Values for variables that come from Secrets, ConfigMaps or the pod, and any extra variables. */
  readonly env?: { [name: string]: string };
  /** Print each pod's command and environment instead of running them. */
  readonly dryRun?: boolean;
  /** How long a process may take to exit after SIGTERM before it is killed, in milliseconds. */
  readonly gracePeriodMs?: number;
  /**
   * The wait before a pod's first restart, in milliseconds, instead of the cluster's 10 s; the later waits scale with
   * it, in the cluster's proportions.
   */
  readonly restartDelayMs?: number;
  /** Where logs and the summary go. */
  readonly output?: NodeJS.WritableStream;
  /** Where the checks made before the start (problems, notes) and advice after a failure go. */
  readonly errorOutput?: NodeJS.WritableStream;
}

/** What became of one pod. */
export interface LocalPodResult {
  readonly name: string;
  /** The last exit code; 128 + the signal number when a signal ended it; undefined when it never ended on its own. */
  readonly exitCode?: number;
  readonly restarts: number;
  /** Milliseconds spent waiting in restart back-off. */
  readonly backoffMs: number;
  readonly durationMs: number;
}

/** The outcome of a local run. */
export interface LocalRunResult {
  readonly succeeded: boolean;
  /** Why the job ended, in one line. */
  readonly reason: string;
  readonly pods: LocalPodResult[];
  /** Milliseconds from the call to the first process started (the launcher's own overhead). */
  readonly launchOverheadMs?: number;
}

/** Variables of the caller's shell that would steer torchrun or torch.distributed behind the manifest's back. */
const DISTRIBUTED_ENV = /^(PET_|TORCHELASTIC_)|^(MASTER_ADDR|MASTER_PORT|WORLD_SIZE|RANK|LOCAL_RANK|LOCAL_WORLD_SIZE|GROUP_RANK|ROLE_RANK|NODE_RANK)$/;
/** torchrun's settings of where its output goes, which change nothing a job computes: the caller's reach the pods. */
const OUTPUT_ENV = new Set(['PET_REDIRECTS', 'PET_TEE', 'PET_LOG_DIR', 'PET_LOCAL_RANKS_FILTER']);
const DEFAULT_GRACE_MS = 5000;
/** How long the processes a pod left behind may take to die of SIGKILL before the run reports them. */
const SURVIVOR_WAIT_MS = 2000;
const SURVIVOR_POLL_MS = 50;
/** How long a pod's output may stay open after its main process has ended and its processes were killed. */
const OUTPUT_DRAIN_MS = 1000;

/** A pod's process and its history. */
interface PodState {
  readonly plan: PodPlan;
  readonly env: NodeJS.ProcessEnv;
  /** The value of POD_MARK_ENV in every process of the pod. */
  readonly mark: string;
  readonly backoff: RestartBackoff;
  readonly debianTorch: DebianTorchCrashWatch;
  process?: ChildProcess;
  exitCode?: number;
  restarts: number;
  backoffMs: number;
  /** When the pending restart's wait began. */
  waitingSince?: number;
  firstStart: number;
  lastStart: number;
  lastExit?: number;
  succeeded: boolean;
}

/**
 * Runs a synthesized training job on this machine: one process per pod, with the environment the training
 * operator would inject, and the restart, backoff and deadline behaviour of the operator or the Job controller.
 * The job is checked first: the rules of `kfpytorch validate`, the pods and processes this machine holds, its GPUs.
 */
export async function runLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  const out = options.output ?? process.stdout;
  const errors = options.errorOutput ?? process.stderr;
  const manifests = loadManifests(options.files);
  const loaded = selectJob(manifests, options.jobName);
  const job = loaded.manifest;
  // A TrainJob runs with its runtime when the files hold it, both checked as validate checks them.
  const runtime = isTrainJob(job) ? runtimeFinder(manifests.map(m => m.manifest).filter(isTrainingRuntime))(job) : undefined;
  const loadedRuntime = manifests.find(m => m.manifest === runtime);
  if (loadedRuntime) checkJobRules(loadedRuntime, line => errors.write(`${line}\n`));
  checkJobRules(loaded, line => errors.write(`${line}\n`), runtime);
  if (isTrainJob(job) && runtime === undefined) {
    const ref = runtimeRefOf(job);
    errors.write(`note: ${ref.kind} ${String(ref.name)} is not in the files: the nodes run what the TrainJob alone says\n`);
  }
  checkPodCount(job, runtime);
  if (options.workingDirectory !== undefined) checkDirectory(options.workingDirectory);
  const plan = planJob(job, options.env ?? {}, { master: await freePort(), rendezvous: await freePort() }, runtime);
  const gpus = divideGpus(jobLabel(job), plan.pods, options);
  checkWorldSize(job, plan.pods, gpus.counts);
  for (const note of [gpus.note, resourceNote(plan.pods)]) if (note) errors.write(`${note}\n`);
  const podEnv = (pod: PodPlan): Array<[string, string]> => [...pod.env, [...gpus.env.get(pod.name)!]];
  if (options.dryRun) {
    for (const pod of plan.pods) {
      out.write(`[${pod.name}] command: ${pod.argv.map(quote).join(' ')}\n`);
      for (const [name, value] of podEnv(pod)) out.write(`[${pod.name}]   ${name}=${value}\n`);
    }
    return { succeeded: true, reason: 'dry run: nothing was started', pods: [] };
  }
  const env = (pod: PodPlan) => ({ ...inheritedEnv(), ...options.env, ...Object.fromEntries(podEnv(pod)) });
  return new LocalJob(plan, env, options, out, errors, started).run();
}

class LocalJob {
  private readonly pods: PodState[];
  private readonly grace: number;
  /** Starts every pod's mark, and marks nothing else. */
  private readonly runMark = `${process.pid}.${randomBytes(6).toString('hex')}`;
  private outcome?: { succeeded: boolean; reason: string };
  private retriesUsed = 0;
  private launchOverheadMs?: number;
  private advisedDebianTorch = false;
  private finish!: () => void;
  /** The deadline, the stop timers and the pending restarts, cleared when the last process has exited. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Every process killed, waited for before the run ends: one killed a moment ago may still be exiting. */
  private readonly killed = new Set<number>();

  public constructor(private readonly plan: JobPlan, env: (pod: PodPlan) => NodeJS.ProcessEnv, private readonly options: LocalRunOptions,
    private readonly out: NodeJS.WritableStream, private readonly errors: NodeJS.WritableStream, private readonly started: number) {
    this.pods = plan.pods.map(pod => ({
      plan: pod,
      env: env(pod),
      mark: `${this.runMark}/${pod.name}`,
      backoff: new RestartBackoff(pod.restarter, options.restartDelayMs),
      debianTorch: new DebianTorchCrashWatch(),
      restarts: 0,
      backoffMs: 0,
      firstStart: 0,
      lastStart: 0,
      succeeded: false,
    }));
    this.grace = options.gracePeriodMs ?? DEFAULT_GRACE_MS;
  }

  public async run(): Promise<LocalRunResult> {
    // Every signal, not only the first: a second Ctrl-C during the grace period kills what still runs.
    const interrupt = () => {
      if (this.outcome) this.pods.forEach(pod => this.kill(pod));
      else this.end(false, 'interrupted: every process was stopped');
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    signals.forEach(signal => process.on(signal, interrupt));
    const ended = new Promise<void>(resolve => { this.finish = resolve; });
    if (this.plan.activeDeadlineSeconds !== undefined) {
      this.after(this.plan.activeDeadlineSeconds * 1000,
        () => this.end(false, `deadline exceeded: active longer than ${this.plan.activeDeadlineSeconds} s`));
    }
    for (const pod of this.pods) this.start(pod);
    await ended;
    this.timers.forEach(clearTimeout);
    await this.stopSurvivors();
    signals.forEach(signal => process.removeListener(signal, interrupt));
    const now = Date.now();
    const result: LocalRunResult = {
      succeeded: this.outcome!.succeeded,
      reason: this.outcome!.reason,
      pods: this.pods.map(pod => ({
        name: pod.plan.name,
        exitCode: pod.exitCode,
        restarts: pod.restarts,
        backoffMs: pod.backoffMs + (pod.waitingSince === undefined ? 0 : now - pod.waitingSince),
        durationMs: (pod.lastExit ?? now) - pod.firstStart,
      })),
      launchOverheadMs: this.launchOverheadMs,
    };
    this.out.write(summary(this.plan, result));
    return result;
  }

  private start(pod: PodState): void {
    const child = startPodProcess(pod.plan.argv, pod.env, this.options.workingDirectory, pod.mark);
    pod.lastStart = Date.now();
    if (pod.firstStart === 0) pod.firstStart = pod.lastStart;
    this.launchOverheadMs ??= pod.lastStart - this.started;
    pod.process = child;
    const prefix = `[${pod.plan.name}] `;
    for (const stream of [child.stdout!, child.stderr!]) prefixLines(stream, prefix, this.out, line => pod.debianTorch.read(line));
    child.once('error', error => this.end(false, `${pod.plan.name} cannot start ${JSON.stringify(pod.plan.argv[0])}: ${error.message}`));
    child.once('exit', () => {
      // What the pod started dies with its main process, as in a container; its output then ends too.
      if (child.pid !== undefined) this.killProcesses({ sessions: new Set([child.pid]), marked: mark => mark === pod.mark });
      const drain = setTimeout(() => [child.stdout, child.stderr].forEach(stream => stream?.destroy()), OUTPUT_DRAIN_MS);
      child.once('close', () => clearTimeout(drain));
    });
    child.once('close', (code, signal) => this.exited(pod, child, code ?? 128 + (signal ? constants.signals[signal] : 0)));
  }

  private exited(pod: PodState, child: ChildProcess, exitCode: number): void {
    if (pod.process !== child) return;
    pod.process = undefined;
    pod.exitCode = exitCode;
    pod.lastExit = Date.now();
    if (exitCode !== 0 && pod.debianTorch.crashed && !this.advisedDebianTorch) {
      this.advisedDebianTorch = true;
      this.errors.write(`${debianTorchAdvice(pod.plan.name)}\n`);
    }
    if (this.outcome) {
      this.finishWhenIdle();
      return;
    }
    const policy = pod.plan.restartPolicy;
    if (exitCode === 0 && policy !== 'Always') {
      pod.succeeded = true;
      this.checkSuccess(pod);
      return;
    }
    if (policy === 'Never' && this.plan.backoffCounts === 'restarts') {
      this.end(false, `${pod.plan.name} exited ${exitCode} under restart policy Never`);
      return;
    }
    if (policy === 'ExitCode' && exitCode < 128) {
      this.end(false, `${pod.plan.name} exited ${exitCode} under restart policy ExitCode (1 to 127 are permanent)`);
      return;
    }
    if (this.plan.backoffLimit !== undefined && this.retriesUsed >= this.plan.backoffLimit) {
      this.end(false, `${pod.plan.name} exited ${exitCode}: backoff limit ${this.plan.backoffLimit} reached`);
      return;
    }
    this.retriesUsed++;
    const delay = pod.backoff.next(pod.lastExit - pod.lastStart);
    this.out.write(`[${pod.plan.name}] exited ${exitCode}: restarting in ${seconds(delay)} (${this.retriesUsed} of ${this.plan.backoffLimit ?? 'unlimited'})\n`);
    pod.waitingSince = Date.now();
    this.after(delay, () => {
      pod.backoffMs += Date.now() - pod.waitingSince!;
      pod.waitingSince = undefined;
      pod.restarts++;
      this.start(pod);
    });
  }

  private checkSuccess(pod: PodState): void {
    const rule = this.plan.success;
    if (rule === SuccessRule.MASTER && pod.plan.name === 'master-0') {
      this.end(true, 'master-0 succeeded (rank 0)');
    } else if (rule === SuccessRule.ANY_POD) {
      this.end(true, `${pod.plan.name} succeeded, which ends an elastic job`);
    } else if (rule === SuccessRule.RANK_ZERO && pod === this.pods[0]) {
      this.end(true, `${pod.plan.name} succeeded (node rank 0)`);
    } else if (rule === SuccessRule.ALL_PODS && this.pods.every(p => p.succeeded)) {
      this.end(true, 'every pod succeeded');
    }
  }

  /** Decides the outcome once, then stops what still runs: at once after a failure, after the grace period after a success. */
  private end(succeeded: boolean, reason: string): void {
    if (this.outcome) return;
    this.outcome = { succeeded, reason };
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    const running = this.pods.filter(pod => pod.process);
    const stop = () => running.forEach(pod => {
      if (pod.process?.pid !== undefined) signalGroup(pod.process.pid, 'SIGTERM');
    });
    if (succeeded) this.after(this.grace, stop); else stop();
    this.after((succeeded ? 2 : 1) * this.grace, () => running.forEach(pod => this.kill(pod)));
    this.finishWhenIdle();
  }

  /** Kills a running pod's processes at once. */
  private kill(pod: PodState): void {
    if (pod.process?.pid !== undefined) this.killProcesses({ sessions: new Set([pod.process.pid]), marked: mark => mark === pod.mark });
  }

  /** Kills what a pod or the run started, and remembers what it killed. */
  private killProcesses(members: PodMembership): number[] {
    const survivors = killPodProcesses(members);
    survivors.forEach(pid => this.killed.add(pid));
    return survivors;
  }

  /**
   * Kills whatever the pods left running (a process that left its pod's session) and waits until it has died, so that
   * the run ends with none of the pods' processes left; reports any that would not die.
   */
  private async stopSurvivors(): Promise<void> {
    const run: PodMembership = { sessions: new Set(), marked: mark => mark.startsWith(`${this.runMark}/`) };
    const deadline = Date.now() + SURVIVOR_WAIT_MS;
    let survivors = this.killProcesses(run);
    while ((survivors.length > 0 || notEnded(this.killed).length > 0) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, SURVIVOR_POLL_MS));
      survivors = this.killProcesses(run);
    }
    if (survivors.length > 0) {
      this.errors.write(`${survivors.length} process(es) that the pods started would not die of SIGKILL: PID ${survivors.join(', ')} (${POD_MARK_ENV}=${this.runMark}/…)\n`);
    }
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private finishWhenIdle(): void {
    if (this.pods.every(pod => !pod.process)) this.finish();
  }
}

/**
 * The caller's environment (PATH, HOME, a virtualenv), without what would contradict the pod's own variables: its
 * distributed settings but those of torchrun's output, its choice of devices, and the mark of a run it is part of.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => (OUTPUT_ENV.has(name) || !DISTRIBUTED_ENV.test(name))
    && !DEVICE_SELECTION_ENV.has(name) && name !== POD_MARK_ENV));
}

/** Refuses a working directory that is not one before anything starts, which spawn would report per pod. */
function checkDirectory(path: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new UnusableInputError(`${path}: cannot be the working directory: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!isDirectory) throw new UnusableInputError(`${path}: cannot be the working directory: it is not a directory`);
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WritableStream, read: (line: string) => void): void {
  let pending = '';
  const write = (line: string) => {
    read(line);
    out.write(`${prefix}${line}\n`);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(write);
  });
  stream.on('end', () => { if (pending) write(pending); });
}

function summary(plan: JobPlan, result: LocalRunResult): string {
  const rows = [['POD', 'EXIT', 'RESTARTS', 'BACK-OFF', 'DURATION'], ...result.pods.map(pod => [
    pod.name, pod.exitCode === undefined ? '-' : String(pod.exitCode), String(pod.restarts), seconds(pod.backoffMs), seconds(pod.durationMs),
  ])];
  const table = formatTable(rows).join('\n');
  return `\n${table}\n${plan.kind} ${plan.name}: ${result.succeeded ? 'Succeeded' : 'Failed'}: ${result.reason}\n`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, '\'\\\'\'')}'`;
}

/** A TCP port that is free on this machine now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
