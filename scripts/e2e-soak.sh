#!/usr/bin/env bash
# Runs the end-to-end suites N times in a row under a chosen background CPU load, so flakiness is
# measured, not remembered (docs/testing.md, "Soak").
#
#   scripts/e2e-soak.sh [--iterations N] [--load K] [--concurrency C] [--no-build] [--top M] [files...]
#
#   --iterations N   how many times the suites run (default 5)
#   --load K         K busy background processes (`node -e 'for(;;){}'`), started before the first
#                    iteration and killed on exit, Ctrl+C or failure (default 2)
#   --concurrency C  node --test --test-concurrency for the e2e files (default 1, as in `npm test`)
#   --no-build       skip `npm run pretest` (build, compile the tests, lint) before the first iteration
#   --top M          how many of the slowest waits to print (default 10)
#   files...         compiled test files (default: the e2e files `npm test` runs serially:
#                    out/test/e2e/*.test.js and out/test/*/*-e2e.test.js)
#
# Prints, per iteration: tests/pass/fail/skipped, wall time and the load average before and after;
# then the slowest waits (every wait in test/e2e logs `[e2e-wait] {json}`: name, ms, budget, load)
# overall and by how much of their budget they used, and a summary. Logs are kept in
# test-results/e2e-soak/<timestamp>/iteration-<i>.tap. Exit status 0 only when every iteration passed
# every test and none was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

iterations=5
load=2
concurrency=1
build=1
top=10
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --top) top="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "e2e-soak: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
for n in "$iterations" "$load" "$concurrency" "$top"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "e2e-soak: not a number: $n" >&2; exit 2; }
done

burners=()
cleanup() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${burners[@]}"; do wait "$pid" 2>/dev/null || true; done
  burners=()
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

if [ "$build" = 1 ]; then
  echo "e2e-soak: npm run pretest (build, compile, lint)"
  npm run pretest >/dev/null
fi
if [ ${#files[@]} -eq 0 ]; then
  shopt -s nullglob
  files=()
  for f in out/test/e2e/*.test.js out/test/*/*-e2e.test.js; do
    # A compiled file whose source is gone (tsc never removes outputs) is not a test any more.
    src="${f#out/}"
    if [ -f "${src%.js}.ts" ]; then files+=("$f"); else echo "e2e-soak: skipping $f: ${src%.js}.ts no longer exists"; fi
  done
fi
[ ${#files[@]} -gt 0 ] || { echo "e2e-soak: no compiled e2e test files (run without --no-build)" >&2; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
logdir="test-results/e2e-soak/$stamp"
mkdir -p "$logdir"

for ((i = 0; i < load; i++)); do
  node -e 'for (;;) {}' &
  burners+=("$!")
done
cores=$(nproc)
echo "e2e-soak: $iterations iteration(s) of ${#files[@]} file(s), $load busy process(es) on $cores core(s), concurrency $concurrency; logs in $logdir"

export GRADFLOW_E2E=required
all_ok=1
for ((it = 1; it <= iterations; it++)); do
  log="$logdir/iteration-$it.tap"
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(date +%s)
  set +e
  node --test --test-reporter=tap --test-concurrency="$concurrency" "${files[@]}" >"$log" 2>&1
  rc=$?
  set -e
  t1=$(date +%s)
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  count() { { grep -E "^# $1 [0-9]+$" "$log" || echo "# $1 ?"; } | tail -1 | awk '{print $3}'; }
  tests=$(count tests); pass=$(count pass); fail=$(count fail); skipped=$(count skipped); cancelled=$(count cancelled)
  printf 'iteration %d: tests %s, pass %s, fail %s, cancelled %s, skipped %s; %d s; load %s → %s; exit %d\n' \
    "$it" "$tests" "$pass" "$fail" "$cancelled" "$skipped" "$((t1 - t0))" "$load_before" "$load_after" "$rc"
  if [ "$rc" != 0 ] || [ "$fail" != 0 ] || [ "$cancelled" != 0 ] || [ "$skipped" != 0 ] || [ "$pass" != "$tests" ]; then
    all_ok=0
    grep -E '^ *not ok ' "$log" | sed 's/^ */    /' || true
  fi
done
cleanup

# The waits: every `[e2e-wait] {…}` line of every iteration (TAP prints console lines as `# …`).
node - "$logdir" "$top" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [dir, topArg] = process.argv.slice(2);
const top = Number(topArg);
const waits = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.tap')).sort()) {
  const it = Number(/iteration-(\d+)/.exec(f)?.[1]);
  for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
    const m = /\[e2e-wait\] (\{.*\})\s*$/.exec(line);
    if (!m) continue;
    // The TAP reporter escapes `\` and `#` in comment lines (`\\"`, `\#`): undo that first.
    for (const text of [m[1].replace(/\\([\\#])/g, '$1'), m[1]]) {
      try {
        waits.push({ it, ...JSON.parse(text) });
        break;
      } catch {
        // not that form (or a line cut by another process's output: not a wait record)
      }
    }
  }
}
const fmt = (w) => `  it ${w.it}  ${String(w.ms).padStart(6)} ms of ${String(w.budgetMs).padStart(6)} ms (${Math.round((100 * w.ms) / w.budgetMs)}%)  load ${w.load}  ${w.ok ? 'ok ' : 'TIMED OUT'}  ${w.what}`;
console.log(`\nwaits logged: ${waits.length}, timed out: ${waits.filter((w) => !w.ok).length}`);
console.log(`slowest ${top} waits:`);
for (const w of [...waits].sort((a, b) => b.ms - a.ms).slice(0, top)) console.log(fmt(w));
console.log(`closest to their budget:`);
for (const w of [...waits].sort((a, b) => b.ms / b.budgetMs - a.ms / a.budgetMs).slice(0, top)) console.log(fmt(w));
for (const w of waits.filter((w) => !w.ok)) console.log(`timed out (it ${w.it}): ${w.what}; saw ${w.seen ?? '?'}`);
EOF

if [ "$all_ok" = 1 ]; then
  echo "e2e-soak: PASS — every test passed in all $iterations iteration(s) with $load busy process(es)"
else
  echo "e2e-soak: FAIL — see the iterations above and $logdir"
  exit 1
fi
