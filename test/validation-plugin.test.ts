import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { crdPath } from './support/crd-schema';

/**
 * A real `cdk8s synth` (cdk8s-cli, a dev dependency) with KfPyTorchValidation as a local plugin in cdk8s.yaml's
 * `validations:`. cdk8s-cli `require`s the plugin, so it runs the compiled library in `lib/`.
 */
const REPO = resolve(__dirname, '..');
const NODE_MODULES = join(REPO, 'node_modules');
const CDK8S = join(NODE_MODULES, '.bin', 'cdk8s');
const PLUGIN = join(REPO, 'lib', 'src', 'plugin');
const LIBRARY = join(REPO, 'lib', 'src', 'index.js');

jest.setTimeout(60_000);

let root: string;

beforeAll(() => {
  if (!existsSync(join(PLUGIN, 'index.js')) || !existsSync(LIBRARY)) {
    throw new Error(`${join(PLUGIN, 'index.js')} is missing: this test runs the compiled library; run \`npx projen compile\` first`);
  }
  root = mkdtempSync(join(tmpdir(), 'kfpytorch-plugin-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Synth {
  readonly status: number | null;
  /** stdout and stderr, without colours. */
  readonly output: string;
}

/** Writes cdk8s.yaml, with the plugin's properties, and app.js into a fresh folder and runs `cdk8s synth` there. */
function synth(name: string, app: string, properties: { crd?: string; strict?: boolean } = {}): Synth {
  const dir = join(root, name);
  mkdirSync(dir);
  // JSON is YAML: the config is written as JSON so that paths need no quoting.
  writeFileSync(join(dir, 'cdk8s.yaml'), JSON.stringify({
    app: 'node app.js',
    validations: [{
      package: PLUGIN,
      version: '0.0.0',
      class: 'KfPyTorchValidation',
      properties,
    }],
  }, undefined, 2));
  writeFileSync(join(dir, 'app.js'), app);
  const result = spawnSync(CDK8S, ['synth', '--no-check-upgrade'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: NODE_MODULES, FORCE_COLOR: '0' },
    timeout: 50_000,
  });
  if (result.error) throw result.error;
  // eslint-disable-next-line no-control-regex
  const output = `${result.stdout}\n${result.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
  return { status: result.status, output };
}

interface Violation {
  readonly rule: string;
  readonly constructPath?: string;
  readonly location?: string;
  readonly recommendation?: string;
}

/** The rows of the report's summary table (`║ Status   │ failure ║`) other than the plugin's name and version. */
function summaryRows(output: string): { [name: string]: string } {
  const rows = [...output.matchAll(/^║ (\w+)\s+│ (.*?)\s*║$/gm)].map(([, name, value]) => [name, value]);
  return Object.fromEntries(rows.filter(([name]) => name !== 'Plugin' && name !== 'Version'));
}

/** The violations of cdk8s-cli's validation report: each starts with `<rule> (N occurrences)`. */
function violations(output: string): Violation[] {
  return output.split(/^(?=kfpytorch\/)/m).slice(1).map(block => ({
    rule: block.split(' (')[0],
    constructPath: /Construct Path: (.*)/.exec(block)?.[1],
    location: /> (.*)/.exec(block)?.[1],
    recommendation: /Recommendation: (.*)/.exec(block)?.[1],
  }));
}

test('a raw PyTorchJob and a raw Job that break the rules fail cdk8s synth, naming the construct path and the rule', () => {
  const { status, output } = synth('violations', `
const { App, ApiObject, Chart } = require('cdk8s');
const app = new App();
const chart = new Chart(app, 'training');
new ApiObject(chart, 'raw-job', {
  apiVersion: 'kubeflow.org/v1',
  kind: 'PyTorchJob',
  metadata: { name: 'raw' },
  spec: {
    cleanPodPolicy: 'All',
    elasticPolicy: { minReplicas: 1, maxReplicas: 2, standalone: true },
    pytorchReplicaSpecs: {
      Worker: { replicas: 2, template: { spec: { containers: [{ name: 'pytorch', image: 'ghcr.io/example/train:1.0' }] } } },
    },
  },
});
new ApiObject(chart, 'raw-finetune', {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'finetune' },
  spec: {
    template: {
      spec: {
        restartPolicy: 'Always',
        containers: [{ name: 'pytorch', image: 'ghcr.io/example/train:1.0', command: ['torchrun', '--standalone', 'train.py'] }],
      },
    },
  },
});
app.synth();
`);
  expect(status).toBe(2);
  // One violation per problem: the rule (schema, webhook or operational), the construct path, the message and the
  // severity. Without properties, the bundled CRD schema is used: the unknown field is a schema violation.
  expect(violations(output)).toEqual([
    {
      rule: 'kfpytorch/schema',
      constructPath: 'training/raw-job',
      location: '/spec',
      recommendation: '/spec: must NOT have additional property \'cleanPodPolicy\' (error)',
    },
    {
      rule: 'kfpytorch/operational',
      constructPath: 'training/raw-job',
      location: 'spec.elasticPolicy.standalone',
      recommendation: 'spec.elasticPolicy.standalone: true makes the operator inject PET_STANDALONE="", which torchrun cannot parse: leave it out (error)',
    },
    {
      rule: 'kfpytorch/operational',
      constructPath: 'training/raw-finetune',
      location: 'spec.template.spec.restartPolicy',
      recommendation: 'spec.template.spec.restartPolicy: "Always" is not allowed in a Job: use "Never" or "OnFailure" (error)',
    },
  ]);
  expect(summaryRows(output)).toEqual({ Status: 'failure', errors: '3', warnings: '0' });
  expect(output).toContain('Validation failed');
});

/** A raw PyTorchJob whose only problem is a warning: the deprecated elasticPolicy.nProcPerNode without spec.nprocPerNode. */
const DEPRECATED_NPROC_APP = `
const { App, ApiObject, Chart } = require('cdk8s');
const app = new App();
const chart = new Chart(app, 'training');
new ApiObject(chart, 'deprecated', {
  apiVersion: 'kubeflow.org/v1',
  kind: 'PyTorchJob',
  metadata: { name: 'deprecated' },
  spec: {
    elasticPolicy: { minReplicas: 2, maxReplicas: 2, nProcPerNode: 1 },
    pytorchReplicaSpecs: {
      Worker: {
        replicas: 2,
        restartPolicy: 'OnFailure',
        template: { spec: { containers: [{ name: 'pytorch', image: 'ghcr.io/example/train:1.0', command: ['torchrun', 'train.py'] }] } },
      },
    },
  },
});
app.synth();
`;

const DEPRECATED_NPROC_VIOLATION: Violation = {
  rule: 'kfpytorch/webhook',
  constructPath: 'training/deprecated',
  location: 'spec.elasticPolicy.nProcPerNode',
  recommendation: 'spec.elasticPolicy.nProcPerNode: 1 is deprecated: use spec.nprocPerNode (warning)',
};

test('a warning is reported as a violation, and the synth succeeds', () => {
  const { status, output } = synth('warning', DEPRECATED_NPROC_APP);
  expect(status).toBe(0);
  expect(violations(output)).toEqual([DEPRECATED_NPROC_VIOLATION]);
  expect(summaryRows(output)).toEqual({ Status: 'success', errors: '0', warnings: '1' });
});

test('strict: true in the properties makes a warning fail the synth; crd names the CRD file to check against', () => {
  const { status, output } = synth('strict', DEPRECATED_NPROC_APP, { strict: true, crd: crdPath() });
  expect(status).toBe(2);
  expect(violations(output)).toEqual([DEPRECATED_NPROC_VIOLATION]);
  expect(summaryRows(output)).toEqual({ Status: 'failure', errors: '0', warnings: '1' });
  expect(output).toContain('Validation failed');
});

test('an app built with the library\'s constructs passes', () => {
  const { status, output } = synth('clean', `
const { App, Chart } = require('cdk8s');
const { Elastic, Entrypoint, NprocPerNode, PyTorchElasticJob, PyTorchJob, Worker } = require(${JSON.stringify(LIBRARY)});
const app = new App();
const chart = new Chart(app, 'training');
new PyTorchJob(chart, 'ddp', {
  metadata: { name: 'ddp' },
  image: 'ghcr.io/example/train:1.0',
  command: ['torchrun', 'train.py'],
  worker: new Worker({ replicas: 2 }),
});
new PyTorchElasticJob(chart, 'single', {
  metadata: { name: 'single' },
  image: 'ghcr.io/example/train:1.0',
  entrypoint: Entrypoint.script('train.py'),
  elastic: new Elastic({ nprocPerNode: NprocPerNode.count(2) }),
});
app.synth();
`);
  expect({ status, output }).toMatchObject({ status: 0 });
  expect(summaryRows(output)).toEqual({ Status: 'success', errors: '0', warnings: '0' });
  expect(violations(output)).toEqual([]);
});
