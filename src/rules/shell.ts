/**
 * Reads the scripts that containers run with `sh -c` or `bash -c` the way a POSIX shell (or bash) splits them into
 * commands and words. What the shell only knows when it runs (expansions, patterns) and what this reader does not
 * follow (compound commands, functions, `eval`) is kept but marked uncertain, so that no rule has to guess it.
 */

/** One word a program is given, and how much of it is known before it runs. */
export interface Word {
  /** The word after quote removal; expansions, and what is not read, stay as written. */
  readonly text: string;
  /** Whether the program is given exactly `text`, as one word. */
  readonly certain: boolean;
  /** The start of `text` that is certain: all of it when the word is certain. */
  readonly certainPrefix: string;
  /** Whether the shell may turn the word into none or several (an unquoted expansion, a pattern), moving the words after it. */
  readonly mayResplit: boolean;
}

/** A word of a script, with where it is written there. */
export interface ShellWord extends Word {
  /** The offset of its first character in the script. */
  readonly start: number;
  /** The offset just past its last character. */
  readonly end: number;
}

/** One simple command: a program and its arguments. */
export interface ShellCommand<W extends Word = ShellWord> {
  /** The program and its arguments, after the variable assignments and the `exec`, `env`, `time` and `nohup` in front. */
  readonly argv: readonly W[];
  /**
   * Whether the command certainly runs `argv`. It may run something else when it is `eval` or `source`, a function
   * the script defines, a command inside a compound command (`if`, `for`, a subshell...), or has prefixes whose
   * options are not read; a command with no words that is not certain stands for a part of the script not read.
   */
  readonly certain: boolean;
}

/** Where a shell starts: the index in its argv of the script given with `-c`, if any. */
export interface ShellInvocation {
  /** Undefined when the shell reads a file or its input, which a manifest does not show. */
  readonly scriptIndex?: number;
}

const SHELLS = ['sh', 'bash', 'dash', 'ash'];
/** Shell options that take the next word as their value. */
const SHELL_OPTIONS_WITH_VALUE = ['o', 'O'];
const SHELL_LONG_OPTIONS_WITH_VALUE = ['--rcfile', '--init-file'];

/** The shell's operators, longest first so that each is read whole. */
const OPERATORS = ['<<<', '<<-', ';;&', '&>>', '&&', '||', ';;', ';&', '|&', '<<', '>>', '<&', '>&', '<>', '>|', '&>', ';', '&', '|', '(', ')', '<', '>', '\n'];
const SEPARATORS = new Set([';', '&', '&&', '||', '|', '|&', '\n']);
const REDIRECTIONS = new Set(['<', '>', '>>', '<&', '>&', '<>', '>|', '&>', '&>>', '<<', '<<-', '<<<']);
const HEREDOCS = new Set(['<<', '<<-']);
const METACHARACTERS = ' \t\n;&|()<>';

/** Reserved words that open, continue and close the compound commands whose inner commands are not followed. */
const OPENERS = new Set(['if', 'while', 'until', 'for', 'select', '{']);
const CONTINUERS = new Set(['then', 'else', 'elif', 'do']);
const CLOSERS = new Set(['fi', 'done', '}']);
/** Compound commands read as a whole: their inner words are not commands (`case` patterns, `[[` operands). */
const SKIPPED = new Map([['case', 'esac'], ['[[', ']]']]);
/** Reserved words this reader does not follow at all. */
const UNREAD_RESERVED = new Set(['esac', ']]', 'coproc']);
/** Builtins that run shell code the script does not show as commands. */
const RUNS_SHELL_CODE = new Set(['eval', '.', 'source', 'trap']);
/** An alias may rename any later command. */
const ALIAS = 'alias';
const ASSIGNMENT = /^[A-Za-z_]\w*=/;

/** The name a program is looked up by: the last part of a path. */
export function programName(text: string): string {
  return text.slice(text.lastIndexOf('/') + 1);
}

/**
 * The simple commands of a script, in order, split at `;`, `&&`, `||`, `|`, `&` and newlines, without comments,
 * redirections and here-documents. A part not read ends the list with an uncertain command without words.
 */
