#!/usr/bin/env bash
# Every test from a fresh clone, with the set-up they need: the Debian packages, the npm dependencies, the build
# (jsii, API.md, jest, eslint, the npm package), the Python package built and tested in a new virtual environment,
# the Go bindings' smoke test, and the packed npm package installed into a new cdk8s app. .ci/run runs this too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs a Debian package when this shell can (as root, or with sudo that asks no password); otherwise stops
# at once with the command to run.
debian_package() {
  local package=$1 why=$2
  local install="apt-get update && apt-get install -y $package"
  if command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    echo "Installing Debian's $package: $why"
    local as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -qq && apt-get install -y -qq $package >/dev/null"
  else
    echo "$why: install Debian's $package, then run this again:" >&2
    echo "  sudo sh -c '$install'" >&2
    exit 1
  fi
}

# The torchrun tests run the real torchrun: Debian's build, torch with gloo on CPU and /usr/bin/torchrun.
/usr/bin/python3 -c 'import torch' 2>/dev/null || debian_package python3-torch 'the torchrun tests run /usr/bin/torchrun'
# The Python package's tests make a virtual environment; Debian's python3 has no venv without this package.
python3 -c 'import ensurepip, venv' 2>/dev/null || debian_package python3-venv 'the Python tests make a virtual environment'

npm ci
# With CI set, the build packages only JavaScript: test:python builds the wheel that it tests.
CI=true npx projen build
npx projen test:python
npx projen test:go
npx projen test:fresh-app
