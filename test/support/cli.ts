import { main } from '../../src/cli/kfpytorch';

/** What one `kfpytorch` command printed, and the exit status it resolved to. */
export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main(argv)` in this process with stdout and stderr captured (and restored afterwards, whatever happens). */
export async function kfpytorch(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (text: string) => void) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    if (callback) callback();
    return true;
  }) as typeof process.stdout.write;
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture(text => { stdout += text; }));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture(text => { stderr += text; }));
  try {
    const status = await main(argv);
    return { status, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
