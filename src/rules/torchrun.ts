import { PORT_NAME } from './facts';
import { InjectedEnv } from './pod-template';
import { isObject, isWholeNumber, Problem, ProblemKind, Severity, show } from './problem';
import { parseScript, programName, shellInvocation, ShellWord, stripPrefixes, Word } from './shell';

const OPERATIONAL = ProblemKind.OPERATIONAL;
const START_METHODS = ['spawn', 'fork', 'forkserver'];
const NPROC_PER_NODE = /^(auto|cpu|gpu|[1-9]\d*)$/;

/** A node range as torchrun and the operator take it: at least 1 node, the minimum not above the maximum. */
export function checkNodeRange(min: unknown, max: unknown, path: string): Problem[] {
  if (!isWholeNumber(min, 1)) return [{ path, message: `minimum ${show(min)} must be a whole number of at least 1`, kind: OPERATIONAL }];
  if (!isWholeNumber(max, 1)) return [{ path, message: `maximum ${show(max)} must be a whole number of at least 1`, kind: OPERATIONAL }];
  if ((min as number) > (max as number)) return [{ path, message: `minimum ${min} is above maximum ${max}`, kind: OPERATIONAL }];
  return [];
}

/** Process counts per node that torchrun accepts: `auto`, `cpu`, `gpu` or a whole number of at least 1. */
export function checkNprocPerNode(nproc: unknown, path: string): Problem[] {
  if (typeof nproc === 'string' && NPROC_PER_NODE.test(nproc)) return [];
  return [{ path, message: `${show(nproc)} is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1`, kind: OPERATIONAL }];
}

/**
 * Rendezvous settings, which travel as `k1=v1,k2=v2` (torchrun's `--rdzv_conf`, the operator's `PET_RDZV_CONF`):
 * a key or value holding `,`, a key holding `=`, or an empty key or value cannot be split back.
 */
export function checkRdzvConf(entries: readonly unknown[], path: string): Problem[] {
  const problems: Problem[] = [];
  entries.forEach((entry, i) => {
    const { key, value } = isObject(entry) ? entry : { key: undefined, value: undefined };
    if (typeof key !== 'string' || key === '' || /[,=\s]/.test(key)) {
      problems.push({ path: `${path}[${i}].key`, message: `${show(key)} is not a rendezvous key: it must be non-empty, without ',', '=' or spaces`, kind: OPERATIONAL });
    }
    if (typeof value !== 'string' || value === '' || value.includes(',')) {
      problems.push({ path: `${path}[${i}].value`, message: `${show(value)} is not a rendezvous value for ${show(key)}: it must be non-empty, without ','`, kind: OPERATIONAL });
    }
  });
  return problems;
}

/** A container's command line, `command` followed by `args`, whatever the manifest holds there. */
export function commandLine(container: { command?: unknown; args?: unknown }): unknown[] {
  return [...Array.isArray(container.command) ? container.command : [], ...Array.isArray(container.args) ? container.args : []];
}

/** The option that sets how many processes torchrun starts in a pod. */
export const NPROC_PER_NODE_OPTION = 'nproc_per_node';
/** The option that makes torchrun a world of its own on localhost. */
export const STANDALONE_OPTION = 'standalone';
const RDZV_BACKEND_OPTION = 'rdzv_backend';
/** torchrun's default rendezvous backend, the one that meets at `--master_addr` and `--master_port` and ranks by `--node_rank`. */
const STATIC_RDZV_BACKEND = 'static';

const TORCHRUN = 'torchrun';
/** The modules python runs as torchrun; torch.distributed.launch is its deprecated form, with the same options. */
const TORCHRUN_MODULES = ['torch.distributed.run', 'torch.distributed.launch'];
const TORCHRUN_NAMES = [TORCHRUN, ...TORCHRUN_MODULES];
const PYTHON = /^python[\d.]*$/;
/** Python's options that take a value, in the same word or the next; `-m` and `-c` end its options. */
const PYTHON_OPTIONS_WITH_VALUE = ['W', 'X'];
const PYTHON_LONG_OPTIONS_WITH_VALUE = ['--check-hash-based-pycs'];
const MODULE_OPTIONS = ['-m', '--module'];

/** An option whose `PET_` variable the operator injects in a PyTorchJob: why another value breaks the job, and when a value is the same. */
interface OperatorManagedOption {
  readonly why: string;
  readonly same?: (given: string, injected: string) => boolean;
  /** Only the static rendezvous reads it: with another backend the flag is ignored. */
  readonly staticRendezvous?: boolean;
}

