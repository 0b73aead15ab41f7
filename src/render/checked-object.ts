import { ApiObject, ApiObjectMetadata, GroupVersionKind, JsonPatch, Lazy } from 'cdk8s';
import { Construct, IValidation } from 'constructs';
import { withFields } from '../rules/objects';
import { formatProblem, isError, Json, Problem } from '../rules/problem';

/** Kubernetes' limit for a DNS label: pod and Service names. */
const MAX_NAME_LENGTH = 63;

/** The id of a construct's single object, as cdk8s-plus names it. */
const RESOURCE_ID = 'Resource';

/** The context key that makes the rules' warnings fail synthesis like errors, when `true`. */
export const FATAL_WARNINGS_CONTEXT = 'cdk8s-kfpytorch:fatalWarnings';

/**
 * A construct's single object, rendered when it is synthesized (so that amendments made after construction count,
 * in any order) and checked with the same rules `validate` applies on exactly what cdk8s writes, JSON patches
 * included. The check runs in cdk8s's validation phase, before any file is written.
 *
 * A plain ApiObject, not the generated L1 class: that class filters its output and drops resource
 * quantities and `emptyDir.sizeLimit` (cdk8s#2172).
 */
export class CheckedApiObject extends ApiObject implements IValidation {
  /** The object as validated, handed to the write that follows the validation in the same synth. */
  private validated?: Json;
  /** The object as written for another object's check, handed to this object's own validation that follows. */
  private written?: Json;
  /**
   * Whether nothing changed since the rules last found the object clean. cdk8s validates the whole app once more
   * for every chart it writes; without this, an app of many charts would render and check its jobs again each time.
   */
  private clean = false;
  private spec?: Json;
  /** Warnings already shown: each once, however often cdk8s validates the app. Made on the first warning. */
  private shownWarnings?: Set<string>;
  /** Objects rendered from the same options (a TrainJob's runtime made for it), or checked against this one. */
  private checkedWith?: CheckedApiObject[];
  private invalidating = false;

  public constructor(scope: Construct, id: string, gvk: GroupVersionKind, metadata: ApiObjectMetadata | undefined,
    private readonly renderSpec: () => Json, private readonly check: (manifest: Json) => Problem[]) {
    // Written out, not spread from gvk: see withFields.
    super(scope, id, { apiVersion: gvk.apiVersion, kind: gvk.kind, metadata, spec: Lazy.any({ produce: () => this.spec ??= this.renderSpec() }) });
  }

  public toJson(): any {
    const validated = this.validated;
    this.validated = undefined;
    this.written = undefined;
    if (validated) return validated;
    // Written without a validation just before (a second synth, or a chart written on its own): checked all the same.
    const manifest = this.write();
    const problems = this.errors(manifest);
    const path = this.owner.node.path;
    if (problems.length > 0) throw new Error(`Validation failed with the following errors:\n  [${path}] ${problems.join(`\n  [${path}] `)}`);
    this.clean = true;
    return manifest;
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.invalidate();
    super.addJsonPatch(...ops);
  }

  /**
   * The object as it will be written, without checking it: for the checks of another object that refers to it. Once
   * validated, that object is at hand; rendering it again would double the cost of the check that asks.
   */
  public manifest(): Json {
    return this.validated ?? (this.written ??= this.write());
  }

  /** Forgets the last check: called when the job is amended. */
  public invalidate(): void {
    // A job and the runtime made for it invalidate each other.
    if (this.invalidating) return;
    this.invalidating = true;
    this.validated = undefined;
    this.written = undefined;
    this.clean = false;
    for (const other of this.checkedWith ?? []) other.invalidate();
    this.invalidating = false;
  }

  /** Makes an amendment of this object forget the last check of another that is rendered from it or checked against it. */
  public invalidates(other: CheckedApiObject): void {
    (this.checkedWith ??= []).push(other);
  }

