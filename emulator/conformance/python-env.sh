#!/usr/bin/env bash
# Makes (once) a virtualenv with Auth0's Python SDK pinned by python/requirements.txt, under
# the project cache, and prints its python. Keyed by the requirements' hash and the Python
# version, so a bump makes a fresh one. Needs python3 (3.9+) with venv and pip, and PyPI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${AUTH0_OPERATOR_CACHE:-$HOME/.cache/auth0-operator}"
requirements="$here/python/requirements.txt"
python="${PYTHON:-python3}"
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
key="$(sha256sum "$requirements" | cut -c1-12)"
venv="$cache/python/auth0-sdk-py$version-$key"

if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