/** What is known of one of torchrun's options. */
interface TorchrunOptionRules {
  /** Whether it takes a value: a switch does not. */
  readonly takesValue: boolean;
  /** Its one-letter spelling (`-r`), if any. */
  readonly short?: string;
  /** The problems with a value, as torchrun refuses it; `flag` is the option as messages name it. */
  readonly check?: (flag: string, value: string, at: string) => Problem[];
  readonly managed?: OperatorManagedOption;
}

const VALUE: TorchrunOptionRules = { takesValue: true };
const SWITCH: TorchrunOptionRules = { takesValue: false };

/** torchrun's options, by their name with `_` (each may also be written with `-`). `-m`/`--module` ends them: the module follows. */
const TORCHRUN_OPTIONS = new Map<string, TorchrunOptionRules>([
  ['nnodes', {
    ...VALUE,
    check: checkNnodesFlag,
    managed: { why: 'torchrun waits for another number of nodes than the operator starts; leave it out', same: (given, injected) => nodeRange(given) === nodeRange(injected) },
  }],
  [NPROC_PER_NODE_OPTION, { ...VALUE, check: (flag, value, at) => checkNprocPerNode(value, at).map(p => ({ ...p, message: `${flag} ${p.message}` })) }],
  [RDZV_BACKEND_OPTION, { ...VALUE, managed: elasticPolicyField('rdzvBackend') }],
  ['rdzv_endpoint', { ...VALUE, managed: { ...elasticPolicyField('rdzvHost', 'rdzvPort'), same: sameEndpoint } }],
  ['rdzv_id', { ...VALUE, managed: elasticPolicyField('rdzvId') }],
  ['rdzv_conf', { ...VALUE, check: checkRdzvConfFlag, managed: elasticPolicyField('rdzvConf') }],
  [STANDALONE_OPTION, SWITCH],
  ['max_restarts', { ...VALUE, check: wholeNumberFlag(/^\d+$/, 'a whole number of at least 0'), managed: elasticPolicyField('maxRestarts') }],
  ['monitor_interval', { ...VALUE, check: wholeNumberFlag(/^[1-9]\d*$/, 'a whole number of seconds, at least 1') }],
  ['start_method', { ...VALUE, check: checkStartMethodFlag }],
  ['event_log_handler', VALUE],
  ['role', VALUE],
  ['no_python', SWITCH],
  ['run_path', SWITCH],
  ['log_dir', VALUE],
  ['redirects', { ...VALUE, short: 'r' }],
  ['tee', { ...VALUE, short: 't' }],
  ['local_ranks_filter', VALUE],
  ['node_rank', { ...VALUE, managed: { why: 'the pods\' ranks collide or leave a gap, so the world never completes; leave it out', staticRendezvous: true } }],
  ['master_addr', { ...VALUE, managed: { why: 'the pods never meet at one master; leave it out', same: sameHost, staticRendezvous: true } }],
  ['master_port', { ...VALUE, managed: { why: `pods that follow the operator look for the master on another port; set the Master's ${PORT_NAME} instead`, staticRendezvous: true } }],
  ['local_addr', VALUE],
  ['logs_specs', VALUE],
  ['numa_binding', VALUE],
  ['signals_to_handle', VALUE],
  ['virtual_local_rank', SWITCH],
  ['use_env', SWITCH],
]);
/** The options' names, for finding the one a long flag abbreviates. */
const TORCHRUN_OPTION_NAMES = [...TORCHRUN_OPTIONS.keys()];
const TORCHRUN_SHORT_OPTIONS = new Map([...TORCHRUN_OPTIONS].flatMap(([name, { short }]) => (short === undefined ? [] : [[short, name]])));

/** One of torchrun's options on a command line. */
export interface TorchrunOption {
  /** Its name with `_`, as torchrun's `PET_` variables spell it: `nproc_per_node` for `--nproc-per-node`. */
  readonly name: string;
  /** Its value; undefined for a switch such as `--standalone`, and where the command line does not show it for certain. */
  readonly value?: string;
  /** The field the value is written in (a switch's own field). */
  readonly path: string;
  /** The flag as written, where it is an abbreviation of the option's name. */
  readonly abbreviation?: { readonly written: string; readonly path: string };
}

/** One start of torchrun that a command line certainly makes. */
export interface TorchrunLaunch {
  /** torchrun's own options, in the order written: up to the script or module, or a word that is not certain. */
  readonly options: readonly TorchrunOption[];
  /** Whether `options` are all of torchrun's options: not when a word that is not certain (`$FLAGS`) may hold more. */
  readonly allOptionsRead: boolean;
}

