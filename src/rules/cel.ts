import type * as Cel from '@bufbuild/cel';
import type * as Re2 from '@bufbuild/re2';
import { isObject, Json, Problem, ProblemKind } from './problem';

/** One `x-kubernetes-validations` entry. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

/**
 * The CEL rules of one node of a CRD schema, and where the node is: property names, with `*` for any item of a list
 * or any value of a map.
 */
export interface CelRuleSite {
  readonly path: readonly string[];
  readonly rules: readonly CelRule[];
}

/** Any item of a list, any value of a map. */
const ANY = '*';

type JsonObject = { [key: string]: unknown };

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Transition rules compare with the stored object (`oldSelf`), which the API server evaluates on update only: a
 * manifest checked before it is applied is a create, so they do not apply.
 */
function isTransitionRule(rule: string): boolean {
  return /\boldSelf\b/.test(rule.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, ''));
}

/**
 * Every node of a CRD's `openAPIV3Schema` that carries CEL rules, with the rules a create is checked with.
 * Refuses a schema in which a checked node holds a `type: number` field: the evaluation types JSON numbers by
 * their value (whole numbers as CEL `int`), which is the CRD's typing only while every number it checks is an integer.
 */
export function celRuleSites(schema: JsonObject): CelRuleSite[] {
  const sites: CelRuleSite[] = [];
  const walk = (node: JsonObject, path: string[], checked: boolean) => {
    const validations = Array.isArray(node['x-kubernetes-validations']) ? node['x-kubernetes-validations'] : [];
    const rules = validations.filter(isJsonObject)
      .map(entry => ({ rule: String(entry.rule), message: typeof entry.message === 'string' ? entry.message : undefined }))
      .filter(entry => !isTransitionRule(entry.rule));
    if (rules.length > 0) sites.push({ path, rules });
    const below = checked || rules.length > 0;
    if (below && node.type === 'number') throw new Error(`${path.join('.')}: a number checked by a CEL rule, which the evaluation would type as an int`);
    if (isJsonObject(node.properties)) {
      for (const [name, sub] of Object.entries(node.properties)) if (isJsonObject(sub)) walk(sub, [...path, name], below);
    }
    if (isJsonObject(node.additionalProperties)) walk(node.additionalProperties, [...path, ANY], below);
    if (isJsonObject(node.items)) walk(node.items, [...path, ANY], below);
  };
  walk(schema, [], false);
  return sites;
}

/** The values at a site's path in a manifest, with their JSON pointers. */
function valuesAt(value: unknown, path: readonly string[], pointer: string, out: Array<[string, unknown]>): void {
  if (value === undefined || value === null) return;
  if (path.length === 0) {
    out.push([pointer || '/', value]);
    return;
  }
  const [head, ...rest] = path;
  if (head === ANY) {
    if (Array.isArray(value)) value.forEach((item, i) => valuesAt(item, rest, `${pointer}/${i}`, out));
    else if (isObject(value)) for (const [key, item] of Object.entries(value)) valuesAt(item, rest, `${pointer}/${escape(key)}`, out);
    return;
  }
  if (isObject(value) && Object.prototype.hasOwnProperty.call(value, head)) valuesAt(value[head], rest, `${pointer}/${escape(head)}`, out);
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * A JSON value as the API server hands it to CEL: objects as maps, whole numbers as `int` (a bigint), other numbers
 * as `double`.
 */
function celValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(celValue);
  if (isObject(value)) return new Map(Object.entries(value).map(([key, item]) => [key, celValue(item)]));
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return value;
}

type Program = (bindings: { self: unknown }) => unknown;

/** The CEL evaluator, loaded on first use: it takes about a quarter of a second to load, which most runs never need. */
let cel: typeof Cel | undefined;
let env: ReturnType<typeof Cel.celEnv> | undefined;
const programs = new Map<string, Program>();

function program(rule: string): Program {
  let compiled = programs.get(rule);
  if (compiled === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cel ??= require('@bufbuild/cel') as typeof Cel;
    env ??= cel.celEnv({ re2: compiledOnce() });
    compiled = cel.plan(env, cel.parse(rule)) as unknown as Program;
    programs.set(rule, compiled);
  }
  return compiled;
}

/**
 * RE2, as CEL's `matches()` uses it, with each pattern compiled once: the evaluator compiles the pattern on every call,
 * which was most of the cost of a TrainJob's schema check.
 */
function compiledOnce(): { compile(pattern: string): { test(input: string): boolean } } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RE2JS } = require('@bufbuild/re2') as typeof Re2;
  const patterns = new Map<string, { test(input: string): boolean }>();
  return {
    compile: pattern => {
      let compiled = patterns.get(pattern);
      if (compiled === undefined) {
        compiled = RE2JS.compile(pattern);
        patterns.set(pattern, compiled);
      }
      return compiled;
    },
  };
}

/**
 * Evaluates CEL rules against a manifest as the API server does on create: each rule with `self` bound to every
 * value at its node that the manifest has, a rule that is not true reported with its message (or, as the API server
 * words it, `failed rule: <rule>`), and a rule that fails to evaluate reported with the error.
 * @param root a copy of the manifest that the rules at the root see (such as with the name a `generateName` gets)
 */
export function checkCelRules(manifest: Json, sites: readonly CelRuleSite[], root: Json = manifest): Problem[] {
  const problems: Problem[] = [];
  for (const site of sites) {
    const found: Array<[string, unknown]> = [];
    valuesAt(site.path.length === 0 ? root : manifest, site.path, '', found);
    for (const [pointer, value] of found) {
      const self = celValue(value);
      for (const { rule, message } of site.rules) {
        let result: unknown;
        try {
          result = program(rule)({ self });
        } catch (error) {
          result = error;
        }
        if (result === true) continue;
        const failure = typeof result === 'boolean' ? message ?? `failed rule: ${rule}`
          : `rule ${rule} could not be evaluated: ${result instanceof Error ? result.message : String(result)}`;
        problems.push({ path: pointer, message: failure, kind: ProblemKind.SCHEMA });
      }
    }
  }
  return problems;
}
