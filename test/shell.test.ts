import { spawnSync } from 'child_process';
import * as fc from 'fast-check';
import { parseScript, shellInvocation, ShellWord, stripPrefixes, Word } from '../src/rules/shell';

/** The words of each command, as text. */
function commandWords(script: string): string[][] {
  return parseScript(script).map(command => command.argv.map(word => word.text));
}

/** The one command of a script, which must be certain. */
function onlyCommand(script: string): readonly ShellWord[] {
  const commands = parseScript(script);
  expect(commands).toHaveLength(1);
  expect(commands[0].certain).toBe(true);
  return commands[0].argv;
}

/** What is known of a script's only word after `echo`. */
function argument(script: string): Word {
  const [, { text, certain, certainPrefix, mayResplit }] = onlyCommand(`echo ${script}`);
  return { text, certain, certainPrefix, mayResplit };
}

function certainWord(text: string): Word {
  return { text, certain: true, certainPrefix: text, mayResplit: false };
}

function uncertainWord(text: string, fields: Partial<Word>): Word {
  return { ...certainWord(text), certain: false, certainPrefix: '', ...fields };
}

/** Words given as in a container's command line: certain unless marked `?`. */
function words(...texts: string[]): Word[] {
  return texts.map(text => (text.startsWith('?') ? uncertainWord(text.slice(1), {}) : certainWord(text)));
}

describe('quoting', () => {
  test.each<[string, string]>([
    ['\'single $X "quoted" \\n\'', 'single $X "quoted" \\n'],
    ['"double \\"quoted\\" \\$X \\` \\\\ \\n keeps other backslashes"', 'double "quoted" $X ` \\ \\n keeps other backslashes'],
    ['back\\ slash\\\'ed\\"', 'back slash\'ed"'],
    ['con\\\ntinued', 'continued'],
    ['"con\\\ntinued in quotes"', 'continued in quotes'],
    ['\'no con\\\ntinuation in single quotes\'', 'no con\\\ntinuation in single quotes'],
    ['a\'b\'"c"\\d', 'abcd'],
    ['"it\'s"', 'it\'s'],
    ['\'say "hi"\'', 'say "hi"'],
    ['"line one\nline two"', 'line one\nline two'],
    ['--rdzv_conf=join_timeout=900,timeout=900', '--rdzv_conf=join_timeout=900,timeout=900'],
    ['a#b', 'a#b'],
    ['"$"', '$'],
    ['$', '$'],
    ['[', '['],
    ['a]', 'a]'],
    ['{', '{'],
    ['x~', 'x~'],
  ])('%s', (script, text) => {
    expect(argument(script)).toEqual(certainWord(text));
  });

  test('empty quotes are an empty word', () => {
    expect(onlyCommand('printf \'%s\' \'\' ""').map(w => w.text)).toEqual(['printf', '%s', '', '']);
  });

  test('words keep where they are written', () => {
    expect(onlyCommand('torchrun  "a b"').map(({ start, end }) => [start, end])).toEqual([[0, 8], [10, 15]]);
  });
});

describe('comments, separators and redirections', () => {
  test('comments run to the end of the line, and only where a word starts', () => {
    expect(commandWords('# setup\npip install x # not an argument\necho a#b')).toEqual([['pip', 'install', 'x'], ['echo', 'a#b']]);
  });

  test.each([';', '&&', '||', '|', '&', '\n', '|&', ' ;\n\n ', ' && \\\n'])('commands split at %j', (separator) => {
    expect(commandWords(`cd /workspace${separator}torchrun train.py`)).toEqual([['cd', '/workspace'], ['torchrun', 'train.py']]);
  });

  test('redirections are not arguments', () => {
    expect(commandWords('torchrun train.py > /tmp/log 2>&1 </dev/null 2>>err &>all >|clobber 3<>rw')).toEqual([['torchrun', 'train.py']]);
  });

  test('here-documents are skipped to their delimiter line, whatever their text', () => {
    const script = 'cat <<EOF > /tmp/hostfile\nit\'s "unbalanced\n`quotes\nEOF\ncat <<-\'END\' | sort\n\tb\n\ta\n\tEND\ntorchrun train.py';
    expect(commandWords(script)).toEqual([['cat'], ['cat'], ['sort'], ['torchrun', 'train.py']]);
  });
});

