import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';
import { Command, CommanderError, Option } from 'commander';
import { UnusableInputError } from '../rules/problem';
import { BUNDLED_OPERATOR_VERSION, CrdSchema } from '../rules/schema';
import { runtimeFinder } from '../rules/trainjob';
import { DEFAULT_FIRST_DELAY_MS } from '../tools/backoff';
import { describeJob, formatMermaid, formatSummary } from '../tools/describe';
import { parseGpuList } from '../tools/gpus';
import { expandPaths, isTrainingJob, isTrainingRuntime, loadManifests, selectJob } from '../tools/manifests';
import { runLocally } from '../tools/runner';
import { formatReport, validatePaths } from '../tools/validate';

/** The environment variable naming the CRD file that `validate` checks the schema against. */
const CRD_ENV = 'KFPYTORCH_CRD';

/** Exit statuses, the same for every command. */
const SUCCEEDED = 0;
const FAILED = 1;
const UNUSABLE = 2;

/** Help is wrapped at this width whatever the terminal, so that it reads the same everywhere. */
const HELP_WIDTH = 100;

interface ValidateOptions {
  readonly crd?: string;
  /** False with `--no-schema`. */
  readonly schema: boolean;
  readonly format: 'text' | 'json';
  readonly strict?: boolean;
}

interface DescribeOptions {
  readonly job?: string;
  readonly format: 'text' | 'mermaid';
}

interface RunOptions {
  readonly job?: string;
  readonly env?: { [name: string]: string };
  readonly workdir?: string;
  readonly dryRun?: boolean;
  /** The GPUs `--gpus` names; false with `--no-gpus`. */
  readonly gpus?: string[] | false;
  readonly restartDelay?: number;
}

/** The `kfpytorch` command. Resolves to the process's exit status. */
export async function main(argv: string[]): Promise<number> {
  let status = SUCCEEDED;
  const program = buildProgram(exitStatus => { status = exitStatus; });
  try {
    if (argv.length === 0) throw new UnusableInputError(`no command given: ${commandList(program)}`);
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return SUCCEEDED;
      error = new UnusableInputError(usageError(program, error, argv[0]));
    }
    if (!(error instanceof UnusableInputError)) throw error;
    process.stderr.write(`kfpytorch: ${error.message}\n`);
    return UNUSABLE;
  }
}