export function parseScript(script: string): ShellCommand[] {
  const { tokens, readToEnd } = tokenize(script);
  const commands: ShellCommand[] = [];
  const functions = new Set<string>();
  let words: WordToken[] = [];
  let depth = 0;
  /** Ends the current command; false when it defines aliases, after which nothing is certain. */
  const finish = (): boolean => {
    if (words.length === 0) return true;
    const command = depth > 0 ? notRead(words) : simpleCommand(words, functions);
    commands.push(command);
    words = [];
    return command.argv[0]?.text !== ALIAS;
  };
  const stop = (): ShellCommand[] => {
    if (words.length > 0) commands.push(notRead(words));
    commands.push(NOTHING_READ);
    return commands;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === 'descriptor') continue;
    if (token.kind === 'operator') {
      const operator = token.operator;
      if (SEPARATORS.has(operator)) {
        if (!finish()) return stop();
      } else if (REDIRECTIONS.has(operator)) {
        if (tokens[i + 1]?.kind !== 'word') return stop();
        i++;
      } else if (operator === '(' && words.length === 1 && isOperator(tokens[i + 1], ')')) {
        functions.add(words[0].word.text);
        words = [];
        i++;
      } else if (operator === '(' && words.length === 0) {
        depth++;
      } else if (operator === ')' && depth > 0) {
        finish();
        depth--;
      } else {
        return stop();
      }
      continue;
    }
    if (words.length === 0 && isPlain(token)) {
      const reserved = token.word.text;
      if (reserved === '!') continue;
      if (OPENERS.has(reserved)) {
        depth++;
        continue;
      }
      if (depth > 0 && CONTINUERS.has(reserved)) continue;
      if (depth > 0 && CLOSERS.has(reserved)) {
        depth--;
        continue;
      }
      const close = SKIPPED.get(reserved);
      if (close !== undefined) {
        const end = closingWord(tokens, i, reserved, close);
        if (end === undefined) return stop();
        commands.push(NOTHING_READ);
        i = end;
        continue;
      }
      if (reserved === 'function') {
        const name = tokens[i + 1];
        if (name?.kind !== 'word') return stop();
        functions.add(name.word.text);
        i += isOperator(tokens[i + 2], '(') && isOperator(tokens[i + 3], ')') ? 3 : 1;
        continue;
      }
      if (CONTINUERS.has(reserved) || CLOSERS.has(reserved) || UNREAD_RESERVED.has(reserved)) return stop();
    }
    words.push(token);
  }
  if (!readToEnd || !finish()) return stop();
  return commands;
}

/**
 * A command without the `exec`, `env`, `time` and `nohup` in front of its program, which run it in turn. Not certain
 * when one of them has options not read here.
 */
export function stripPrefixes<W extends Word>(words: readonly W[]): ShellCommand<W> {
  let i = 0;
  while (i < words.length && words[i].certain) {
    const skip = PREFIXES.get(programName(words[i].text));
    if (skip === undefined) break;
    const next = skip(words, i + 1);
    if (next === undefined) return { argv: words.slice(i), certain: false };
    i = next;
  }
  return { argv: words.slice(i), certain: true };
}

/** Whether a command line starts a shell, and with which script; undefined when its program is not a shell. */
export function shellInvocation(argv: readonly Word[]): ShellInvocation | undefined {
  const program = argv[0];
  if (!program?.certain || !SHELLS.includes(programName(program.text))) return undefined;
  let commandMode = false;
  let i = 1;
  for (; i < argv.length; i++) {
    // A word not known for certain can still be the script (the kubelet substitutes `$(NAME)` into it), but not an option.
    if (!argv[i].certain) {
      if (commandMode && !/^[-+]/.test(argv[i].certainPrefix) && argv[i].certainPrefix !== '') break;
      return {};
    }
    const option = argv[i].text;
    if (option === '--' || option === '-') {
      i++;
      break;
    }
    if (option.startsWith('--')) {
      if (SHELL_LONG_OPTIONS_WITH_VALUE.includes(option)) i++;
      continue;
    }
    if (option.length < 2 || (option[0] !== '-' && option[0] !== '+')) break;
    for (const letter of option.slice(1)) {
      if (letter === 'c') commandMode = true;
      else if (SHELL_OPTIONS_WITH_VALUE.includes(letter)) i++;
    }
  }
  return commandMode && i < argv.length ? { scriptIndex: i } : {};
}

/** How a program's short and long options are written: which take a value (the rest of the word, or the next word). */
interface OptionSyntax {
  readonly switches: string;
  readonly withValue?: string;
  readonly long?: readonly string[];
  readonly longWithValue?: readonly string[];
}

const ENV_OPTIONS: OptionSyntax = { switches: 'i0v', withValue: 'uC', long: ['ignore-environment', 'null', 'debug'], longWithValue: ['unset', 'chdir'] };

