// One benchmark case: synthesize N jobs of each kind with the library, in one chart, to OUTDIR.
const { App, Chart } = require('cdk8s');
const { addJobs } = require('./jobs');

const [n, outdir] = [Number(process.argv[2]), process.argv[3]];
const app = new App({ outdir });
const chart = new Chart(app, 'jobs');
for (let i = 0; i < n; i++) addJobs(chart, i);
app.synth();
process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
