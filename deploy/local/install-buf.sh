#!/usr/bin/env bash
# Installs buf (npm @bufbuild/buf) into the project's tool folder, for `buf lint` and
# `buf breaking` on proto/ (make lint) and `buf curl` against a running stack.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${BUF_VERSION:-1.75.0}"
folder="$root/.tools/buf"
binary="$folder/node_modules/.bin/buf"

if [ -x "$binary" ] && [ "$("$binary" --version 2>/dev/null)" = "$version" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "installing npm (needed for buf)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
fi
mkdir -p "$folder"
npm install --silent --no-audit --no-fund --prefix "$folder" "@bufbuild/buf@$version" >&2
"$binary" --version >&2
