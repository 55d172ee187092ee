"""Sensitivity studies: variants of a base spec along an axis, fitted independently, one tidy table.

Each variant is a full spec (its TOML text is written next to its result), fitted in its own
worker process; a failed variant is a row with its error, never dropped, and does not stop the
others; a variant whose result file already exists for the same spec and data hash is not refitted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import jsonout, parallel
from .spec import ModelSpec, parse_spec, safe_name, spec_to_toml

AXES = ("d0", "frontier", "models", "priors", "benchmarks", "reference", "entries")
NOT_IN_ALL = ("benchmarks", "reference", "entries")  # axes that need a base spec of their own kind
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
    d["name"] = safe_name(f"{base.name}__{name}")  # the variant's label stays in the table
    spec = ModelSpec(**d)
    return name, spec_to_toml(spec, header=f"sensitivity variant '{name}' of spec '{base.name}'")


# test-set sizes (questions): MMLU (Hendrycks et al. 2021), BBH (Suzgun et al. 2022), MATH (Hendrycks et
# al. 2021), HumanEval (Chen et al. 2021), MBPP test split (Austin et al. 2021); see README, Priors
TEST_SET_SIZE = {"MMLU": 14042, "BBH": 6511, "MATH": 5000, "HumanEval": 164, "MBPP": 500}


def binomial_score_sd(benchmark: str, p: float = 0.5) -> float:
    """Sampling error of one benchmark score in points: 100 sqrt(p (1 - p) / n)."""
    return round(100.0 * (p * (1 - p) / TEST_SET_SIZE[benchmark]) ** 0.5, 3)


def anchored_exponent_priors(sigma: float = 0.1) -> dict[str, dict[str, dict[str, Any]]]:
    """Per benchmark: LogNormal priors on the loss-law exponents centred on the paper's curves."""
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
        return [v for a in AXES if a not in NOT_IN_ALL for v in variants(base, a)]
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
            _variant(base, "quantile regression (q=0.9)", **{"frontier.kind": "quantile", "frontier.quantile": 0.9}),
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
            # time windows: the Fig. 1 / Fig. 2 models span 2023-02 to 2025-04
            _variant(base, "released from 2023-09-01", **{"data.released_from": dt.date(2023, 9, 1)}),
            _variant(base, "released to 2024-09-30", **{"data.released_to": dt.date(2024, 9, 30)}),
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
    elif axis == "benchmarks" and base.layers.kind == "trend":
        # published densities measured on different benchmarks: MMLU-CF (Fig. 2), MMLU (Fig. 3c), AVERAGE (Fig. 1)
        out = [
            _variant(base, "MMLU-CF (Fig. 2)", **{"data.figure": "fig2", "data.era": "all"}),
            _variant(base, "MMLU (Fig. 3c)", **{"data.figure": "fig3c", "data.era": "all"}),
            _variant(base, "MMLU (Fig. 3c), post-ChatGPT", **{"data.figure": "fig3c", "data.era": "post_chatgpt"}),
            _variant(base, "AVERAGE (Fig. 1)", **{"data.figure": "fig1", "data.era": "all"}),
            # like for like: only the models plotted in both Fig. 2 and Fig. 3c
            _variant(
                base,
                "MMLU-CF (Fig. 2), models also in Fig. 3c",
                **{"data.figure": "fig2", "data.era": "all", "data.models_also_in": "fig3c"},
            ),
            _variant(
                base,
                "MMLU (Fig. 3c), models also in Fig. 2",
                **{"data.figure": "fig3c", "data.era": "all", "data.models_also_in": "fig2"},
            ),
        ]
    elif axis == "benchmarks":
        # published per-benchmark scores; each benchmark's loss-law exponents centred on the paper's
        # curve (+-10%), as the default spec does for AVERAGE (README, finding 1)
        anchors = anchored_exponent_priors()
        # With one score per model the score error is not identified apart from the latent density
        # (it was the main cause of poor mixing): single-benchmark variants fix it at the binomial
        # sampling error of that benchmark, as the default spec does for AVERAGE.

        def on_scores(subset: tuple[str, ...]) -> dict[str, Any]:
            bp = {b: dict(anchors[b]) for b in subset}
            if len(subset) == 1:
                bp[subset[0]]["score_sd"] = {"dist": "Fixed", "value": binomial_score_sd(subset[0])}
            return {
                "data.targets": "published_scores",
                "data.benchmarks": list(subset),
                "layers.hierarchical": False,
                "benchmark_priors": bp,
                "drop_priors": ["score_sd"],
                "sampler.target_accept": 0.98,
            }

        for k in range(1, 6):
            out += [_variant(base, "+".join(s), **on_scores(s)) for s in combinations(PER_BENCH, k)]
        # evaluation setting: only the scores evaluated as the paper's (shots, base model)
        paper_only = {**on_scores(tuple(PER_BENCH)), "data.score_settings": "as_paper"}
        out.append(_variant(base, "all five, paper's settings only", **paper_only))
        # or every score, those on other settings shifted by a per-benchmark offset (prior setting_offset)
        shifted = {**on_scores(tuple(PER_BENCH)), "data.score_settings": "offset"}
        out.append(_variant(base, "all five, setting offsets", **shifted))
        if base.data.benchmarks == ["AVERAGE"]:  # the paper's own choice, for comparison
            out.append(_variant(base, "AVERAGE (paper-implied scores)"))
    elif axis == "reference":
        out = reference_variants(base)
    elif axis == "entries":
        out = entry_variants(base)
    else:
        raise ValueError(f"unknown axis '{axis}'; choose one of {', '.join((*AXES, 'all'))}")
    return [(axis, name, text) for name, text in out]