function buildProgram(setStatus: (status: number) => void): Command {
  const program = new Command('kfpytorch')
    .description('Run, check and describe Kubeflow PyTorchJobs and single-node torchrun Jobs, as cdk8s synth writes them.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .helpCommand(false)
    // Errors are thrown, not printed and exited on: main writes each as one line and returns the exit status.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .configureHelp({ helpWidth: HELP_WIDTH })
    .addHelpText('after', '\nkfpytorch COMMAND --help shows the arguments, options and exit statuses of a command.');

  program.command('run')
    .summary('run a job as local processes')
    .description('Run a PyTorchJob or single-node torchrun Job as local processes, with the environment the training operator would inject.')
    .argument('<FILE...>', 'YAML files holding the job')
    .option('--job <NAME>', 'the job to run, when the files hold several')
    .option('--env <NAME=VALUE>', 'a value for a variable from a Secret, a ConfigMap or the pod, or an extra variable (repeatable)', collectEnv)
    .option('--workdir <DIR>', 'where the processes run')
    .option('--dry-run', 'print each pod\'s command and environment instead of running them')
    .option('--gpus <IDS>', 'the GPUs to divide among the pods, comma-separated (default: those nvidia-smi -L lists)', parseGpuList)
    .option('--no-gpus', 'run a job that asks for GPUs on CPU')
    .option('--restart-delay <SECONDS>', `the wait before a pod's first restart, instead of the cluster's ${DEFAULT_FIRST_DELAY_MS / 1000}; the later waits scale with it`, parseRestartDelay)
    .addHelpText('after', exitStatuses('the job succeeded', 'it failed'))
    .action(async (files: string[], options: RunOptions) => {
      const result = await runLocally({
        files,
        jobName: options.job,
        env: options.env,
        workingDirectory: options.workdir,
        dryRun: options.dryRun,
        gpus: options.gpus || undefined,
        cpuOnly: options.gpus === false,
        restartDelayMs: options.restartDelay === undefined ? undefined : options.restartDelay * 1000,
      });
      setStatus(result.succeeded ? SUCCEEDED : FAILED);
    });

  program.command('validate')
    .summary('check manifests against the schema and the rules')
    .description('Check every PyTorchJob and single-node torchrun Job against the CRD schema, the operator\'s webhook rules, and what the operator, kubelet or torchrun trip over later.')
    .argument('<FILE|DIR...>', 'YAML files, and folders searched for .yaml and .yml files')
    .addOption(new Option('--crd <FILE>', `the PyTorchJob CRD of another operator version (default: the bundled ${BUNDLED_OPERATOR_VERSION})`).env(CRD_ENV))
    .option('--no-schema', 'skip the schema check: only the rules run')
    .addOption(formatOption('validate', ['text', 'json']))
    .option('--strict', 'warnings fail too (exit status 1)')
    .addHelpText('after', `\nEach problem is one line: FILE:DOCUMENT: FIELD: MESSAGE (KIND, SEVERITY).\n${exitStatuses('no errors (warnings are printed)', 'errors, or warnings with --strict')}`)
    .action((paths: string[], options: ValidateOptions, command: Command) => {
      setStatus(validate(paths, options, command.getOptionValueSource('crd') === 'cli'));
    });

  program.command('describe')
    .summary('show what jobs will be on a cluster')
    .description('Show what each training job (PyTorchJob, torchrun Job, or TrainJob with its runtime from the same files) will be on a cluster: pods, processes, GPUs, CPU and memory per pod, what a quota must admit, world size and rendezvous; '
      + 'for a job written for Kueue, Volcano, scheduler-plugins or KAI, the pod sets the queue sees with their requests, and what the operator must be started with.')
    .argument('<FILE|DIR...>', 'YAML files, and folders searched for .yaml and .yml files')
    .option('--job <NAME>', 'the one job to describe')
    .addOption(formatOption('describe', ['text', 'mermaid']))
    .addHelpText('after', exitStatuses('described'))
    .action((paths: string[], options: DescribeOptions) => {
      describe(paths, options);
    });

  return program;
}

function validate(paths: string[], options: ValidateOptions, crdGiven: boolean): number {
  if (!options.schema && crdGiven) throw new UnusableInputError('--crd and --no-schema contradict each other: give one of them');
  const report = validatePaths(paths, options.schema ? crdSchema(options.crd) : undefined);
  process.stdout.write(options.format === 'json' ? `${JSON.stringify(report, undefined, 2)}\n` : formatReport(report));
  for (const line of report.unusable) process.stderr.write(`kfpytorch: ${line}\n`);
  if (report.unusable.length > 0) return UNUSABLE;
  return report.errors > 0 || (options.strict && report.warnings > 0) ? FAILED : SUCCEEDED;
}

/** The schema of the CRD file given, or the bundled one. */
function crdSchema(crd: string | undefined): CrdSchema {
  return crd === undefined ? CrdSchema.bundled() : CrdSchema.fromFile(crd);
}

function describe(paths: string[], options: DescribeOptions): void {
  const unusable: string[] = [];
  const files = expandPaths(paths, unusable);
  if (unusable.length > 0) throw new UnusableInputError(unusable[0]);
  const manifests = loadManifests(files);
  const jobs = options.job === undefined ? manifests.filter(m => isTrainingJob(m.manifest)) : [selectJob(manifests, options.job)];
  if (jobs.length === 0) selectJob(manifests, undefined);
  const format = options.format === 'mermaid' ? formatMermaid : formatSummary;
  // A TrainJob's runtime is looked for in every file given, as validate does.
  const findRuntime = runtimeFinder(manifests.map(m => m.manifest).filter(isTrainingRuntime));
  process.stdout.write(jobs.map(job => format(describeJob(job.manifest, findRuntime))).join('\n'));
}

/** `--format`, listing its choices in the help, and refusing another in the words of the command. */
function formatOption(command: string, formats: string[]): Option {
  return new Option('--format <FORMAT>', 'output format').choices(formats).default(formats[0])
    .argParser(format => {
      if (!formats.includes(format)) throw new UnusableInputError(`--format ${JSON.stringify(format)}: ${command} writes ${formats.join(' or ')}`);
      return format;
    });
}

function collectEnv(assignment: string, env: { [name: string]: string } = {}): { [name: string]: string } {
  const equals = assignment.indexOf('=');
  if (equals < 1) throw new UnusableInputError(`--env ${JSON.stringify(assignment)} is not NAME=VALUE`);
  return { ...env, [assignment.slice(0, equals)]: assignment.slice(equals + 1) };
}

function parseRestartDelay(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw new UnusableInputError(`--restart-delay ${JSON.stringify(text)} is not a number of seconds`);
  return seconds;
}

function exitStatuses(succeeded: string, failed?: string): string {
  const statuses: Array<[number, string | undefined]> = [[SUCCEEDED, succeeded], [FAILED, failed], [UNUSABLE, 'the input cannot be used']];
  return ['\nExit status:', ...statuses.filter(([, meaning]) => meaning !== undefined).map(([status, meaning]) => `  ${status}  ${meaning}`)].join('\n');
}

function commandList(program: Command): string {
  return `the commands are ${program.commands.map(c => c.name()).join(', ')} (kfpytorch --help)`;
}

/** A parse error as one line, without commander's `error: ` prefix, pointing to the help of the command concerned. */
function usageError(program: Command, error: CommanderError, commandName: string): string {
  if (error.code === 'commander.unknownCommand') return `unknown command ${JSON.stringify(commandName)}: ${commandList(program)}`;
  const [message, suggestion] = error.message.replace(/^error: /, '').split('\n');
  const command = program.commands.find(c => c.name() === commandName);
  return `${message}${suggestion ? ` ${suggestion.toLowerCase()}` : ''}: see kfpytorch${command ? ` ${command.name()}` : ''} --help`;
}

/** The version in the package's package.json, the first one above this module (in src/ or in the compiled lib/). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).version;
    if (dirname(dir) === dir) return 'unknown';
  }
}
