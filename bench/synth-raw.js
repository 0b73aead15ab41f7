// The baseline: the same manifests written as raw cdk8s ApiObjects in one chart, as a hand-written app would.
// The per-kind templates come from the library's own output (TEMPLATES), so the files are byte-identical.
const { readFileSync } = require('fs');
const { ApiObject, App, Chart } = require('cdk8s');

const [n, outdir, templatesFile] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const templates = JSON.parse(readFileSync(templatesFile, 'utf8'));
const app = new App({ outdir });
const chart = new Chart(app, 'jobs');
for (let i = 0; i < n; i++) {
  for (const { id, manifest } of templates) {
    const { apiVersion, kind, metadata, spec } = JSON.parse(JSON.stringify(manifest).split(`${id}-0`).join(`${id}-${i}`));
    // A TrainJob and its runtime share a name: the kind keeps their construct ids apart.
    new ApiObject(chart, `${kind}-${id}-${i}`, { apiVersion, kind, metadata, spec });
  }
}
app.synth();
process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
