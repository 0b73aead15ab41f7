import Ajv, { CodeOptions, ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { UnusableInputError } from './problem';

export type JsonObject = { [key: string]: unknown };

/** The validators of a PyTorchJob and of a batch/v1 Job's PodTemplateSpec (its pod spec the CRD's); also the exports of the compiled module. */
export interface Validators {
  readonly pyTorchJob: ValidateFunction;
  readonly podTemplate: ValidateFunction;
}

const CRD_VERSION = 'v1';

const TIME = { type: 'string', format: 'date-time' };
const STRINGS = { type: 'array', items: { type: 'string' } };
const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } };

// The CRD types top-level metadata as a bare `type: object` because the API server validates ObjectMeta itself.
// Without a real schema here, strictness would stop at metadata and a typo such as `lables` would go unnoticed.
// The fields and types are those of the API server's ObjectMeta (io.k8s.apimachinery.pkg.apis.meta.v1), so that
// an object read back with `kubectl get -o yaml` passes too.
const OBJECT_META_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    generateName: { type: 'string' },
    namespace: { type: 'string' },
    labels: STRING_MAP,
    annotations: STRING_MAP,
    // `kubectl create --dry-run -o yaml` writes an unset timestamp as null, which the API server reads as unset.
    creationTimestamp: { ...TIME, type: ['string', 'null'] },
    deletionTimestamp: { ...TIME, type: ['string', 'null'] },
    deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
    generation: { type: 'integer', format: 'int64' },
    resourceVersion: { type: 'string' },
    selfLink: { type: 'string' },
    uid: { type: 'string' },
    finalizers: STRINGS,
    ownerReferences: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          name: { type: 'string' },
          uid: { type: 'string' },
          controller: { type: 'boolean' },
          blockOwnerDeletion: { type: 'boolean' },
        },
        required: ['apiVersion', 'kind', 'name', 'uid'],
        additionalProperties: false,
      },
    },
    managedFields: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          fieldsType: { type: 'string' },
          // The field set (`f:spec` …) is free-form JSON.
          fieldsV1: { type: 'object' },
          manager: { type: 'string' },
          operation: { type: 'string' },
          subresource: { type: 'string' },
          time: TIME,
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** Where the replica's PodTemplateSpec sits in the job schema. */
const TEMPLATE_PATH = ['properties', 'spec', 'properties', 'pytorchReplicaSpecs', 'additionalProperties', 'properties', 'template'];

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}

/** Which CRD a file must hold: its group, kind and served version. */
export interface CrdIdentity {
  readonly group: string;
  readonly kind: string;
  readonly version: string;
}

const PYTORCHJOB_CRD: CrdIdentity = { group: 'kubeflow.org', kind: 'PyTorchJob', version: CRD_VERSION };

/** The `openAPIV3Schema` of a CRD's version, or an error naming the CRD the file should have been. */
export function openApiSchema(crdText: string, file: string, expected: CrdIdentity = PYTORCHJOB_CRD): JsonObject {
  const what = `the ${expected.kind} CRD`;
  let crd: unknown;
  try {
    crd = parse(crdText);
  } catch (error) {
    throw new UnusableInputError(`${file}: is not ${what}: not one YAML document (${firstLine(error)})`);
  }
  const versions = isJsonObject(crd) && isJsonObject(crd.spec) && Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
  const version: unknown = versions.find((v: unknown) => isJsonObject(v) && v.name === expected.version);
  const schema = isJsonObject(version) && isJsonObject(version.schema) ? version.schema.openAPIV3Schema : undefined;
  const names = isJsonObject(crd) && isJsonObject(crd.spec) && isJsonObject(crd.spec.names) ? crd.spec.names : {};
  if (!isJsonObject(crd) || crd.kind !== 'CustomResourceDefinition' || (crd.spec as JsonObject).group !== expected.group
    || names.kind !== expected.kind || !isJsonObject(schema)) {
    throw new UnusableInputError(`${file}: is not ${what} (${expected.group}, kind ${expected.kind}, with a ${expected.version} schema)`);
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
 *
 * Descriptions are dropped: they are most of the CRD's bytes, and the compiled
 * code embeds the schema it was compiled from.
 */
export function strictify(schema: JsonObject): JsonObject {
  const out: JsonObject = { ...schema };
  delete out.description;
  // CEL rules are evaluated apart (rules/cel.ts): ajv does not know them.
  delete out['x-kubernetes-validations'];

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

/** The strict schema of a whole object of a CRD, its apiVersion and kind pinned and its metadata typed. */
export function objectSchema(openApi: JsonObject, expected: CrdIdentity): JsonObject {
  const strict = strictify(openApi);
  const properties = isJsonObject(strict.properties) ? strict.properties : {};
  return {
    ...strict,
    // The CRD leaves these unconstrained because the API server routes by them;
    // a standalone check must pin them or a TFJob would pass as a PyTorchJob.
    properties: {
      ...properties,
      apiVersion: { type: 'string', const: `${expected.group}/${expected.version}` },
      kind: { type: 'string', const: expected.kind },
      metadata: OBJECT_META_SCHEMA,
    },
    required: ['apiVersion', 'kind', 'metadata', ...(Array.isArray(strict.required) ? strict.required : [])],
  };
}

export type Objects = Map<string, { readonly id: string; readonly schema: JsonObject }>;

/** The id among `objects` of a schema, its parts hoisted: one id per distinct schema. */
export function define(schema: JsonObject, objects: Objects): string {
  const hoisted = hoistObjects(schema, objects);
  const key = JSON.stringify(hoisted);
  const object = objects.get(key) ?? { id: `object${objects.size}`, schema: hoisted };
  objects.set(key, object);
  return object.id;
}

/**
 * Returns a copy of a schema in which every object schema below it that lists properties is a reference to one
 * copy of that object schema, one per distinct one. ajv then writes a small function per distinct object instead of
 * inlining the whole tree: the parts the pod spec repeats (container, probe, affinity term …) are compiled once, and
 * V8 compiles, on first call, only the functions that the object being checked reaches.
 */
export function hoistObjects(schema: JsonObject, objects: Objects): JsonObject {
  const refer = (sub: unknown): unknown => {
    if (!isJsonObject(sub)) return sub;
    return isJsonObject(sub.properties) ? { $ref: define(sub, objects) } : hoistObjects(sub, objects);
  };
  const out: JsonObject = { ...schema };
  if (isJsonObject(schema.properties)) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, sub]) => [name, refer(sub)]));
  }
  if (isJsonObject(schema.additionalProperties)) out.additionalProperties = refer(schema.additionalProperties);
  if (isJsonObject(schema.items)) out.items = refer(schema.items);
  return out;
}

