#!/usr/bin/env bash
# Regenerates prescient_client/gen/ from proto/: messages (_pb2.py), typing stubs (_pb2.pyi) and gRPC
# stubs (_pb2_grpc.py). Usage: clients/python/generate.sh [output-dir]   (default: prescient_client/gen)
#
# Needs Debian's protobuf-compiler and protobuf-compiler-grpc (protoc 3.21 and grpc_python_plugin),
# not grpcio-tools: the protoc that Debian's python3-grpc-tools bundles is 3.5, which rejects
# proto3 `optional` (cache.proto uses it) and emits code the protobuf 4.x runtime only half supports.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
proto="$(cd "$here/../../proto" && pwd)"
out="${1:-$here/prescient_client/gen}"
protoc="${PROTOC:-protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}"

# The committed files come from this protoc; another version writes different (if compatible) code
# and the freshness test would fail for no real change.
want="libprotoc 3.21."
have="$("$protoc" --version 2>/dev/null || true)"
if [[ "$have" != "$want"* ]]; then
  echo "generate.sh: need protoc 3.21.x (apt-get install protobuf-compiler), found '${have:-none}'" >&2
  exit 1
fi
if [[ -z "$plugin" ]]; then
  echo "generate.sh: grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)" >&2
  exit 1
fi

# Clearing out stale stubs deletes files: only in gen/ itself or in a folder that is empty.
if [[ "$out" != "$here/prescient_client/gen" && -d "$out" && -n "$(ls -A "$out")" ]]; then
  echo "generate.sh: $out is not empty; give a new or empty folder" >&2
  exit 1
fi
mkdir -p "$out"
find "$out" -mindepth 1 \( -name '*_pb2.py' -o -name '*_pb2.pyi' -o -name '*_pb2_grpc.py' -o -name '__init__.py' \) -delete
find "$out" -mindepth 1 -type d -empty -delete

cd "$proto"
mapfile -t files < <(find prescient inference -name '*.proto' | LC_ALL=C sort)
"$protoc" -I. \
  --python_out="$out" --pyi_out="$out" \
  --grpc_python_out="$out" --plugin=protoc-gen-grpc_python="$plugin" \
  "${files[@]}"

# protoc writes imports as if proto/ were on sys.path (`from prescient.common.v1 import common_pb2`),
# which would need a top-level `prescient` package and clash with any other copy of these stubs.
# Make them relative to gen/, and name each module by its real __name__ so its classes pickle.
cd "$out"
while IFS= read -r file; do
  depth="$(dirname "$file" | awk -F/ '{print NF}')"
  dots="$(printf '.%.0s' $(seq 0 "$depth"))"
  sed -E -i \
    -e "s/^from ((prescient|inference)(\\.[A-Za-z0-9_.]+)?) import /from ${dots}\\1 import /" \
    -e "s/BuildTopDescriptorsAndMessages\\(DESCRIPTOR, '[^']+', /BuildTopDescriptorsAndMessages(DESCRIPTOR, __name__, /" \
    "$file"
done < <(find . -name '*_pb2*.py*' | sed 's|^\./||' | LC_ALL=C sort)

# Every folder a package, so the relative imports resolve.
find . -type d ! -name __pycache__ -exec sh -c 'for d; do [ -e "$d/__init__.py" ] || : >"$d/__init__.py"; done' sh {} +
printf '%s\n' '"""Generated from proto/ by clients/python/generate.sh. Do not edit."""' >__init__.py
