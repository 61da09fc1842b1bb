#!/usr/bin/env bash
# Everything CI runs: formatting, lint, type check, import direction (docs/architecture.md),
# unit and namespace tests, then the IPVS
# tests in a qemu guest. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== deno fmt --check" && deno fmt --check
echo "== deno lint" && deno lint
echo "== deno check" && deno check main.ts ffi/ lib/ tests/ bench/ tools/
echo "== deno task imports" && deno task imports
echo "== deno test" && deno test -A --no-check --ignore=tests/vm,.cache,dist .
echo "== deno task test:ipvs" && deno task test:ipvs