describe('prefixes in front of the program', () => {
  test.each([
    'NCCL_DEBUG=INFO OMP_NUM_THREADS=1 torchrun train.py',
    'exec torchrun train.py',
    'exec -a trainer torchrun train.py',
    'env torchrun train.py',
    'env -i PATH=/usr/bin HOME=/root torchrun train.py',
    'env -u LD_PRELOAD --unset=PYTHONPATH -C /app NCCL_DEBUG="$LEVEL" torchrun train.py',
    '/usr/bin/env - NAME=1 torchrun train.py',
    'time torchrun train.py',
    'time -p torchrun train.py',
    'nohup torchrun train.py',
    'X=1 exec env NCCL_DEBUG=INFO nohup time torchrun train.py',
    '! torchrun train.py',
  ])('%s', (script) => {
    expect(onlyCommand(script).map(w => w.text)).toEqual(['torchrun', 'train.py']);
  });

  test('a quoted assignment is the program, and one after the program an argument', () => {
    expect(commandWords('"A=1" torchrun; torchrun A=1')).toEqual([['A=1', 'torchrun'], ['torchrun', 'A=1']]);
  });

  test('a prefix with options not read leaves the command uncertain', () => {
    expect(parseScript('env -S "torchrun --standalone" train.py')).toEqual([{ argv: expect.any(Array), certain: false }]);
    expect(parseScript('time -f %e torchrun train.py')[0].certain).toBe(false);
  });

  test('stripPrefixes keeps the words it is given, whatever they carry', () => {
    const given = ['env', 'A=1', 'torchrun', 'x'].map((text, i) => ({ ...certainWord(text), path: `command[${i}]` }));
    expect(stripPrefixes(given)).toEqual({ argv: given.slice(2), certain: true });
    expect(stripPrefixes(words('exec', '?$CMD'))).toEqual({ argv: words('?$CMD'), certain: true });
  });
});

