import { readFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { celRuleSites, checkCelRules } from '../src/rules/cel';
import { TRAINER_CRD_FILES, TrainerSchema } from '../src/rules/trainer-schema';

const SCHEMAS = path.resolve(__dirname, '..', 'schemas');
const schema = TrainerSchema.bundled();

function openApi(kind: string): any {
  return parse(readFileSync(path.join(SCHEMAS, TRAINER_CRD_FILES[kind]), 'utf8')).spec.versions[0].schema.openAPIV3Schema;
}

function check(manifest: any): string[] {
  return schema.check(manifest).map(problem => `${problem.path} ${problem.message}`);
}

function trainJob(spec: any = {}, metadata: any = { name: 'train' }): any {
  return { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata, spec: { runtimeRef: { name: 'torch-distributed' }, ...spec } };
}

function runtime(kind: string, spec: any = {}): any {
  return {
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind,
    metadata: { name: 'torch' },
    spec: {
      mlPolicy: { numNodes: 2, torch: {} },
      template: {
        spec: {
          replicatedJobs: [{
            name: 'node',
            replicas: 1,
            template: {
              metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } },
              spec: { template: { spec: { containers: [{ name: 'node', image: 'pytorch/pytorch:2.4.0' }] } } },
            },
          }],
        },
      },
      ...spec,
    },
  };
}