/**
 * An ajv instance for strict CRD schemas. strict: false because the schema carries `x-kubernetes-*` extension
 * keywords. inlineRefs: false keeps every referenced schema in a function of its own. ajv-formats defines the
 * OpenAPI formats the CRDs use (int32 with its range, int64, date-time).
 */
export function newAjv(code?: CodeOptions): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, inlineRefs: false, validateSchema: false, code });
  addFormats(ajv);
  return ajv;
}

/**
 * Checks a schema, whole, rather than by addSchema: its message would list every error of every branch, and the
 * paths would be those of the parts instead of where they are in the CRD.
 */
export function checkSchema(ajv: Ajv, strict: JsonObject): void {
  if (!ajv.validateSchema(strict)) {
    const [first] = ajv.errors ?? [];
    throw new Error(`openAPIV3Schema${first?.instancePath ?? ''} ${first?.message ?? 'is not a schema'}`);
  }
}

/** An ajv instance holding a CRD's strict schemas, and their ids in it. */
function strictAjv(crdText: string, file: string, code?: CodeOptions): { ajv: Ajv; ids: { [name in keyof Validators]: string } } {
  const strict = objectSchema(openApiSchema(crdText, file), PYTORCHJOB_CRD);
  const ajv = newAjv(code);
  checkSchema(ajv, strict);
  const template = TEMPLATE_PATH.reduce<unknown>((node, key) => (isJsonObject(node) ? node[key] : undefined), strict);
  if (!isJsonObject(template)) {
    throw new UnusableInputError(`${file}: is not the PyTorchJob CRD: no PodTemplateSpec schema at ${TEMPLATE_PATH.join('.')}`);
  }
  const objects: Objects = new Map();
  // A batch/v1 Job's template is a core PodTemplateSpec, whose metadata is a whole ObjectMeta (read back, it holds
  // `creationTimestamp: null`), where the CRD's copy lists five fields; its pod spec is the CRD's.
  const podTemplate = define({ ...template, properties: { ...template.properties as JsonObject, metadata: OBJECT_META_SCHEMA } }, objects);
  const pyTorchJob = hoistObjects(strict, objects);
  for (const object of objects.values()) ajv.addSchema(object.schema, object.id);
  ajv.addSchema(pyTorchJob, 'pyTorchJob');
  return { ajv, ids: { pyTorchJob: 'pyTorchJob', podTemplate } };
}

/** Compiles a PyTorchJob CRD's strict schemas at run time (about half a second for the upstream CRD). */
export function compileCrd(crdText: string, file: string): Validators {
  try {
    const { ajv, ids } = strictAjv(crdText, file);
    return { pyTorchJob: ajv.getSchema(ids.pyTorchJob)!, podTemplate: ajv.getSchema(ids.podTemplate)! };
  } catch (error) {
    if (error instanceof UnusableInputError) throw error;
    throw new UnusableInputError(`${file}: its ${CRD_VERSION} schema does not compile: ${firstLine(error)}`);
  }
}

/** A CommonJS module exporting the `Validators` of a PyTorchJob CRD as standalone code, for the build. */
export function compileCrdToModule(crdText: string, file: string): string {
  const { ajv, ids } = strictAjv(crdText, file, { source: true });
  return standaloneCode(ajv, ids);
}