describe('what is not certain', () => {
  test.each<[string, Word]>([
    ['$PET_NNODES', uncertainWord('$PET_NNODES', { mayResplit: true })],
    ['${PET_NNODES}', uncertainWord('${PET_NNODES}', { mayResplit: true })],
    ['"$PET_NNODES"', uncertainWord('$PET_NNODES', {})],
    ['--nnodes=$PET_NNODES', uncertainWord('--nnodes=$PET_NNODES', { certainPrefix: '--nnodes=', mayResplit: true })],
    ['--nnodes="${PET_NNODES:-1}"', uncertainWord('--nnodes=${PET_NNODES:-1}', { certainPrefix: '--nnodes=' })],
    ['"$@"', uncertainWord('$@', { mayResplit: true })],
    ['"${args[@]}"', uncertainWord('${args[@]}', { mayResplit: true })],
    ['"$*"', uncertainWord('$*', {})],
    ['$1', uncertainWord('$1', { mayResplit: true })],
    ['--master_addr=$(hostname -i)', uncertainWord('--master_addr=$(hostname -i)', { certainPrefix: '--master_addr=', mayResplit: true })],
    ['"$(echo ")")"', uncertainWord('$(echo ")")', {})],
    ['`hostname`', uncertainWord('`hostname`', { mayResplit: true })],
    ['$((RANK + 1))', uncertainWord('$((RANK + 1))', { mayResplit: true })],
    ['/data/*.py', uncertainWord('/data/*.py', { certainPrefix: '/data/', mayResplit: true })],
    ['shard-?', uncertainWord('shard-?', { certainPrefix: 'shard-', mayResplit: true })],
    ['[ab].py', uncertainWord('[ab].py', { mayResplit: true })],
    ['~/data', uncertainWord('~/data', {})],
    ['file{1,2}', uncertainWord('file{1,2}', { certainPrefix: 'file', mayResplit: true })],
    ['$\'tab\\t\'', uncertainWord('$\'tab\\t\'', {})],
    ['$"translated"', uncertainWord('$translated', {})],
    ['<(ls)', uncertainWord('<(ls)', { mayResplit: true })],
  ])('%s', (script, expected) => {
    expect(argument(script)).toEqual(expected);
  });

  test('single quotes and escapes keep an expansion literal', () => {
    expect(argument('\'$PET_NNODES\'')).toEqual(certainWord('$PET_NNODES'));
    expect(argument('\\$PET_NNODES')).toEqual(certainWord('$PET_NNODES'));
    expect(argument('"\\$(hostname)"')).toEqual(certainWord('$(hostname)'));
  });

  test.each([
    'if [ "$RANK" = 0 ]; then torchrun a.py; else python b.py; fi',
    'for i in 1 2; do torchrun a.py; done',
    'while true; do torchrun a.py; done',
    'until false; do torchrun a.py; done',
    '(cd /app && torchrun a.py)',
    '{ torchrun a.py; }',
    '(( RANK == 0 ))',
  ])('the commands of a compound command are not certain: %s', (script) => {
    const commands = parseScript(`${script}\ntorchrun after.py`);
    expect(commands.slice(0, -1).every(command => !command.certain && command.argv.every(w => !w.certain))).toBe(true);
    expect(commands[commands.length - 1]).toEqual({ argv: [expect.objectContaining(certainWord('torchrun')), expect.objectContaining(certainWord('after.py'))], certain: true });
  });

  test.each([
    'case "$RANK" in 0) torchrun a.py;; *) python b.py;; esac',
    '[[ -n $X && ( -f a ) ]]',
  ])('%s is read as a whole, as a command that is not certain', (script) => {
    expect(parseScript(`${script}; torchrun after.py`).map(({ argv, certain: sure }) => [argv.map(w => w.text), sure])).toEqual([
      [[], false], [['torchrun', 'after.py'], true],
    ]);
  });

  test('a function the script defines is not the program of that name', () => {
    const commands = parseScript('torchrun() { python "$@"; }\nfunction python { :; }\ntorchrun a.py\npython b.py\necho c');
    expect(commands.map(({ argv, certain: sure }) => [argv.map(w => w.text), sure])).toEqual([
      [['python', '$@'], false], [[':'], false], [['torchrun', 'a.py'], false], [['python', 'b.py'], false], [['echo', 'c'], true],
    ]);
  });

  test('eval, source and . run code the script does not show', () => {
    expect(parseScript('eval "torchrun $FLAGS"; source /env.sh; . /env.sh; trap \'torchrun x\' EXIT').map(c => c.certain)).toEqual([false, false, false, false]);
  });

  test('after an alias or a part that is not read, nothing more is certain', () => {
    const notRead = { argv: [], certain: false };
    expect(parseScript('alias torchrun=echo\ntorchrun a.py').slice(1)).toEqual([notRead]);
    expect(parseScript('echo ok; torchrun "unterminated')).toEqual([
      { argv: [expect.objectContaining(certainWord('echo')), expect.objectContaining(certainWord('ok'))], certain: true },
      { argv: [expect.objectContaining({ text: 'torchrun', certain: false })], certain: false },
      notRead,
    ]);
    for (const script of ['echo $(unterminated', 'echo ${x', 'echo `x', 'a=(1 2)', 'fi', 'x ;; y', 'echo )', 'cat <<']) {
      expect(parseScript(script).slice(-1)).toEqual([notRead]);
    }
  });
});

describe('shellInvocation', () => {
  test.each<[string[], number | undefined]>([
    [['sh', '-c', 'torchrun train.py'], 2],
    [['/bin/sh', '-c', 'torchrun train.py'], 2],
    [['bash', '-lc', 'torchrun train.py'], 2],
    [['/bin/bash', '-ec', 'torchrun train.py'], 2],
    [['bash', '-xc', 'torchrun train.py', 'name', 'arg'], 2],
    [['bash', '-c', '-e', 'torchrun train.py'], 3],
    [['bash', '-o', 'pipefail', '-c', 'torchrun train.py'], 4],
    [['bash', '-eo', 'pipefail', '-c', 'torchrun train.py'], 4],
    [['bash', '--login', '--norc', '-c', 'torchrun train.py'], 4],
    [['bash', '--rcfile', '/etc/rc', '-c', 'torchrun train.py'], 4],
    [['dash', '-c', '--', 'torchrun train.py'], 3],
    [['bash', '/workspace/launch.sh'], undefined],
    [['sh', '-s'], undefined],
    [['bash', '-c'], undefined],
  ])('%j', (argv, scriptIndex) => {
    expect(shellInvocation(words(...argv))).toEqual(scriptIndex === undefined ? {} : { scriptIndex });
  });

  test('options not certain hide where the script is; other programs are not shells', () => {
    expect(shellInvocation(words('bash', '?$OPTS', 'torchrun train.py'))).toEqual({});
    expect(shellInvocation(words('python', '-c', 'print()'))).toBeUndefined();
    expect(shellInvocation(words('?$SHELL', '-c', 'x'))).toBeUndefined();
    expect(shellInvocation([])).toBeUndefined();
  });
});

