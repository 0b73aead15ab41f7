import type { ErrorObject, ValidateFunction } from 'ajv';
import type * as Cel from './cel';
import { CLUSTER_TRAINING_RUNTIME_KIND, TRAINER_API_VERSION, TRAINER_GROUP, TRAINER_VERSION, TRAINING_RUNTIME_KIND, TRAINJOB_KIND } from './facts';
import { isObject, Json, Problem, ProblemKind } from './problem';
import type * as StrictSchema from './strict-schema';

/** The kinds of Kubeflow Trainer v2 whose CRDs ship, with their CRD files in `schemas/` of the repository. */
export const TRAINER_CRD_FILES: { readonly [kind: string]: string } = {
  [TRAINJOB_KIND]: 'trainer.kubeflow.org_trainjobs.yaml',
  [TRAINING_RUNTIME_KIND]: 'trainer.kubeflow.org_trainingruntimes.yaml',
  [CLUSTER_TRAINING_RUNTIME_KIND]: 'trainer.kubeflow.org_clustertrainingruntimes.yaml',
};

/** The compiled validators and CEL rules of the Trainer CRDs, relative to this module (written by the build). */
export const TRAINER_VALIDATORS_MODULE = './generated/trainer-validators.js';

/** What the compiled module exports: per kind, the strict schema's validator and the CEL rules. */
export interface TrainerValidators {
  readonly validators: { readonly [kind: string]: ValidateFunction };
  readonly celRules: { readonly [kind: string]: readonly Cel.CelRuleSite[] };
}

const CRD_VERSION = TRAINER_API_VERSION.split('/')[1];

function load<T>(module: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(module) as T;
}

/** Names a generated name would get from `generateName`: the API server appends five characters before any rule runs. */
const GENERATED_SUFFIX = 'xxxxx';

let bundled: TrainerSchema | undefined;

/**
 * The schemas of the Kubeflow Trainer `TRAINER_VERSION` CRDs (TrainJob, TrainingRuntime, ClusterTrainingRuntime),
 * strict like `kubectl apply --validate=strict`, with their CEL rules (`x-kubernetes-validations`) evaluated as the
 * API server evaluates them on create.
 */
export class TrainerSchema {
  /** The shipped schemas, loaded on the first call. */
  public static bundled(): TrainerSchema {
    return bundled ??= new TrainerSchema(load<TrainerValidators>(TRAINER_VALIDATORS_MODULE));
  }

  /** Compiles the CRDs from their text (a few seconds): for tests of a CRD checked out elsewhere. */
  public static fromCrds(crds: { readonly [kind: string]: { readonly text: string; readonly file: string } }): TrainerSchema {
    return new TrainerSchema(compileTrainerCrds(crds));
  }

  private constructor(private readonly compiled: TrainerValidators) {}

  /** Whether a manifest is of a kind these schemas check. */
  public checks(manifest: Json): boolean {
    return manifest.apiVersion === TRAINER_API_VERSION && this.compiled.validators[manifest.kind] !== undefined;
  }

  /** Schema and CEL problems of a TrainJob, TrainingRuntime or ClusterTrainingRuntime; paths are JSON pointers. */
  public check(manifest: Json): Problem[] {
    const validate = this.compiled.validators[manifest.kind];
    if (validate === undefined) return [{ path: '/kind', message: `must be one of ${Object.keys(this.compiled.validators).join(', ')}`, kind: ProblemKind.SCHEMA }];
    const problems = validate(manifest) ? [] : (validate.errors ?? []).map(error => ({ path: error.instancePath || '/', message: describe(error), kind: ProblemKind.SCHEMA }));
    // The API server names the object before it validates it: a generated name is checked as it will be.
    const metadata: Json = isObject(manifest.metadata) ? manifest.metadata : {};
    const root = metadata.name === undefined && typeof metadata.generateName === 'string'
      ? { ...manifest, metadata: { ...metadata, name: `${metadata.generateName.slice(0, 63 - GENERATED_SUFFIX.length)}${GENERATED_SUFFIX}` } }
      : manifest;
    const cel = load<typeof Cel>('./cel');
    return [...problems, ...cel.checkCelRules(manifest, this.compiled.celRules[manifest.kind] ?? [], root)];
  }
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `must NOT have additional property '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'const') return `must be equal to ${JSON.stringify(error.params.allowedValue)}`;
  return error.message ?? `failed ${error.keyword}`;
}

/** The strict schemas of the three CRDs in one ajv instance (their pod templates compiled once), and their CEL rules. */
function trainerAjv(crds: { readonly [kind: string]: { readonly text: string; readonly file: string } }, source: boolean) {
  const strict = load<typeof StrictSchema>('./strict-schema');
  const cel = load<typeof Cel>('./cel');
  const ajv = strict.newAjv(source ? { source: true } : undefined);
  const objects: StrictSchema.Objects = new Map();
  const ids: { [kind: string]: string } = {};
  const celRules: { [kind: string]: Cel.CelRuleSite[] } = {};
  const roots: Array<[string, StrictSchema.JsonObject]> = [];
  for (const kind of Object.keys(TRAINER_CRD_FILES)) {
    const crd = crds[kind];
    if (crd === undefined) throw new Error(`no ${kind} CRD given`);
    const identity = { group: TRAINER_GROUP, kind, version: CRD_VERSION };
    const openApi = strict.openApiSchema(crd.text, crd.file, identity);
    const schema = strict.objectSchema(openApi, identity);
    strict.checkSchema(ajv, schema);
    celRules[kind] = cel.celRuleSites(openApi);
    roots.push([kind, strict.hoistObjects(schema, objects)]);
  }
  for (const object of objects.values()) ajv.addSchema(object.schema, object.id);
  for (const [kind, schema] of roots) {
    ids[kind] = kind;
    ajv.addSchema(schema, kind);
  }
  return { ajv, ids, celRules };
}

/** Compiles the Trainer CRDs at run time. */
export function compileTrainerCrds(crds: { readonly [kind: string]: { readonly text: string; readonly file: string } }): TrainerValidators {
  const { ajv, ids, celRules } = trainerAjv(crds, false);
  return { validators: Object.fromEntries(Object.entries(ids).map(([kind, id]) => [kind, ajv.getSchema(id)!])), celRules };
}

/** A CommonJS module exporting the `TrainerValidators` of the Trainer CRDs as standalone code, for the build. */
export function compileTrainerCrdsToModule(crds: { readonly [kind: string]: { readonly text: string; readonly file: string } }): string {
  const { ajv, ids, celRules } = trainerAjv(crds, true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: unknown, refs: { [name: string]: string }) => string }).default;
  const validators = standaloneCode(ajv, ids);
  return `// Trainer ${TRAINER_VERSION}\nconst validators = (() => { const exports = {}; const module = { exports };\n${validators}\nreturn module.exports; })();\n`
    + `exports.validators = validators;\nexports.celRules = ${JSON.stringify(celRules)};\n`;
}
