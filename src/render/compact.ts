/**
 * Removes `undefined` values, and the objects left empty by that, from plain JSON, so that
 * optional settings leave no trace in the manifest. Arrays are kept, even when empty.
 */
export function compact<T>(value: T): T {
  return compactValue(value) as T;
}

function compactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compactValue);
  if (value === null || typeof value !== 'object') return value;
  const result: { [key: string]: unknown } = {};
  let kept = 0;
  let given = 0;
  for (const key in value) {
    given++;
    const item = (value as { [key: string]: unknown })[key];
    const compacted = compactValue(item);
    if (compacted === undefined || (isEmptyObject(compacted) && !isEmptyObject(item))) continue;
    result[key] = compacted;
    kept++;
  }
  return kept > 0 || given === 0 ? result : undefined;
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}
