#!/usr/bin/env bash
# Runs buf (from npm @bufbuild/buf, installed under .tools/) with the
# googleapis protos of PyPI's googleapis-common-protos linked where buf.yaml
# expects them. Usage: scripts/buf.sh lint | scripts/buf.sh build ...
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if [ ! -x .tools/node_modules/.bin/buf ]; then
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@1.75.0 >/dev/null
fi
googleapis=$("$PY" -c "import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent.parent)")
mkdir -p .tools/googleapis/google
ln -sfn "$googleapis/google/api" .tools/googleapis/google/api
ln -sfn "$googleapis/google/rpc" .tools/googleapis/google/rpc
exec .tools/node_modules/.bin/buf "$@"
