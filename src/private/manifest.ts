import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';
import { formatProblem, Json, Problem } from '../rules/problem';

/**
 * Adds the construct's single object and checks it at synth time with the same rules `validate` applies,
 * so that an app with a bad job fails before any file is written.
 *
 * A plain ApiObject, not the generated L1 class: that class filters its output and drops resource
 * quantities and `emptyDir.sizeLimit` (cdk8s#2172).
 */
export function addCheckedObject(scope: Construct, gvk: GroupVersionKind, metadata: ApiObjectMetadata | undefined,
  spec: Json, check: (manifest: Json) => Problem[]): ApiObject {
  const apiObject = new ApiObject(scope, 'Resource', { ...gvk, metadata, spec });
  const manifest = { ...gvk, metadata: { name: apiObject.name }, spec };
  // cdk8s validates every construct twice per synth (the app, then each chart); the manifest does not change.
  let problems: string[] | undefined;
  scope.node.addValidation({ validate: () => problems ??= check(manifest).map(formatProblem) });
  return apiObject;
}
