import { ApiObject, ApiObjectMetadata, GroupVersionKind, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { formatProblem, Json, Problem } from '../rules/problem';

/** Kubernetes' limit for a DNS label: pod and Service names. */
const MAX_NAME_LENGTH = 63;

/**
 * Adds the construct's single object and checks it at synth time with the same rules `validate` applies,
 * so that an app with a bad job fails before any file is written.
 *
 * A plain ApiObject, not the generated L1 class: that class filters its output and drops resource
 * quantities and `emptyDir.sizeLimit` (cdk8s#2172).
 *
 * @param podSuffix the longest suffix the operator appends to the name for a pod and its Service, such as
 * `-worker-11`: a name cdk8s generates is shortened (keeping its hash) so that the operator's names still fit
 */
export function addCheckedObject(scope: Construct, gvk: GroupVersionKind, metadata: ApiObjectMetadata | undefined,
  spec: Json, check: (manifest: Json) => Problem[], podSuffix = ''): ApiObject {
  let apiObject = new ApiObject(scope, 'Resource', { ...gvk, metadata, spec });
  const maxLen = MAX_NAME_LENGTH - podSuffix.length;
  if (metadata?.name === undefined && apiObject.name.length > maxLen) {
    const name = Names.toDnsLabel(apiObject, { maxLen });
    scope.node.tryRemoveChild(apiObject.node.id);
    apiObject = new ApiObject(scope, 'Resource', { ...gvk, metadata: { ...metadata, name }, spec });
  }
  const manifest = { ...gvk, metadata: { name: apiObject.name }, spec };
  // cdk8s validates every construct twice per synth (the app, then each chart); the manifest does not change.
  let problems: string[] | undefined;
  scope.node.addValidation({ validate: () => problems ??= check(manifest).map(formatProblem) });
  return apiObject;
}
