"""How the cost of one fit grows with the number of target models (issue: leaderboard scale).

    python benchmarks/bench_scale.py                                   # 50, 500, 2,000, 5,000 models
    python benchmarks/bench_scale.py --sizes 5000 --target-accept 0.8 --draws 500 --tune 500 --leaderboard

For each size, a synthetic own-scores table drawn from the default model's own generative process
(release dates uniform over 2023-03 .. 2025-06, sizes log-uniform 0.5B .. 100B, log density = a
trend line growing 0.0054 per day + skew-normal inefficiency (omega 1.4, lambda 2.65, near the
default fit's posterior), AVERAGE scores through the paper's AVERAGE curves at D0 = 5T plus
Normal(0, 0.9) error; scores at or below the link floor are dropped and counted). ``--leaderboard``
adds the shipped spec ``leaderboard`` (Open LLM Leaderboard v1, its own sampler settings). Each
fit runs as `bayesdense fit SPEC --json` in its own process (numpyro, 4 chains; from
``models.LARGE_FIT`` models on, Laplace latents and a mass matrix dense over the globals, diagonal
over the latents), and the table reports wall time from process start (compile included), peak
resident memory of that process, divergences, max R-hat, min bulk ESS and min bulk ESS per second,
and the per-model cost against the first row's, per latent mode:

* sampled: every model's log density is a NUTS parameter (the shipped default);
* integrated (``--integrated-up-to N``): ``layers.latents = "integrated"`` (each latent integrated
  out on an adaptive 40-point grid; NUTS sees the ~13 global parameters only; latents drawn after).

One JSON line per fit is appended to benchmarks/results_scale.jsonl (with the sampler settings,
spec hash, data hash, seed and versions).
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

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RATE_PER_DAY, INTERCEPT, OMEGA, LAMBDA, SCORE_SD = 0.0054, -2.3, 1.4, 2.65, 0.9

SPEC = """name = "scale_{n}_{mode}"
description = "bench_scale: {n} synthetic models, latents {mode}"

[data]
targets = "own_scores"
scores_file = "{csv}"
benchmarks = ["AVERAGE"]
below_chance = "drop"

[layers]
kind = "joint"
latents = "{mode}"

[frontier]
kind = "stochastic_frontier"

[sampler]
target_accept = {target_accept}
draws = {draws}
tune = {tune}

[priors]
score_sd = {{ dist = "Fixed", value = 0.9 }}
link_ceiling_frac = {{ dist = "Fixed", value = 1.0 }}

[benchmark_priors.AVERAGE]
loss_alpha = {{ dist = "LogNormal", mu = -2.160, sigma = 0.1 }}
loss_beta = {{ dist = "LogNormal", mu = -1.284, sigma = 0.1 }}
"""


def synthetic_scores(n: int, seed: int, path: Path) -> dict[str, int]:
    """Write ``n`` synthetic models' AVERAGE scores (own_scores format); returns counts."""
    from scipy import stats

    from bayesdense import classical

    rng = np.random.default_rng(seed)
    curve = classical.published_curves()["AVERAGE"]
    origin = dt.date(2023, 2, 24)
    t = rng.uniform((dt.date(2023, 3, 1) - origin).days, (dt.date(2025, 6, 30) - origin).days, n)
    params = np.exp(rng.uniform(np.log(0.5e9), np.log(100e9), n))
    log_rho = INTERCEPT + RATE_PER_DAY * t + stats.skewnorm.rvs(-LAMBDA, scale=OMEGA, size=n, random_state=rng)
    score = curve.score_at(params * np.exp(log_rho), 5e12) + rng.normal(0, SCORE_SD, n)
    keep = score > curve.d + 0.5
    rows = ["model,release_date,params,benchmark,score"]
    for i in np.flatnonzero(keep):
        date = origin + dt.timedelta(days=int(t[i]))
        rows.append(f"synthetic-{i:05d},{date.isoformat()},{params[i]:.4g},AVERAGE,{score[i]:.2f}")
    path.write_text("\n".join(rows) + "\n")
    return {"drawn": n, "kept": int(keep.sum())}


