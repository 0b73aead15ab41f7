import { execFileSync } from 'child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { parse } from 'yaml';
import { buildExampleApp } from '../examples/main';
import { CliRun, kfpytorch } from './support/cli';
import { crdPath } from './support/crd-schema';

const CRD_ENV = 'KFPYTORCH_CRD';
const CLEAN_EXAMPLES = '5 training job(s) checked, 0 error(s), 0 warning(s)\n';

/** A stack trace line, as Node prints one (`    at fn (file:1:2)`). */
const STACK_FRAME = /^\s+at /m;

/**
 * A PyTorchJob with four problems, one of each source:
 * an unknown field the schema rejects (`spec.cleanPodPolicy`, which belongs under `runPolicy`),
 * `standalone: true` (operational), Worker replicas 0 (webhook) and a typo'd restart policy (operational);
 * then a valid single-node torchrun Job, and a ConfigMap that is passed over.
 */
const BROKEN = `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: broken
spec:
  cleanPodPolicy: All
  nprocPerNode: "1"
  elasticPolicy:
    minReplicas: 1
    maxReplicas: 2
    standalone: true
  pytorchReplicaSpecs:
    Worker:
      replicas: 0
      restartPolicy: Onfailure
      template:
        spec:
          containers:
            - name: pytorch
              image: ghcr.io/example/train:1.0
              command: [torchrun, train.py]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: finetune
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: pytorch
          image: ghcr.io/example/train:1.0
          command: [torchrun, --standalone, --nproc_per_node=1, train.py]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  epochs: "3"
`;

const SCHEMA_PROBLEM = '1: /spec: must NOT have additional property \'cleanPodPolicy\' (schema, error)';
const RULE_PROBLEMS = [
  '1: spec.elasticPolicy.standalone: true makes the operator inject PET_STANDALONE="", which torchrun cannot parse: leave it out (operational, error)',
  '1: spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1 (webhook, error)',
  '1: spec.pytorchReplicaSpecs[Worker].restartPolicy: "Onfailure" is not a restart policy: use "Always", "OnFailure", "Never", "ExitCode" (operational, error)',
];
const BROKEN_SUMMARY = '2 training job(s) checked, 4 error(s), 0 warning(s), 1 other object(s) passed over';

/** A ConfigMap, then a torchrun Job that a Job controller refuses (`restartPolicy: Always`). */
const JOB_IN_SECOND_DOCUMENT = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: batch/v1
kind: Job
metadata: {name: finetune}
spec:
  template:
    spec:
      restartPolicy: Always
      containers:
        - {name: pytorch, image: "ghcr.io/example/train:1.0", command: [torchrun, --standalone, train.py]}