/** The prefixes that run the command after them, each stepping over its own options: the index of that command, or undefined. */
const PREFIXES = new Map<string, (words: readonly Word[], from: number) => number | undefined>([
  ['exec', (words, from) => skipOptions(words, from, { switches: 'cl', withValue: 'a' })],
  ['nohup', (words, from) => skipOptions(words, from, { switches: '' })],
  ['time', (words, from) => skipOptions(words, from, { switches: 'p' })],
  ['env', skipEnv],
]);

/** The index after a program's options; undefined at an option it does not know. */
function skipOptions(words: readonly Word[], from: number, syntax: OptionSyntax): number | undefined {
  let i = from;
  while (i < words.length && words[i].certain && words[i].text.startsWith('-') && words[i].text !== '-') {
    const option = words[i++].text;
    if (option === '--') return i;
    if (option.startsWith('--')) {
      const name = option.slice(2).split('=', 1)[0];
      if (syntax.longWithValue?.includes(name)) {
        if (!option.includes('=')) i++;
      } else if (!syntax.long?.includes(name)) {
        return undefined;
      }
      continue;
    }
    for (let k = 1; k < option.length; k++) {
      if (syntax.withValue?.includes(option[k])) {
        if (k === option.length - 1) i++;
        break;
      }
      if (!syntax.switches.includes(option[k])) return undefined;
    }
  }
  return i;
}

/** `env [-i] [-u NAME] [NAME=VALUE]... command`; a lone `-` means `-i`. */
function skipEnv(words: readonly Word[], from: number): number | undefined {
  let i = skipOptions(words, from, ENV_OPTIONS);
  while (i !== undefined && words[i]?.certain && words[i].text === '-') i = skipOptions(words, i + 1, ENV_OPTIONS);
  while (i !== undefined && i < words.length && words[i].certainPrefix.includes('=')) i++;
  return i;
}

type WordToken = { readonly kind: 'word'; readonly word: ShellWord; readonly unquotedPrefix: string };
type Token =
  | WordToken
  | { readonly kind: 'operator'; readonly operator: string }
  /** The descriptor of a redirection: `2` in `2>&1`. */
  | { readonly kind: 'descriptor' };

const NOTHING_READ: ShellCommand = { argv: [], certain: false };

function isOperator(token: Token | undefined, operator: string): boolean {
  return token?.kind === 'operator' && token.operator === operator;
}

/** A word written without quotes, escapes or expansions: only such a word is a reserved word or an assignment's name. */
function isPlain(token: WordToken): boolean {
  return token.word.certain && token.word.text === token.unquotedPrefix;
}

function simpleCommand(tokens: readonly WordToken[], functions: ReadonlySet<string>): ShellCommand {
  const program = tokens.findIndex(token => !ASSIGNMENT.test(token.unquotedPrefix));
  const command = stripPrefixes(program < 0 ? [] : tokens.slice(program).map(token => token.word));
  const name = command.argv[0];
  if (name?.certain && (functions.has(name.text) || RUNS_SHELL_CODE.has(name.text))) return { ...command, certain: false };
  return command;
}

function notRead(tokens: readonly WordToken[]): ShellCommand {
  return { argv: tokens.map(({ word }) => ({ ...word, certain: false, certainPrefix: '', mayResplit: true })), certain: false };
}

/** The index of the reserved word that closes the one at `from`, counting nested ones. */
function closingWord(tokens: readonly Token[], from: number, open: string, close: string): number | undefined {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind !== 'word' || !isPlain(token)) continue;
    if (token.word.text === open) depth++;
    else if (token.word.text === close && --depth === 0) return i;
  }
  return undefined;
}

/** Thrown where the script stops being readable: an unterminated quote or substitution. */
class Unreadable extends Error {}

function tokenize(script: string): { tokens: Token[]; readToEnd: boolean } {
  const tokenizer = new Tokenizer(script, 0);
  const tokens: Token[] = [];
  try {
    for (let token = tokenizer.next(); token !== undefined; token = tokenizer.next()) tokens.push(token);
    return { tokens, readToEnd: true };
  } catch (error) {
    if (error instanceof Unreadable) return { tokens, readToEnd: false };
    throw error;
  }
}

/** A word as it is read: its text, and what is certain of it. */
class WordBuilder {
  text = '';
  certainPrefix = '';
  unquotedPrefix = '';
  certain = true;
  mayResplit = false;
  private unquoted = true;

  literal(chars: string, quoted: boolean): void {
    this.text += chars;
    if (this.certain) this.certainPrefix += chars;
    if (quoted) this.unquoted = false;
    else if (this.unquoted) this.unquotedPrefix += chars;
  }

