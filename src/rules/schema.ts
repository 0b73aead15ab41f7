import { readFileSync, statSync } from 'fs';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { Problem, ProblemKind, UnusableInputError } from './problem';

type JsonObject = { [key: string]: unknown };

const CRD_VERSION = 'v1';
/** The PyTorchJob CRD is about 0.6 MiB; anything far larger is not one. */
const MAX_CRD_BYTES = 16 * 1024 * 1024;

// The CRD types top-level metadata as a bare `type: object` because the API
// server validates ObjectMeta itself. Without a real schema here, strictness
// would stop at metadata and a typo such as `lables` would go unnoticed.
const OBJECT_META_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    generateName: { type: 'string' },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
  additionalProperties: false,
};

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function openApiSchema(crdText: string, file: string): JsonObject {
  let crd: unknown;
  try {
    crd = parse(crdText);
  } catch (error) {
    throw new UnusableInputError(`${file}: is not the PyTorchJob CRD: not one YAML document (${String((error as Error).message).split('\n')[0]})`);
  }
  const versions = isJsonObject(crd) && isJsonObject(crd.spec) && Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
  const version: unknown = versions.find((v: unknown) => isJsonObject(v) && v.name === CRD_VERSION);
  const schema = isJsonObject(version) && isJsonObject(version.schema) ? version.schema.openAPIV3Schema : undefined;
  const names = isJsonObject(crd) && isJsonObject(crd.spec) && isJsonObject(crd.spec.names) ? crd.spec.names : {};
  if (!isJsonObject(crd) || crd.kind !== 'CustomResourceDefinition' || (crd.spec as JsonObject).group !== 'kubeflow.org'
    || names.kind !== 'PyTorchJob' || !isJsonObject(schema)) {
    throw new UnusableInputError(`${file}: is not the PyTorchJob CRD (kubeflow.org, kind PyTorchJob, with a ${CRD_VERSION} schema)`);
  }
  return schema;
}

/**
 * Returns a copy of a structural schema that rejects unknown fields, the way
 * `kubectl apply --validate=strict` reports fields the API server would prune.
 *
 * Only schema-valued keywords are descended into, so `default` values and
 * property names that happen to look like keywords are left alone. Junctors
 * (allOf/anyOf/oneOf/not) are deliberately not descended into: structural
 * schemas must repeat every field they mention outside the junctor, and closing
 * a branch that lists only some of the fields would reject valid objects.
 */
function strictify(schema: JsonObject): JsonObject {
  const out: JsonObject = { ...schema };

  if (schema['x-kubernetes-int-or-string'] === true) {
    // The CRD spells this as `anyOf: [{type: integer}, {type: string}]`. A single
    // type union accepts the same values but yields one error instead of three
    // (one per branch plus "must match a schema in anyOf") for a wrong value.
    // `pattern`, when present, still applies to strings only.
    delete out.anyOf;
    out.type = ['integer', 'string'];
  }

  if (isJsonObject(schema.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, sub]) => [name, isJsonObject(sub) ? strictify(sub) : sub]),
    );
    if (schema.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
      out.additionalProperties = false;
    }
  }
  if (isJsonObject(schema.additionalProperties)) {
    out.additionalProperties = strictify(schema.additionalProperties);
  }
  if (isJsonObject(schema.items)) {
    out.items = strictify(schema.items);
  }
  return out;
}

function pyTorchJobSchema(openApi: JsonObject): JsonObject {
  const strict = strictify(openApi);
  const properties = isJsonObject(strict.properties) ? strict.properties : {};
  return {
    ...strict,
    // The CRD leaves these unconstrained because the API server routes by them;
    // a standalone check must pin them or a TFJob would pass as a PyTorchJob.
    properties: {
      ...properties,
      apiVersion: { type: 'string', const: `kubeflow.org/${CRD_VERSION}` },
      kind: { type: 'string', const: 'PyTorchJob' },
      metadata: OBJECT_META_SCHEMA,
    },
    required: ['apiVersion', 'kind', 'metadata', ...(Array.isArray(strict.required) ? strict.required : [])],
  };
}

function podTemplateSchema(jobSchema: JsonObject): JsonObject {
  const pick = (node: unknown, key: string): unknown => (isJsonObject(node) ? node[key] : undefined);
  const steps = ['properties', 'spec', 'properties', 'pytorchReplicaSpecs', 'additionalProperties', 'properties', 'template'];
  const template = steps.reduce<unknown>(pick, jobSchema);
  if (!isJsonObject(template)) {
    throw new UnusableInputError(`the PyTorchJob CRD has no PodTemplateSpec schema at ${steps.join('.')}`);
  }
  return template;
}

/**
 * The upstream PyTorchJob CRD's schema, made strict like `kubectl apply --validate=strict`: unknown fields are errors.
 * Users bring the CRD of their own operator version.
 */
export class CrdSchema {
  /** Reads a CRD file (`kubeflow.org_pytorchjobs.yaml`). */
  public static fromFile(file: string): CrdSchema {
    let text: string;
    try {
      if (statSync(file).size > MAX_CRD_BYTES) throw new UnusableInputError(`${file}: is too large to be a CRD`);
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if (error instanceof UnusableInputError) throw error;
      throw new UnusableInputError(`${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    return new CrdSchema(openApiSchema(text, file));
  }

  private readonly ajv: Ajv;
  private readonly jobSchema: JsonObject;
  private jobValidator?: ValidateFunction;
  private templateValidator?: ValidateFunction;

  private constructor(openApi: JsonObject) {
    // strict: false because the schema carries `x-kubernetes-*` extension keywords. ajv-formats defines the
    // OpenAPI formats the CRD uses (int32 with its range, int64, date-time).
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.jobSchema = pyTorchJobSchema(openApi);
  }

  /** Schema problems of a PyTorchJob; paths are JSON pointers. Compiled on first use (a few hundred milliseconds). */
  public checkPyTorchJob(manifest: unknown): Problem[] {
    this.jobValidator ??= this.ajv.compile(this.jobSchema);
    return run(this.jobValidator, manifest, '');
  }

  /** Schema problems of a PodTemplateSpec (a Job's `spec.template`), against the copy embedded in the CRD. */
  public checkPodTemplate(template: unknown, pointer: string): Problem[] {
    this.templateValidator ??= this.ajv.compile(podTemplateSchema(this.jobSchema));
    return run(this.templateValidator, template, pointer);
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