def entry_variants(base: ModelSpec) -> list[tuple[str, str]]:
    """The leaderboard base spec on subsets of its entries, by the leaderboard's own markers: every
    entry, base models only (pretrained; pretrained + continuously pretrained), without merges (the
    types other than 'merge', so the entries without a type drop out too, and nothing merge-tagged),
    and with the flagged ones kept."""
    if base.data.targets != "leaderboard":
        raise ValueError(
            f"spec '{base.name}' has data.targets = '{base.data.targets}'; the entries axis varies the "
            "filters of the shipped leaderboard table: use a base spec with data.targets = 'leaderboard' "
            "(e.g. bayesdense sensitivity leaderboard --axis entries)"
        )
    from .data import ENTRY_TYPES

    return [
        _variant(base, "every entry type", **{"data.entry_types": None}),
        _variant(base, "pretrained", **{"data.entry_types": ["pretrained"]}),
        _variant(
            base,
            "pretrained + continuously pretrained",
            **{"data.entry_types": ["pretrained", "continuously_pretrained"]},
        ),
        _variant(
            base,
            "without merges",
            **{"data.entry_types": [t for t in ENTRY_TYPES if t != "merge"], "data.drop_merged": True},
        ),
        _variant(base, "flagged kept", **{"data.drop_flagged": False}),
    ]


