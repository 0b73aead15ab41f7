import { expandPaths, isPyTorchJob, isTrainingBatchJob, isTrainingRuntime, isTrainJob, loadManifests, LoadedManifest } from './manifests';
import { checkTrainingBatchJob } from '../rules/batch-job';
import { isError, Json, Problem, ProblemKind, Severity, severityOf, UnusableInputError } from '../rules/problem';
import { checkPyTorchJob } from '../rules/pytorchjob';
import { CrdSchema } from '../rules/schema';
import { TrainerSchema } from '../rules/trainer-schema';
import { checkTrainingRuntime, checkTrainJob, runtimeFinder } from '../rules/trainjob';

/**
 * Problems reported per object: enough to fix what is wrong, while a generated object with a hundred thousand
 * broken entries still gives a report a person (or a CI log) can read.
 */
export const MAX_PROBLEMS_PER_OBJECT = 100;

/** Where a problem was found: one document of one file. */
export interface FoundIn {
  readonly file: string;
  readonly document: number;
  /** The object's kind and name, e.g. `PyTorchJob/resnet50-ddp`. */
  readonly object: string;
}

/** A problem found in one document of one file, with its severity always written out. */
export interface FoundProblem extends Problem, FoundIn {
  readonly severity: Severity;
}

/** The problems of one object beyond the first `MAX_PROBLEMS_PER_OBJECT`: counted, not listed. */
export interface OmittedProblems extends FoundIn {
  readonly errors: number;
  readonly warnings: number;
}

/** What `validate` found. */
export interface ValidationReport {
  /** At most `MAX_PROBLEMS_PER_OBJECT` per object, in the order the checks found them. */
  readonly problems: FoundProblem[];
  readonly omitted: OmittedProblems[];
  /** Every error and warning found, listed or not. */
  readonly errors: number;
  readonly warnings: number;
  /** Inputs that could not be read or parsed, one line each. */
  readonly unusable: string[];
  /** Training jobs checked. */
  readonly checked: number;
  /** Other objects, passed over. */
  readonly skipped: number;
}

/**
 * Applies the library's rules (and, given a CRD schema, the schema) to every PyTorchJob, single-node torchrun Job,
 * TrainJob and Trainer runtime in the given files and folders, wherever the YAML came from.
 */
export function validatePaths(paths: readonly string[], schema: CrdSchema | undefined): ValidationReport {
  const problems: FoundProblem[] = [];
  const omitted: OmittedProblems[] = [];
  const unusable: string[] = [];
  const totals = { errors: 0, warnings: 0, checked: 0, skipped: 0 };
  const files: Array<[string, LoadedManifest[]]> = [];
  for (const file of expandPaths(paths, unusable)) {
    try {
      files.push([file, loadManifests([file])]);
    } catch (error) {
      if (!(error instanceof UnusableInputError)) throw error;
      unusable.push(error.message);
    }
  }
  // A TrainJob's patches are checked against its runtime when the same files hold it.
  const findRuntime = runtimeFinder(files.flatMap(([, manifests]) => manifests.map(loaded => loaded.manifest)).filter(isTrainingRuntime));
  for (const [file, manifests] of files) {
    for (const loaded of manifests) {
      const found = checkManifest(loaded.manifest, schema, findRuntime);
      if (found === undefined) {
        totals.skipped++;
        continue;
      }
      totals.checked++;
      const errors = found.filter(isError).length;
      totals.errors += errors;
      totals.warnings += found.length - errors;
      const where: FoundIn = { file, document: loaded.document, object: `${loaded.manifest.kind}/${loaded.manifest.metadata?.name ?? '(no name)'}` };
      const listed = found.slice(0, MAX_PROBLEMS_PER_OBJECT);
      for (const problem of listed) problems.push({ ...where, ...problem, severity: severityOf(problem) });
      if (found.length > listed.length) {
        const omittedErrors = errors - listed.filter(isError).length;
        omitted.push({ ...where, errors: omittedErrors, warnings: found.length - listed.length - omittedErrors });
      }
    }
  }
  return { problems, omitted, unusable, ...totals };
}

/**
 * Problems of one manifest, or undefined when it is not a training job or a Trainer v2 runtime. A TrainJob and its
 * runtimes are checked against the shipped Trainer CRDs whenever a schema is checked at all.
 * @param findRuntime the runtime a TrainJob names among those known beside it, against which its patches are checked
 */
export function checkManifest(manifest: { [key: string]: any }, schema: CrdSchema | undefined,
  findRuntime: (job: Json) => Json | undefined = () => undefined): Problem[] | undefined {
  if (isPyTorchJob(manifest)) return [...schema?.checkPyTorchJob(manifest) ?? [], ...checkPyTorchJob(manifest)];
  if (isTrainJob(manifest)) {
    const trainerSchema = schema ? TrainerSchema.bundled().check(manifest) : [];
    // The rules repeat the CRD's CEL name rules for synth time: reported once, by the CRD, when it is checked.
    const cel = new Set(trainerSchema.map(problem => problem.message));
    const rules = checkTrainJob(manifest, findRuntime(manifest));
    return [...trainerSchema, ...rules.filter(problem => problem.kind !== ProblemKind.SCHEMA || !cel.has(problem.message))];
  }
  if (isTrainingRuntime(manifest)) return [...schema ? TrainerSchema.bundled().check(manifest) : [], ...checkTrainingRuntime(manifest)];
  if (isTrainingBatchJob(manifest)) {
    return [...schema?.checkPodTemplate(manifest.spec.template, '/spec/template') ?? [], ...checkTrainingBatchJob(manifest)];
  }
  return undefined;
}

/**
 * The report as people read it: `file:document: field: message (kind, severity)`, a line counting what an object
 * had beyond the problems listed, then the totals.
 */
export function formatReport(report: ValidationReport): string {
  const omitted = new Map(report.omitted.map(o => [place(o), o]));
  const lines: string[] = [];
  report.problems.forEach((p, i) => {
    lines.push(`${place(p)}: ${p.path}: ${p.message} (${p.kind}, ${p.severity})`);
    const rest = omitted.get(place(p));
    const next = report.problems[i + 1];
    if (rest && (next === undefined || place(next) !== place(p))) {
      lines.push(`${place(p)}: ${p.object}: ${rest.errors + rest.warnings} more problem(s) not listed: ${counts(rest)}`);
    }
  });
  lines.push(`${report.checked} training job(s) checked, ${counts(report)}`
    + `${report.skipped > 0 ? `, ${report.skipped} other object(s) passed over` : ''}`);
  return lines.join('\n') + '\n';
}

function place(where: FoundIn): string {
  return `${where.file}:${where.document}`;
}

function counts(found: { readonly errors: number; readonly warnings: number }): string {
  return `${found.errors} error(s), ${found.warnings} warning(s)`;
}
