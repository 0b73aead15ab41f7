import { readFileSync } from 'fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { cannotRead, regularFileStats } from './input-file';
import { Problem, ProblemKind, UnusableInputError } from './problem';
import type * as StrictSchema from './strict-schema';

/** The training operator release whose PyTorchJob CRD (`schemas/` in the repository) ships with the package. */
export const BUNDLED_OPERATOR_VERSION = 'v1.9.4';

/**
 * The standalone validators compiled from the shipped CRD, relative to this module. The build writes them beside
 * both the source and the compiled module (projenrc/compile-schema.ts).
 */
export const BUNDLED_VALIDATORS_MODULE = './generated/pytorchjob-validators.js';

/** The PyTorchJob CRD is about 0.6 MiB; anything far larger is not one. */
const MAX_CRD_BYTES = 16 * 1024 * 1024;

/**
 * Loads a module on first use: ajv takes about 50 ms to load and the compiled CRD about 15 ms, which a run that
 * needs only one of them, or neither, should not pay for.
 */
function load<T>(module: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(module) as T;
}

let bundled: CrdSchema | undefined;

/**
 * The upstream PyTorchJob CRD's schema, made strict like `kubectl apply --validate=strict`: unknown fields are errors.
 * The CRD of operator `BUNDLED_OPERATOR_VERSION` ships compiled; users of other operator versions bring their CRD.
 */
export class CrdSchema {
  /** The shipped schema of operator `BUNDLED_OPERATOR_VERSION`, loaded on the first call. */
  public static bundled(): CrdSchema {
    return bundled ??= new CrdSchema(load<StrictSchema.Validators>(BUNDLED_VALIDATORS_MODULE));
  }

  /** Reads a CRD file (`kubeflow.org_pytorchjobs.yaml`) and compiles its schema (about half a second). */
  public static fromFile(file: string): CrdSchema {
    if (regularFileStats(file).size > MAX_CRD_BYTES) throw new UnusableInputError(`${file}: is too large to be a CRD`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UnusableInputError(cannotRead(file, error));
    }
    return new CrdSchema(load<typeof StrictSchema>('./strict-schema').compileCrd(text, file));
  }

  private constructor(private readonly validators: StrictSchema.Validators) {}

  /** Schema problems of a PyTorchJob; paths are JSON pointers. */
  public checkPyTorchJob(manifest: unknown): Problem[] {
    return run(this.validators.pyTorchJob, manifest, '');
  }

  /** Schema problems of a PodTemplateSpec (a Job's `spec.template`), against the copy embedded in the CRD. */
  public checkPodTemplate(template: unknown, pointer: string): Problem[] {
    return run(this.validators.podTemplate, template, pointer);
  }
}

function run(validate: ValidateFunction, value: unknown, prefix: string): Problem[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(error => ({ path: `${prefix}${error.instancePath}` || '/', message: describe(error), kind: ProblemKind.SCHEMA }));
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `must NOT have additional property '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'const') return `must be equal to ${JSON.stringify(error.params.allowedValue)}`;
  return error.message ?? `failed ${error.keyword}`;
}