/**
 * What a command line shows of torchrun: the starts found for certain, and whether every part of it was read. With
 * no start, a command line read to its end certainly does not start torchrun; one that was not may.
 */
export interface TorchrunUse {
  readonly launches: readonly TorchrunLaunch[];
  readonly fullyRead: boolean;
}

/**
 * Where a container starts torchrun: directly (`torchrun ...`, `python -m torch.distributed.run ...`), behind `env`,
 * `nohup` or `time`, or in the script of a shell (`bash -c "cd /app && torchrun ..."`), each word at the field it is
 * written in (a script's words at the script's field).
 *
 * @param path the container's field path, e.g. `spec.template.spec.containers[0]`
 */
export function findTorchrun(container: { command?: unknown; args?: unknown }, path: string): TorchrunUse {
  const command = Array.isArray(container.command) ? container.command : undefined;
  const args = Array.isArray(container.args) ? container.args : [];
  const use = useOf([...placedWords(command ?? [], `${path}.command`), ...placedWords(args, `${path}.args`)]);
  // Without a command the image's entrypoint runs, and the manifest does not show what it does with the args.
  return command === undefined ? { ...use, fullyRead: false } : use;
}

/** Whether a command line starts torchrun directly, and where its own arguments start. */
export function torchrunArgsStart(argv: readonly unknown[]): number | undefined {
  const start = launcherArgsStart(placedWords(argv, ''));
  return typeof start === 'number' ? start : undefined;
}

/**
 * The value torchrun takes for one of its options in a launch: the one written; null when it is certainly not
 * written, so that torchrun takes its `PET_` variable or its default; undefined when the command line does not show it.
 */
export function optionValue(launch: TorchrunLaunch, name: string): string | null | undefined {
  const option = launch.options.find(o => o.name === name);
  if (option !== undefined) return option.value;
  return launch.allOptionsRead ? null : undefined;
}

/** The value of one of torchrun's options on a command line, in either spelling; undefined when absent, not shown or not torchrun. */
export function torchrunFlag(argv: readonly unknown[], flag: string): string | undefined {
  const [launch] = useOf(placedWords(argv, '')).launches;
  return (launch && optionValue(launch, flag)) ?? undefined;
}

/**
 * The flags of a torchrun command line (`command` followed by `args`), checked as torchrun would:
 * node range, process count, restarts, monitor interval, start method and rendezvous settings.
 *
 * @param path the field path of the argument list, e.g. `spec.template.spec.containers[0].command`
 */
export function checkTorchrunCommand(argv: readonly unknown[], path: string): Problem[] {
  return checkTorchrunFlags(useOf(placedWords(argv, path)));
}

/** The flags of every torchrun start, checked as torchrun would; values not shown for certain are left alone. */
export function checkTorchrunFlags(use: TorchrunUse): Problem[] {
  return use.launches.flatMap(launch => launch.options).flatMap(({ name, value, path, abbreviation }) => [
    ...abbreviation === undefined ? [] : [{
      path: abbreviation.path,
      message: `${abbreviation.written} abbreviates --${name}, which torchrun's argument parser takes only while it matches one option `
        + 'string: torch 2 spells most flags with both - and _, and a newer torch may add flags; either makes torchrun exit with '
        + `"ambiguous option". Write --${name}`,
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }],
    ...value === undefined ? [] : checkFlagValue(name, value, path),
  ]);
}

function checkFlagValue(name: string, value: string, at: string): Problem[] {
  return TORCHRUN_OPTIONS.get(name)?.check?.(`--${name}`, value, at) ?? [];
}

function checkNnodesFlag(flag: string, value: string, at: string): Problem[] {
  const [min, max = min, extra] = value.split(':');
  return extra !== undefined || !/^\d+$/.test(min) || !/^\d+$/.test(max)
    ? [{ path: at, message: `${flag} ${show(value)} is not in "MIN:MAX" format`, kind: OPERATIONAL }]
    : checkNodeRange(Number(min), Number(max), at).map(p => ({ ...p, message: `${flag} ${show(value)}: ${p.message}` }));
}

function wholeNumberFlag(pattern: RegExp, rule: string): NonNullable<TorchrunOptionRules['check']> {
  return (flag, value, at) => (pattern.test(value) ? [] : [{ path: at, message: `${flag} ${show(value)} must be ${rule}`, kind: OPERATIONAL }]);
}

