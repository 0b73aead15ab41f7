import { ChildProcess, spawn } from 'child_process';
import { readdirSync, readFileSync } from 'fs';

/**
 * Marks every process a pod starts (the environment is inherited), so that one which leaves the pod's session, as a
 * daemon does with setsid, is still found. The value is the run's mark, `/`, and the pod's name.
 */
export const POD_MARK_ENV = 'KFPYTORCH_POD';

/** Where the kernel lists processes; without it (macOS), only the pod's process group is stopped. */
const PROC = '/proc';

/**
 * Starts a pod's main process as the leader of a session and process group of its own (`detached`: setsid), which
 * everything it starts joins unless it leaves on purpose, and which no signal of the terminal reaches.
 */
export function startPodProcess(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string | undefined, mark: string): ChildProcess {
  const [program, ...args] = argv;
  return spawn(program, args, { cwd, env: { ...env, [POD_MARK_ENV]: mark }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

/** Signals every process of a process group (a pod's, whose ID is its main process's). */
export function signalGroup(groupId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupId, signal);
  } catch {
    // The group is already gone.
  }
}

/** Which processes belong to a pod, or to any pod of a run. */
export interface PodMembership {
  /** The sessions of the pods' main processes (each main's PID). */
  readonly sessions: ReadonlySet<number>;
  /** Whether a value of POD_MARK_ENV is the pod's (or the run's). */
  readonly marked: (mark: string) => boolean;
}

/**
 * Kills what a pod started, as a container's processes all die with its main process: SIGKILL to each session's
 * process group, then to every process still running in one of the sessions or carrying the mark. Returns those
 * found running in the scan.
 */
export function killPodProcesses(members: PodMembership): number[] {
  members.sessions.forEach(session => signalGroup(session, 'SIGKILL'));
  const survivors = podProcesses(members);
  for (const pid of survivors) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It ended meanwhile.
    }
  }
  return survivors;
}

/**
 * Which of `pids` have not ended yet (a zombie has). A process killed a moment ago may still be exiting, and while it
 * exits its environment no longer shows the mark: the PIDs killed are waited for by number.
 */
export function notEnded(pids: Iterable<number>): number[] {
  const found: number[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`${PROC}/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') found.push(pid);
    } catch {
      // Ended and reaped, or no /proc.
    }
  }
  return found;
}

/** Processes that still run (zombies have ended) in one of the sessions or with a matching mark, found in /proc. */
function podProcesses(members: PodMembership): number[] {
  let entries: string[];
  try {
    entries = readdirSync(PROC);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`${PROC}/${entry}/stat`, 'utf8');
      // The command name, in parentheses, may hold spaces and parentheses of its own.
      const [state, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      if (members.sessions.has(Number(session)) || hasMark(entry, members.marked)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or another user's.
    }
  }
  return found;
}

function hasMark(pid: string, marked: (mark: string) => boolean): boolean {
  const prefix = `${POD_MARK_ENV}=`;
  const entry = readFileSync(`${PROC}/${pid}/environ`, 'utf8').split('\0').find(variable => variable.startsWith(prefix));
  return entry !== undefined && marked(entry.slice(prefix.length));
}