  expansion(source: string, resplits: boolean): void {
    this.text += source;
    this.certain = false;
    this.unquoted = false;
    this.mayResplit ||= resplits;
  }
}

/** Splits a script into words and operators, as the shell's token recognition does. */
class Tokenizer {
  private readonly heredocs: { readonly delimiter: string; readonly stripTabs: boolean }[] = [];
  /** Whether the next word is a here-document's delimiter, and of which kind (`<<-` strips leading tabs). */
  private delimiterNext: boolean | undefined;

  constructor(private readonly script: string, private pos: number) {}

  get offset(): number {
    return this.pos;
  }

  /** The next token; undefined at the end of the script. */
  next(): Token | undefined {
    const s = this.script;
    for (;;) {
      while (s[this.pos] === ' ' || s[this.pos] === '\t' || (s[this.pos] === '\\' && s[this.pos + 1] === '\n')) this.pos += s[this.pos] === '\\' ? 2 : 1;
      if (s[this.pos] !== '#') break;
      while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
    }
    if (this.pos >= s.length) return undefined;
    const processSubstitution = (s[this.pos] === '<' || s[this.pos] === '>') && s[this.pos + 1] === '(';
    const operator = processSubstitution ? undefined : OPERATORS.find(op => s.startsWith(op, this.pos));
    if (operator === undefined) return this.word();
    this.pos += operator.length;
    if (operator === '\n') this.skipHeredocBodies();
    if (HEREDOCS.has(operator)) this.delimiterNext = operator === '<<-';
    return { kind: 'operator', operator };
  }

