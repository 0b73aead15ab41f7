import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Validates synthesized manifests against the upstream PyTorchJob CRD
 * (kubeflow/trainer `manifests/base/crds/kubeflow.org_pytorchjobs.yaml`).
 *
 * The CRD is read from outside the repository so the library never vendors it;
 * see `../shared/crds/SOURCES.md` for its provenance.
 */

type JsonObject = { [key: string]: unknown };

const CRD_FILE = 'kubeflow.org_pytorchjobs.yaml';
const CRD_DIR_ENV = 'KFPYTORCH_CRD_DIR';
const CRD_VERSION = 'v1';

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

function crdPath(): string {
  const dir = process.env[CRD_DIR_ENV] || path.resolve(__dirname, '..', '..', '..', 'shared', 'crds');
  return path.resolve(dir, CRD_FILE);
}

function loadOpenApiSchema(): JsonObject {
  const file = crdPath();
  if (!fs.existsSync(file)) {
    throw new Error(`PyTorchJob CRD not found at ${file}; set ${CRD_DIR_ENV} to the folder that holds ${CRD_FILE}`);
  }
  const crd: unknown = parse(fs.readFileSync(file, 'utf8'));
  const versions = isJsonObject(crd) && isJsonObject(crd.spec) && Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
  const version: unknown = versions.find((v: unknown) => isJsonObject(v) && v.name === CRD_VERSION);
  const schema = isJsonObject(version) && isJsonObject(version.schema) ? version.schema.openAPIV3Schema : undefined;
  if (!isJsonObject(schema)) {
    throw new Error(`${file} has no spec.versions[name=${CRD_VERSION}].schema.openAPIV3Schema`);
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

function pyTorchJobSchema(): JsonObject {
  const strict = strictify(loadOpenApiSchema());
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
    throw new Error(`PyTorchJob CRD has no PodTemplateSpec schema at ${steps.join('.')}`);
  }
  return template;
}

// Memoizes a factory: schema loading and compilation are slow (see below), so
// they run at most once per test file and only when a test needs them.
function lazy<T extends object>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const compiler = lazy(() => {
  // strict: false because the schema carries `x-kubernetes-*` extension keywords.
  const ajv = new Ajv({ strict: false, allErrors: true });
  // ajv-formats already defines the OpenAPI formats int32, int64, float, double
  // and byte (the CRD itself uses int32, int64 and date-time). Its int32 checks
  // the range, so a replica count that overflows the Go int32 field is caught;
  // registering permissive replacements would lose that.
  addFormats(ajv);
  return { ajv, jobSchema: pyTorchJobSchema() };
});

// Compiled separately because each costs a few hundred milliseconds and most
// test files need only one of them.
const pyTorchJobValidator = lazy(() => compiler().ajv.compile(compiler().jobSchema));
const podTemplateValidator = lazy(() => compiler().ajv.compile(podTemplateSchema(compiler().jobSchema)));

function formatError(error: ErrorObject): string {
  const where = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${where} must NOT have additional property '${String(error.params.additionalProperty)}'`;
  }
  if (error.keyword === 'const') {
    return `${where} must be equal to ${JSON.stringify(error.params.allowedValue)}`;
  }
  return `${where} ${error.message ?? `failed ${error.keyword}`}`;
}

function run(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : (validate.errors ?? []).map(formatError);
}

/**
 * Validates a PyTorchJob manifest against the strict CRD schema.
 * @returns one `<JSON pointer> <problem>` line per error; empty when valid.
 */
export function validatePyTorchJobSchema(manifest: unknown): string[] {
  return run(pyTorchJobValidator(), manifest);
}

/**
 * Validates a PodTemplateSpec (e.g. a batch/v1 Job's `spec.template`) against
 * the copy of the Kubernetes schema embedded in the PyTorchJob CRD.
 * @returns one `<JSON pointer> <problem>` line per error, relative to the template.
 */
export function validatePodTemplateSchema(template: unknown): string[] {
  return run(podTemplateValidator(), template);
}

/** Throws an Error listing every schema violation, so a failing test shows them all at once. */
export function expectValidPyTorchJob(manifest: unknown): void {
  const errors = validatePyTorchJobSchema(manifest);
  if (errors.length > 0) {
    throw new Error(`PyTorchJob manifest does not match the ${CRD_FILE} schema:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  }
}