`;

let root: string;
let examples: string;
let savedCrdEnv: string | undefined;

/** Writes a file under the test's temporary folder and returns its path. */
function write(name: string, content: string | Uint8Array): string {
  const path = join(root, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

function lines(file: string, problems: readonly string[]): string[] {
  return problems.map(problem => `${file}:${problem}`);
}

beforeAll(() => {
  savedCrdEnv = process.env[CRD_ENV];
  root = mkdtempSync(join(tmpdir(), 'kfpytorch-validate-'));
  examples = join(root, 'examples');
  buildExampleApp(examples).synth();
});

beforeEach(() => {
  delete process.env[CRD_ENV];
});

afterAll(() => {
  if (savedCrdEnv === undefined) delete process.env[CRD_ENV];
  else process.env[CRD_ENV] = savedCrdEnv;
  rmSync(root, { recursive: true, force: true });
});

describe('the example app validates clean', () => {
  test('each synthesized file, with --crd', async () => {
    const files = readdirSync(examples).sort().map(name => join(examples, name));
    expect(files).toHaveLength(5);
    expect(await kfpytorch('validate', ...files, '--crd', crdPath())).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: '' });
  });

  test('the output folder given as a directory, with --crd=FILE', async () => {
    expect(await kfpytorch('validate', examples, `--crd=${crdPath()}`)).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: '' });
  });

  test('with the CRD named by KFPYTORCH_CRD instead of --crd', async () => {
    process.env[CRD_ENV] = crdPath();
    expect(await kfpytorch('validate', examples)).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: '' });
  });

  test('--crd wins over KFPYTORCH_CRD', async () => {
    process.env[CRD_ENV] = join(root, 'no-such-crd.yaml');
    expect(await kfpytorch('validate', examples, '--crd', crdPath())).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: '' });
  });

  test('without --crd or KFPYTORCH_CRD: the bundled schema, and nothing on stderr', async () => {
    expect(await kfpytorch('validate', examples)).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: '' });
  });

  test('--no-schema: the rules alone', async () => {
    expect(await kfpytorch('validate', examples, '--no-schema')).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: '' });
  });

  test('--format json of a clean run', async () => {
    const run = await kfpytorch('validate', examples, '--crd', crdPath(), '--format', 'json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ problems: [], omitted: [], unusable: [], errors: 0, warnings: 0, checked: 5, skipped: 0 });
  });
});

describe('a broken manifest', () => {
  let broken: string;
  beforeAll(() => {
    broken = write('broken.yaml', BROKEN);
  });

  test('every problem as file:document: path: message (kind, severity), schema first, then the counts', async () => {
    const run = await kfpytorch('validate', broken, '--crd', crdPath());
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual([...lines(broken, [SCHEMA_PROBLEM, ...RULE_PROBLEMS]), BROKEN_SUMMARY, '']);
  });

  test('with the CRD from KFPYTORCH_CRD, the schema problem is found too', async () => {
    process.env[CRD_ENV] = crdPath();
    const run = await kfpytorch('validate', broken);
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n')).toEqual([...lines(broken, [SCHEMA_PROBLEM, ...RULE_PROBLEMS]), BROKEN_SUMMARY, '']);
  });

  test('without --crd, the bundled schema finds the unknown field too', async () => {
    expect(await kfpytorch('validate', broken)).toEqual({
      status: 1,
      stdout: [...lines(broken, [SCHEMA_PROBLEM, ...RULE_PROBLEMS]), BROKEN_SUMMARY, ''].join('\n'),
      stderr: '',
    });
  });

  test('--no-schema: the rules find everything but the unknown field, even with KFPYTORCH_CRD set', async () => {
    process.env[CRD_ENV] = crdPath();
    expect(await kfpytorch('validate', broken, '--no-schema')).toEqual({
      status: 1,
      stdout: [...lines(broken, RULE_PROBLEMS), '2 training job(s) checked, 3 error(s), 0 warning(s), 1 other object(s) passed over', ''].join('\n'),
      stderr: '',
    });
  });

  test('--format json: one object per problem, with file, document, object, path, message, kind and severity', async () => {
    const run = await kfpytorch('validate', broken, '--crd', crdPath(), '--format', 'json');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ omitted: [], unusable: [], errors: 4, warnings: 0, checked: 2, skipped: 1 });
    expect(report.problems).toHaveLength(4);
    for (const problem of report.problems) {
      expect(Object.keys(problem)).toEqual(['file', 'document', 'object', 'path', 'message', 'kind', 'severity']);
    }
    expect(report.problems).toContainEqual({
      file: broken,
      document: 1,
      object: 'PyTorchJob/broken',
      path: '/spec',
      message: 'must NOT have additional property \'cleanPodPolicy\'',
      kind: 'schema',
      severity: 'error',
    });
    expect(report.problems).toContainEqual({
      file: broken,
      document: 1,
      object: 'PyTorchJob/broken',
      path: 'spec.pytorchReplicaSpecs[Worker].replicas',
      message: '0 must be a whole number of at least 1',
      kind: 'webhook',
      severity: 'error',
    });
    expect(report.problems.map((p: { kind: string }) => p.kind)).toEqual(['schema', 'operational', 'webhook', 'operational']);
  });

  test('a single-node Job is checked, and problems name the document they are in', async () => {
    const file = write('second-document.yaml', JOB_IN_SECOND_DOCUMENT);
    expect(await kfpytorch('validate', file, '--crd', crdPath())).toEqual({
      status: 1,
      stdout: `${file}:2: spec.template.spec.restartPolicy: "Always" is not allowed in a Job: use "Never" or "OnFailure" (operational, error)\n`
        + '1 training job(s) checked, 1 error(s), 0 warning(s), 1 other object(s) passed over\n',
      stderr: '',
    });
  });

  test('a folder is searched recursively for .yaml and .yml files; other files are left alone', async () => {
    const tree = join(root, 'tree');
    const nested = write('tree/team/jobs/broken.yml', BROKEN);
    write('tree/README.txt', Buffer.from([0x00, 0xff, 0x00]));
    for (const name of readdirSync(examples)) copyFileSync(join(examples, name), join(tree, name));
    const run = await kfpytorch('validate', tree, '--crd', crdPath());
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual([
      ...lines(nested, [SCHEMA_PROBLEM, ...RULE_PROBLEMS]),
      '7 training job(s) checked, 4 error(s), 0 warning(s), 1 other object(s) passed over',
      '',
    ]);
  });
});

describe('kubectl get of several objects: a v1 List', () => {
  test('each item is checked, under the document that holds the List', async () => {
    const job = (name: string, replicas: number) => ({
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name },
      spec: { pytorchReplicaSpecs: { Worker: { replicas, restartPolicy: 'OnFailure', template: { spec: { containers: [{ name: 'pytorch', image: 'ghcr.io/example/train:1.0' }] } } } } },
    });
    const file = write('list.yaml', JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [job('good', 2), job('bad', 0)] }));
    expect(await kfpytorch('validate', file)).toEqual({
      status: 1,
      stdout: `${file}:1: spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1 (webhook, error)\n`
        + '2 training job(s) checked, 1 error(s), 0 warning(s)\n',
      stderr: '',
    });
  });
});

describe('unusable input: exit status 2, one clear line on stderr, no stack trace', () => {
  /** Runs validate with the CRD (so that stderr holds only the report of the unusable input). */
  async function unusable(...argv: string[]): Promise<CliRun> {
    const run = await kfpytorch('validate', ...argv, '--crd', crdPath());
    expect(run.status).toBe(2);
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.stderr).toMatch(/^kfpytorch: .+\n$/);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    return run;
  }

  test('a binary file (bytes with NUL)', async () => {
    const file = write('model.yaml', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe]));
    expect((await unusable(file)).stderr).toBe(`kfpytorch: ${file}: is a binary file, not YAML\n`);
  });

  test.each([
    ['', 'duplicate.yaml'],
    // A document with an anchor goes to the parser that expands aliases, which refuses duplicate keys too.
    ['labels: &labels {team: vision}\n', 'duplicate-anchored.yaml'],
  ])('duplicate keys %j (%s)', async (anchor, name) => {
    const file = write(name, `apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: a}\n${anchor}kind: Job\n`);
    // The wording is the YAML parser's ("Map keys must be unique", "duplicated mapping key"); the form is ours.
    expect((await unusable(file)).stderr)
      .toMatch(new RegExp(`^kfpytorch: ${escape(file)}: (document 1: )?not valid YAML: [^\\n]*\\bkey[^\\n]* at line \\d+, column \\d+\\n$`));
  });

  test('a syntax error', async () => {
    const file = write('syntax.yaml', 'apiVersion: v1\nkind: [ConfigMap\n');
    expect((await unusable(file)).stderr).toMatch(new RegExp(`^kfpytorch: ${escape(file)}: (document 1: )?not valid YAML: .+ at line \\d+, column \\d+\\n$`));
  });

  test('nesting deep enough to overflow the parser\'s stack', async () => {
    const file = write('deep.yaml', '['.repeat(100_000));
    expect((await unusable(file)).stderr).toMatch(new RegExp(`^kfpytorch: ${escape(file)}: `));
  });

  test.each([
    ['a list', '- name: a\n- name: b\n'],
    ['a scalar', 'just some text\n'],
    ['a number', '42\n'],
  ])('a document that is %s, not a mapping', async (_, content) => {
    const file = write(`not-a-mapping-${content.length}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n${content}`);
    expect((await unusable(file)).stderr).toBe(`kfpytorch: ${file}: document 2: is not a mapping (a Kubernetes object)\n`);
  });

  test('a file that does not exist', async () => {
    const file = join(root, 'missing.yaml');
    expect((await unusable(file)).stderr).toBe(`kfpytorch: ${file}: cannot be read: ENOENT\n`);
  });

  test('a file above the 256 MiB cap (a sparse file: nothing is written to disk)', async () => {
    // MAX_FILE_BYTES in src/tools/manifests.ts is 256 MiB and not exported. The size is read with stat before
    // anything is read, so a sparse file of 257 MiB exercises the real check at no cost.
    const file = join(root, 'enormous.yaml');
    closeSync(openSync(file, 'w'));
    truncateSync(file, 257 * 2 ** 20);
    const started = Date.now();
    expect((await unusable(file)).stderr).toBe(`kfpytorch: ${file}: is 257 MiB, above the 256 MiB read at most\n`);
    expect(Date.now() - started).toBeLessThan(5_000);
    rmSync(file);
  });

  test('a --crd file that is not a CRD', async () => {
    const broken = write('crd-check/broken.yaml', BROKEN);
    const crd = write('crd-check/configmap.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-a-crd}\n');
    const run = await kfpytorch('validate', broken, '--crd', crd);
    expect(run).toEqual({ status: 2, stdout: '', stderr: `kfpytorch: ${crd}: is not the PyTorchJob CRD (kubeflow.org, kind PyTorchJob, with a v1 schema)\n` });
  });

  test('a --crd file that is another CRD: Kubeflow Trainer v2\'s TrainJob, or a kubeflow.org CRD of another kind', async () => {
    // JSON is YAML: each CRD written as an object, with the group, kind and version of the real one.
    const trainJobs = write('crd-check/trainjobs.yaml', JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      spec: { group: 'trainer.kubeflow.org', names: { kind: 'TrainJob' }, versions: [{ name: 'v1alpha1', schema: { openAPIV3Schema: { type: 'object' } } }] },
    }));
    const tfJobs = write('crd-check/tfjobs.yaml', JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      spec: { group: 'kubeflow.org', names: { kind: 'TFJob' }, versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object' } } }] },
    }));
    for (const crd of [trainJobs, tfJobs]) {
      expect(await kfpytorch('validate', examples, '--crd', crd)).toEqual({
        status: 2, stdout: '', stderr: `kfpytorch: ${crd}: is not the PyTorchJob CRD (kubeflow.org, kind PyTorchJob, with a v1 schema)\n`,
      });
    }
  });

  test('a KFPYTORCH_CRD that does not exist', async () => {
    const crd = join(root, 'no-such-crd.yaml');
    process.env[CRD_ENV] = crd;
    expect(await kfpytorch('validate', examples)).toEqual({ status: 2, stdout: '', stderr: `kfpytorch: ${crd}: cannot be read: ENOENT\n` });
  });

  test('no file, an unknown option, a bad --format, --crd without a value or with --no-schema', async () => {
    expect(await kfpytorch('validate'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: missing required argument \'FILE|DIR\': see kfpytorch validate --help\n' });
    expect(await kfpytorch('validate', examples, '--strikt'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: unknown option \'--strikt\' (did you mean --strict?): see kfpytorch validate --help\n' });
    expect(await kfpytorch('validate', examples, '--format', 'xml'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --format "xml": validate writes text or json\n' });
    expect(await kfpytorch('validate', examples, '--format', 'mermaid'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --format "mermaid": validate writes text or json\n' });
    expect(await kfpytorch('validate', examples, '--crd'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: option \'--crd <FILE>\' argument missing: see kfpytorch validate --help\n' });
    expect(await kfpytorch('validate', examples, '--crd', crdPath(), '--no-schema'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --crd and --no-schema contradict each other: give one of them\n' });
  });

  test('one unusable file and one good file: the good file\'s problems are still reported', async () => {
    const binary = write('mixed/binary.yaml', Buffer.from([0x00, 0x01, 0x02]));
    const broken = write('mixed/broken.yaml', BROKEN);
    const run = await kfpytorch('validate', binary, broken, '--crd', crdPath());
    expect(run).toEqual({
      status: 2,
      stdout: [...lines(broken, [SCHEMA_PROBLEM, ...RULE_PROBLEMS]), BROKEN_SUMMARY, ''].join('\n'),
      stderr: `kfpytorch: ${binary}: is a binary file, not YAML\n`,
    });
    const json = JSON.parse((await kfpytorch('validate', binary, broken, '--crd', crdPath(), '--format', 'json')).stdout);
    expect(json.unusable).toEqual([`${binary}: is a binary file, not YAML`]);
    expect(json.problems).toHaveLength(4);
  });

  test('a folder holding one unusable file: the others are still checked', async () => {
    const folder = join(root, 'mixed-folder');
    const list = write('mixed-folder/a-list.yaml', '- a\n- b\n');
    for (const name of readdirSync(examples)) copyFileSync(join(examples, name), join(folder, name));
    expect(await kfpytorch('validate', folder, '--crd', crdPath())).toEqual({
      status: 2,
      stdout: CLEAN_EXAMPLES,
      stderr: `kfpytorch: ${list}: document 1: is not a mapping (a Kubernetes object)\n`,
    });
  });
});

/** Malformed manifests and CRDs that once crashed `validate`: each is reported, never a stack trace. */
describe('malformed input is reported, not a crash', () => {
  test('a --crd file that is not valid YAML: YAMLParseError from src/rules/schema.ts openApiSchema()', async () => {
    const crd = write('bugs/crd-syntax.yaml', 'apiVersion: apiextensions.k8s.io/v1\nkind: [CustomResourceDefinition\n');
    const run = await kfpytorch('validate', examples, '--crd', crd);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^kfpytorch: ${escape(crd)}: .+\\n$`));
  });

  test('a --crd file with several documents: YAMLParseError (MULTIPLE_DOCS) from openApiSchema()', async () => {
    const crd = write('bugs/crd-multi.yaml', 'a: 1\n---\nb: 2\n');
    expect((await kfpytorch('validate', examples, '--crd', crd)).status).toBe(2);
  });

  test('a folder holding a dangling .yaml symlink: ENOENT from statSync in src/tools/validate.ts expandPaths()', async () => {
    const folder = join(root, 'bugs/dangling');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(examples, 'ddp-resnet50.k8s.yaml'), join(folder, 'ddp.yaml'));
    symlinkSync(join(root, 'nowhere.yaml'), join(folder, 'gone.yaml'));
    const run = await kfpytorch('validate', folder, '--crd', crdPath());
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('1 training job(s) checked, 0 error(s), 0 warning(s)\n');
  });

  test('a Job whose command is not a list: TypeError (not iterable) in src/rules/batch-job.ts', async () => {
    const file = write('bugs/job-command.yaml', `apiVersion: batch/v1
kind: Job
metadata: {name: finetune}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - {name: pytorch, image: "x:1", command: 5}
`);
    const run = await kfpytorch('validate', file, '--crd', crdPath());
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${file}:1: /spec/template/spec/containers/0/command: must be array (schema, error)`);
  });

  test('an elasticPolicy.rdzvConf entry that is null: TypeError in src/rules/torchrun.ts checkRdzvConf()', async () => {
    const file = write('bugs/rdzv-null.yaml', `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: elastic}
spec:
  elasticPolicy: {minReplicas: 1, maxReplicas: 2, rdzvConf: [null]}
  pytorchReplicaSpecs:
    Worker: {replicas: 2, template: {spec: {containers: [{name: pytorch, image: "x:1"}]}}}
`);
    expect((await kfpytorch('validate', file, '--crd', crdPath())).status).toBe(1);
  });

  test('a Master whose containers (or ports) are not a list: TypeError in src/rules/operator-env.ts trainingPort()', async () => {
    const file = write('bugs/master-containers.yaml', `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: ddp}
