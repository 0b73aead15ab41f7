/**
 * torchrun of Debian's torch 1.13 under Python 3.11 fails at every start unless `--redirects` and `--tee` are 1 or 2:
 * `Std.from_str` finds a value by iterating the IntFlag `Std`, which since Python 3.11 yields only its one-bit members,
 * so `0` (NONE, the default of both) and `3` (ALL) come back as None, and `to_map` fails on it with this error.
 * With 2 (stderr), each worker's stdout reaches the pod's output as it is, and its stderr through a log file in
 * torchrun's log directory, with a `[default<local rank>]:` prefix.
 */
export const DEBIAN_TORCH_SETTINGS = 'PET_REDIRECTS=2 PET_TEE=2';

const CRASH_FRAME = /torch\/distributed\/elastic\/multiprocessing\/api\.py", line \d+, in to_map$/;
const CRASH_ERROR = /^AttributeError: 'NoneType' object has no attribute 'get'$/;

/** Watches a pod's output for torchrun's traceback of that failure: the frame in `to_map`, then the error. */
export class DebianTorchCrashWatch {
  private inToMap = false;
  private seen = false;

  public read(line: string): void {
    if (CRASH_FRAME.test(line)) this.inToMap = true;
    else if (this.inToMap && CRASH_ERROR.test(line.trim())) this.seen = true;
  }

  public get crashed(): boolean {
    return this.seen;
  }
}

/** What to do about it, in one line. */
export function debianTorchAdvice(pod: string): string {
  return `${pod}: torchrun failed as Debian's torch 1.13 does under Python 3.11 with --redirects and --tee at their default 0: `
    + `run with ${DEBIAN_TORCH_SETTINGS} in your shell or as --env (the README's "Debian's torch")`;
}
