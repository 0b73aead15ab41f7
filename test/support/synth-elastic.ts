import { Chart, Testing } from 'cdk8s';
import { expectValidPyTorchJob, validatePodTemplateSchema } from './crd-schema';
import { checkTrainingBatchJob } from '../../src/rules/batch-job';
import { formatProblem } from '../../src/rules/problem';
import { checkPyTorchJob } from '../../src/rules/pytorchjob';

/** A synthesized manifest, read as plain JSON. */
export type Manifest = { [key: string]: any };

/**
 * Checks one manifest a `PyTorchElasticJob` writes, whichever kind it is:
 * - a PyTorchJob against the strict upstream CRD schema and the library's PyTorchJob rules;
 * - a `batch/v1` Job's pod template against the PodTemplateSpec schema embedded in that CRD, and the Job
 *   against the library's Job rules.
 * Any other kind fails the test.
 */
export function expectValidElasticManifest(manifest: Manifest): void {
  const kind = `${manifest.apiVersion}/${manifest.kind}`;
  if (kind === 'kubeflow.org/v1/PyTorchJob') {
    expectValidPyTorchJob(manifest);
    expect(checkPyTorchJob(manifest).map(formatProblem)).toEqual([]);
  } else if (kind === 'batch/v1/Job') {
    expect(validatePodTemplateSchema(manifest.spec?.template)).toEqual([]);
    expect(checkTrainingBatchJob(manifest).map(formatProblem)).toEqual([]);
  } else {
    throw new Error(`a PyTorchElasticJob writes a batch/v1 Job or a kubeflow.org/v1 PyTorchJob, not ${kind}`);
  }
}

/** Synthesizes a chart that must hold exactly one object of the given kind, checks it, and returns it. */
export function synthElastic(chart: Chart, kind: 'Job' | 'PyTorchJob'): Manifest {
  const manifests = Testing.synth(chart);
  expect(manifests.map(m => `${m.apiVersion}/${m.kind}`)).toEqual([kind === 'Job' ? 'batch/v1/Job' : 'kubeflow.org/v1/PyTorchJob']);
  expectValidElasticManifest(manifests[0]);
  return manifests[0];
}

/** The pod template of a Job, or of the Worker replica of a PyTorchJob. */
export function elasticPodTemplate(manifest: Manifest): Manifest {
  const template = manifest.kind === 'Job' ? manifest.spec?.template : manifest.spec?.pytorchReplicaSpecs?.Worker?.template;
  if (template === undefined) throw new Error(`the ${manifest.kind} has no pod template where a PyTorchElasticJob writes it`);
  return template;
}

/** The `pytorch` container of a Job or of a PyTorchJob's Worker: the only container the construct writes. */
export function elasticContainer(manifest: Manifest): Manifest {
  const containers: Manifest[] = elasticPodTemplate(manifest).spec.containers;
  expect(containers.map(c => c.name)).toEqual(['pytorch']);
  return containers[0];
}

/** The container's environment as a name → value map; fails on a variable that is not a plain value. */
export function plainEnv(container: Manifest): { [name: string]: string } {
  const env: Manifest[] = container.env ?? [];
  return Object.fromEntries(env.map(variable => {
    if (typeof variable.value !== 'string' || variable.valueFrom !== undefined) {
      throw new Error(`env ${variable.name} is not a plain value: ${JSON.stringify(variable)}`);
    }
    return [variable.name, variable.value];
  }));
}