spec:
  pytorchReplicaSpecs:
    Master: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: "x:1", ports: "23456"}]}}}
`);
    expect((await kfpytorch('validate', file, '--crd', crdPath())).status).toBe(1);
  });
});

const HELP = `Usage: kfpytorch [options] [command]

Run, check and describe Kubeflow PyTorchJobs and single-node torchrun Jobs, as cdk8s synth writes
them.

Options:
  -V, --version                     print the version
  -h, --help                        print this help

Commands:
  run [options] <FILE...>           run a job as local processes
  validate [options] <FILE|DIR...>  check manifests against the schema and the rules
  describe [options] <FILE|DIR...>  show what jobs will be on a cluster

kfpytorch COMMAND --help shows the arguments, options and exit statuses of a command.
`;

const VALIDATE_HELP = `Usage: kfpytorch validate [options] <FILE|DIR...>

Check every PyTorchJob and single-node torchrun Job against the CRD schema, the operator's webhook
rules, and what the operator, kubelet or torchrun trip over later.

Arguments:
  FILE|DIR           YAML files, and folders searched for .yaml and .yml files

Options:
  --crd <FILE>       the PyTorchJob CRD of another operator version (default: the bundled v1.9.4)
                     (env: KFPYTORCH_CRD)
  --no-schema        skip the schema check: only the rules run
  --format <FORMAT>  output format (choices: "text", "json", default: "text")
  --strict           warnings fail too (exit status 1)
  -h, --help         print this help

