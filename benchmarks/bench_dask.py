"""A sensitivity study on local worker processes against the same study on a Dask cluster (issue 17,
item 5: studies bigger than one machine go to a `dask.distributed` cluster through --scheduler).

    python benchmarks/bench_dask.py [--axis d0] [--workers 2] [--spec default]

Starts a `distributed.LocalCluster` of --workers single-threaded worker processes on this machine,
then runs `bayesdense sensitivity SPEC --axis AXIS --json` twice in fresh output directories: once
with `--workers N` (local processes, the default path) and once with `--scheduler ADDRESS` (the
cluster). Both runs use the same seed, so the draws must not depend on where the variants ran: the
script compares every variant's growth-rate median and interval between the two. Prints and
appends one JSON line to benchmarks/results_dask.jsonl: wall time of each run, the ratio, the
variants and whether every one converged, the largest difference between the runs, spec and data
hashes, seed and versions. On one 2-core machine the cluster cannot be faster (the same cores do
the same fits): the run measures the overhead of the cluster path and shows it gives the same
numbers; more machines give more workers with nothing else changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def study(args: list[str], out: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "bayesdense.cli", "sensitivity", *args, "--out", str(out), "--json"]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="default")
    ap.add_argument("--axis", default="d0")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from distributed import LocalCluster

    from bayesdense.fit import data_hash_of, versions
    from bayesdense.spec import load_spec

    common = [args.spec, "--axis", args.axis, "--seed", str(args.seed)]
    with tempfile.TemporaryDirectory() as tmp:
        local_s, local = study([*common, "--workers", str(args.workers)], Path(tmp) / "local")
        print(f"local processes ({args.workers}): {local_s:.1f} s", flush=True)
        t0 = time.time()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
            start_s = time.time() - t0
            dask_s, on_dask = study([*common, "--scheduler", lc.scheduler_address], Path(tmp) / "dask")
        print(f"Dask LocalCluster ({args.workers} worker processes): {dask_s:.1f} s (+ {start_s:.1f} s to start it)")
    rows_l = {r["variant"]: r for r in local["variants"]}
    rows_d = {r["variant"]: r for r in on_dask["variants"]}
    keys = ("growth_median", "growth_hdi_low", "growth_hdi_high")
    diff = max(abs(rows_l[v][k] - rows_d[v][k]) for v in rows_l for k in keys)
    converged = {
        name: all(not r.get("error") and bool(r["converged"]) for r in rows.values())
        for name, rows in (("local", rows_l), ("dask", rows_d))
    }
    row = {
        "bench": "dask",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python benchmarks/bench_dask.py " + " ".join(sys.argv[1:]),
        "spec": args.spec,
        "axis": args.axis,
        "variants": len(rows_l),
        "workers": args.workers,
        "local_seconds": round(local_s, 1),
        "dask_seconds": round(dask_s, 1),
        "cluster_start_seconds": round(start_s, 1),
        "dask_over_local": round(dask_s / local_s, 3),
        "max_abs_growth_difference": diff,
        "all_converged": converged,
        "spec_hash": load_spec(args.spec).hash,
        "data_hash": data_hash_of(load_spec(args.spec)),
        "seed": args.seed,
        "cores": os.cpu_count(),
        "versions": versions(),
    }
    print(json.dumps({k: row[k] for k in list(row)[:14]}))
    with open(HERE / "results_dask.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