function checkStartMethodFlag(flag: string, value: string, at: string): Problem[] {
  return START_METHODS.includes(value) ? []
    : [{ path: at, message: `${flag} ${show(value)} is not a start method: use ${START_METHODS.map(show).join(', ')}`, kind: OPERATIONAL }];
}

function checkRdzvConfFlag(flag: string, value: string, at: string): Problem[] {
  return checkRdzvConf(value.split(',').map(pair => {
    const [key, confValue] = pair.split(/=(.*)/s, 2);
    return { key, value: confValue };
  }), `${at}(${flag})`);
}

/** An option the elastic policy sets through the operator. */
function elasticPolicyField(...fields: string[]): OperatorManagedOption {
  return { why: `torchrun no longer follows the elastic policy; set ${fields.map(f => `elasticPolicy.${f}`).join(' and ')} instead` };
}

/**
 * torchrun's flags in a PyTorchJob that contradict the world the operator sets up: torchrun takes each option from
 * the `PET_` variable the operator injects, unless a flag gives another value. `--standalone` makes each pod a world
 * of its own, and a process count other than `spec.nprocPerNode` is not the one the operator counts in WORLD_SIZE.
 * A flag with the operator's own value, one whose value the command line does not show for certain (such as
 * `--nnodes=$PET_NNODES`), one the rendezvous backend ignores, and one whose value torchrun refuses anyway are left alone.
 *
 * @param injected what the operator appends to the containers of the replica's pods
 * @param nprocPerNode the job's `spec.nprocPerNode`, as written
 */
export function checkOperatorManagedFlags(use: TorchrunUse, injected: InjectedEnv, nprocPerNode: unknown): Problem[] {
  return use.launches.flatMap(launch => {
    const backend = optionValue(launch, RDZV_BACKEND_OPTION);
    const backends = backend === null ? injected.get(petVariable(RDZV_BACKEND_OPTION)) ?? [STATIC_RDZV_BACKEND] : [backend];
    const staticRendezvous = backends.every(b => b === STATIC_RDZV_BACKEND);
    return launch.options.flatMap(option => checkOperatorManagedFlag(option, injected, nprocPerNode, staticRendezvous));
  });
}

function checkOperatorManagedFlag(
  { name, value, path }: TorchrunOption, injected: InjectedEnv, nprocPerNode: unknown, staticRendezvous: boolean,
): Problem[] {
  if (name === STANDALONE_OPTION) {
    return [{
      path,
      message: `--${STANDALONE_OPTION} gives each pod a rendezvous of its own on localhost instead of the one the operator injects: the pods never form one world; leave it out`,
      kind: OPERATIONAL,
    }];
  }
  // A value torchrun refuses is reported as such, and nothing else is said about it.
  if (value === undefined || checkFlagValue(name, value, path).length > 0) return [];
  if (name === NPROC_PER_NODE_OPTION) {
    if (nprocPerNode === undefined || value === String(nprocPerNode)) return [];
    // torchrun gives its processes their own WORLD_SIZE, so the job runs with the flag's count: only what reads the
    // container's environment outside torchrun sees the operator's.
    return [{
      path,
      message: `--${name} ${show(value)} wins over the spec.nprocPerNode ${show(String(nprocPerNode))} the operator injects as ${petVariable(name)}: `
        + 'torchrun starts the flag\'s number of processes, but the WORLD_SIZE in the container\'s environment counts the other; make them agree',
      kind: OPERATIONAL,
      severity: Severity.WARNING,
    }];
  }
  const managed = TORCHRUN_OPTIONS.get(name)?.managed;
  const variable = petVariable(name);
  const values = injected.get(variable) ?? [];
  if (managed === undefined || values.length === 0 || (managed.staticRendezvous && !staticRendezvous)) return [];
  if (values.length === 1 && (managed.same ?? Object.is)(value, values[0])) return [];
  const shown = values.length === 1 ? `the ${variable} ${show(values[0])} the operator injects` : `the ${variable} the operator injects (${values.map(show).join(', ')} in the pods)`;
  return [{ path, message: `--${name} ${show(value)} overrides ${shown}: ${managed.why}`, kind: OPERATIONAL }];
}

/** torchrun takes `--<option>` from `PET_<OPTION>` when the flag is not given. */
export function petVariable(option: string): string {
  return `PET_${option.toUpperCase()}`;
}

/** torchrun reads `N` as `N:N`. */
function nodeRange(nnodes: string): string {
  return nnodes.includes(':') ? nnodes : `${nnodes}:${nnodes}`;
}

