import * as path from 'path';
import { CrdSchema } from '../../src/rules/schema';

/**
 * Validates synthesized manifests against the upstream PyTorchJob CRD
 * (kubeflow/trainer `manifests/base/crds/kubeflow.org_pytorchjobs.yaml`), by default the copy vendored in
 * schemas/; KFPYTORCH_CRD_DIR names another folder holding one, e.g. of another operator release.
 */
export const CRD_FILE = 'kubeflow.org_pytorchjobs.yaml';

export function crdPath(): string {
  const dir = process.env.KFPYTORCH_CRD_DIR || path.resolve(__dirname, '..', '..', 'schemas');
  return path.resolve(dir, CRD_FILE);
}

let schema: CrdSchema | undefined;

/** The CRD schema, read and compiled once per test file. */
export function crdSchema(): CrdSchema {
  return schema ??= CrdSchema.fromFile(crdPath());
}

/**
 * Validates a PyTorchJob manifest against the strict CRD schema.
 * @returns one `<JSON pointer> <problem>` line per error; empty when valid.
 */
export function validatePyTorchJobSchema(manifest: unknown): string[] {
  return crdSchema().checkPyTorchJob(manifest).map(p => `${p.path} ${p.message}`);
}

/**
 * Validates a PodTemplateSpec (e.g. a batch/v1 Job's `spec.template`) against the copy of the Kubernetes
 * schema embedded in the PyTorchJob CRD.
 * @returns one `<JSON pointer> <problem>` line per error, relative to the template.
 */
export function validatePodTemplateSchema(template: unknown): string[] {
  return crdSchema().checkPodTemplate(template, '').map(p => `${p.path} ${p.message}`);
}

/** Throws an Error listing every schema violation, so a failing test shows them all at once. */
export function expectValidPyTorchJob(manifest: unknown): void {
  const errors = validatePyTorchJobSchema(manifest);
  if (errors.length > 0) {
    throw new Error(`PyTorchJob manifest does not match the ${CRD_FILE} schema:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  }
}