Each problem is one line: FILE:DOCUMENT: FIELD: MESSAGE (KIND, SEVERITY).

Exit status:
  0  no errors (warnings are printed)
  1  errors, or warnings with --strict
  2  the input cannot be used
`;

describe('the command line', () => {
  test('--version and -V print the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(await kfpytorch('--version')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
    expect(await kfpytorch('-V')).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('an unknown command is named, with the commands there are; no command at all is refused the same way', async () => {
    expect(await kfpytorch('vaildate', examples)).toEqual({
      status: 2, stdout: '', stderr: 'kfpytorch: unknown command "vaildate": the commands are run, validate, describe (kfpytorch --help)\n',
    });
    expect(await kfpytorch()).toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: no command given: the commands are run, validate, describe (kfpytorch --help)\n' });
  });

  test('an unknown option before the command points to the general help', async () => {
    expect(await kfpytorch('--strict', 'validate', examples))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: unknown option \'--strict\': see kfpytorch --help\n' });
  });

  test('--help lists the commands', async () => {
    expect(await kfpytorch('--help')).toEqual({ status: 0, stdout: HELP, stderr: '' });
  });

  test('validate --help: the arguments, the options with KFPYTORCH_CRD, the line format and the exit statuses', async () => {
    expect(await kfpytorch('validate', '--help')).toEqual({ status: 0, stdout: VALIDATE_HELP, stderr: '' });
  });
});

/** A valid job but for the deprecated `elasticPolicy.nProcPerNode` without `spec.nprocPerNode`: a warning only. */
const DEPRECATED_NPROC = `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: deprecated}
spec:
  elasticPolicy: {minReplicas: 2, maxReplicas: 2, nProcPerNode: 1}
  pytorchReplicaSpecs:
    Worker:
      replicas: 2
      restartPolicy: OnFailure
      template:
        spec:
          containers:
            - {name: pytorch, image: "ghcr.io/example/train:1.0", command: [torchrun, train.py]}
