import { UnusableInputError } from '../rules/problem';
import { CrdSchema } from '../rules/schema';
import { describeJob, formatMermaid, formatSummary } from '../tools/describe';
import { isTrainingJob, loadManifests, selectJob } from '../tools/manifests';
import { runLocally } from '../tools/runner';
import { expandPaths, formatReport, validatePaths } from '../tools/validate';

const USAGE = `Usage:
  kfpytorch run FILE... [--job NAME] [--env NAME=VALUE]... [--workdir DIR] [--dry-run]
      Runs a synthesized PyTorchJob, or a single-node torchrun Job, as local processes with the
      environment the training operator would inject. Exit status: 0 when the job succeeded,
      1 when it failed, 2 when the input cannot be used.
  kfpytorch validate FILE|DIR... [--crd FILE] [--format text|json]
      Checks every PyTorchJob and single-node torchrun Job against the CRD schema (the CRD file given
      with --crd or in KFPYTORCH_CRD), the operator's webhook rules, and what the operator, kubelet or
      torchrun trip over later. Exit status: 0 clean, 1 problems found, 2 unusable input.
  kfpytorch describe FILE... [--job NAME] [--format text|mermaid]
      Shows what each training job will be on a cluster: pods, processes, GPUs, CPU and memory per
      pod, world size and rendezvous.
`;

/** The environment variable naming the CRD file that `validate` checks the schema against. */
const CRD_ENV = 'KFPYTORCH_CRD';

/** Exit status for input that cannot be used. */
const UNUSABLE = 2;

/** Parsed options of the commands. */
interface Arguments {
  readonly files: string[];
  readonly jobName?: string;
  readonly env: { [name: string]: string };
  readonly workingDirectory?: string;
  readonly dryRun: boolean;
  readonly crd?: string;
  readonly format?: string;
}

/** The `kfpytorch` command. Resolves to the process's exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h') {
      process.stdout.write(USAGE);
      return command === undefined ? UNUSABLE : 0;
    }
    const args = parseArguments(rest);
    checkFormat(command, args.format);
    switch (command) {
      case 'run':
        return (await runLocally(args)).succeeded ? 0 : 1;
      case 'validate':
        return validate(args);
      case 'describe':
        return describe(args);
      default:
        throw new UnusableInputError(`unknown command ${JSON.stringify(command)}: see kfpytorch --help`);
    }
  } catch (error) {
    if (!(error instanceof UnusableInputError)) throw error;
    process.stderr.write(`kfpytorch: ${error.message}\n`);
    return UNUSABLE;
  }
}

function validate(args: Arguments): number {
  const crd = args.crd ?? process.env[CRD_ENV];
  if (crd === undefined) process.stderr.write(`kfpytorch: schema not checked: give the CRD with --crd FILE or ${CRD_ENV}\n`);
  const report = validatePaths(args.files, crd === undefined ? undefined : CrdSchema.fromFile(crd));
  process.stdout.write(args.format === 'json' ? `${JSON.stringify(report, undefined, 2)}\n` : formatReport(report));
  for (const line of report.unusable) process.stderr.write(`kfpytorch: ${line}\n`);
  return report.unusable.length > 0 ? UNUSABLE : report.problems.length > 0 ? 1 : 0;
}

function describe(args: Arguments): number {
  const unusable: string[] = [];
  const files = expandPaths(args.files, unusable);
  if (unusable.length > 0) throw new UnusableInputError(unusable[0]);
  const manifests = loadManifests(files);
  const jobs = args.jobName === undefined ? manifests.filter(m => isTrainingJob(m.manifest)) : [selectJob(manifests, args.jobName)];
  if (jobs.length === 0) selectJob(manifests, undefined);
  const format = args.format === 'mermaid' ? formatMermaid : formatSummary;
  process.stdout.write(jobs.map(job => format(describeJob(job.manifest))).join('\n'));
  return 0;
}

function parseArguments(argv: string[]): Arguments {
  const files: string[] = [];
  const env: { [name: string]: string } = {};
  let jobName: string | undefined;
  let workingDirectory: string | undefined;
  let dryRun = false;
  let crd: string | undefined;
  let format: string | undefined;
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
      case '--crd': crd = value(); break;
      case '--format': format = value(); break;
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
  if (files.length === 0) throw new UnusableInputError('no file given: see kfpytorch --help');
  return { files, jobName, env, workingDirectory, dryRun, crd, format };
}

/** The output formats each command writes. */
const FORMATS: { [command: string]: string[] } = { run: [], validate: ['text', 'json'], describe: ['text', 'mermaid'] };

function checkFormat(command: string, format: string | undefined): void {
  if (format === undefined) return;
  const formats = FORMATS[command] ?? [];
  if (!formats.includes(format)) {
    throw new UnusableInputError(`--format ${JSON.stringify(format)}: ${command} writes ${formats.length > 0 ? formats.join(' or ') : 'no other format'}`);
  }
}
