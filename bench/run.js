// npm run bench: synthesis cost of the library against raw cdk8s ApiObjects, its scaling, `kfpytorch validate`'s
// throughput and the cost of its schema check, and the cold start. Every case runs as a fresh process, library and
// baseline alternating, so that drift of the machine hits both; the medians and their ratios are printed with the
// targets.
const { execFileSync, spawnSync } = require('child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('fs');
const { cpus, tmpdir, totalmem } = require('os');
const { join, resolve } = require('path');
const { parseAllDocuments } = require('yaml');
const { KINDS } = require('./jobs');

const ROOT = resolve(__dirname, '..');
const SIZES = [100, 1000, 5000];
const ROUNDS = { 100: 5, 1000: 5, 5000: 3 };
const COLD_ROUNDS = 7;
const SCHEMA_ROUNDS = 7;
const scratch = mkdtempSync(join(tmpdir(), 'kfpytorch-bench-'));

function run(script, args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [join(__dirname, script), ...args], { encoding: 'utf8', cwd: ROOT });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${script} ${args.join(' ')} failed:\n${result.stderr}`);
  return { wallMs, ...JSON.parse(result.stdout || '{}') };
}

// The command as users run it, with the CRD schema shipped in the package unless told otherwise.
function kfpytorch(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'kfpytorch'), ...args], { encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`kfpytorch ${args.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return wallMs;
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const outputOf = dir => readFileSync(join(dir, readdirSync(dir).find(f => f.endsWith('.yaml'))), 'utf8');

// The raw baseline's templates: the library's own manifests of job 0.
const templateDir = join(scratch, 'templates');
run('synth-library.js', ['1', templateDir]);
const templates = parseAllDocuments(outputOf(templateDir)).map(doc => doc.toJS())
  .map(manifest => ({ id: manifest.metadata.name.replace(/-0$/, ''), manifest }));
const templatesFile = join(scratch, 'templates.json');
writeFileSync(templatesFile, JSON.stringify(templates));

const rows = [];
let validateInput;
for (const n of SIZES) {
  const library = [];
  const raw = [];
  for (let round = 0; round < ROUNDS[n]; round++) {
    const libraryDir = join(scratch, `library-${n}-${round}`);
    const rawDir = join(scratch, `raw-${n}-${round}`);
    library.push(run('synth-library.js', [String(n), libraryDir]));
    raw.push(run('synth-raw.js', [String(n), rawDir, templatesFile]));
    if (round === 0) {
      if (outputOf(libraryDir) !== outputOf(rawDir)) throw new Error(`N=${n}: the library's and the baseline's files differ`);
      if (n === SIZES[SIZES.length - 1]) validateInput = join(libraryDir, readdirSync(libraryDir)[0]);
    }
    if (!(n === SIZES[SIZES.length - 1] && round === 0)) rmSync(libraryDir, { recursive: true });
    rmSync(rawDir, { recursive: true });
  }
  rows.push({
    n,
    libraryMs: median(library.map(r => r.wallMs)), rawMs: median(raw.map(r => r.wallMs)),
    libraryMiB: median(library.map(r => r.maxRssKiB)) / 1024, rawMiB: median(raw.map(r => r.maxRssKiB)) / 1024,
  });
}

// validate over the largest output (N jobs of each kind, a TrainJob's runtime counted as a job), through the command
// line, CRD schema included.
const validateMs = kfpytorch(['validate', validateInput]);
const validatedJobs = templates.length * SIZES[SIZES.length - 1];

// validate of one small file (job 0's manifests), with the shipped schema and without it, alternating: what the
// schema adds to a run is mostly loading its compiled code.
const smallFile = join(templateDir, readdirSync(templateDir).find(f => f.endsWith('.yaml')));
const schema = { checked: [], skipped: [] };
for (let round = 0; round < SCHEMA_ROUNDS; round++) {
  schema.checked.push(kfpytorch(['validate', smallFile]));
  schema.skipped.push(kfpytorch(['validate', smallFile, '--no-schema']));
}

const cold = { library: [], baseline: [] };
for (let round = 0; round < COLD_ROUNDS; round++) {
  cold.library.push(run('cold-start.js', ['library', join(scratch, 'cold')]).wallMs);
  cold.baseline.push(run('cold-start.js', ['baseline']).wallMs);
}
rmSync(scratch, { recursive: true, force: true });

const fmt = (value, digits = 2) => value.toFixed(digits);
const byN = Object.fromEntries(rows.map(row => [row.n, row]));
const coldLibrary = median(cold.library);
const coldBaseline = median(cold.baseline);
const jobsPerSecond = validatedJobs / (validateMs / 1000);
const schemaChecked = median(schema.checked);
const schemaSkipped = median(schema.skipped);
const lines = [
  `cdk8s-kfpytorch benchmark, ${new Date().toISOString().slice(0, 10)}: node ${process.version}, ${cpus().length} × ${cpus()[0].model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  '',
  '| jobs (N of each kind) | library wall | raw wall | wall ratio | library peak | raw peak | memory ratio | library ms/job | raw ms/job |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(r => `| ${r.n} | ${fmt(r.libraryMs / 1000)} s | ${fmt(r.rawMs / 1000)} s | ${fmt(r.libraryMs / r.rawMs)} | ${fmt(r.libraryMiB, 0)} MiB | ${fmt(r.rawMiB, 0)} MiB | ${fmt(r.libraryMiB / r.rawMiB)} | ${fmt(r.libraryMs / (KINDS * r.n), 3)} | ${fmt(r.rawMs / (KINDS * r.n), 3)} |`),
  '',
  `kfpytorch validate, ${validatedJobs} jobs with the CRD schema: ${fmt(validateMs / 1000)} s, ${fmt(jobsPerSecond, 0)} jobs/s`,
  `kfpytorch validate of one small file with / without the CRD schema (--no-schema): ${fmt(schemaChecked, 0)} ms / ${fmt(schemaSkipped, 0)} ms = ${fmt(schemaChecked / schemaSkipped)}`,
  `cold start (require and synthesize one job / require cdk8s and cdk8s-plus-28): ${fmt(coldLibrary, 0)} ms / ${fmt(coldBaseline, 0)} ms = ${fmt(coldLibrary / coldBaseline)}`,
  '',
  'targets:',
];
const targets = [
  [`wall ratio at N=1000 ≤ 1.2: ${fmt(byN[1000].libraryMs / byN[1000].rawMs)}`, byN[1000].libraryMs / byN[1000].rawMs <= 1.2],
  [`wall ratio at N=5000 ≤ 1.2: ${fmt(byN[5000].libraryMs / byN[5000].rawMs)}`, byN[5000].libraryMs / byN[5000].rawMs <= 1.2],
  [`memory ratio at N=1000 ≤ 1.2: ${fmt(byN[1000].libraryMiB / byN[1000].rawMiB)}`, byN[1000].libraryMiB / byN[1000].rawMiB <= 1.2],
  [`memory ratio at N=5000 ≤ 1.2: ${fmt(byN[5000].libraryMiB / byN[5000].rawMiB)}`, byN[5000].libraryMiB / byN[5000].rawMiB <= 1.2],
  [`library wall(5000)/wall(1000) ≤ 5.5: ${fmt(byN[5000].libraryMs / byN[1000].libraryMs)}`, byN[5000].libraryMs / byN[1000].libraryMs <= 5.5],
  [`cold start ratio ≤ 1.3: ${fmt(coldLibrary / coldBaseline)}`, coldLibrary / coldBaseline <= 1.3],
  [`validate ≥ 2000 jobs/s: ${fmt(jobsPerSecond, 0)}`, jobsPerSecond >= 2000],
  [`schema costs ≤ 2× without (validate of one small file): ${fmt(schemaChecked / schemaSkipped)}`, schemaChecked / schemaSkipped <= 2],
];
lines.push(...targets.map(([text, met]) => `- ${met ? 'met   ' : 'MISSED'} ${text}`));
console.log(lines.join('\n'));
process.exitCode = targets.every(([, met]) => met) ? 0 : 1;