def run_fit(spec: Path, out: Path, seed: int) -> dict:
    """`bayesdense fit` in its own process: wall time and its summary."""
    cmd = [sys.executable, "-m", "bayesdense.cli", "fit", str(spec), "--json", "--no-progress", "--seed", str(seed)]
    cmd += ["--out", str(out)]
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate()
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"fit failed ({proc.returncode}): {stderr[-2000:]}")
    return {"wall": wall, "summary": json.loads(stdout)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[50, 500, 2000, 5000],
        help="synthetic sizes; none: --sizes --leaderboard",
    )
    ap.add_argument(
        "--sampled-up-to", type=int, default=10**9, help="fit with sampled latents (the default) up to this size"
    )
    ap.add_argument("--integrated-up-to", type=int, default=0, help="also fit with integrated latents up to this size")
    ap.add_argument(
        "--leaderboard", action="store_true", help="also fit the shipped spec `leaderboard` (Open LLM Leaderboard v1)"
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import resource

    from bayesdense import io
    from bayesdense.fit import versions
    from bayesdense.spec import load_spec

    rows = []

    def record(spec_path: Path, label: str, counts: dict[str, int], mode: str, out: Path) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = run_fit(spec_path, out, args.seed)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        s, d = r["summary"], r["summary"]["diagnostics"]
        tree = io.load(s["result_file"])
        row = {
            "date": dt.date.today().isoformat(),
            "command": "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:]),
            "data": label,
            "n_models": int(tree["posterior"].sizes["model"]),
            "n_drawn": counts["drawn"],
            "latents": mode,
            "wall_seconds": round(r["wall"], 1),
            # the largest child so far: sizes run in increasing order, so this is this fit's
            # peak unless an earlier fit used more (then it is an upper bound)
            "peak_rss_mb": round(peak_kb / 1024, 0),
            "peak_rss_is_this_fit": peak_kb > before,
            "divergences": d["divergences"],
            "max_rhat": d["max_rhat"],
            "min_ess_bulk": d["min_ess_bulk"],
            "min_ess_bulk_per_second": d["min_ess_bulk"] / r["wall"],
            "growth_rate_per_day": s["growth_rate_per_day"],
            "sampler": {
                k: json.loads(tree.attrs["sampler"])[k] for k in ("sampler", "chains", "draws", "tune", "target_accept")
            },
            "mass_matrix": json.loads(tree.attrs["sampler"]).get("mass_matrix", "dense over all"),
            "latent_integration_error_nats": None,
            "spec_hash": load_spec(spec_path).hash,
            "data_hash": s["data_hash"],
            "seed": args.seed,
            "cores": os.cpu_count(),
            "versions": versions(),
        }
        if mode == "integrated":
            row["latent_integration_error_nats"] = float(tree.attrs.get("latent_integration_error_nats", "nan"))
        rows.append(row)
        print(json.dumps({k: row[k] for k in list(row)[:13]}), flush=True)
        with open(HERE / "results_scale.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            csv = Path(tmp) / f"scores_{n}.csv"
            counts = synthetic_scores(n, 1000 + n, csv)
            modes = ["sampled"] * (n <= args.sampled_up_to) + ["integrated"] * (n <= args.integrated_up_to)
            for mode in modes:
                spec_path = Path(tmp) / f"scale_{n}_{mode}.toml"
                spec_path.write_text(
                    SPEC.format(
                        n=n, mode=mode, csv=csv, target_accept=args.target_accept, draws=args.draws, tune=args.tune
                    )
                )
                record(spec_path, "synthetic", counts, mode, Path(tmp) / "out")
        if args.leaderboard:
            spec_path = ROOT / "models" / "leaderboard.toml"
            record(spec_path, "leaderboard", {"drawn": 0, "kept": 0}, "sampled", Path(tmp) / "out")
    print(
        f"\n{'data':12s} {'models':>7s} {'latents':10s} {'wall s':>8s} {'peak MB':>8s} {'div':>4s} {'R-hat':>6s} "
        f"{'ESS':>6s} {'ESS/s':>7s} {'ms/model':>9s} {'vs first':>9s}"
    )
    first = rows[0] if rows else None
    for r in rows:
        per = r["wall_seconds"] / r["n_models"]
        ratio = f"{per / (first['wall_seconds'] / first['n_models']):.2f}x" if first else "-"
        print(
            f"{r['data']:12s} {r['n_models']:7d} {r['latents']:10s} {r['wall_seconds']:8.1f} {r['peak_rss_mb']:8.0f} "
            f"{r['divergences']:4d} {r['max_rhat']:6.3f} {r['min_ess_bulk']:6.0f} "
            f"{r['min_ess_bulk_per_second']:7.1f} {1000 * per:9.1f} {ratio:>9s}"
        )
    print("(ms/model: wall time per model; vs first: that per-model cost against the first row's)")


if __name__ == "__main__":
    main()
