import { readdirSync, statSync } from 'fs';
import { join } from 'path';
import { isPyTorchJob, isTrainingBatchJob, loadManifests, LoadedManifest } from './manifests';
import { checkTrainingBatchJob } from '../rules/batch-job';
import { Problem, UnusableInputError } from '../rules/problem';
import { checkPyTorchJob } from '../rules/pytorchjob';
import { CrdSchema } from '../rules/schema';

/** A problem found in one document of one file. */
export interface FoundProblem extends Problem {
  readonly file: string;
  readonly document: number;
  /** The object's kind and name, e.g. `PyTorchJob/resnet50-ddp`. */
  readonly object: string;
}

/** What `validate` found. */
export interface ValidationReport {
  readonly problems: FoundProblem[];
  /** Inputs that could not be read or parsed, one line each. */
  readonly unusable: string[];
  /** Training jobs checked. */
  readonly checked: number;
  /** Other objects, passed over. */
  readonly skipped: number;
}

/**
 * Applies the library's rules (and, given a CRD, its schema) to every PyTorchJob and single-node torchrun Job
 * in the given files and folders, wherever the YAML came from.
 */
export function validatePaths(paths: readonly string[], schema: CrdSchema | undefined): ValidationReport {
  const report: ValidationReport = { problems: [], unusable: [], checked: 0, skipped: 0 };
  const counts = { checked: 0, skipped: 0 };
  for (const file of expandPaths(paths, report.unusable)) {
    let manifests: LoadedManifest[];
    try {
      manifests = loadManifests([file]);
    } catch (error) {
      if (!(error instanceof UnusableInputError)) throw error;
      report.unusable.push(error.message);
      continue;
    }
    for (const loaded of manifests) {
      const problems = checkManifest(loaded.manifest, schema);
      if (problems === undefined) {
        counts.skipped++;
        continue;
      }
      counts.checked++;
      const object = `${loaded.manifest.kind}/${loaded.manifest.metadata?.name ?? '(no name)'}`;
      report.problems.push(...problems.map(problem => ({ ...problem, file, document: loaded.document, object })));
    }
  }
  return { ...report, ...counts };
}

/** Problems of one manifest, or undefined when it is not a training job. */
export function checkManifest(manifest: { [key: string]: any }, schema: CrdSchema | undefined): Problem[] | undefined {
  if (isPyTorchJob(manifest)) return [...schema?.checkPyTorchJob(manifest) ?? [], ...checkPyTorchJob(manifest)];
  if (isTrainingBatchJob(manifest)) {
    return [...schema?.checkPodTemplate(manifest.spec.template, '/spec/template') ?? [], ...checkTrainingBatchJob(manifest)];
  }
  return undefined;
}

/** Files as given, and the YAML files of folders, recursively, in a stable order. */
export function expandPaths(paths: readonly string[], unusable: string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      unusable.push(`${path}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      continue;
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    for (const entry of readdirSync(path, { recursive: true, encoding: 'utf8' }).sort()) {
      if (/\.ya?ml$/.test(entry)) files.push(join(path, entry));
    }
  }
  return files;
}

/** The report as people read it: `file:document: field: message (kind)`, then a count. */
export function formatReport(report: ValidationReport): string {
  const lines = report.problems.map(p => `${p.file}:${p.document}: ${p.path}: ${p.message} (${p.kind})`);
  lines.push(`${report.checked} training job(s) checked, ${report.problems.length} problem(s)`
    + `${report.skipped > 0 ? `, ${report.skipped} other object(s) passed over` : ''}`);
  return lines.join('\n') + '\n';
}
