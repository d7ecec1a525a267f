#!/usr/bin/env bash
# Generates the Python classes of Xinfang's events from proto/ into the folder given (default
# ./generated): `import xinfang.routing.v1.events_pb2` then works with that folder on sys.path.
# PYTHON names the interpreter with grpcio-tools (default python3); paths may be relative.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
proto="$(cd "$here/../../proto" && pwd)"
out="${1:-$here/generated}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
python="${PYTHON:-python3}"
if [[ "$python" == */* ]]; then
    python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
fi
mapfile -t files < <(cd "$proto" && find xinfang -name '*.proto' | sort)
(cd "$proto" && "$python" -m grpc_tools.protoc -I . --python_out="$out" "${files[@]}")
echo "generated ${#files[@]} files into $out" >&2
