#!/usr/bin/env bash
# The Go bindings' smoke test (`npx projen test:go`, after a compile): go test in a copy of this module, against
# the Go bindings of this package and of cdk8s and cdk8s-plus-28, which jsii-pacmak (the one package:go runs) makes
# here from the npm packages: the Go module proxy does not serve cdk8s's own to the project's machines, and those
# are made by jsii-pacmak from the same npm versions. The other modules are those go.sum pins.
set -euo pipefail
cd "$(dirname "$0")/../.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp test/go/{go.mod,go.sum,smoke_test.go} "$scratch"
node_modules/.bin/jsii-pacmak --target go --code-only --outdir "$scratch/gen" node_modules/cdk8s node_modules/cdk8s-plus-28 .
node_modules/.bin/ts-node --transpile-only -P test/tsconfig.json test/support/twins.ts "$scratch/twins"
cd "$scratch"
KFPYTORCH_TWINS="$scratch/twins" go test -count=1 -v ./...
