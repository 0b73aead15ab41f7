/**
 * A new object with the fields of `base` and then those of `fields`, as `{ ...base, ...fields }` makes it.
 *
 * Code that runs for every job writes this instead of the spread: on Node 20, V8 gives every object made by a spread
 * followed by more fields a hidden class of its own. Those classes stay in memory until a full collection, which a
 * synth of thousands of jobs never reaches, and they make every function that reads such objects megamorphic.
 * `Object.assign` onto a fresh object shares one class among objects with the same keys.
 *
 * Only for objects with fixed fields, never for maps keyed by the user (env, labels): `Object.assign` sets the
 * prototype for a key `__proto__`, where a spread makes it a field.
 */
export function withFields<B extends object, F extends object>(base: B | undefined, fields: F | undefined): B & F {
  return Object.assign({}, base, fields) as B & F;
}
