"""Sensitivity studies: variants of a base spec along an axis, fitted independently, one tidy table.

Each variant is a full spec (its TOML text is written next to its result), fitted in its own
worker process; a failed variant is a row with its error, never dropped, and does not stop the
others; a variant whose result file already exists for the same spec and data hash is not refitted.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd

from .spec import ModelSpec, parse_spec, spec_to_toml

AXES = ("d0", "frontier", "models", "priors", "benchmarks")
PER_BENCH = ("MMLU", "BBH", "MATH", "HumanEval", "MBPP")


def _variant(base: ModelSpec, name: str, **updates: Any) -> tuple[str, str]:
    """A variant spec's (name, TOML text): ``updates`` maps 'table.key' to a new value."""
    d = base.model_dump(exclude={"source_text"}, exclude_none=True)
    for path, value in updates.items():
        if path == "priors":
            d["priors"] = {**d["priors"], **value}
            continue
        if path == "benchmark_priors":
            d["benchmark_priors"] = value
            continue
        if path == "drop_priors":
            d["priors"] = {k: v for k, v in d["priors"].items() if k not in value}
            continue
        table, key = path.split(".")
        d[table][key] = value
    d["name"] = f"{base.name}__{name}"
    spec = ModelSpec(**d)
    return name, spec_to_toml(spec, header=f"sensitivity variant '{name}' of spec '{base.name}'")


def anchored_exponent_priors(sigma: float = 0.1) -> dict[str, dict[str, dict[str, Any]]]:
    """Per benchmark: LogNormal priors on the loss-law exponents centred on the paper's curves."""
    import numpy as np

    from .classical import published_curves

    return {
        b: {
            "loss_alpha": {"dist": "LogNormal", "mu": round(float(np.log(c.alpha)), 3), "sigma": sigma},
            "loss_beta": {"dist": "LogNormal", "mu": round(float(np.log(c.beta)), 3), "sigma": sigma},
        }
        for b, c in published_curves().items()
    }


def variants(base: ModelSpec, axis: str) -> list[tuple[str, str, str]]:
    """(axis, variant name, spec text) for every variant of ``base`` along ``axis`` ("all": every axis)."""
    if axis == "all":
        return [v for a in AXES if a != "benchmarks" for v in variants(base, a)]
    out: list[tuple[str, str]] = []
    if axis == "d0":
        out = [_variant(base, f"d0={d0:.0e}", **{"data.d0_tokens": d0}) for d0 in (1e12, 2e12, 5e12, 1e13, 2e13)]
    elif axis == "frontier":
        out = [
            _variant(
                base,
                "stochastic_frontier(half_normal)",
                **{"frontier.kind": "stochastic_frontier", "frontier.inefficiency": "half_normal"},
            ),
            _variant(
                base,
                "stochastic_frontier(exponential)",
                **{"frontier.kind": "stochastic_frontier", "frontier.inefficiency": "exponential"},
            ),
            _variant(base, "mean_trend", **{"frontier.kind": "mean_trend"}),
        ]
        if base.layers.kind == "joint" and len(base.data.benchmarks) == 1:
            out.append(_variant(base, "records", **{"frontier.kind": "records"}))
    elif axis == "models":
        out = [
            _variant(base, "all models", **{"data.exclude_variants": []}),
            _variant(base, "without quantized", **{"data.exclude_variants": ["quantized"]}),
            _variant(
                base,
                "without compressed",
                **{"data.exclude_variants": ["quantized", "pruned", "distilled", "pruned+distilled"]},
            ),
            _variant(base, "MoE by activated params", **{"data.params_basis": "active"}),
            _variant(base, "MoE by total params", **{"data.params_basis": "total"}),
        ]
    elif axis == "priors":
        out = [
            _variant(base, "base priors"),
            _variant(
                base,
                "growth prior narrow (sd 1/yr)",
                priors={"growth_rate_per_year": {"dist": "Normal", "mu": 0.0, "sigma": 1.0}},
            ),
            _variant(
                base,
                "growth prior wide (sd 10/yr)",
                priors={"growth_rate_per_year": {"dist": "Normal", "mu": 0.0, "sigma": 10.0}},
            ),
            _variant(base, "score error 0.5", priors={"score_sd": {"dist": "Fixed", "value": 0.5}}),
            _variant(base, "score error 2.0", priors={"score_sd": {"dist": "Fixed", "value": 2.0}}),
            _variant(
                base,
                "frontier lambda ~ Gamma(2, 1)",
                priors={"frontier_lambda": {"dist": "Gamma", "alpha": 2.0, "beta": 1.0}},
            ),
        ]
    elif axis == "benchmarks":
        # published per-benchmark scores; each benchmark's loss-law exponents centred on the paper's
        # curve (+-10%), as the default spec does for AVERAGE (README, finding 1)
        anchors = anchored_exponent_priors()
        for k in range(1, 6):
            for subset in combinations(PER_BENCH, k):
                updates = {
                    "data.targets": "published_scores",
                    "data.benchmarks": list(subset),
                    "layers.hierarchical": False,
                    "benchmark_priors": {b: anchors[b] for b in subset},
                    "drop_priors": ["score_sd"],
                    "sampler.target_accept": 0.98,
                }
                out.append(_variant(base, "+".join(subset), **updates))
    else:
        raise ValueError(f"unknown axis '{axis}'; choose one of {', '.join((*AXES, 'all'))}")
    return [(axis, name, text) for name, text in out]


