import { readdirSync, readFileSync, realpathSync, Stats, statSync } from 'fs';
import { join } from 'path';
import { CORE_SCHEMA, loadAll, YAMLException } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import {
  BATCH_JOB_API_VERSION, BATCH_JOB_KIND, CLUSTER_TRAINING_RUNTIME_KIND, PYTORCHJOB_API_VERSION, PYTORCHJOB_KIND, TRAINER_API_VERSION,
  TRAINING_CONTAINER_NAME, TRAINING_RUNTIME_KIND, TRAINJOB_KIND,
} from '../rules/facts';
import { cannotRead, fileType, regularFileStats } from '../rules/input-file';
import { isObject, Json, UnusableInputError } from '../rules/problem';

/** A manifest read from a file, with where it came from. */
export interface LoadedManifest {
  readonly file: string;
  /** 1-based position of the document in its file. */
  readonly document: number;
  readonly manifest: Json;
}

/** Larger files are refused rather than read: far more than thousands of synthesized jobs. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * How many times a document may use its anchors, counting the aliases inside what an alias stands for: enough for
 * a shared env list or pod template, while a "billion laughs" document, whose few lines expand exponentially, stops
 * at once. It is the yaml package's own default, written here because the rules walk every expanded copy.
 */
const MAX_ALIAS_COUNT = 100;

/** Reads every YAML document of the given files (multi-document files, as `cdk8s synth` writes them). */
export function loadManifests(files: readonly string[]): LoadedManifest[] {
  const loaded: LoadedManifest[] = [];
  for (const file of files) {
    const size = regularFileStats(file).size;
    if (size > MAX_FILE_BYTES) throw new UnusableInputError(`${file}: is ${Math.round(size / 2 ** 20)} MiB, above the ${MAX_FILE_BYTES / 2 ** 20} MiB read at most`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UnusableInputError(cannotRead(file, error));
    }
    if (text.includes('\u0000')) throw new UnusableInputError(`${file}: is a binary file, not YAML`);
    parseDocuments(text, file).forEach((manifest, i) => {
      if (manifest === null || manifest === undefined) return;
      if (!isObject(manifest)) throw new UnusableInputError(`${file}: document ${i + 1}: is not a mapping (a Kubernetes object)`);
      // `kubectl get … -o yaml` of several objects writes one List holding them.
      const objects = isList(manifest) ? manifest.items.filter(isObject) : [manifest];
      for (const object of objects) loaded.push({ file, document: i + 1, manifest: object });
    });
  }
  return loaded;
}

/**
 * Files as given, and the YAML files of folders, recursively and in name order, following symbolic links as a
 * shell does. Each real file is listed once, however many links lead to it, and a folder reached again through a
 * link (a loop) is not entered again. What cannot be used goes to `unusable`, one line each.
 */
export function expandPaths(paths: readonly string[], unusable: string[]): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  const firstVisit = (path: string): boolean => {
    const real = realpathSync(path);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  };
  /** A path given, or one met in a folder, where only YAML files and folders matter. */
  const visit = (path: string, given: boolean): void => {
    const wanted = given || /\.ya?ml$/.test(path);
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch (error) {
      // Also a broken link or a link loop (ELOOP): an error where a manifest should be, nothing elsewhere.
      if (wanted) unusable.push(cannotRead(path, error));
      return;
    }
    if (stats.isDirectory()) {
      if (firstVisit(path)) walk(path);
    } else if (wanted) {
      if (!stats.isFile()) unusable.push(`${path}: is not a regular file (${fileType(stats)})`);
      else if (firstVisit(path)) files.push(path);
    }
  };
  const walk = (folder: string): void => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch (error) {
      unusable.push(cannotRead(folder, error));
      return;
    }
    for (const name of names) visit(join(folder, name), false);
  };
  for (const path of paths) visit(path, true);
  return files;
}

/**
 * Parses every document of a YAML stream as kubectl does: anchors, aliases and `<<` merge keys are expanded (up to
 * MAX_ALIAS_COUNT) and duplicate keys are refused. Text without `&`, `*` or `<<`, which start anchors, aliases and
 * merge keys, goes to the fast parser, which reads thousands of synthesized jobs several times faster but merges
 * no keys; any other text to the one that bounds alias expansion.
 */
