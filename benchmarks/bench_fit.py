"""Speed benchmark of the main job and the samplers on the default model (prints its figures).

    python benchmarks/bench_fit.py [--runs 3] [--skip-cold] [--samplers numpyro,pymc,nutpie]

1. Main job, end to end: `bayesdense fit` as a subprocess, wall time from command start, with a
   cold cache (fresh PyTensor and JAX cache directories) once, then warm `--runs` times (median).
2. Samplers on the same model in this process (after one warm-up each): wall time, min bulk ESS
   over growth rate, intercept and every model's log density, divergences, ESS per second;
   each as the median of `--runs` runs, and as a ratio to `pm.sample` with PyMC's own defaults
   (no sampler named, default target_accept and mass matrix) run in the same process.
Results are printed and appended as JSON lines to benchmarks/results.jsonl.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = ["growth_rate_per_day", "intercept", "log_density"]


def main_job(runs: int, cold: bool) -> dict:
    exe = Path(sys.executable).with_name("bayesdense")
    cmd = [str(exe), "fit", "--json", "--no-progress", "--out"]
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={tmp}/pt", BAYESDENSE_CACHE_DIR=f"{tmp}/cache")
            env.pop("JAX_COMPILATION_CACHE_DIR", None)
            t = time.time()
            p = subprocess.run([*cmd, f"{tmp}/r"], env=env, capture_output=True, text=True)
            out["cold_wall_s"] = round(time.time() - t, 1)
            out["cold_ok"] = p.returncode == 0
        walls, diags = [], []
        for _ in range(runs):
            t = time.time()
            p = subprocess.run([*cmd, f"{tmp}/r"], capture_output=True, text=True)
            walls.append(time.time() - t)
            if p.returncode == 0:
                diags.append(json.loads(p.stdout)["diagnostics"])
        out["warm_wall_s_median"] = round(statistics.median(walls), 1)
        out["warm_wall_s_all"] = [round(w, 1) for w in walls]
        out["divergences"] = [d["divergences"] for d in diags]
        out["max_rhat"] = [round(d["max_rhat"], 4) for d in diags]
        out["min_ess_bulk"] = [round(d["min_ess_bulk"]) for d in diags]
    return out


def sampler_runs(samplers: list[str], runs: int) -> list[dict]:
    import arviz as az
    import pymc as pm

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, not an installed copy
    from bayesdense.fit import _enable_jax_cache
    from bayesdense.inputs import prepare
    from bayesdense.models import build
    from bayesdense.spec import load_spec

    _enable_jax_cache()
    spec = load_spec("default")
    fd = prepare(spec)
    configs = {
        "numpyro (bayesdense default: dense mass, target_accept 0.95)": dict(
            nuts_sampler="numpyro", target_accept=0.95, nuts={"dense_mass": True}
        ),
        "numpyro, diagonal mass": dict(nuts_sampler="numpyro", target_accept=0.95),
        "pymc NUTS (numba), target_accept 0.95": dict(
            nuts_sampler="pymc", backend="numba", target_accept=0.95, cores=2
        ),
        "nutpie, low-rank mass matrix, target_accept 0.95": dict(
            nuts_sampler="nutpie", target_accept=0.95, cores=2, nuts={"low_rank_modified_mass_matrix": True}
        ),
        "pm.sample defaults": dict(),
    }
    wanted = {
        k: v for k, v in configs.items() if k == "pm.sample defaults" or k.split(" ")[0].split(",")[0] in samplers
    }
    rows = []
    for name, kw in wanted.items():
        if kw.get("nuts_sampler") == "nutpie":
            try:
                import nutpie  # noqa: F401
            except ImportError:
                print(f"skip {name}: nutpie is not installed (pip install 'bayesdense[nutpie]')", flush=True)
                continue
        res = []
        for i in range(runs + 1):  # run 0 warms compile caches and is not counted
            model = build(spec, fd)
            t = time.time()
            with model:
                idata = pm.sample(
                    draws=1000,
                    tune=1000,
                    chains=4,
                    random_seed=100 + i,
                    progressbar=False,
                    compute_convergence_checks=False,
                    **copy.deepcopy(kw),  # PyMC adds target_accept into the nuts dict it is given
                )
            wall = time.time() - t
            post = idata["posterior"].to_dataset()
            ess = az.ess(post[[v for v in KEY if v in post]], method="bulk")
            min_ess = min(float(ess[v].min()) for v in ess.data_vars)
            div = int(idata["sample_stats"]["diverging"].sum())
            if i:
                res.append({"wall": wall, "ess": min_ess, "div": div, "ess_per_s": min_ess / wall})
        row = {
            "config": name,
            "wall_s_median": round(statistics.median(r["wall"] for r in res), 1),
            "min_ess_bulk_median": round(statistics.median(r["ess"] for r in res)),
            "divergences": [r["div"] for r in res],
            "ess_per_s_median": round(statistics.median(r["ess_per_s"] for r in res), 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = next((r for r in rows if r["config"] == "pm.sample defaults"), None)
    if base:
        for r in rows:
            r["ess_per_s_ratio_vs_pm_defaults"] = round(r["ess_per_s_median"] / base["ess_per_s_median"], 2)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--skip-main", action="store_true")
    ap.add_argument("--samplers", default="numpyro,pymc,nutpie")
    a = ap.parse_args()
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "runs": a.runs}
    if not a.skip_main:
        result["main_job"] = main_job(a.runs, cold=not a.skip_cold)
        print("main job:", json.dumps(result["main_job"]), flush=True)
    result["samplers"] = sampler_runs(a.samplers.split(","), a.runs)
    print("\n| sampler config | wall s (median) | min bulk ESS | divergences | ESS/s | ratio vs pm.sample defaults |")
    print("|---|---|---|---|---|---|")
    for r in result["samplers"]:
        print(
            f"| {r['config']} | {r['wall_s_median']} | {r['min_ess_bulk_median']} | {r['divergences']} | "
            f"{r['ess_per_s_median']} | {r.get('ess_per_s_ratio_vs_pm_defaults', '')} |"
        )
    with open(ROOT / "benchmarks" / "results.jsonl", "a") as f:
        f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
