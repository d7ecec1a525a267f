#!/usr/bin/env bash
# Installs the Python a department's example subscriber needs (nats-py, protobuf, the
# protobuf compiler) into the project's tool folder; the suite runs the example with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/departments"
requirements="$root/deploy/departments/requirements.txt"
stamp="$venv/.requirements"

if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$stamp"; then
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    echo "installing python3-venv (needed for the project's tool folder)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >&2
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "department example: $("$venv/bin/python" -c 'from importlib.metadata import version as v; print("nats-py", v("nats-py"), "protobuf", v("protobuf"))')" >&2