`;
const DEPRECATED_WARNING = 'spec.elasticPolicy.nProcPerNode: 1 is deprecated: use spec.nprocPerNode (webhook, warning)';

describe('severities: errors fail, warnings are printed and fail only with --strict', () => {
  let warned: string;
  beforeAll(() => {
    warned = write('severities/deprecated.yaml', DEPRECATED_NPROC);
  });

  test('a warning only: printed with its severity, exit status 0', async () => {
    expect(await kfpytorch('validate', warned)).toEqual({
      status: 0,
      stdout: `${warned}:1: ${DEPRECATED_WARNING}\n1 training job(s) checked, 0 error(s), 1 warning(s)\n`,
      stderr: '',
    });
  });

  test('--strict: the same report, exit status 1', async () => {
    expect(await kfpytorch('validate', warned, '--strict')).toEqual({
      status: 1,
      stdout: `${warned}:1: ${DEPRECATED_WARNING}\n1 training job(s) checked, 0 error(s), 1 warning(s)\n`,
      stderr: '',
    });
  });

  test('--format json: severity on every problem, and the counts', async () => {
    const run = await kfpytorch('validate', warned, '--format', 'json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      problems: [{
        file: warned,
        document: 1,
        object: 'PyTorchJob/deprecated',
        path: 'spec.elasticPolicy.nProcPerNode',
        message: '1 is deprecated: use spec.nprocPerNode',
        kind: 'webhook',
        severity: 'warning',
      }],
      omitted: [],
      unusable: [],
      errors: 0,
      warnings: 1,
      checked: 1,
      skipped: 0,
    });
  });

  test('errors and warnings together: both printed, each with its severity, exit status 1', async () => {
    const file = write('severities/both.yaml', `${DEPRECATED_NPROC}---\n${BROKEN}`);
    expect(await kfpytorch('validate', file)).toEqual({
      status: 1,
      stdout: [
        `${file}:1: ${DEPRECATED_WARNING}`,
        ...lines(file, [SCHEMA_PROBLEM, ...RULE_PROBLEMS].map(problem => problem.replace(/^1:/, '2:'))),
        '3 training job(s) checked, 4 error(s), 1 warning(s), 1 other object(s) passed over',
        '',
      ].join('\n'),
      stderr: '',
    });
  });
});

describe('an object with 100,000 problems: a bounded report, in seconds', () => {
  /** A Worker whose one variable is set 100,001 times: each repetition after the first is a problem. */
  const job = {
    apiVersion: 'kubeflow.org/v1',
    kind: 'PyTorchJob',
    metadata: { name: 'huge' },
    spec: {
      pytorchReplicaSpecs: {
        Worker: {
          replicas: 1,
          restartPolicy: 'OnFailure',
          template: {
            spec: {
              containers: [{
                name: 'pytorch',
                image: 'ghcr.io/example/train:1.0',
                command: ['torchrun', 'train.py'],
                env: Array.from({ length: 100_001 }, () => ({ name: 'EPOCHS', value: '3' })),
              }],
            },
          },
        },
      },
    },
  };
  const duplicate = (file: string, i: number) => `${file}:1: spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].env[${i}].name: `
    + '"EPOCHS" is set twice: each environment variable may be set once (operational, error)';

  test('text: the first 100, then a line counting the others; the totals count them all', async () => {
    const file = write('huge/huge.yaml', JSON.stringify(job));
    const started = Date.now();
    const run = await kfpytorch('validate', file);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual([
      ...Array.from({ length: 100 }, (_, i) => duplicate(file, i + 1)),
      `${file}:1: PyTorchJob/huge: 99900 more problem(s) not listed: 99900 error(s), 0 warning(s)`,
      '1 training job(s) checked, 100000 error(s), 0 warning(s)',
      '',
    ]);
  });

  test('json: the first 100, and the others counted in omitted', async () => {
    const file = write('huge/huge-json.yaml', JSON.stringify(job));
    const report = JSON.parse((await kfpytorch('validate', file, '--format', 'json')).stdout);
    expect(report.problems).toHaveLength(100);
    expect(report.problems[99]).toEqual({
      file,
      document: 1,
      object: 'PyTorchJob/huge',
      path: 'spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].env[100].name',
      message: '"EPOCHS" is set twice: each environment variable may be set once',
      kind: 'operational',
      severity: 'error',
    });
    expect(report).toMatchObject({
      omitted: [{ file, document: 1, object: 'PyTorchJob/huge', errors: 99_900, warnings: 0 }],
      errors: 100_000,
      warnings: 0,
      checked: 1,
    });
  });
});

describe('files that would hang or loop a reader: refused or read once, never waited on', () => {
  /** A named pipe that nothing writes to: opening it to read would block for ever. */
  function fifo(name: string): string {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    execFileSync('mkfifo', [path]);
    return path;
  }

  test('a device given as a file: /dev/zero', async () => {
    expect(await kfpytorch('validate', '/dev/zero')).toEqual({
      status: 2,
      stdout: '0 training job(s) checked, 0 error(s), 0 warning(s)\n',
      stderr: 'kfpytorch: /dev/zero: is not a regular file (a character device)\n',
    });
  });

  test('a FIFO given as a file, as a --crd, and in a folder beside manifests', async () => {
    const pipe = fifo('fifo/given.yaml');
    expect(await kfpytorch('validate', pipe)).toEqual({
      status: 2,
      stdout: '0 training job(s) checked, 0 error(s), 0 warning(s)\n',
      stderr: `kfpytorch: ${pipe}: is not a regular file (a FIFO)\n`,
    });
    expect(await kfpytorch('validate', examples, '--crd', pipe))
      .toEqual({ status: 2, stdout: '', stderr: `kfpytorch: ${pipe}: is not a regular file (a FIFO)\n` });
    const folder = join(root, 'fifo-folder');
    for (const name of readdirSync(examples)) write(`fifo-folder/${name}`, readFileSync(join(examples, name)));
    const inFolder = fifo('fifo-folder/pipe.yaml');
    expect(await kfpytorch('validate', folder)).toEqual({
      status: 2, stdout: CLEAN_EXAMPLES, stderr: `kfpytorch: ${inFolder}: is not a regular file (a FIFO)\n`,
    });
  });

  test('symbolic-link loops and several links to one file: each real file is read once', async () => {
    const first = write('loops/first.yaml', JOB_IN_SECOND_DOCUMENT);
    const nested = write('loops/jobs/nested.yaml', JOB_IN_SECOND_DOCUMENT);
    symlinkSync('..', join(root, 'loops/jobs/parent'));
    symlinkSync('.', join(root, 'loops/jobs/itself'));
    symlinkSync('jobs/nested.yaml', join(root, 'loops/link-to-nested.yaml'));
    symlinkSync('first.yaml', join(root, 'loops/z-link-to-first.yml'));
    // A link to itself, without a YAML name: nothing to read, so not reported.
    symlinkSync('cycle', join(root, 'loops/cycle'));
    const problem = (file: string) => `${file}:2: spec.template.spec.restartPolicy: "Always" is not allowed in a Job: use "Never" or "OnFailure" (operational, error)`;
    const expected = {
      status: 1,
      stdout: [problem(first), problem(nested), '2 training job(s) checked, 2 error(s), 0 warning(s), 2 other object(s) passed over', ''].join('\n'),
      stderr: '',
    };
    const started = Date.now();
    expect(await kfpytorch('validate', join(root, 'loops'))).toEqual(expected);
    // The same folder again, through a link and by a file it holds: still once each.
    symlinkSync(join(root, 'loops'), join(root, 'loops-link'));
    expect(await kfpytorch('validate', join(root, 'loops'), join(root, 'loops-link'), nested)).toEqual(expected);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a .yaml link to itself: one line, exit status 2', async () => {
    const folder = join(root, 'self-link');
    mkdirSync(folder);
    symlinkSync('self.yaml', join(folder, 'self.yaml'));
    expect(await kfpytorch('validate', folder)).toEqual({
      status: 2,
      stdout: '0 training job(s) checked, 0 error(s), 0 warning(s)\n',
      stderr: `kfpytorch: ${join(folder, 'self.yaml')}: cannot be read: ELOOP\n`,
    });
  });

  test('a --crd whose schema does not compile', async () => {
    const crd = parse(readFileSync(crdPath(), 'utf8'));
    crd.spec.versions.find((v: { name: string }) => v.name === 'v1').schema.openAPIV3Schema.properties.spec.properties.nprocPerNode.type = 'strnig';
    const file = write('crd-check/not-compiling.json', JSON.stringify(crd));
    expect(await kfpytorch('validate', examples, '--crd', file)).toEqual({
      status: 2,
      stdout: '',
      stderr: `kfpytorch: ${file}: its v1 schema does not compile: openAPIV3Schema/properties/spec/properties/nprocPerNode/type must be equal to one of the allowed values\n`,
    });
  });
});

describe('YAML anchors, aliases and merge keys are expanded, as kubectl does; alias bombs are refused', () => {
  /** The replica settings written once and shared: the typo'd restart policy reaches both replicas. */
  const ANCHORED = `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: anchored}
