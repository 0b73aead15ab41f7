import { UnusableInputError } from '../local/manifests';
import { runLocally } from '../local/runner';

const USAGE = `Usage:
  kfpytorch run FILE... [--job NAME] [--env NAME=VALUE]... [--workdir DIR] [--dry-run]
      Runs a synthesized PyTorchJob, or a single-node torchrun Job, as local processes with the
      environment the training operator would inject. Exit status: 0 when the job succeeded,
      1 when it failed, 2 when the input cannot be used.
`;

/** Exit status for input that cannot be used. */
const UNUSABLE = 2;

/** Parsed options of `kfpytorch run`. */
interface RunArguments {
  readonly files: string[];
  readonly jobName?: string;
  readonly env: { [name: string]: string };
  readonly workingDirectory?: string;
  readonly dryRun: boolean;
}

/** The `kfpytorch` command. Resolves to the process's exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h') {
      process.stdout.write(USAGE);
      return command === undefined ? UNUSABLE : 0;
    }
    if (command !== 'run') throw new UnusableInputError(`unknown command ${JSON.stringify(command)}: see kfpytorch --help`);
    const args = parseRunArguments(rest);
    const result = await runLocally(args);
    return result.succeeded ? 0 : 1;
  } catch (error) {
    if (!(error instanceof UnusableInputError)) throw error;
    process.stderr.write(`kfpytorch: ${error.message}\n`);
    return UNUSABLE;
  }
}

function parseRunArguments(argv: string[]): RunArguments {
  const files: string[] = [];
  const env: { [name: string]: string } = {};
  let jobName: string | undefined;
  let workingDirectory: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new UnusableInputError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--job': jobName = value(); break;
      case '--workdir': workingDirectory = value(); break;
      case '--dry-run': dryRun = true; break;
      case '--env': {
        const assignment = value();
        const equals = assignment.indexOf('=');
        if (equals < 1) throw new UnusableInputError(`--env ${JSON.stringify(assignment)} is not NAME=VALUE`);
        env[assignment.slice(0, equals)] = assignment.slice(equals + 1);
        break;
      }
      default:
        if (flag.startsWith('-')) throw new UnusableInputError(`unknown option ${flag}: see kfpytorch --help`);
        files.push(flag);
    }
  }
  if (files.length === 0) throw new UnusableInputError('no file given: kfpytorch run FILE...');
  return { files, jobName, env, workingDirectory, dryRun };
}
