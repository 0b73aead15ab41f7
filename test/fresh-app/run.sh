#!/usr/bin/env bash
# The package as a cdk8s user gets it (`npx projen test:fresh-app`, after a compile): npm pack, then a new app made
# from this folder, which holds what `cdk8s init typescript-app` writes (cdk8s, constructs, the newer cdk8s-plus it
# scaffolds, TypeScript, ts-node; locked), the README's `npm install` with the tarball in place of the registry,
# and `cdk8s synth` of the README's example there. The installed package's `kfpytorch validate` then checks what was
# written, and `cdk8s-kfpytorch/local-run` runs it dry. Type-checking an app that passes a cdk8s-plus-33 Volume where
# the library takes cdk8s-plus-28's must fail, as the README's Install section says.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tarball=$scratch/$(npm pack --silent --pack-destination "$scratch" | tail -n 1)

app=$scratch/app
mkdir "$app"
cp test/fresh-app/{package.json,package-lock.json,tsconfig.json,cdk8s.yaml} "$app"
node_modules/.bin/ts-node --transpile-only -P test/tsconfig.json \
  -e "process.stdout.write(require('./test/support/readme').readmeBlock('Example', 'ts'))" > "$app/main.ts"

cd "$app"
npm install --no-audit --no-fund --loglevel=error "$tarball" cdk8s-plus-28
# The command-line tool is cdk8s-cli's, this repository's copy: the app's own packages are what is under test.
"$repo/node_modules/.bin/cdk8s" synth --no-check-upgrade
test -s dist/training.k8s.yaml
npx --no-install kfpytorch validate dist

cat > run-dry.ts <<'EOF'
import { runLocally } from 'cdk8s-kfpytorch/local-run';

runLocally({ files: ['dist/training.k8s.yaml'], jobName: 'resnet50-ddp', dryRun: true, cpuOnly: true })
  .then(result => { if (!result.succeeded) throw new Error(result.reason); });
EOF
npx --no-install ts-node run-dry.ts > dry-run.txt
grep -q 'MASTER_ADDR=127.0.0.1' dry-run.txt

cat > mixed.ts <<'EOF'
import { App, Chart } from 'cdk8s';
import { Volume } from 'cdk8s-plus-33';
import { PyTorchJob, Worker } from 'cdk8s-kfpytorch';

const chart = new Chart(new App(), 'mixed');
new PyTorchJob(chart, 'job', {
  image: 'train:1',
  volumeMounts: [{ volume: Volume.fromEmptyDir(chart, 'scratch', 'scratch'), path: '/scratch' }],
  worker: new Worker(),
});
EOF
if npx --no-install tsc --noEmit -p . > mixed.txt 2>&1; then
  echo "test/fresh-app: a cdk8s-plus-33 Volume type-checked where the library takes cdk8s-plus-28's" >&2
  exit 1
fi
grep -q "separate declarations of a private property" mixed.txt || { cat mixed.txt >&2; exit 1; }
echo "test/fresh-app: the packed package synthesizes the README's example in a new cdk8s app"
