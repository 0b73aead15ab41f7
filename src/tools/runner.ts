import { ChildProcess, spawn } from 'child_process';
import { createServer } from 'net';
import { constants } from 'os';
import { loadManifests, selectJob } from './manifests';
import { JobPlan, PodPlan, planJob, SuccessRule } from './plan';
import { formatTable } from './table';

/** Options of a local run. */
export interface LocalRunOptions {
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
  /** Where logs and the summary go. */
  readonly output?: NodeJS.WritableStream;
}

/** What became of one pod. */
export interface LocalPodResult {
  readonly name: string;
  /** The last exit code; 128 + the signal number when a signal ended it; undefined when it never ended on its own. */
  readonly exitCode?: number;
  readonly restarts: number;
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
const DEFAULT_GRACE_MS = 5000;
const RESTART_DELAY_MS = 200;

/** A pod's process and its history. */
interface PodState {
  readonly plan: PodPlan;
  process?: ChildProcess;
  exitCode?: number;
  restarts: number;
  firstStart: number;
  lastExit?: number;
  succeeded: boolean;
}

/**
 * Runs a synthesized training job on this machine: one process per pod, with the environment the training
 * operator would inject, and the restart, backoff and deadline behaviour of the operator or the Job controller.
 */
export async function runLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  const out = options.output ?? process.stdout;
  const job = selectJob(loadManifests(options.files), options.jobName).manifest;
  const plan = planJob(job, options.env ?? {}, { master: await freePort(), rendezvous: await freePort() });
  if (options.dryRun) {
    for (const pod of plan.pods) {
      out.write(`[${pod.name}] command: ${pod.argv.map(quote).join(' ')}\n`);
      for (const [name, value] of pod.env) out.write(`[${pod.name}]   ${name}=${value}\n`);
    }
    return { succeeded: true, reason: 'dry run: nothing was started', pods: [] };
  }
  return new LocalJob(plan, options, out, started).run();
}

class LocalJob {
  private readonly pods: PodState[];
  private readonly grace: number;
  private outcome?: { succeeded: boolean; reason: string };
  private retriesUsed = 0;
  private launchOverheadMs?: number;
  private finish!: () => void;
  /** The deadline and the stop timers, cleared when the last process has exited. */
  private readonly timers: NodeJS.Timeout[] = [];

  public constructor(private readonly plan: JobPlan, private readonly options: LocalRunOptions,
    private readonly out: NodeJS.WritableStream, private readonly started: number) {
    this.pods = plan.pods.map(pod => ({ plan: pod, restarts: 0, firstStart: 0, succeeded: false }));
    this.grace = options.gracePeriodMs ?? DEFAULT_GRACE_MS;
  }