  /** The problems of the object as it will be written, reported on the construct that owns it. */
  public validate(): string[] {
    if (this.clean) return [];
    let manifest = this.written;
    this.written = undefined;
    if (manifest === undefined) {
      try {
        this.spec = this.renderSpec();
      } catch (error) {
        return [(error as Error).message];
      }
      manifest = this.write();
    }
    const problems = this.errors(manifest);
    if (problems.length === 0) {
      this.validated = manifest;
      this.clean = true;
    }
    return problems;
  }

  /**
   * The problems that fail synthesis, formatted: the errors, and the warnings when the context makes them fatal.
   * Other warnings are shown on standard error, since cdk8s has no channel for them.
   */
  private errors(manifest: Json): string[] {
    const fatal = [true, 'true'].includes(this.node.tryGetContext(FATAL_WARNINGS_CONTEXT));
    const problems = this.check(manifest);
    for (const warning of fatal ? [] : problems.filter(problem => !isError(problem)).map(formatProblem)) {
      this.shownWarnings ??= new Set();
      if (this.shownWarnings.has(warning)) continue;
      this.shownWarnings.add(warning);
      process.stderr.write(`[${this.owner.node.path}] warning: ${warning}\n`);
    }
    return (fatal ? problems : problems.filter(isError)).map(formatProblem);
  }

  /** The construct whose path the problems are reported on: the L2 that holds the object, or the object itself. */
  public get owner(): Construct {
    return this.node.id === RESOURCE_ID ? this.node.scope! : this;
  }

  /** What cdk8s writes: the rendered spec resolved, the metadata, the patches applied. */
  private write(): Json {
    try {
      return super.toJson();
    } finally {
      this.spec = undefined;
    }
  }
}

/** What cdk8s ends a generated name with: a hash of the construct path, which keeps it unique. */
const GENERATED_HASH = /^(.*)-([0-9a-f]{8})$/;
/** Put before a generated name that would not start with a letter. */
const GENERATED_NAME_PREFIX = 'job';

/**
 * The name cdk8s generates from the construct path, made a DNS-1035 label: construct ids may hold upper case, `_`
 * and `.`, or start with a digit, which the operator refuses and cdk8s leaves in. Lower-cased, anything else made
 * `-`, shortened to `maxLen` keeping the hash, and starting with a letter.
 */
function dnsLabelName(generated: string, maxLen: number): string {
  const [, body, hash] = GENERATED_HASH.exec(generated) ?? [undefined, generated, undefined];
  let label = body.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  if (!/^[a-z]/.test(label)) label = `${GENERATED_NAME_PREFIX}-${label}`;
  label = label.slice(0, maxLen - (hash === undefined ? 0 : hash.length + 1)).replace(/-+$/, '');
  return hash === undefined ? label : `${label}-${hash}`;
}

/**
 * Adds a construct's single object.
 * @param podSuffix the longest suffix the operator appends to the name for a pod and its Service, such as
 * `-worker-11`: a name cdk8s generates is shortened (keeping its hash) so that the operator's names still fit
 * @param id the object's construct id: `Resource` for the object of an L2, another for one more object beside it
 */
export function addCheckedObject(scope: Construct, gvk: GroupVersionKind, metadata: ApiObjectMetadata | undefined,
  renderSpec: () => Json, check: (manifest: Json) => Problem[], podSuffix = '', id = RESOURCE_ID): CheckedApiObject {
  let apiObject = new CheckedApiObject(scope, id, gvk, metadata, renderSpec, check);
  const name = metadata?.name === undefined ? dnsLabelName(apiObject.name, MAX_NAME_LENGTH - podSuffix.length) : undefined;
  if (name !== undefined && name !== apiObject.name) {
    scope.node.tryRemoveChild(apiObject.node.id);
    apiObject = new CheckedApiObject(scope, id, gvk, withFields(metadata, { name }), renderSpec, check);
  }
  const checked = apiObject;
  // The object is its own validation: one object fewer per job than a closure would be.
  checked.owner.node.addValidation(checked);
  return apiObject;
}