/** POSIX quoting three ways: in single quotes, in double quotes with escapes, or with backslashes. */
const QUOTES: { readonly [style: string]: (text: string) => string } = {
  single: text => `'${text.replace(/'/g, '\'\\\'\'')}'`,
  double: text => `"${text.replace(/[$`"\\]/g, c => `\\${c}`)}"`,
  // A backslash before a newline joins lines, so a newline is quoted instead.
  backslash: text => (text === '' ? '\'\'' : [...text].map(c => (c === '\n' ? '\'\n\'' : /[\w/.,:@%+=-]/.test(c) ? c : `\\${c}`)).join('')),
};
const STYLES = Object.keys(QUOTES);

const character = fc.oneof(
  fc.constantFrom(...'aZ09_-=./:, \t\n$`"\'\\;&|()<>*?[]{}~#!%^'),
  fc.constantFrom('é', '中', '😀'),
);
const anyWord = fc.string({ unit: character, maxLength: 12 });
const quotedWord = fc.record({ text: anyWord, style: fc.constantFrom(...STYLES) });
const argvOf = fc.array(quotedWord, { maxLength: 6 });
const quote = ({ text, style }: { text: string; style: string }) => QUOTES[style](text);

describe('properties: quoted words read back as written', () => {
  test('one command: every quoted word comes back, certain', () => {
    fc.assert(fc.property(argvOf, (argv) => {
      const [program, ...rest] = onlyCommand(['prog', ...argv.map(quote)].join(' '));
      expect(program.text).toBe('prog');
      expect(rest.map(({ text, certain: sure, certainPrefix, mayResplit }) => ({ text, certain: sure, certainPrefix, mayResplit })))
        .toEqual(argv.map(({ text }) => certainWord(text)));
    }), { numRuns: 500 });
  });

  test('several commands, split at any separator', () => {
    const separator = fc.constantFrom(';', ' && ', ' || ', ' | ', ' & ', '\n', ' ;\n# a comment\n', ' && \\\n  ');
    fc.assert(fc.property(fc.array(fc.tuple(argvOf, separator), { minLength: 1, maxLength: 4 }), (commands) => {
      const script = commands.map(([argv, sep]) => ['prog', ...argv.map(quote)].join(' ') + sep).join('');
      expect(commandWords(script)).toEqual(commands.map(([argv]) => ['prog', ...argv.map(w => w.text)]));
    }), { numRuns: 300 });
  });

  test('an expansion makes the word uncertain from where it starts; quoted, it stays one word', () => {
    const expansion = fc.constantFrom('$X', '${X}', '$(hostname)', '`hostname`', '$((1 + 2))', '$@', '$1');
    fc.assert(fc.property(quotedWord, expansion, fc.boolean(), ({ text, style }, source, inQuotes) => {
      const written = `${QUOTES[style](text)}${inQuotes ? `"${source}"` : source}`;
      expect(argument(written)).toEqual({
        text: `${text}${source}`,
        certain: false,
        certainPrefix: text,
        mayResplit: !inQuotes || source === '$@',
      });
    }), { numRuns: 300 });
  });

  test('any text is read without throwing, and a certain word is all certain', () => {
    fc.assert(fc.property(fc.string({ unit: character, maxLength: 40 }), (script) => {
      for (const { text, certain: sure, certainPrefix, mayResplit } of parseScript(script).flatMap(command => command.argv)) {
        expect(text.startsWith(certainPrefix)).toBe(true);
        if (sure) expect({ certainPrefix, mayResplit }).toEqual({ certainPrefix: text, mayResplit: false });
      }
    }), { numRuns: 1000 });
  });
});

describe.each(['/bin/sh', '/bin/bash'])('properties: %s splits the quoted words the same way', (shell) => {
  /** The words a real shell makes of the script's arguments, through `set --`. */
  function shellWords(quoted: string): string[] {
    const result = spawnSync(shell, ['-c', `set -- ${quoted}\nfor a in "$@"; do printf '%s\\0' "$a"; done`], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    return result.stdout.split('\0').slice(0, -1);
  }

  test('every quoting style', () => {
    fc.assert(fc.property(argvOf, (argv) => {
      const quoted = argv.map(quote).join(' ');
      expect(shellWords(quoted)).toEqual(argv.map(w => w.text));
      expect(onlyCommand(`set -- ${quoted}`).slice(2).map(w => w.text)).toEqual(argv.map(w => w.text));
    }), { numRuns: 100 });
  });
});
