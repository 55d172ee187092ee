"""Time `bayesdense structural SPEC` with the shipped member sampler against a baseline, in one run.

    python benchmarks/bench_structural.py                 # default spec: baseline, then current
    python benchmarks/bench_structural.py --only current  # just the shipped settings
    python benchmarks/bench_structural.py --cold          # each study with empty JAX / PyTensor caches

Each study runs in its own process (`bayesdense structural SPEC --out TMP`, a fresh directory, so no
member is reused) with ``structural.MEMBER_SAMPLER`` set to the setting under test. Reported per
setting: wall seconds, CPU seconds (user + system of the process and its workers), members
converged, the mean leapfrog steps per iteration of the stochastic-frontier members, and the
structural doubling-time interval; then the ratio of wall times, current / baseline. The target
(issue #10) is at most 5 minutes on 2 cores. Rows are appended to benchmarks/results_structural.jsonl.
Run it on an otherwise idle machine: the numbers are wall times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE = {"draws": 500, "tune": 500}  # the member sampler before 2026-12-03: 4 x 500 after 500
RUNNER = """
import json, sys
from bayesdense import structural
structural.MEMBER_SAMPLER = json.loads(sys.argv[1])
from bayesdense.cli import main
sys.exit(main(["structural", sys.argv[2], "--out", sys.argv[3], "--seed", "1", "--workers", "2"]))
"""


def _steps(members_dir: Path) -> float:
    import numpy as np
    import xarray as xr

    steps = []
    for f in sorted(members_dir.glob("*stochastic_frontier*.nc")):
        t = xr.open_datatree(f)
        steps.append(float(t["sample_stats"]["n_steps"].mean()))
    return float(np.mean(steps)) if steps else float("nan")


def run(spec: str, sampler: dict[str, int], label: str, *, cold: bool = False) -> dict[str, object]:
    import os

    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ)
        if cold:  # a fresh machine: nothing compiled yet (JAX persistent cache, PyTensor compiledir)
            env["BAYESDENSE_CACHE_DIR"] = cache
            env["JAX_COMPILATION_CACHE_DIR"] = f"{cache}/jax"
            env["PYTENSOR_FLAGS"] = f"compiledir={cache}/pytensor"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        subprocess.run(
            [sys.executable, "-c", RUNNER, json.dumps(sampler), spec, tmp],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        wall = time.time() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rec = json.loads((Path(tmp) / f"structural_{spec}.json").read_text())
        steps = _steps(Path(tmp) / "members")
    d = rec["doubling_time_days"]
    return {
        "setting": label,
        "caches": "cold" if cold else "warm (as left by earlier runs)",
        "member_sampler": sampler,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "members_converged": rec["converged_members"],
        "members": len(rec["members"]),
        "members_refitted": sum(m.get("refit") is not None or m.get("refit_draws") is not None for m in rec["members"]),
        "sf_mean_leapfrog_steps": round(steps, 1),
        "doubling_days": [round(d["median"]), round(d["eti_low"]), round(d["eti_high"])],
    }


def main() -> None:
    from bayesdense import structural

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="default")
    ap.add_argument("--only", choices=["current"], default=None)
    ap.add_argument("--cold", action="store_true", help="empty compilation caches for every study")
    args = ap.parse_args()
    settings = [("current", structural.MEMBER_SAMPLER)]
    if args.only is None:
        settings.insert(0, ("baseline", BASELINE))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    rows = []
    for label, sampler in settings:
        r = run(args.spec, sampler, label, cold=args.cold)
        rows.append(r)
        print(
            f"{label:9s} {json.dumps(sampler):44s} wall {r['wall_seconds']:7.1f} s  cpu {r['cpu_seconds']:7.1f} s  "
            f"converged {r['members_converged']}/{r['members']} ({r['members_refitted']} refitted)  "
            f"SF leapfrog steps {r['sf_mean_leapfrog_steps']}  "
            f"doubling {r['doubling_days']}"
        )
    if len(rows) == 2:
        print(f"ratio current / baseline: wall {rows[1]['wall_seconds'] / rows[0]['wall_seconds']:.2f}")
    with open(ROOT / "benchmarks" / "results_structural.jsonl", "a") as f:
        f.write(
            json.dumps(
                {
                    "command": "python benchmarks/bench_structural.py"
                    + (" --only current" if args.only else "")
                    + (" --cold" if args.cold else ""),
                    "commit": commit.stdout.strip(),
                    "date": dt.date.today().isoformat(),
                    "spec": args.spec,
                    "machine": "2 cores, otherwise idle",
                    "rows": rows,
                }
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