  public async run(): Promise<LocalRunResult> {
    // Every signal, not only the first: a second Ctrl-C during the grace period kills what still runs.
    const interrupt = () => {
      if (this.outcome) this.pods.forEach(pod => signalGroup(pod.process, 'SIGKILL'));
      else this.end(false, 'interrupted: every process was stopped');
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    signals.forEach(signal => process.on(signal, interrupt));
    const ended = new Promise<void>(resolve => { this.finish = resolve; });
    if (this.plan.activeDeadlineSeconds !== undefined) {
      this.timers.push(setTimeout(() => this.end(false, `deadline exceeded: active longer than ${this.plan.activeDeadlineSeconds} s`),
        this.plan.activeDeadlineSeconds * 1000));
    }
    for (const pod of this.pods) this.start(pod);
    await ended;
    signals.forEach(signal => process.removeListener(signal, interrupt));
    this.timers.forEach(clearTimeout);
    const result: LocalRunResult = {
      succeeded: this.outcome!.succeeded,
      reason: this.outcome!.reason,
      pods: this.pods.map(pod => ({
        name: pod.plan.name,
        exitCode: pod.exitCode,
        restarts: pod.restarts,
        durationMs: (pod.lastExit ?? Date.now()) - pod.firstStart,
      })),
      launchOverheadMs: this.launchOverheadMs,
    };
    this.out.write(summary(this.plan, result));
    return result;
  }

  private start(pod: PodState): void {
    const [program, ...args] = pod.plan.argv;
    const child = spawn(program, args, {
      cwd: this.options.workingDirectory,
      env: { ...inheritedEnv(), ...this.options.env, ...Object.fromEntries(pod.plan.env) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that stopping the pod also stops what it started (torchrun's workers).
      detached: true,
    });
    if (pod.firstStart === 0) pod.firstStart = Date.now();
    this.launchOverheadMs ??= Date.now() - this.started;
    pod.process = child;
    prefixLines(child.stdout!, `[${pod.plan.name}] `, this.out);
    prefixLines(child.stderr!, `[${pod.plan.name}] `, this.out);
    child.once('error', error => this.end(false, `${pod.plan.name} cannot start ${JSON.stringify(program)}: ${error.message}`));
    child.once('close', (code, signal) => this.exited(pod, child, code ?? 128 + (signal ? constants.signals[signal] : 0)));
  }

  private exited(pod: PodState, child: ChildProcess, exitCode: number): void {
    if (pod.process !== child) return;
    pod.process = undefined;
    pod.exitCode = exitCode;
    pod.lastExit = Date.now();
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
    pod.restarts++;
    this.out.write(`[${pod.plan.name}] exited ${exitCode}: restarting (${this.retriesUsed} of ${this.plan.backoffLimit ?? 'unlimited'})\n`);
    setTimeout(() => { if (!this.outcome) this.start(pod); }, RESTART_DELAY_MS);
  }

  private checkSuccess(pod: PodState): void {
    const rule = this.plan.success;
    if (rule === SuccessRule.MASTER && pod.plan.name === 'master-0') {
      this.end(true, 'master-0 succeeded (rank 0)');
    } else if (rule === SuccessRule.ANY_POD) {
      this.end(true, `${pod.plan.name} succeeded, which ends an elastic job`);
    } else if (rule === SuccessRule.ALL_PODS && this.pods.every(p => p.succeeded)) {
      this.end(true, 'every pod succeeded');
    }
  }

  /** Decides the outcome once, then stops what still runs: at once after a failure, after the grace period after a success. */
  private end(succeeded: boolean, reason: string): void {
    if (this.outcome) return;
    this.outcome = { succeeded, reason };
    const running = this.pods.filter(pod => pod.process);
    const stop = () => running.forEach(pod => signalGroup(pod.process, 'SIGTERM'));
    if (succeeded) this.timers.push(setTimeout(stop, this.grace)); else stop();
    this.timers.push(setTimeout(() => running.forEach(pod => signalGroup(pod.process, 'SIGKILL')), (succeeded ? 2 : 1) * this.grace));
    this.finishWhenIdle();
  }

  private finishWhenIdle(): void {
    if (this.pods.every(pod => !pod.process)) this.finish();
  }
}

/** The caller's environment (PATH, HOME, a virtualenv), without what would contradict the pod's own variables. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !DISTRIBUTED_ENV.test(name)));
}

function signalGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WritableStream): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => { if (pending) out.write(`${prefix}${pending}\n`); });
}

function summary(plan: JobPlan, result: LocalRunResult): string {
  const rows = [['POD', 'EXIT', 'RESTARTS', 'DURATION'], ...result.pods.map(pod => [
    pod.name, pod.exitCode === undefined ? '-' : String(pod.exitCode), String(pod.restarts), `${(pod.durationMs / 1000).toFixed(1)} s`,
  ])];
  const table = formatTable(rows).join('\n');
  return `\n${table}\n${plan.kind} ${plan.name}: ${result.succeeded ? 'Succeeded' : 'Failed'}: ${result.reason}\n`;
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