def reference_variants(base: ModelSpec) -> list[tuple[str, str]]:
    """The base spec against each reference family it can be measured with: the paper's six models
    (losses), the public family (data/public: scores of 100 base models), and yours when the base
    has ``data.reference_runs``. The paper-family exponent anchors (``loss_alpha``, ``loss_beta``
    under ``benchmark_priors``) belong to the paper's curves and are dropped for the other families."""
    from .spec import PUBLIC_BENCHMARKS

    if base.layers.kind != "joint":
        raise ValueError(f"spec '{base.name}': the reference axis needs a joint spec (layers.kind = 'joint')")
    outside = [b for b in base.data.benchmarks if b not in PUBLIC_BENCHMARKS]
    if outside:
        raise ValueError(
            f"spec '{base.name}' fits {', '.join(outside)}; the public reference family has "
            f"{' and '.join(PUBLIC_BENCHMARKS)} only: use a base spec on those (e.g. mmlu_scores)"
        )
    unanchored = {
        b: {k: v for k, v in t.items() if k not in ("loss_alpha", "loss_beta")}
        for b, t in base.model_dump(exclude_none=True)["benchmark_priors"].items()
    }
    paper = {"data.reference_family": "paper", "data.reference_runs": None, "data.link_points": None}
    public = {
        **paper,
        "data.reference_family": "public",
        "benchmark_priors": unanchored,
        "layers.irreducible_loss": False,
        # the composition's curvature (100 scores of many recipes) needs smaller steps: on mmlu_scores,
        # 7 divergences at target_accept 0.95 and none at 0.99 (seed 1)
        "sampler.target_accept": max(base.sampler.target_accept, 0.99),
    }
    out = []
    if base.data.reference_runs is not None:
        out.append(_variant(base, "your family (data.reference_runs)"))
        # not the base here: named apart from the paper-family base of plots.BASE_VARIANTS
        name = "paper's family (6 models, losses; your priors)"
        out.append(_variant(base, name, **paper, benchmark_priors=unanchored))
    else:
        out.append(_variant(base, "paper's family (6 models, losses)", **paper))
    out.append(_variant(base, "public family (100 base models, scores)", **public))
    return out


Job = tuple[str, str, str, str, int, str | None]  # axis, variant name, spec text, out dir, seed, profile
# A variant that fails its convergence checks may be fitted once more, in the same worker (on the same
# compiled model), from the spec text this function returns for its text and its first fit's table
# row (see structural.refit_text)
Refit = Callable[[str, dict[str, Any]], str]
# jobs, spec texts of their shared group, cores, the shared model's sampler (shared.SAMPLERS), refit
Batch = tuple[list[Job], list[str] | None, int | None, str, Refit | None]


def _paths(job: Job) -> tuple[Path, Path]:
    axis, name, _, out_dir, _, _ = job
    safe = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name)
    return Path(out_dir) / f"{axis}__{safe}.nc", Path(out_dir) / f"{axis}__{safe}.toml"


def _existing(path: Path, spec: ModelSpec) -> Any:
    """The saved result at ``path`` if it was fitted from the same spec and data, else None."""
    from . import fit, io

    if not path.exists():
        return None
    old = io.load(path)
    same = old.attrs.get("spec_hash") == spec.hash and old.attrs.get("data_hash") == fit.data_hash_of(spec)
    return old if same else None


def _row(job: Job, tree: Any, path: Path, reused: bool, seconds: float) -> dict[str, Any]:
    from . import quantities

    s = quantities.summary(tree, result_file=str(path))
    d = s["diagnostics"]
    settings = json.loads(str(tree.attrs.get("sampler", "{}")))
    return {
        "axis": job[0],
        "variant": job[1],
        "growth_median": s["growth_rate_per_day"]["median"],
        "growth_hdi_low": s["growth_rate_per_day"]["hdi_low"],
        "growth_hdi_high": s["growth_rate_per_day"]["hdi_high"],
        "doubling_days_median": s["doubling_time_days"]["median"],
        "doubling_days_hdi_low": s["doubling_time_days"]["hdi_low"],
        "doubling_days_hdi_high": s["doubling_time_days"]["hdi_high"],
        "p_growth_positive": s["p_growth_positive"],
        "n_draws": d["n_draws"],
        "max_rhat": d["max_rhat"],
        "max_rhat_var": d["max_rhat_var"],
        "min_ess_bulk": d["min_ess_bulk"],
        "divergences": d["divergences"],
        "min_bfmi": d.get("min_bfmi"),
        "converged": d["ok"],
        "n_models": len(s["models"]),
        "sampler": settings.get("sampler", ""),
        "shared_model": bool(settings.get("shared_model")),
        "reused": reused,
        "seconds": round(seconds, 2),
        "result_file": str(path),
        "error": "",
    }


