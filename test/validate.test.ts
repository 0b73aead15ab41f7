import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { buildExampleApp } from '../examples/main';
import { CliRun, kfpytorch } from './support/cli';
import { crdPath } from './support/crd-schema';

const CRD_ENV = 'KFPYTORCH_CRD';
const NO_SCHEMA_NOTE = 'kfpytorch: schema not checked: give the CRD with --crd FILE or KFPYTORCH_CRD\n';
const CLEAN_EXAMPLES = '5 training job(s) checked, 0 problem(s)\n';

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

const SCHEMA_PROBLEM = '1: /spec: must NOT have additional property \'cleanPodPolicy\' (schema)';
const RULE_PROBLEMS = [
  '1: spec.elasticPolicy.standalone: true makes the operator inject PET_STANDALONE="", which torchrun cannot parse: leave it out (operational)',
  '1: spec.pytorchReplicaSpecs[Worker].replicas: 0 must be a whole number of at least 1 (webhook)',
  '1: spec.pytorchReplicaSpecs[Worker].restartPolicy: "Onfailure" is not a restart policy: use "Always", "OnFailure", "Never", "ExitCode" (operational)',
];
const BROKEN_SUMMARY = '2 training job(s) checked, 4 problem(s), 1 other object(s) passed over';

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

  test('without any CRD: a one-line note on stderr, and the rules still run', async () => {
    expect(await kfpytorch('validate', examples)).toEqual({ status: 0, stdout: CLEAN_EXAMPLES, stderr: NO_SCHEMA_NOTE });
  });

  test('--format json of a clean run', async () => {
    const run = await kfpytorch('validate', examples, '--crd', crdPath(), '--format', 'json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ problems: [], unusable: [], checked: 5, skipped: 0 });
  });
});

describe('a broken manifest', () => {
  let broken: string;
  beforeAll(() => {
    broken = write('broken.yaml', BROKEN);
  });

  test('every problem as file:document: path: message (kind), schema first, then a count', async () => {
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

  test('without a CRD, the rules find everything but the unknown field', async () => {
    const run = await kfpytorch('validate', broken);
    expect(run).toEqual({
      status: 1,
      stdout: [...lines(broken, RULE_PROBLEMS), '2 training job(s) checked, 3 problem(s), 1 other object(s) passed over', ''].join('\n'),
      stderr: NO_SCHEMA_NOTE,
    });
  });

  test('--format json: one object per problem, with file, document, object, path, message and kind', async () => {
    const run = await kfpytorch('validate', broken, '--crd', crdPath(), '--format', 'json');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ unusable: [], checked: 2, skipped: 1 });
    expect(report.problems).toHaveLength(4);
    for (const problem of report.problems) {
      expect(Object.keys(problem).sort()).toEqual(['document', 'file', 'kind', 'message', 'object', 'path']);
    }
    expect(report.problems).toContainEqual({
      file: broken,
      document: 1,
      object: 'PyTorchJob/broken',
      path: '/spec',
      message: 'must NOT have additional property \'cleanPodPolicy\'',
      kind: 'schema',
    });
    expect(report.problems).toContainEqual({
      file: broken,
      document: 1,
      object: 'PyTorchJob/broken',
      path: 'spec.pytorchReplicaSpecs[Worker].replicas',
      message: '0 must be a whole number of at least 1',
      kind: 'webhook',
    });
    expect(report.problems.map((p: { kind: string }) => p.kind)).toEqual(['schema', 'operational', 'webhook', 'operational']);
  });

  test('a single-node Job is checked, and problems name the document they are in', async () => {
    const file = write('second-document.yaml', JOB_IN_SECOND_DOCUMENT);
    expect(await kfpytorch('validate', file, '--crd', crdPath())).toEqual({
      status: 1,
      stdout: `${file}:2: spec.template.spec.restartPolicy: "Always" is not allowed in a Job: use "Never" or "OnFailure" (operational)\n`
        + '1 training job(s) checked, 1 problem(s), 1 other object(s) passed over\n',
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
      '7 training job(s) checked, 4 problem(s), 1 other object(s) passed over',
      '',
    ]);
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

  test('YAML with anchors and aliases', async () => {
    const file = write('anchors.yaml', `apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
---
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: anchored}
spec:
  pytorchReplicaSpecs:
    Master: &replica
      replicas: 1
      template: {spec: {containers: [{name: pytorch, image: "x:1"}]}}
    Worker: *replica
`);
    expect((await unusable(file)).stderr)
      .toBe(`kfpytorch: ${file}: document 2: uses YAML anchors and aliases, which tools expand differently: write the values out\n`);
  });

  test('duplicate keys', async () => {
    const file = write('duplicate.yaml', 'apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: a}\nkind: Job\n');
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
    const trainJobs = join(dirname(crdPath()), 'trainer.kubeflow.org_trainjobs.yaml');
    // JSON is YAML: a TFJob-like CRD in the same group, written as an object.
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

  test('no file, an unknown option, a bad --format', async () => {
    expect(await kfpytorch('validate')).toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: no file given: see kfpytorch --help\n' });
    expect(await kfpytorch('validate', examples, '--strict'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: unknown option --strict: see kfpytorch --help\n' });
    expect(await kfpytorch('validate', examples, '--format', 'xml'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --format "xml": validate writes text or json\n' });
    expect(await kfpytorch('validate', examples, '--format', 'mermaid'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --format "mermaid": validate writes text or json\n' });
    expect(await kfpytorch('validate', examples, '--crd'))
      .toEqual({ status: 2, stdout: '', stderr: 'kfpytorch: --crd needs a value\n' });
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
    expect(run.stdout).toBe('1 training job(s) checked, 0 problem(s)\n');
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
    expect(run.stdout).toContain(`${file}:1: /spec/template/spec/containers/0/command: must be array (schema)`);
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
