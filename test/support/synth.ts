import { App, Chart, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { expectValidPyTorchJob } from './crd-schema';
import { formatProblem } from '../../src/rules/problem';
import { checkPyTorchJob } from '../../src/rules/pytorchjob';

/** A synthesized manifest, read as plain JSON. */
export type Manifest = { [key: string]: any };

export type ReplicaType = 'Master' | 'Worker';

/**
 * Checks every PyTorchJob among `manifests` against the upstream CRD schema (unknown fields are errors)
 * and against the library's own manifest rules, which must find no problem. Returns the PyTorchJobs.
 */
export function expectValidJobs(manifests: Manifest[]): Manifest[] {
  const jobs = manifests.filter(manifest => manifest.kind === 'PyTorchJob');
  for (const job of jobs) {
    expectValidPyTorchJob(job);
    expect(checkPyTorchJob(job).map(formatProblem)).toEqual([]);
  }
  return jobs;
}

/** Synthesizes a chart and returns its PyTorchJobs, each checked by {@link expectValidJobs}. */
export function synthJobs(chart: Chart): Manifest[] {
  return expectValidJobs(Testing.synth(chart));
}

/** Synthesizes a chart that must hold exactly one object, a PyTorchJob, and returns it checked. */
export function synthJob(chart: Chart): Manifest {
  const manifests = Testing.synth(chart);
  expect(manifests.map(m => `${m.apiVersion}/${m.kind}`)).toEqual(['kubeflow.org/v1/PyTorchJob']);
  return expectValidJobs(manifests)[0];
}

/** Synthesizes a whole app to YAML and checks every PyTorchJob in it; returns the YAML text. */
export function synthYaml(app: App): string {
  const yaml = app.synthYaml();
  expectValidJobs(parseAllDocuments(yaml).map(doc => doc.toJS()).filter(doc => doc !== null));
  return yaml;
}

/** `spec.pytorchReplicaSpecs.<type>` of a job. */
export function replicaSpec(job: Manifest, type: ReplicaType): Manifest {
  const replica = job.spec?.pytorchReplicaSpecs?.[type];
  if (replica === undefined) throw new Error(`the job has no ${type} replica spec`);
  return replica;
}

/** The pod spec of a replica's template. */
export function podSpec(job: Manifest, type: ReplicaType): Manifest {
  return replicaSpec(job, type).template.spec;
}

/** The container named `pytorch` of a replica: the only one the construct writes. */
export function pytorchContainer(job: Manifest, type: ReplicaType): Manifest {
  const containers: Manifest[] = podSpec(job, type).containers;
  expect(containers.map(c => c.name)).toEqual(['pytorch']);
  return containers[0];
}
