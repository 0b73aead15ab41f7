import { readFileSync, statSync } from 'fs';
import { CORE_SCHEMA, loadAll, YAMLException } from 'js-yaml';
import { parseAllDocuments, visit } from 'yaml';
import { BATCH_JOB_API_VERSION, BATCH_JOB_KIND, PYTORCHJOB_API_VERSION, PYTORCHJOB_KIND, TRAINING_CONTAINER_NAME } from '../rules/facts';
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

/** Reads every YAML document of the given files (multi-document files, as `cdk8s synth` writes them). */
export function loadManifests(files: readonly string[]): LoadedManifest[] {
  const loaded: LoadedManifest[] = [];
  for (const file of files) {
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > MAX_FILE_BYTES) throw new UnusableInputError(`${file}: is ${Math.round(size / 2 ** 20)} MiB, above the ${MAX_FILE_BYTES / 2 ** 20} MiB read at most`);
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if (error instanceof UnusableInputError) throw error;
      throw new UnusableInputError(`${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (text.includes('\u0000')) throw new UnusableInputError(`${file}: is a binary file, not YAML`);
    parseDocuments(text, file).forEach((manifest, i) => {
      if (manifest === null || manifest === undefined) return;
      if (!isObject(manifest)) throw new UnusableInputError(`${file}: document ${i + 1}: is not a mapping (a Kubernetes object)`);
      loaded.push({ file, document: i + 1, manifest });
    });
  }
  return loaded;
}

/**
 * Parses every document of a YAML stream, refusing duplicate keys and anchors or aliases (which tools expand
 * differently). Only `&` and `*` can start an anchor or an alias: text without them goes to the fast parser,
 * which reads thousands of synthesized jobs several times faster; any other text to the one that can see aliases.
 */
function parseDocuments(text: string, file: string): unknown[] {
  if (!/[&*]/.test(text)) {
    try {
      return loadAll(text, undefined, { schema: CORE_SCHEMA });
    } catch (error) {
      if (!(error instanceof YAMLException)) throw error;
      throw new UnusableInputError(`${file}: not valid YAML: ${error.reason} at line ${error.mark.line + 1}, column ${error.mark.column + 1}`);
    }
  }
  return parseAllDocuments(text, { uniqueKeys: true }).map((doc, i) => {
    const [error] = doc.errors;
    if (error) throw new UnusableInputError(`${file}: document ${i + 1}: not valid YAML: ${error.message.split('\n')[0].replace(/:\s*$/, '')}`);
    let alias = false;
    visit(doc, { Alias: () => { alias = true; return visit.BREAK; } });
    if (alias) {
      throw new UnusableInputError(`${file}: document ${i + 1}: uses YAML anchors and aliases, which tools expand differently: write the values out`);
    }
    return doc.toJS();
  });
}

/** Whether a manifest is a training job these tools understand: a PyTorchJob, or a Job with a `pytorch` container. */
export function isTrainingJob(manifest: Json): boolean {
  return isPyTorchJob(manifest) || isTrainingBatchJob(manifest);
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
    throw new UnusableInputError(`no PyTorchJob or single-node torchrun Job in the files (found ${kinds})`);
  }
  throw new UnusableInputError(`the files hold ${describeJobs(jobs)}: choose one with --job NAME`);
}

function describeJobs(jobs: readonly LoadedManifest[]): string {
  return jobs.length === 0 ? 'no training jobs' : jobs.map(j => `${j.manifest.kind} ${j.manifest.metadata?.name}`).join(', ');
}
