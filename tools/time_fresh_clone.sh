#!/usr/bin/env bash
# The fresh-clone check, timed: clone this repository's HEAD into a temporary directory, run the
# README's two commands there (`./quickstart fit`, then `./quickstart test`), and append one JSON
# line with the wall times to benchmarks/fresh_clone.jsonl. The README's setup and test timings
# are quoted from the newest line (tests/test_readme_records.py keeps them in step; inside this run
# that one check skips, BAYESDENSE_TIMING_RUN=1, since its record is written when the run ends).
#
#   tools/time_fresh_clone.sh            clone HEAD (commit first), time, record
#   tools/time_fresh_clone.sh --keep     keep the clone (its path is printed)
#
# A pip download cache from earlier installs makes the install faster than on a new machine; the
# record says whether ~/.cache/pip existed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=0
[ "${1:-}" = "--keep" ] && keep=1

d="$(mktemp -d)"
trap '[ "$keep" = 1 ] || rm -rf "$d"' EXIT
git clone -q "$here" "$d/x"
cd "$d/x"
commit="$(git rev-parse --short HEAD)"
pip_cache=$([ -d "$HOME/.cache/pip" ] && echo true || echo false)
echo "[fresh-clone] $d/x at $commit" >&2

t0=$SECONDS
./quickstart fit 2>&1 | tee "$d/fit.log" >&2
fit_total=$((SECONDS - t0))
t1=$SECONDS
BAYESDENSE_TIMING_RUN=1 ./quickstart test 2>&1 | tee "$d/test.log" >&2
test_total=$((SECONDS - t1))

python3 - "$d" "$commit" "$fit_total" "$test_total" "$pip_cache" >> "$here/benchmarks/fresh_clone.jsonl" <<'PY'
import datetime, hashlib, json, os, re, sys
from pathlib import Path

d, commit, fit_total, test_total, pip_cache = sys.argv[1:]
fit_log = Path(d, "fit.log").read_text()
test_log = Path(d, "test.log").read_text()


def grab(pattern, text):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


steps = {m.group(1): int(m.group(2)) for m in re.finditer(r"=== ([a-z ]+): ok in (\d+)s", test_log)}
py = re.search(r"\(Python (\d+\.\d+\.\d+)\)", fit_log)
passed = re.findall(r"(\d+) passed", test_log)
row = {
    "date": datetime.date.today().isoformat(),
    "commit": commit,
    "python": py.group(1) if py else None,
    "constraints_sha256": hashlib.sha256(Path(d, "x", "constraints.txt").read_bytes()).hexdigest()[:16],
    "cores": os.cpu_count(),
    "pip_cache_present": pip_cache == "true",
    "install_seconds": grab(r"environment ready in (\d+) s", fit_log),
    "fit_command_seconds": int(fit_total),
    "test_command_seconds": int(test_total),
    "test_steps_seconds": steps,
    "tests_passed": [int(p) for p in passed],
    "all_checks_passed": "all checks passed" in test_log,
}
print(json.dumps(row))
print(json.dumps(row, indent=2), file=sys.stderr)
PY
echo "[fresh-clone] recorded in benchmarks/fresh_clone.jsonl" >&2
[ "$keep" = 1 ] && echo "[fresh-clone] clone kept at $d/x" >&2
exit 0
