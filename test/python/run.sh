#!/usr/bin/env bash
# The Python package's tests (`npx projen test:python`, which builds the wheel first): pytest in a new virtual
# environment that holds the wheel from dist/python and the pinned packages of requirements.txt from PyPI, as a
# user's would. Torch is not needed there.
set -euo pipefail
cd "$(dirname "$0")/../.."

wheels=(dist/python/cdk8s_kfpytorch-*.whl)
if [ ! -f "${wheels[0]}" ]; then
  echo "test/python: no wheel in dist/python: run npx projen package:python first" >&2
  exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
pip=("$scratch/venv/bin/python" -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install --require-hashes -r test/python/requirements.txt
# The wheel is built here, so it has no hash to pin: installed without resolving, then checked against its own
# requirements, which the pinned set must satisfy.
"${pip[@]}" install --no-deps "${wheels[@]}"
"${pip[@]}" check

# No bytecode or pytest cache in the work tree.
PYTHONDONTWRITEBYTECODE=1 "$scratch/venv/bin/python" -m pytest -p no:cacheprovider test/python
