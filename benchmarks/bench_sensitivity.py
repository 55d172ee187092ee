"""Speed benchmark of sensitivity studies: one compiled model for many variants (prints its figures).

    python benchmarks/bench_sensitivity.py [--variants 4] [--full] [--workers 2]

1. In this process, on benchmark-subset variants of the default spec (the `benchmarks` axis), per
   variant (median over `--variants` variants):
   - reuse: the variants' shared model compiled once (time reported separately), then each variant
     sampled on it with its own data (nutpie `with_data`; 1.5x tuning, 3x draws, see shared.py);
   - recompile: the same variants, the shared model built and compiled again for each variant;
   - solo: each variant fitted on its own model with the spec's sampler (numpyro), as
     `--no-reuse` does;
   with ratios against reuse (compile time spread over the variants of this run), and the min bulk
   ESS of the growth rate, intercept and densities per second for reuse and solo.
2. `--full`: `bayesdense sensitivity --axis benchmarks` (all 31 subsets) as a subprocess, wall time
   from command start with `--workers`, the per-variant mean, and the variants' diagnostics.
Results are printed and appended as JSON lines to benchmarks/results.jsonl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def in_process(n: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, not an installed copy
    from bayesdense import fit, sensitivity, shared
    from bayesdense.spec import load_spec, parse_spec

    vs = sensitivity.variants(load_spec("default"), "benchmarks")
    specs = [parse_spec(t, name) for _, name, t in vs]
    group = max(shared.plan(specs), key=len)  # the 26 multi-benchmark subsets
    group_specs = [specs[i] for i in group]
    picked = group_specs[:: max(1, len(group_specs) // n)][:n]
    sup = shared.superset(group_specs)

    out: dict = {"variants": [s.name.split("__")[-1] for s in picked]}
    t = time.time()
    model = shared.SharedModel(sup)
    out["compile_once_s"] = round(time.time() - t, 2)
    from bayesdense import quantities

    def ess(tree) -> float:
        return float(quantities.diagnostics(tree)["min_ess_bulk"])

    reuse, reuse_ess = [], []
    for s in picked:
        t = time.time()
        tree = model.fit(s, seed=1)
        reuse.append(time.time() - t)
        reuse_ess.append(ess(tree))
    recompile = []
    for s in picked:
        t = time.time()
        shared.SharedModel(sup).fit(s, seed=1)
        recompile.append(time.time() - t)
    solo, solo_ess = [], []
    for s in picked:
        t = time.time()
        tree = fit.fit(s, seed=1, progress=False)
        solo.append(time.time() - t)
        solo_ess.append(ess(tree))
    med = statistics.median
    out.update(
        reuse_min_ess_bulk=[round(x) for x in reuse_ess],
        solo_min_ess_bulk=[round(x) for x in solo_ess],
        ess_per_s_reuse_median=round(med([e / t for e, t in zip(reuse_ess, reuse, strict=True)]), 1),
        ess_per_s_solo_median=round(med([e / t for e, t in zip(solo_ess, solo, strict=True)]), 1),
    )
    reuse_total = out["compile_once_s"] / len(picked) + med(reuse)
    out.update(
        reuse_sample_s=[round(x, 2) for x in reuse],
        recompile_s=[round(x, 2) for x in recompile],
        solo_numpyro_s=[round(x, 2) for x in solo],
        reuse_median_s=round(med(reuse), 2),
        recompile_median_s=round(med(recompile), 2),
        solo_median_s=round(med(solo), 2),
        speedup_reuse_vs_recompile=round(med(recompile) / reuse_total, 2),
        speedup_reuse_vs_solo=round(med(solo) / reuse_total, 2),
    )
    return out


def full(workers: int) -> dict:
    exe = Path(sys.executable).with_name("bayesdense")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.time()
        cmd = [str(exe), "sensitivity", "--axis", "benchmarks", "--workers", str(workers), "--out", tmp, "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t
        if p.returncode != 0:
            return {"ok": False, "stderr": p.stderr[-2000:]}
        table = pd.read_csv(Path(tmp) / "sensitivity.csv")
    ok = table[table["error"].isna() | (table["error"] == "")]
    return {
        "ok": True,
        "wall_s": round(wall, 1),
        "variants": len(table),
        "per_variant_mean_s": round(wall / len(table), 1),
        "failed": int(len(table) - len(ok)),
        "converged": int(ok["converged"].sum()),
        "max_rhat_max": round(float(ok["max_rhat"].max()), 4),
        "divergences_total": int(ok["divergences"].sum()),
        "variants_with_divergences": int((ok["divergences"] > 0).sum()),
        "shared_model": int(ok["shared_model"].sum()),
        "doubling_days_median_range": [
            round(float(ok["doubling_days_median"].min())),
            round(float(ok["doubling_days_median"].max())),
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", type=int, default=4)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    rec: dict = {"bench": "sensitivity", "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    rec["in_process"] = in_process(args.variants)
    print(json.dumps(rec["in_process"], indent=2), flush=True)
    if args.full:
        rec["full_benchmarks_axis"] = full(args.workers)
        print(json.dumps(rec["full_benchmarks_axis"], indent=2))
    with open(ROOT / "benchmarks" / "results.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
