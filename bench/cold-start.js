// Cold start: require the library and synthesize one job, or (baseline) require cdk8s and cdk8s-plus alone.
const started = process.hrtime.bigint();
if (process.argv[2] === 'library') {
  const { App, Chart } = require('cdk8s');
  const { addJobs } = require('./jobs');
  const app = new App({ outdir: process.argv[3] });
  addJobs(new Chart(app, 'jobs'), 0);
  app.synthYaml();
} else {
  require('cdk8s');
  require('cdk8s-plus-28');
}
process.stdout.write(JSON.stringify({ inProcessMs: Number(process.hrtime.bigint() - started) / 1e6 }));