spec:
  nprocPerNode: "1"
  pytorchReplicaSpecs:
    Master: &replica
      replicas: 1
      restartPolicy: Onfailure
      template:
        spec:
          containers:
            - name: pytorch
              image: ghcr.io/example/train:1.0
              command: [torchrun, train.py]
    Worker:
      <<: *replica
      replicas: 2
`;
  const WRITTEN_OUT = `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: anchored}
spec:
  nprocPerNode: "1"
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: Onfailure
      template: {spec: {containers: [{name: pytorch, image: "ghcr.io/example/train:1.0", command: [torchrun, train.py]}]}}
    Worker:
      replicas: 2
      restartPolicy: Onfailure
      template: {spec: {containers: [{name: pytorch, image: "ghcr.io/example/train:1.0", command: [torchrun, train.py]}]}}
`;
  const problems = (file: string) => ['Master', 'Worker'].map(type => `${file}:1: spec.pytorchReplicaSpecs[${type}].restartPolicy: `
    + '"Onfailure" is not a restart policy: use "Always", "OnFailure", "Never", "ExitCode" (operational, error)');

  test('an anchored job is checked as its written-out twin', async () => {
    const anchored = write('anchors/anchored.yaml', ANCHORED);
    const writtenOut = write('anchors/written-out.yaml', WRITTEN_OUT);
    const summary = '1 training job(s) checked, 2 error(s), 0 warning(s)';
    expect(await kfpytorch('validate', anchored)).toEqual({ status: 1, stdout: [...problems(anchored), summary, ''].join('\n'), stderr: '' });
    expect(await kfpytorch('validate', writtenOut)).toEqual({ status: 1, stdout: [...problems(writtenOut), summary, ''].join('\n'), stderr: '' });
  });

  test('an alias bomb: one line, exit status 2, at once', async () => {
    // Nine levels of nine aliases each: 9^9 strings once expanded, in a dozen lines.
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [previous, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi'].map(pair => pair.split(''))) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    const file = write('anchors/bomb.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map(line => `  ${line}`).join('\n')}\n`);
    const started = Date.now();
    expect(await kfpytorch('validate', file)).toEqual({
      status: 2,
      stdout: '0 training job(s) checked, 0 error(s), 0 warning(s)\n',
      stderr: `kfpytorch: ${file}: document 1: its aliases expand to more than 100 uses of anchors, as a YAML bomb's do: write the values out\n`,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('an alias before its anchor is not valid YAML', async () => {
    const file = write('anchors/unresolved.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: early}\ndata: {a: *later, b: &later x}\n');
    expect(await kfpytorch('validate', file)).toEqual({
      status: 2,
      stdout: '0 training job(s) checked, 0 error(s), 0 warning(s)\n',
      stderr: `kfpytorch: ${file}: document 1: not valid YAML: Unresolved alias (the anchor must be set before the alias): later\n`,
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
