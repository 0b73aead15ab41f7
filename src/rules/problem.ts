/** An input the tools cannot use at all: reported as one line, with exit status 2. */
export class UnusableInputError extends Error {}

/** Which check found a problem. */
export enum ProblemKind {
  /** The API server's schema check (the CRD's OpenAPI schema) rejects the object. */
  SCHEMA = 'schema',
  /** The operator's validating webhook rejects the object at apply time. */
  WEBHOOK = 'webhook',
  /** The API server accepts the object, but the operator, the kubelet or torchrun trips over it later. */
  OPERATIONAL = 'operational',
}

/** How much a problem matters. */
export enum Severity {
  /** The API server or the webhook rejects the object, or the job cannot work: it hangs, crashes or trains a wrong world. */
  ERROR = 'error',
  /** The job works, but what it says is deprecated, risky or likely slow. */
  WARNING = 'warning',
}

/** One thing wrong with a manifest, at one field. */
export interface Problem {
  /** The field, in the webhook's notation, e.g. `spec.pytorchReplicaSpecs[Worker].replicas`. */
  readonly path: string;
  /** What is wrong: the value and the rule it breaks. */
  readonly message: string;
  readonly kind: ProblemKind;
  /** Omitted for an error: most rules report what cannot work, and only warnings say so. */
  readonly severity?: Severity;
}

export function severityOf(problem: Problem): Severity {
  return problem.severity ?? Severity.ERROR;
}

export function isError(problem: Problem): boolean {
  return severityOf(problem) === Severity.ERROR;
}

/** Renders a manifest value for a message: JSON, or `(omitted)`. */
export function show(value: unknown): string {
  if (value === undefined) return '(omitted)';
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
}

/**
 * Adds `more` to `problems`. The rules run for every job a synth writes, mostly finding nothing: a loop costs less
 * than a spread of an empty list, in code that V8 has not optimized yet.
 */
export function append(problems: Problem[], more: readonly Problem[]): void {
  for (let i = 0; i < more.length; i++) problems.push(more[i]);
}

export function formatProblem(problem: Problem): string {
  return `${problem.path}: ${problem.message}`;
}

/** A plain JSON object of a manifest, read without trusting its shape. */
export type Json = { [key: string]: any };

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A field that holds a whole number, with its least value and the rule as the message states it. */
export type WholeNumberField = [field: string, value: unknown, min: number, rule: string];

/** Problems with fields that must be whole numbers of at least some value (counts, seconds). */
export function checkWholeNumbers(path: string, fields: readonly WholeNumberField[], kind: ProblemKind): Problem[] {
  return fields.filter(([, value, min]) => value !== undefined && !isWholeNumber(value, min))
    .map(([field, value, , rule]) => ({ path: `${path}.${field}`, message: `${show(value)} must be ${rule}`, kind }));
}

export function isWholeNumber(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}