def _run_one(job: tuple[str, str, str, str, int, str | None]) -> dict[str, Any]:
    axis, name, text, out_dir, seed, profile = job
    from . import fit, io, quantities
    from .data import data_hash

    row: dict[str, Any] = {"axis": axis, "variant": name}
    try:
        spec = parse_spec(text, f"variant {name}")
        safe = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name)
        path = Path(out_dir) / f"{axis}__{safe}.nc"
        (Path(out_dir) / f"{axis}__{safe}.toml").write_text(text)
        tree = None
        if path.exists():
            old = io.load(path)
            if old.attrs.get("spec_hash") == spec.hash and old.attrs.get("data_hash") == data_hash(fit.DATA_TABLES):
                tree, row["reused"] = old, True
        if tree is None:
            tree = fit.fit(spec, seed=seed, profile=profile, progress=False)
            io.save(tree, path)
            row["reused"] = False
        s = quantities.summary(tree, result_file=str(path))
        d = s["diagnostics"]
        row.update(
            {
                "growth_median": s["growth_rate_per_day"]["median"],
                "growth_hdi_low": s["growth_rate_per_day"]["hdi_low"],
                "growth_hdi_high": s["growth_rate_per_day"]["hdi_high"],
                "doubling_days_median": s["doubling_time_days"]["median"],
                "doubling_days_hdi_low": s["doubling_time_days"]["hdi_low"],
                "doubling_days_hdi_high": s["doubling_time_days"]["hdi_high"],
                "p_growth_positive": s["p_growth_positive"],
                "max_rhat": d["max_rhat"],
                "min_ess_bulk": d["min_ess_bulk"],
                "divergences": d["divergences"],
                "converged": d["ok"],
                "n_models": len(s["models"]),
                "result_file": str(path),
                "error": "",
            }
        )
    except Exception as e:  # noqa: BLE001 - a failed variant is reported in its row, never raised
        row["error"] = f"{type(e).__name__}: {str(e)[:300]}"
    return row


def run(
    base: ModelSpec, axis: str, out_dir: str | Path, *, seed: int = 1, profile: str | None = None, workers: int = 2
) -> pd.DataFrame:
    """Fit every variant (local worker processes) and return the tidy table (also written as CSV)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(a, n, t, str(out), seed, profile) for a, n, t in variants(base, axis)]
    if workers <= 1:
        rows = [_run_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as ex:
            rows = list(ex.map(_run_one, jobs))
    table = pd.DataFrame(rows)
    table.to_csv(out / "sensitivity.csv", index=False)
    (out / "sensitivity.json").write_text(json.dumps(rows, indent=2, default=str))
    return table


def axis_effect(table: pd.DataFrame) -> pd.DataFrame:
    """Per axis: the spread (max - min) of the doubling-time medians across its converged variants."""
    ok = table[(table.get("error", "") == "") & table["doubling_days_median"].notna()]
    g = ok.groupby("axis")["doubling_days_median"]
    return pd.DataFrame(
        {"min_days": g.min(), "max_days": g.max(), "spread_days": g.max() - g.min(), "variants": g.size()}
    ).sort_values("spread_days", ascending=False)
