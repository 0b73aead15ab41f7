import { ApiObject, ApiObjectMetadata, GroupVersionKind, JsonPatch, Lazy, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { formatProblem, Json, Problem } from '../rules/problem';

/** Kubernetes' limit for a DNS label: pod and Service names. */
const MAX_NAME_LENGTH = 63;

/**
 * A construct's single object, rendered when it is synthesized (so that amendments made after construction count,
 * in any order) and checked with the same rules `validate` applies on exactly what cdk8s writes, JSON patches
 * included. The check runs in cdk8s's validation phase, before any file is written.
 *
 * A plain ApiObject, not the generated L1 class: that class filters its output and drops resource
 * quantities and `emptyDir.sizeLimit` (cdk8s#2172).
 */
export class CheckedApiObject extends ApiObject {
  /** The object as validated, handed to the write that follows the validation in the same synth. */
  private validated?: Json;
  /**
   * Whether nothing changed since the rules last found the object clean. cdk8s validates the whole app once more
   * for every chart it writes; without this, an app of many charts would render and check its jobs again each time.
   */
  private clean = false;
  private spec?: Json;

  public constructor(scope: Construct, gvk: GroupVersionKind, metadata: ApiObjectMetadata | undefined,
    private readonly renderSpec: () => Json, private readonly check: (manifest: Json) => Problem[]) {
    super(scope, 'Resource', { ...gvk, metadata, spec: Lazy.any({ produce: () => this.spec ??= this.renderSpec() }) });
  }

  public toJson(): any {
    const validated = this.validated;
    this.validated = undefined;
    if (validated) return validated;
    // Written without a validation just before (a second synth, or a chart written on its own): checked all the same.
    const manifest = this.write();
    const problems = this.check(manifest).map(formatProblem);
    const path = this.node.scope!.node.path;
    if (problems.length > 0) throw new Error(`Validation failed with the following errors:\n  [${path}] ${problems.join(`\n  [${path}] `)}`);
    this.clean = true;
    return manifest;
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.invalidate();
    super.addJsonPatch(...ops);
  }

  /** Forgets the last check: called when the job is amended. */
  public invalidate(): void {
    this.validated = undefined;
    this.clean = false;
  }

  /** The problems of the object as it will be written, reported on the construct that owns it. */
  public validateWritten(): string[] {
    if (this.clean) return [];
    try {
      this.spec = this.renderSpec();
    } catch (error) {
      return [(error as Error).message];
    }
    const manifest = this.write();
    const problems = this.check(manifest).map(formatProblem);
    if (problems.length === 0) {
      this.validated = manifest;
      this.clean = true;
    }
    return problems;
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

/**
 * Adds a construct's single object.
 * @param podSuffix the longest suffix the operator appends to the name for a pod and its Service, such as
 * `-worker-11`: a name cdk8s generates is shortened (keeping its hash) so that the operator's names still fit
 */
export function addCheckedObject(scope: Construct, gvk: GroupVersionKind, metadata: ApiObjectMetadata | undefined,
  renderSpec: () => Json, check: (manifest: Json) => Problem[], podSuffix = ''): CheckedApiObject {
  let apiObject = new CheckedApiObject(scope, gvk, metadata, renderSpec, check);
  const maxLen = MAX_NAME_LENGTH - podSuffix.length;
  if (metadata?.name === undefined && apiObject.name.length > maxLen) {
    const name = Names.toDnsLabel(apiObject, { maxLen });
    scope.node.tryRemoveChild(apiObject.node.id);
    apiObject = new CheckedApiObject(scope, gvk, { ...metadata, name }, renderSpec, check);
  }
  const checked = apiObject;
  scope.node.addValidation({ validate: () => checked.validateWritten() });
  return apiObject;
}