def _failed(job: Job, e: BaseException) -> dict[str, Any]:
    return {"axis": job[0], "variant": job[1], "error": f"{type(e).__name__}: {str(e)[:300]}"}


def _progress(row: dict[str, Any]) -> dict[str, Any]:
    """One line on stderr per finished variant (workers share the terminal)."""
    import sys

    what = f"FAILED: {row['error']}" if row.get("error") else f"{row['doubling_days_median']:.0f} days"
    if not row.get("error") and not row.get("converged"):
        what += " (convergence warning)"
    # one write a line: worker processes share the terminal, and print's separate newline interleaves
    sys.stderr.write(f"[sensitivity] {row['axis']}: {row['variant']}: {what}\n")
    sys.stderr.flush()
    return row


def _run_one(
    job: Job, shared_model: Callable[[], Any] | None = None, cores: int | None = None, refit: Refit | None = None
) -> dict[str, Any]:
    """Fit one variant (on the model ``shared_model()`` returns, when given), save it, and return
    its table row. With ``refit``, a fit that fails its convergence checks is fitted once more from
    ``refit(spec text, first row)`` (saved under the variant's name + " (refit)"); the row is the refit's, with
    ``refit_of`` the first fit's diagnostics (a refit that raises leaves the first fit's row, with
    ``refit_error``)."""
    row = _progress(_fit_row(job, shared_model, cores))
    if refit is None or row.get("error") or row["converged"]:
        return row
    again = (job[0], f"{job[1]} (refit)", refit(job[2], row), *job[3:])
    redo = _progress(_fit_row(again, shared_model, cores))  # type: ignore[arg-type]
    if redo.get("error"):  # the first fit stands (reported as not converged), with why the refit failed
        return {**row, "refit_error": redo["error"]}
    first = {k: row[k] for k in ("max_rhat", "max_rhat_var", "min_ess_bulk", "divergences", "result_file")}
    return {**redo, "variant": job[1], "refit_of": first}


def _fit_row(job: Job, shared_model: Callable[[], Any] | None, cores: int | None) -> dict[str, Any]:
    import time

    from . import fit, io
    from .shared import NotShareable

    t0 = time.time()
    try:
        spec = parse_spec(job[2], f"variant {job[1]}")
        path, toml = _paths(job)
        toml.write_text(job[2])
        tree = _existing(path, spec)
        if tree is not None:
            return _row(job, tree, path, True, time.time() - t0)
        model = shared_model() if shared_model is not None else None
        prior = job[0] != "structural"  # a structural member is only mixed: no prior draws
        try:
            tree = model.fit(spec, seed=job[4], profile=job[5], cores=cores, prior=prior) if model is not None else None
        except NotShareable:
            tree = None
        if tree is None:
            tree = fit.fit(spec, seed=job[4], profile=job[5], progress=False, prior=prior)
        io.save(tree, path)
        return _row(job, tree, path, False, time.time() - t0)
    except Exception as e:  # noqa: BLE001 - a failed variant is reported in its row, never raised
        return _failed(job, e)


def _run_batch(batch: Batch) -> list[dict[str, Any]]:
    """A batch of variants. With ``group`` (the spec texts of the whole structure group) they share
    one compiled model, built from the group's superset (so every batch builds the same model) when
    the first variant needs a fit; a batch whose results all exist compiles nothing."""
    jobs, group, cores, sampler, refit = batch
    if group is None:
        return [_run_one(j, None, cores, refit) for j in jobs]
    from . import shared

    cache: dict[str, Any] = {}

    def shared_model() -> Any:
        if "model" not in cache:
            try:
                specs = [parse_spec(t, "variant") for t in group]
                cache["model"] = shared.SharedModel(shared.superset(specs), sampler=sampler)
            except Exception:  # noqa: BLE001 - the variants then compile one by one
                cache["model"] = None
        return cache["model"]

    return [_run_one(j, shared_model, cores, refit) for j in jobs]


