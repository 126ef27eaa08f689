#!/usr/bin/env bash
# Everything the project checks, on a fresh Debian bookworm machine as root:
# dependencies, builds with gcc (static, shipped), clang and ASan+UBSan, unit tests,
# system tests in network-namespace labs. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

log "dependencies"
bash scripts/install-deps.sh || exit 1

log "build: gcc, static (shipped binaries)"
make -j"$(nproc)" >/dev/null || exit 1
file build/macvlan build/dhcp | grep -q static-pie || { echo "plugins are not statically linked"; exit 1; }
log "build: clang (warnings are errors there too)"
make -j"$(nproc)" CC=clang BUILD=build-clang >/dev/null || exit 1
log "build: ASan+UBSan"
make -j"$(nproc)" SAN=1 >/dev/null || exit 1

passed=0
failed=0
add_counts() { passed=$((passed + $1)); failed=$((failed + $2)); }

log "unit tests (ASan+UBSan)"
make -j"$(nproc)" SAN=1 unit-tests >/dev/null || exit 1
for t in build-san/tests/unit/test_*; do
	case $t in *.d | *.o) continue ;; esac
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[  (ERROR|FAILURE)' | sed "s|^|$(basename "$t"): |" || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	add_counts "${p:-0}" "${f:-0}"
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "$t crashed (exit $rc):"; printf '%s\n' "$out" | tail -20
		add_counts 0 1
	fi
done

log "fuzzing (libFuzzer, ASan+UBSan, ${FUZZ_SECONDS:=30} s per target)"
make -j"$(nproc)" fuzz >/dev/null || exit 1
for f in build-fuzz/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$(mktemp -d)
	if "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" "fuzz/corpus/$name" >"$corpus.log" 2>&1; then
		echo "$name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$corpus.log" | grep -o '[0-9]*$') runs, no finding"
		add_counts 1 0
	else
		echo "$name: FINDING"; tail -40 "$corpus.log"
		add_counts 0 1
	fi
	rm -rf "$corpus" "$corpus.log"
done

log "system tests (network-namespace labs, real servers)"
report=$(mktemp)
CNT_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$report" tests/system
counts=$(/usr/bin/python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    suite = ET.parse(sys.argv[1]).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total, bad = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    print(total - bad - int(suite.get("skipped")), bad)
except Exception:
    print(0, 1)
PY
)
add_counts $counts
rm -f "$report"

log "benchmark bounds (bench/run.py --ci: ours against the reference and the floor, ratios of one run)"
if /usr/bin/python3 bench/run.py --ci --build build; then add_counts 1 0; else add_counts 0 1; fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