  private word(): Token {
    const s = this.script;
    const start = this.pos;
    const word = new WordBuilder();
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (METACHARACTERS.includes(c)) {
        if (this.pos !== start || (c !== '<' && c !== '>')) break;
        word.expansion(this.through(this.closingParen(this.pos + 2)), true);
        continue;
      }
      switch (c) {
        case '\\':
          if (s[this.pos + 1] !== '\n') word.literal(s[this.pos + 1] ?? c, s[this.pos + 1] !== undefined);
          this.pos += 2;
          break;
        case '\'': {
          const end = s.indexOf('\'', this.pos + 1);
          if (end < 0) throw new Unreadable();
          word.literal(s.slice(this.pos + 1, end), true);
          this.pos = end + 1;
          break;
        }
        case '"':
          this.pos++;
          this.doubleQuoted(word);
          break;
        case '$':
          this.dollar(word, false);
          break;
        case '`':
          word.expansion(this.through(this.closingQuote(this.pos + 1, '`')), true);
          break;
        case '*':
        case '?':
          word.expansion(this.through(this.pos + 1), true);
          break;
        case '[':
          if (this.bracketCloses()) word.expansion(this.through(this.pos + 1), true);
          else this.literalChar(word);
          break;
        case '~':
          if (this.pos === start) word.expansion(this.through(this.pos + 1), false);
          else this.literalChar(word);
          break;
        case '{':
          // Alone, `{` opens a group; inside a word, bash may expand `{a,b}` into several words.
          if (this.pos === start && (this.pos + 1 >= s.length || METACHARACTERS.includes(s[this.pos + 1]))) this.literalChar(word);
          else word.expansion(this.through(this.pos + 1), true);
          break;
        default:
          this.literalChar(word);
      }
    }
    if (/^\d+$/.test(word.text) && word.text === word.unquotedPrefix && (s[this.pos] === '<' || s[this.pos] === '>')) return { kind: 'descriptor' };
    if (this.delimiterNext !== undefined) {
      this.heredocs.push({ delimiter: word.text, stripTabs: this.delimiterNext });
      this.delimiterNext = undefined;
    }
    const { text, certain, certainPrefix, mayResplit, unquotedPrefix } = word;
    return { kind: 'word', word: { text, certain, certainPrefix, mayResplit, start, end: this.pos }, unquotedPrefix };
  }

  private literalChar(word: WordBuilder): void {
    word.literal(this.script[this.pos++], false);
  }

  /** Inside double quotes, only `$`, a backquote and `\` before `$`, a backquote, `"`, `\` or a newline keep a meaning. */
  private doubleQuoted(word: WordBuilder): void {
    const s = this.script;
    word.literal('', true);
    for (;;) {
      if (this.pos >= s.length) throw new Unreadable();
      const c = s[this.pos];
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const next = s[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
        } else if (next !== undefined && '$`"\\'.includes(next)) {
          word.literal(next, true);
          this.pos += 2;
        } else {
          word.literal(c, true);
          this.pos++;
        }
      } else if (c === '$') {
        this.dollar(word, true);
      } else if (c === '`') {
        word.expansion(this.through(this.closingQuote(this.pos + 1, '`')), false);
      } else {
        word.literal(c, true);
        this.pos++;
      }
    }
  }

  /** A `$`: a parameter, command substitution or arithmetic, bash's `$'...'` and `$"..."`, or a plain dollar sign. */
  private dollar(word: WordBuilder, quoted: boolean): void {
    const s = this.script;
    const next = s[this.pos + 1];
    if (next === '(') {
      word.expansion(this.through(s[this.pos + 2] === '(' ? this.closingArithmetic(this.pos + 3) : this.closingParen(this.pos + 2)), !quoted);
    } else if (next === '{') {
      const source = this.through(this.closingBrace(this.pos + 2));
      // "${@}" and "${list[@]}" give a word per element even when quoted.
      word.expansion(source, !quoted || source.includes('@'));
    } else if (!quoted && next === '\'') {
      word.expansion(this.through(this.closingQuote(this.pos + 2, '\'')), false);
    } else if (!quoted && next === '"') {
      // A translated string: the quoted text after the `$` is read as usual, but it is no longer certain.
      word.expansion(this.through(this.pos + 1), false);
    } else if (next !== undefined && /[A-Za-z_]/.test(next)) {
      let end = this.pos + 2;
      while (end < s.length && /\w/.test(s[end])) end++;
      word.expansion(this.through(end), !quoted);
    } else if (next !== undefined && '0123456789@*#?-$!'.includes(next)) {
      word.expansion(this.through(this.pos + 2), !quoted || next === '@');
    } else {
      word.literal('$', quoted);
      this.pos++;
    }
  }

  /** The text from here to `end`, which the position moves to. */
  private through(end: number): string {
    const source = this.script.slice(this.pos, end);
    this.pos = end;
    return source;
  }

  /** Just past the `)` that closes a `$(` or `<(` whose inside starts at `from`, read as the script it is. */
  private closingParen(from: number): number {
    const inner = new Tokenizer(this.script, from);
    let depth = 0;
    let cases = 0;
    for (;;) {
      const token = inner.next();
      if (token === undefined) throw new Unreadable();
      if (token.kind === 'word' && isPlain(token)) {
        // A `case` pattern ends with an unmatched `)`.
        if (token.word.text === 'case') cases++;
        else if (token.word.text === 'esac') cases--;
      } else if (token.kind === 'operator' && cases === 0) {
        if (token.operator === '(') depth++;
        else if (token.operator === ')' && depth-- === 0) return inner.offset;
      }
    }
  }

  private closingArithmetic(from: number): number {
    const s = this.script;
    let depth = 0;
    for (let i = from; i < s.length; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')' && depth > 0) depth--;
      else if (s[i] === ')') return s[i + 1] === ')' ? i + 2 : this.unreadable();
    }
    return this.unreadable();
  }

  private closingBrace(from: number): number {
    const s = this.script;
    let depth = 0;
    for (let i = from; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === '{') depth++;
      else if (s[i] === '}' && depth-- === 0) return i + 1;
    }
    return this.unreadable();
  }

  /** Just past the closing quote, skipping what a backslash escapes. */
  private closingQuote(from: number, quote: string): number {
    const s = this.script;
    for (let i = from; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === quote) return i + 1;
    }
    return this.unreadable();
  }

  /** Whether a `[` here opens a bracket pattern: a `]` follows in the same word. */
  private bracketCloses(): boolean {
    const s = this.script;
    for (let i = this.pos + 1; i < s.length && !METACHARACTERS.includes(s[i]); i++) {
      if (s[i] === ']') return true;
    }
    return false;
  }

  /** After a newline, the bodies of the here-documents opened on its line, each up to its delimiter line. */
  private skipHeredocBodies(): void {
    const s = this.script;
    for (const { delimiter, stripTabs } of this.heredocs.splice(0)) {
      while (this.pos < s.length) {
        const lineEnd = s.indexOf('\n', this.pos);
        const end = lineEnd < 0 ? s.length : lineEnd;
        const line = s.slice(this.pos, end);
        this.pos = end + 1;
        if ((stripTabs ? line.replace(/^\t+/, '') : line) === delimiter) break;
      }
    }
  }

  private unreadable(): never {
    throw new Unreadable();
  }
}