/** The operator's Service, also by its longer DNS names (`<service>.<namespace>.svc...`). */
function sameHost(given: string, injected: string): boolean {
  return given === injected || given.startsWith(`${injected}.`);
}

function sameEndpoint(given: string, injected: string): boolean {
  const [givenHost, givenPort] = splitPort(given);
  const [host, port] = splitPort(injected);
  return sameHost(givenHost, host) && givenPort === port;
}

function splitPort(endpoint: string): [host: string, port: string | undefined] {
  const colon = endpoint.lastIndexOf(':');
  return colon < 0 ? [endpoint, undefined] : [endpoint.slice(0, colon), endpoint.slice(colon + 1)];
}

/** A word of a container's command line, with the field it is written in. */
interface PlacedWord extends Word {
  readonly path: string;
  /**
   * Where the kubelet replaces `$(NAME)` references in `text` (offsets), before any shell reads it: empty for a word
   * of a script, which the kubelet has already read.
   */
  readonly substituted: readonly (readonly [start: number, end: number])[];
}

const NOT_READ: TorchrunUse = { launches: [], fullyRead: false };
const NO_TORCHRUN: TorchrunUse = { launches: [], fullyRead: true };

/**
 * The words of `command` or `args` as the kubelet passes them: `$$` is `$`, and a `$(NAME)` reference becomes the
 * value of a container variable, which the manifest may not show (`envFrom`, or the operator's).
 */
function placedWords(list: readonly unknown[], path: string): PlacedWord[] {
  return list.map((value, index) => {
    const raw = String(value);
    // Most words have no `$`: the kubelet passes them as they are, which spares building them character by character.
    if (!raw.includes('$')) return { text: raw, certain: true, certainPrefix: raw, mayResplit: false, path: `${path}[${index}]`, substituted: [] };
    const substituted: [number, number][] = [];
    let text = '';
    for (let i = 0; i < raw.length; i++) {
      const close = raw[i] === '$' && raw[i + 1] === '(' ? raw.indexOf(')', i + 2) : -1;
      if (close >= 0) {
        substituted.push([text.length, text.length + close + 1 - i]);
        text += raw.slice(i, close + 1);
        i = close;
      } else {
        text += raw[i];
        if (raw[i] === '$' && raw[i + 1] === '$') i++;
      }
    }
    const certainPrefix = substituted.length === 0 ? text : text.slice(0, substituted[0][0]);
    return { text, certain: substituted.length === 0, certainPrefix, mayResplit: false, path: `${path}[${index}]`, substituted };
  });
}

function useOf(words: readonly PlacedWord[]): TorchrunUse {
  const { argv, certain } = stripPrefixes(words);
  const program = argv[0];
  if (!certain || (program !== undefined && !program.certain)) return NOT_READ;
  if (program === undefined) return NO_TORCHRUN;
  const start = launcherArgsStart(argv);
  if (typeof start === 'number') return { launches: [launchOf(argv, start)], fullyRead: true };
  if (start === 'not read') return NOT_READ;
  const shell = shellInvocation(argv);
  if (shell !== undefined) return shell.scriptIndex === undefined ? NOT_READ : useOfScript(argv[shell.scriptIndex]);
  // A shell script run as a program, or a wrapper given torchrun by name (timeout, numactl, uv run...), may start it.
  if (programName(program.text).endsWith('.sh') || argv.some(word => TORCHRUN_NAMES.some(name => word.text.includes(name)))) return NOT_READ;
  return NO_TORCHRUN;
}

function useOfScript(script: PlacedWord): TorchrunUse {
  // The kubelet substitutes its references into the text and the shell then reads them as script, so only the words
  // they fall in are unknown; a nested shell's script that is not certain comes from expansions nobody knows.
  if (!script.certain && script.substituted.length === 0) return NOT_READ;
  const uses = parseScript(script.text)
    .map(command => (command.certain ? useOf(command.argv.map(word => placedScriptWord(word, script))) : NOT_READ));
  return { launches: uses.flatMap(use => use.launches), fullyRead: uses.every(use => use.fullyRead) };
}

function placedScriptWord(word: ShellWord, script: PlacedWord): PlacedWord {
  const { text, certain, certainPrefix, mayResplit, start, end } = word;
  const placed = { text, certain, certainPrefix, mayResplit, path: script.path, substituted: [] };
  return script.substituted.some(([from, to]) => from < end && start < to) ? { ...placed, certain: false, certainPrefix: '', mayResplit: true } : placed;
}