function parseDocuments(text: string, file: string): unknown[] {
  if (!/[&*]|<</.test(text)) {
    try {
      return loadAll(text, undefined, { schema: CORE_SCHEMA });
    } catch (error) {
      if (!(error instanceof YAMLException)) throw error;
      throw new UnusableInputError(`${file}: not valid YAML: ${error.reason} at line ${error.mark.line + 1}, column ${error.mark.column + 1}`);
    }
  }
  return parseAllDocuments(text, { uniqueKeys: true, merge: true }).map((doc, i) => {
    const [error] = doc.errors;
    if (error) throw new UnusableInputError(`${file}: document ${i + 1}: not valid YAML: ${error.message.split('\n')[0].replace(/:\s*$/, '')}`);
    try {
      return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (expansion) {
      // The yaml package reports an alias bomb, and an alias before its anchor, with a ReferenceError.
      if (!(expansion instanceof ReferenceError)) throw expansion;
      if (/^Excessive alias count/.test(expansion.message)) {
        throw new UnusableInputError(`${file}: document ${i + 1}: its aliases expand to more than ${MAX_ALIAS_COUNT} uses of anchors, as a YAML bomb's do: write the values out`);
      }
      throw new UnusableInputError(`${file}: document ${i + 1}: not valid YAML: ${expansion.message}`);
    }
  });
}

function isList(manifest: Json): manifest is Json & { items: unknown[] } {
  return manifest.apiVersion === 'v1' && manifest.kind === 'List' && Array.isArray(manifest.items);
}

/** Whether a manifest is a training job these tools understand: a PyTorchJob, a Job with a `pytorch` container, or a TrainJob. */
export function isTrainingJob(manifest: Json): boolean {
  return isPyTorchJob(manifest) || isTrainingBatchJob(manifest) || isTrainJob(manifest);
}

export function isTrainJob(manifest: Json): boolean {
  return manifest.apiVersion === TRAINER_API_VERSION && manifest.kind === TRAINJOB_KIND;
}

/** A TrainingRuntime or ClusterTrainingRuntime, which a TrainJob names. */
export function isTrainingRuntime(manifest: Json): boolean {
  return manifest.apiVersion === TRAINER_API_VERSION && [TRAINING_RUNTIME_KIND, CLUSTER_TRAINING_RUNTIME_KIND].includes(manifest.kind);
}

export function isPyTorchJob(manifest: Json): boolean {
  return manifest.apiVersion === PYTORCHJOB_API_VERSION && manifest.kind === PYTORCHJOB_KIND;
}

export function isTrainingBatchJob(manifest: Json): boolean {
  return manifest.apiVersion === BATCH_JOB_API_VERSION && manifest.kind === BATCH_JOB_KIND
    && Array.isArray(manifest.spec?.template?.spec?.containers)
    && manifest.spec.template.spec.containers.some((c: unknown) => isObject(c) && c.name === TRAINING_CONTAINER_NAME);
}

/** Picks the one job to run: the one named, or the only one there is. */
export function selectJob(manifests: readonly LoadedManifest[], name: string | undefined): LoadedManifest {
  const jobs = manifests.filter(m => isTrainingJob(m.manifest));
  if (name !== undefined) {
    const job = jobs.find(m => m.manifest.metadata?.name === name);
    if (!job) throw new UnusableInputError(`no job named ${JSON.stringify(name)}: the files hold ${describeJobs(jobs)}`);
    return job;
  }
  if (jobs.length === 1) return jobs[0];
  if (jobs.length === 0) {
    const kinds = [...new Set(manifests.map(m => `${m.manifest.apiVersion}/${m.manifest.kind}`))].join(', ') || 'no objects';
    const files = [...new Set(manifests.map(m => m.file))];
    const where = files.length === 1 ? `${files[0]}: ` : '';
    throw new UnusableInputError(`${where}no PyTorchJob, single-node torchrun Job or TrainJob in the files (found ${kinds})`);
  }
  throw new UnusableInputError(`the files hold ${describeJobs(jobs)}: choose one with --job NAME`);
}

/** The jobs, each with the file and document it is in. */
function describeJobs(jobs: readonly LoadedManifest[]): string {
  return jobs.length === 0 ? 'no training jobs' : jobs.map(j => `${j.manifest.kind} ${j.manifest.metadata?.name} (${j.file}:${j.document})`).join(', ');
}