describe('the vendored Trainer v2.3.0 CRDs', () => {
  test('every CEL rule a create is checked with, each where the CRD puts it (transition rules left to updates)', () => {
    const rules = Object.fromEntries(Object.keys(TRAINER_CRD_FILES).map(kind => [kind, celRuleSites(openApi(kind)).map(site => `${site.path.join('.')}: ${site.rules.map(r => r.rule).join(' ; ')}`)]));
    expect(rules.TrainJob).toEqual([
      ": self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') ; size(self.metadata.name) <= 63",
      "spec.initializer.dataset.storageUri: self == '' || self.matches('^[A-Za-z][A-Za-z0-9+.-]*://.+$')",
      "spec.initializer.model.storageUri: self == '' || self.matches('^[A-Za-z][A-Za-z0-9+.-]*://.+$')",
      "spec.managedBy: self in ['trainer.kubeflow.org/trainjob-controller', 'kueue.x-k8s.io/multikueue']",
      'status.trainerStatus: has(self.lastUpdatedTime)',
    ]);
    const runtimeRules = [
      'spec.mlPolicy: [has(self.torch), has(self.mpi), has(self.jax), has(self.xgboost),has(self.flux)].filter(x, x).size() <= 1',
      'spec.mlPolicy.flux.numProcPerNode: self >= 1',
      "spec.mlPolicy.torch.envInjection.targets.*.containerNames: !self.exists(c, c == 'node')",
      "spec.template.spec: !(has(self.startupPolicy) && self.startupPolicy.startupPolicyOrder == 'InOrder' && self.replicatedJobs.exists(x, has(x.dependsOn)))",
      'spec.template.spec.volumeClaimPolicies.*: self.templates.all(t, !has(t.metadata.namespace) || size(t.metadata.namespace) == 0)',
    ];
    expect(rules.TrainingRuntime).toEqual(runtimeRules);
    expect(rules.ClusterTrainingRuntime).toEqual(runtimeRules);
  });

  test('a valid TrainJob and both runtimes pass, strict and with their CEL rules', () => {
    expect(check(trainJob({ trainer: { numNodes: 2, numProcPerNode: 4 }, managedBy: 'kueue.x-k8s.io/multikueue' }))).toEqual([]);
    expect(check(runtime('TrainingRuntime'))).toEqual([]);
    expect(check(runtime('ClusterTrainingRuntime'))).toEqual([]);
  });

  test('the name rules at the root, with the CRD messages', () => {
    expect(check(trainJob({}, { name: 'Train_1' }))).toEqual(['/ metadata.name must match RFC 1035 DNS label format']);
    expect(check(trainJob({}, { name: `a${'b'.repeat(63)}` }))).toEqual(['/ metadata.name must be no more than 63 characters']);
    // size() counts code points, as in Kubernetes: 63 two-byte letters are 63 characters (but no DNS label).
    expect(check(trainJob({}, { name: 'é'.repeat(63) }))).toEqual(['/ metadata.name must match RFC 1035 DNS label format']);
    // A generated name is checked with the five characters the API server appends.
    expect(check(trainJob({}, { generateName: `t${'x'.repeat(57)}` }))).toEqual([]);
    expect(check(trainJob({}, { generateName: '1train-' }))).toEqual(['/ metadata.name must match RFC 1035 DNS label format']);
  });

  test('managedBy, storage URIs and numProcPerNode as an integer', () => {
    expect(check(trainJob({ managedBy: 'me' }))).toEqual(['/spec/managedBy ManagedBy must be trainer.kubeflow.org/trainjob-controller or kueue.x-k8s.io/multikueue if set']);
    expect(check(trainJob({ initializer: { dataset: { storageUri: 'hf//x' }, model: { storageUri: '' } } })))
      .toEqual(['/spec/initializer/dataset/storageUri storageUri may be empty, or it must be a valid URI (scheme://...)']);
    expect(check(trainJob({ trainer: { numProcPerNode: 'auto' } }))).toEqual(['/spec/trainer/numProcPerNode must be integer']);
    expect(check(trainJob({ trainer: { numProcPerNode: 2, bogus: true } }))).toEqual(["/spec/trainer must NOT have additional property 'bogus'"]);
  });

  test('the runtime rules: one ML policy, envInjection without node, flux processes, startup order', () => {
    expect(check(runtime('TrainingRuntime', { mlPolicy: { numNodes: 1, torch: {}, mpi: {} } }))).toEqual(['/spec/mlPolicy Only one of the policy can be configured']);
    expect(check(runtime('ClusterTrainingRuntime', { mlPolicy: { torch: { envInjection: { targets: [{ jobName: 'node', containerNames: ['preflight', 'node'] }] } } } })))
      .toEqual(['/spec/mlPolicy/torch/envInjection/targets/0/containerNames containerNames must not include the main node container because PET_* envs are always injected into it']);
    expect(check(runtime('TrainingRuntime', { mlPolicy: { flux: { numProcPerNode: 0 } } }))).toEqual(['/spec/mlPolicy/flux/numProcPerNode NumProcPerNode in fluxPolicy must be >= 1']);
    const ordered = runtime('TrainingRuntime');
    ordered.spec.template.spec.startupPolicy = { startupPolicyOrder: 'InOrder' };
    ordered.spec.template.spec.replicatedJobs[0].dependsOn = [{ name: 'init', status: 'Complete' }];
    expect(check(ordered)).toEqual(['/spec/template/spec StartupPolicy and DependsOn APIs are mutually exclusive']);
  });

  test('the pod template inside the JobSet is checked strictly', () => {
    const manifest = runtime('TrainingRuntime');
    manifest.spec.template.spec.replicatedJobs[0].template.spec.template.spec.containers[0].resource = {};
    expect(check(manifest)).toEqual(["/spec/template/spec/replicatedJobs/0/template/spec/template/spec/containers/0 must NOT have additional property 'resource'"]);
  });

  test('a rule that cannot be evaluated is reported with the error, not passed', () => {
    const sites = [{ path: ['spec', 'template', 'spec', 'volumeClaimPolicies', '*'], rules: [{ rule: 'self.templates.all(t, !has(t.metadata.namespace) || size(t.metadata.namespace) == 0)' }] }];
    const problems = checkCelRules({ spec: { template: { spec: { volumeClaimPolicies: [{ templates: [{}] }] } } } }, sites);
    expect(problems.map(problem => problem.path)).toEqual(['/spec/template/spec/volumeClaimPolicies/0']);
    expect(problems[0].message).toMatch(/^rule self\.templates\.all\(.*\) could not be evaluated: .*metadata/);
    expect(checkCelRules({ a: 1 }, [{ path: ['a'], rules: [{ rule: 'self > 1' }] }]).map(problem => problem.message)).toEqual(['failed rule: self > 1']);
  });
});
