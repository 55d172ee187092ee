"""Prior predictive check: where the simulations of SBC lie relative to the real data.

``bayesdense calibrate`` simulates data sets from the prior; if most of them look nothing like the
real data (e.g. scores piled up at the link's floor, where the posterior is the prior and
calibration holds trivially), the coverage it reports says little about the real fit. This module
draws the same simulations (same model, seed and draw call as :func:`validation._draw_simulations`)
and sets their score and density ranges beside the real ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .spec import ModelSpec

NEAR_FLOOR_POINTS = 2.0  # a simulated score within this many points of its benchmark's link floor


def _ranges(x: np.ndarray) -> dict[str, Any]:
    """Per-simulation min, median, max (rows of ``x`` are simulations) and their 5/50/95% quantiles."""
    per = {"min": x.min(axis=1), "median": np.median(x, axis=1), "max": x.max(axis=1)}
    return {
        "per_sim": per,
        "quantiles_5_50_95": {k: np.quantile(v, [0.05, 0.5, 0.95]).tolist() for k, v in per.items()},
    }


def prior_check_data(spec: ModelSpec, *, sims: int = 200) -> dict[str, Any]:
    """Simulated against real: scores (joint specs, on the score scale) and log densities.

    For each simulation: the range (min, median, max) of its simulated scores or observed log
    densities, and of its latent log densities; for joint specs also the share of its scores
    within ``NEAR_FLOOR_POINTS`` of the link floor. Summaries: the share of simulations whose median
    lies inside the real range, and (joint) the share with most scores near the floor.
    """
    import pymc as pm

    from .fit import quiet_pymc
    from .inputs import prepare
    from .models import build
    from .validation import SBC_SEED

    if sims < 1:
        raise ValueError("--sims must be at least 1")
    fd = prepare(spec)
    with build(spec, fd), quiet_pymc():
        prior = pm.sample_prior_predictive(draws=sims, random_seed=SBC_SEED, compile_kwargs={"mode": "FAST_COMPILE"})
    pr = prior["prior"].to_dataset().isel(chain=0)
    pp = prior["prior_predictive"].to_dataset().isel(chain=0)
    out: dict[str, Any] = {"spec": spec.name, "sims": sims, "seed": SBC_SEED, "layers": spec.layers.kind}
    real_rho = np.log(fd.point_density)
    sim_rho = np.asarray(pr["log_density"].values, float)
    out["log_density"] = {
        "what": "latent log densities of the models (simulated) against the published / point-estimate ones (real)",
        "real_min_median_max": [float(real_rho.min()), float(np.median(real_rho)), float(real_rho.max())],
        **_ranges(sim_rho),
    }
    med = out["log_density"]["per_sim"]["median"]
    out["log_density"]["share_median_inside_real_range"] = float(
        np.mean((med >= real_rho.min()) & (med <= real_rho.max()))
    )
    if spec.layers.kind == "trend":
        return out
    real = np.asarray(fd.obs_score, float)
    sim = np.asarray(pp["score"].values, float)
    floor = np.asarray(pr["link_d"].values, float)[:, fd.obs_bench]  # each observation's benchmark floor
    near = np.mean(sim - floor < NEAR_FLOOR_POINTS, axis=1)
    sc = _ranges(sim)
    med = sc["per_sim"]["median"]
    out["score"] = {
        "what": "scores of the target models (points): simulated against the real (paper-implied or own) ones",
        "real_min_median_max": [float(real.min()), float(np.median(real)), float(real.max())],
        **sc,
        "share_near_floor_per_sim": near,
        "share_of_sims_mostly_near_floor": float(np.mean(near > 0.5)),
        "share_median_inside_real_range": float(np.mean((med >= real.min()) & (med <= real.max()))),
    }
    return out


def prior_check_text(d: dict[str, Any]) -> str:
    lines = [f"Prior predictive check of '{d['spec']}': {d['sims']} simulations (the draws `calibrate` uses)"]

    def block(title: str, b: dict[str, Any], fmt: str) -> None:
        lo, mid, hi = b["real_min_median_max"]
        lines.append(f"{title}: real min {lo:{fmt}}, median {mid:{fmt}}, max {hi:{fmt}}")
        for k in ("min", "median", "max"):
            q = b["quantiles_5_50_95"][k]
            lines.append(f"  simulated {k:6s} per simulation: 5% {q[0]:{fmt}}  50% {q[1]:{fmt}}  95% {q[2]:{fmt}}")
        lines.append(
            f"  simulations whose median lies inside the real range: {b['share_median_inside_real_range']:.0%}"
        )

    if "score" in d:
        block("Scores (points)", d["score"], "8.1f")
        lines.append(
            f"  simulations with most scores within {NEAR_FLOOR_POINTS:g} points of the link floor (posterior ~ prior "
            f"there): {d['score']['share_of_sims_mostly_near_floor']:.0%}"
        )
    block("Log densities", d["log_density"], "8.2f")
    return "\n".join(lines)


def prior_check_plot(d: dict[str, Any], *, width: str = "double") -> Any:
    """Per simulation (sorted by its median) the min-max range and median of its simulated scores
    (joint specs) and latent log densities, over a grey band: the real range (line: real median)."""
    from .plots import OKABE_ITO, _new_figure, paper_style

    keys = [k for k in ("score", "log_density") if k in d]
    with paper_style():
        fig = _new_figure(width, 2.4)
        axes = fig.subplots(1, len(keys), squeeze=False)[0]
        for ax, k in zip(axes, keys, strict=True):
            b = d[k]
            per = b["per_sim"]
            order = np.argsort(per["median"])
            x = np.arange(len(order))
            lo, mid, hi = b["real_min_median_max"]
            ax.axhspan(lo, hi, color="0.85", lw=0, label="real range")
            ax.axhline(mid, color="0.4", lw=0.6)
            ax.vlines(x, per["min"][order], per["max"][order], color=OKABE_ITO[0], lw=0.5, alpha=0.6)
            ax.plot(x, per["median"][order], ".", ms=2, color=OKABE_ITO[3], label="simulated median")
            ax.set_xlabel("simulation (sorted by median)")
            ax.set_ylabel("score (points)" if k == "score" else "ln density")
            if k == "score":
                ax.set_title(
                    f"scores: {b['share_of_sims_mostly_near_floor']:.0%} of simulations mostly within "
                    f"{NEAR_FLOOR_POINTS:g} points of the floor",
                    fontsize=7,
                )
            else:
                ax.set_title("latent log densities", fontsize=7)
            ax.legend(fontsize=6, frameon=False)
        fig.suptitle(f"Prior predictive check of '{d['spec']}': {d['sims']} simulations vs the real data", fontsize=7)
    return fig


def cmd_prior_check(args: argparse.Namespace) -> int:
    from . import cliargs, jsonout, plots
    from .spec import load_spec

    spec = load_spec(args.spec)
    if args.plot:
        spec_inputs = [args.spec] if Path(args.spec).is_file() else []
        cliargs.output_file(args.plot, "--plot", inputs=spec_inputs, suffixes=(".png", ".pdf", ".svg"))
    d = prior_check_data(spec, sims=args.sims)
    if args.plot:
        plots.save(prior_check_plot(d), Path(args.plot))
    if args.json:
        strip = {
            k: {kk: vv for kk, vv in v.items() if kk not in ("per_sim", "share_near_floor_per_sim")}
            if isinstance(v, dict)
            else v
            for k, v in d.items()
        }
        print(jsonout.dumps(strip))
        return 0
    print(prior_check_text(d))
    return 0


def add_commands(sub: Any) -> None:
    from . import cliargs

    p = sub.add_parser(
        "prior-check",
        help="prior predictive check: where do the simulations of `calibrate` lie against the real data?",
        description="Draw the simulations `bayesdense calibrate` fits (same seed) and print their score ranges "
        "(joint specs) and log-density ranges beside the real ones, with the share of simulations whose scores "
        "sit mostly within 2 points of the link floor. --plot draws each simulation's range over the real range.",
    )
    p.add_argument("spec", nargs="?", default="default", help="spec name or path (default: default)")
    p.add_argument("--sims", type=cliargs.positive_int, default=200, help="number of simulations (default 200)")
    p.add_argument("--plot", default=None, help="write the figure to this PNG/PDF/SVG")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_prior_check)