/**
 * Where torchrun's own arguments start when a command line's program is torchrun or python running it as a module;
 * `other` for another program, `not read` when the command line does not show which.
 */
function launcherArgsStart(argv: readonly Word[]): number | 'other' | 'not read' {
  const program = argv[0];
  if (!program?.certain) return 'not read';
  const name = programName(program.text);
  if (name === TORCHRUN) return 1;
  if (!PYTHON.test(name)) return 'other';
  for (let i = 1; i < argv.length; i++) {
    if (!argv[i].certain) return 'not read';
    const option = argv[i].text;
    if (option === '--' || !option.startsWith('-')) return 'other';
    if (option === '-') return 'not read';
    if (option.startsWith('--')) {
      if (PYTHON_LONG_OPTIONS_WITH_VALUE.includes(option)) i++;
      continue;
    }
    for (let k = 1; k < option.length; k++) {
      const letter = option[k];
      if (letter === 'c') return 'not read';
      if (letter === 'm') {
        const attached = k + 1 < option.length;
        const module = attached ? { text: option.slice(k + 1), certain: true } : argv[i + 1];
        if (!module?.certain) return 'not read';
        return TORCHRUN_MODULES.includes(module.text) ? i + (attached ? 1 : 2) : 'other';
      }
      if (PYTHON_OPTIONS_WITH_VALUE.includes(letter)) {
        if (k === option.length - 1) i++;
        break;
      }
    }
  }
  // Without a script or module, python reads its input.
  return 'not read';
}

/** torchrun's options, read as its argument parser does, from `start` to the script or module. */
function launchOf(argv: readonly PlacedWord[], start: number): TorchrunLaunch {
  const options: TorchrunOption[] = [];
  const stop = (allOptionsRead: boolean): TorchrunLaunch => ({ options, allOptionsRead });
  for (let i = start; i < argv.length; i++) {
    const word = argv[i];
    const written = word.certain ? word.text : word.certainPrefix;
    if (!word.certain && written === '') return stop(false);
    if (!written.startsWith('-') || (word.certain && (written === '--' || MODULE_OPTIONS.includes(written)))) return stop(true);
    const flag = readFlag(written, word.certain);
    const takesValue = flag && TORCHRUN_OPTIONS.get(flag.name)?.takesValue;
    if (flag === undefined || takesValue === undefined) return stop(false);
    const abbreviation = flag.abbreviated ? { abbreviation: { written: written.split('=')[0], path: word.path } } : {};
    if (!takesValue) {
      if (flag.inline !== undefined || !word.certain) return stop(false);
      options.push({ name: flag.name, path: word.path, ...abbreviation });
      continue;
    }
    const valueWord = flag.inline === undefined ? argv[++i] : word;
    if (valueWord === undefined) return stop(true);
    const value = !valueWord.certain ? undefined : flag.inline ?? valueWord.text;
    options.push({ name: flag.name, ...(value === undefined ? {} : { value }), path: valueWord.path, ...abbreviation });
    if (!valueWord.certain && valueWord.mayResplit) return stop(false);
  }
  return stop(true);
}

/**
 * A flag's name and the value written in the same word (`--nnodes=2`, `-r3`), from the certain start of the word;
 * undefined when that start does not end the name. torchrun's argument parser takes a long flag's unambiguous
 * abbreviation (`--nproc_per=4`) as the flag; one that several flags start with (`--n`) makes it exit, and is left
 * unread like any other word it does not know.
 */
function readFlag(written: string, certain: boolean): { name: string; inline?: string; abbreviated?: boolean } | undefined {
  if (written.startsWith('--')) {
    const equals = written.indexOf('=');
    if (equals < 0 && !certain) return undefined;
    const given = (equals < 0 ? written.slice(2) : written.slice(2, equals)).replace(/-/g, '_');
    const abbreviates = TORCHRUN_OPTIONS.has(given) ? [] : TORCHRUN_OPTION_NAMES.filter(option => option.startsWith(given));
    const name = abbreviates.length === 1 ? abbreviates[0] : given;
    const abbreviated = name !== given ? { abbreviated: true } : {};
    return equals < 0 ? { name, ...abbreviated } : { name, inline: written.slice(equals + 1), ...abbreviated };
  }
  const name = TORCHRUN_SHORT_OPTIONS.get(written[1]);
  if (name === undefined || (!certain && written.length <= 2)) return undefined;
  return written.length > 2 ? { name, inline: written.slice(2) } : { name };
}
