"""Centred or non-centred latent densities? (issues #10 and #11: is the slow mixing a funnel?)

    python benchmarks/bench_parameterisation.py [--spec default] [--seeds 1,2] [--only centred,offset]

Fits the spec's joint model (stochastic frontier, half-normal inefficiency) with its own sampler
and settings twice per seed:

- `centred`: as shipped, ``log_density ~ SkewNormal(line, omega, -lambda)``;
- `non_centred`: ``z ~ SkewNormal(0, 1, -lambda)``, ``log_density = line + omega z`` (the same
  model; only the coordinates NUTS moves in differ);
- `offset`: ``log_density = g(curves, scores) + offset``, the offset from the density each model's
  scores imply under the curves (``build(..., offset_latents=True)``, what `fit` samples since
  2026-12-03; the same model again).

Each line: parameterisation, seed, wall seconds of sampling, mean leapfrog steps per iteration,
mean step size, divergences, min bulk ESS and max R-hat over the frontier, the loss exponent and
every latent density, and the growth rate's median. The medians over seeds and the ratio of each
parameterisation to the centred one follow (bulk ESS per second too). Appended as JSON lines,
with spec hash, data hash and versions, to benchmarks/results_parameterisation.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHECKED = ("growth_rate_per_year", "frontier_log_density_mid", "frontier_omega", "frontier_lambda")
CHECKED += ("loss_alpha", "log_density")
KINDS = ("centred", "non_centred", "offset")


def build(spec, fd, parameterisation: str):  # noqa: ANN001, ANN201
    import pymc as pm

    from bayesdense.models import densing

    if parameterisation == "centred":
        return densing.build(spec, fd)
    if parameterisation == "offset":
        return densing.build(spec, fd, offset_latents=True)

    def non_centred(spec, fd, model, shared=False):  # noqa: ANN001, ANN202
        _, _, line = densing._frontier(spec, fd, shared)
        omega, lam = model["frontier_omega"], model["frontier_lambda"]
        z = model.register_rv(
            pm.SkewNormal.dist(mu=0.0, sigma=1.0, alpha=-lam, shape=fd.n_models), "log_density_std", dims=("model",)
        )
        return pm.Deterministic("log_density", line + omega * z, dims="model")

    original = densing._latent_log_density
    densing._latent_log_density = non_centred
    try:
        return densing.build(spec, fd)
    finally:
        densing._latent_log_density = original


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="default")
    ap.add_argument("--seeds", default="1,2", help="comma-separated sampler seeds")
    ap.add_argument(
        "--only", default=",".join(KINDS), help=f"comma-separated parameterisations (default: {','.join(KINDS)})"
    )
    args = ap.parse_args()
    kinds = [k for k in KINDS if k in args.only.split(",")]
    if "centred" not in kinds or len(kinds) < 2:
        sys.exit(f"--only: name 'centred' and at least one of {', '.join(KINDS[1:])} (the ratios are to 'centred')")

    import arviz as az
    import numpy as np

    from bayesdense import fit
    from bayesdense.inputs import prepare
    from bayesdense.spec import load_spec

    spec = load_spec(args.spec)
    if spec.frontier.kind != "stochastic_frontier" or spec.frontier.inefficiency != "half_normal":
        sys.exit(f"spec '{spec.name}': this benchmark needs a half-normal stochastic frontier")
    fd = prepare(spec)
    out = ROOT / "benchmarks" / "results_parameterisation.jsonl"
    common = {
        "date": dt.date.today().isoformat(),
        "spec": spec.name,
        "spec_hash": spec.hash,
        "data_hash": fit.data_hash_of(spec),
        "versions": fit.versions(),
    }
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for par in kinds:
            model = build(spec, fd, par)
            t0 = time.time()
            idata = fit.sample_model(spec, model, seed=seed, progress=False)
            wall = time.time() - t0
            ss, post = idata["sample_stats"], idata["posterior"]
            ess, rhat = az.ess(post, var_names=list(CHECKED)), az.rhat(post, var_names=list(CHECKED))
            row = {
                **common,
                "parameterisation": par,
                "seed": seed,
                "wall_seconds": round(wall, 1),
                "mean_leapfrog_steps": round(float(ss["n_steps"].mean()), 1),
                "mean_step_size": round(float(ss["step_size"].mean()), 4),
                "divergences": int(ss["diverging"].sum()),
                "min_ess_bulk": round(min(float(ess[v].min()) for v in CHECKED)),
                "max_rhat": round(max(float(rhat[v].max()) for v in CHECKED), 4),
                "growth_rate_per_day_median": round(float(post["growth_rate_per_day"].median()), 6),
            }
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k not in common}), flush=True)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
    for r in rows:
        r["ess_per_second"] = r["min_ess_bulk"] / r["wall_seconds"]
    for key in ("wall_seconds", "mean_leapfrog_steps", "min_ess_bulk", "ess_per_second"):
        med = {p: float(np.median([r[key] for r in rows if r["parameterisation"] == p])) for p in kinds}
        parts = [f"{p} {med[p]:.4g} (ratio {med[p] / med['centred']:.2f})" for p in kinds[1:]]
        print(f"{key}: median centred {med['centred']:.4g}, " + ", ".join(parts))


if __name__ == "__main__":
    main()
