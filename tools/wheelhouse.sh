#!/bin/sh
# The wheels of the CMS and of exactly the runtime dependencies that uv.lock pins, each checked
# against the lock's hashes: the Docker image installs these and no others, and
# tests/ops/test_image_install.py runs this same script. Run it from the project's folder.
# Usage: tools/wheelhouse.sh OUT_DIR   (PYTHON and UV name the interpreter and uv to use)
set -eu
out=$1
python=${PYTHON:-python}
uv=${UV:-uv}
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
"$uv" export --locked --no-dev --extra postgres --extra redis --no-emit-project \
    --format requirements.txt --output-file "$requirements" --quiet
"$python" -m pip wheel --no-cache-dir --no-deps --require-hashes --wheel-dir "$out" \
    --requirement "$requirements"
"$python" -m pip wheel --no-cache-dir --no-deps --wheel-dir "$out" .
