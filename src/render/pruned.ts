/**
 * The defined fields of an object the renderer has just built, or undefined when there are none: an option left
 * out leaves no trace in the manifest, and cdk8s, which visits every field when it writes the object, has fewer to
 * visit. Shallow, so that values given by the user are never touched.
 */
export function pruned<T extends object>(value: T): T | undefined {
  const defined: { [key: string]: unknown } = {};
  let kept = 0;
  for (const key in value) {
    if (value[key] !== undefined) {
      defined[key] = value[key];
      kept++;
    }
  }
  return kept > 0 ? defined as T : undefined;
}