def batches(
    jobs: list[Job],
    *,
    workers: int,
    reuse: bool = True,
    cores: int | None = None,
    sampler: str = "nutpie",
    refit: Refit | None = None,
) -> list[Batch]:
    """Split jobs into batches: variants of one structure share a compiled model (``sampler``:
    ``shared.SAMPLERS``); a group larger than its share of the workers' work (all grouped jobs /
    ``workers``) is split into chunks, at most ``workers``, each compiling once. The other jobs are
    one per batch. ``cores``: threads per sampler (None: as many as chains)."""
    import math

    from .shared import plan

    specs = [parse_spec(j[2], j[1]) for j in jobs]
    groups = plan(specs) if reuse else [[i] for i in range(len(jobs))]
    grouped = sum(len(g) for g in groups if len(g) > 1)
    share = max(1, math.ceil(grouped / max(workers, 1)))
    out: list[Batch] = []
    for g in groups:
        if len(g) == 1:
            out.append(([jobs[g[0]]], None, cores, sampler, refit))
            continue
        k = max(1, min(workers, math.ceil(len(g) / share)))
        texts = [jobs[i][2] for i in g]
        for c in range(k):
            out.append(([jobs[i] for i in g[c::k]], texts, cores, sampler, refit))
    return out


def run(
    base: ModelSpec,
    axis: str,
    out_dir: str | Path,
    *,
    seed: int = 1,
    profile: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    reuse: bool = True,
) -> pd.DataFrame:
    """Fit every variant and return the tidy table (also written as CSV and JSON).

    Local worker processes by default; with ``scheduler`` (``tcp://host:port``) the batches go to
    that Dask cluster (``dask.distributed``; its workers need bayesdense installed).
    """
    table = run_variants(
        variants(base, axis), out_dir, seed=seed, profile=profile, workers=workers, scheduler=scheduler, reuse=reuse
    )
    out = Path(out_dir)
    table.to_csv(out / "sensitivity.csv", index=False)
    (out / "sensitivity.json").write_text(jsonout.dumps(table.attrs["rows"]))
    return table


def run_variants(
    vlist: list[tuple[str, str, str]],
    out_dir: str | Path,
    *,
    seed: int = 1,
    profile: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    reuse: bool = True,
    sampler: str = "nutpie",
    refit: Refit | None = None,
) -> pd.DataFrame:
    """Fit (axis, name, spec text) variants into ``out_dir`` (resuming: a result of the same spec
    and data is reused) and return their table rows in the given order. ``reuse``: variants of one
    structure share one compiled model, sampled with ``sampler`` (``shared.SAMPLERS``). ``refit``:
    see :func:`_run_one` (a module-level function: it travels to the worker processes)."""
    import os

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs: list[Job] = [(a, n, t, str(out), seed, profile) for a, n, t in vlist]
    order = {(j[0], j[1]): i for i, j in enumerate(jobs)}
    cores = None if scheduler else max(1, (os.cpu_count() or 1) // max(workers, 1))
    todo = batches(jobs, workers=max(workers, 1), reuse=reuse, cores=cores, sampler=sampler, refit=refit)
    done = parallel.run_jobs(
        _run_batch, todo, workers=workers, scheduler=scheduler, on_error=lambda b, e: [_failed(j, e) for j in b[0]]
    )
    rows = [r for b in done for r in b]
    rows.sort(key=lambda r: order[(r["axis"], r["variant"])])
    table = pd.DataFrame(rows)
    table.attrs["rows"] = rows  # as fitted (a failed row has only its error), for the JSON copy
    return table


def axis_effect(table: pd.DataFrame) -> pd.DataFrame:
    """Per axis: the spread (max - min) of the doubling-time medians across its converged variants."""
    err = table["error"].astype(object).fillna("") if "error" in table else pd.Series("", index=table.index)
    ok = table[(err == "") & table["doubling_days_median"].notna()]
    g = ok.groupby("axis")["doubling_days_median"]
    return pd.DataFrame(
        {"min_days": g.min(), "max_days": g.max(), "spread_days": g.max() - g.min(), "variants": g.size()}
    ).sort_values("spread_days", ascending=False)


# ----------------------------------------------------------------------------- power-scaling
PSENSE_THRESHOLD = 0.05  # Kallioinen et al. (2024)


def power_scaling(tree: Any) -> dict[str, Any]:
    """Power-scaling prior and likelihood sensitivity (ArviZ ``psense``; Kallioinen et al. 2024) of a
    result, without refitting: the model is rebuilt from the spec and fit data the result carries,
    the log prior (top-level priors only: the latent densities' frontier is part of the model) and
    the pointwise log likelihood are evaluated on the posterior draws, and PSIS reweights them.

    Returns per key quantity the prior and likelihood sensitivities and a diagnosis, and for the
    growth rate the sensitivity to each top-level prior scaled on its own."""
    import arviz_stats as azs
    import pymc as pm
    import xarray as xr

    from . import quantities
    from .models import build

    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    if spec.frontier.kind == "records" and spec.layers.kind == "joint":
        raise ValueError("the records frontier is a cut posterior: power-scaling its prior does not apply")
    if spec.layers.score_error == "marginalised":
        raise ValueError(
            "the score error is marginalised (no pointwise likelihood of the scores): power-scaling needs it sampled"
        )
    fd = quantities.fit_data(tree)
    model = build(spec, fd)
    post = tree["posterior"].to_dataset()
    top = [rv.name for rv in model.free_RVs if rv.name not in ("log_density", "neg_log_density")]
    base = xr.DataTree.from_dict({"posterior": post})
    kw: dict[str, Any] = {"model": model, "extend_inferencedata": False, "progressbar": False}
    log_prior = pm.stats.compute_log_prior(base, var_names=top, **kw)
    log_lik = pm.stats.compute_log_likelihood(base, **kw)
    # The frontier term p(log density | trend) is how the data reach the growth rate: with the latent
    # densities integrated out it is part of the likelihood of the scores. It belongs to the
    # likelihood group (leaving it out understates the growth rate's likelihood sensitivity ~4x).
    latent = [rv.name for rv in model.free_RVs if rv.name in ("log_density", "neg_log_density")]
    if latent:
        front = pm.stats.compute_log_prior(base, var_names=latent, **kw)
        for name in latent:
            log_lik[f"frontier_term_{name}"] = front[name]
    dt = xr.DataTree.from_dict({"posterior": post, "log_prior": log_prior, "log_likelihood": log_lik})
    names = [v for v in ("growth_rate_per_day", "intercept", "loss_alpha", "loss_beta") if v in post]
    prior = azs.psense(dt, var_names=names, group="prior")
    lik = azs.psense(dt, var_names=names, group="likelihood")
    rows = []
    for v in names:
        for idx in np.ndindex(prior[v].shape):
            label = v if not idx else f"{v}[{post[v].coords[prior[v].dims[0]].values[idx[0]]}]"
            p, li = float(prior[v].values[idx]), float(lik[v].values[idx])
            if p >= PSENSE_THRESHOLD and li >= PSENSE_THRESHOLD:
                diag = "prior-data conflict"
            elif p >= PSENSE_THRESHOLD:
                diag = "strong prior / weak likelihood"
            else:
                diag = ""
            rows.append({"quantity": label, "prior": p, "likelihood": li, "diagnosis": diag})
    by_prior = {
        name: float(
            azs.psense(dt, var_names=["growth_rate_per_day"], group="prior", group_var_names=[name])[
                "growth_rate_per_day"
            ]
        )
        for name in top
    }
    return {
        "spec": spec.name,
        "threshold": PSENSE_THRESHOLD,
        "rows": rows,
        "growth_rate_by_prior": dict(sorted(by_prior.items(), key=lambda kv: -kv[1])),
        "n_draws": quantities.diagnostics(tree)["n_draws"],
    }
