"""The scaling law on a table of your own training runs: read, fit, summarise, plot.

Flow (one direction, as everywhere in bayesdense): :func:`load_runs` validates the CSV table
(errors name the file, row, line and column, before anything is fitted) -> :func:`fit` builds
:func:`bayesdense.models.scaling_law.build` and samples it with :func:`bayesdense.fit.sample_model`
-> a self-describing result tree (posterior, sample stats, the runs, priors, sampler, the classical
Huber fit) saved by :mod:`bayesdense.io` -> :func:`summary` and :func:`figure` work from the tree alone.

Units: N in billions of parameters, D in trillions of tokens, compute in FLOPs (C = 6 N D, raw
counts). Intervals are 94% HDIs (``quantities.CI_PROB``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from . import laws, quantities
from .data import SCHEMAS, DataError, read_csv_strings, sha256_of, suggest, validate_frame
from .inputs import D_UNIT, N_UNIT, runs_problems
from .models.scaling_law import KEY_VARS, LIKELIHOODS, SCALES, build, default_priors

DEFAULT_COMPUTE = 1e23  # FLOPs
SCALING_LAW_NAME = "scaling-law"
RUNS_SCHEMA = SCHEMAS["reference_runs"]
PARAM_NAMES = {"E": "loss_e", "a": "loss_a", "alpha": "loss_alpha", "b": "loss_b", "beta": "loss_beta"}
UNITS = {
    "params": "N in billions of parameters",
    "tokens": "D in trillions of tokens",
    "loss": "the table's loss unit (nats per token)",
    "a": "loss; the N-term a N^-alpha at N = 1 billion parameters",
    "b": "loss; the D-term b D^-beta at D = 1 trillion tokens",
    "E": "loss",
    "compute": "FLOPs, C = 6 N D",
}


# ----------------------------------------------------------------------------- the runs table
def load_runs(path: str | Path, benchmark: str | None = None) -> pd.DataFrame:
    """The runs of ``path`` (one loss), validated; a ``benchmark`` column needs one value or a choice."""
    df = validate_frame(read_csv_strings(path), RUNS_SCHEMA, path)
    if "benchmark" in df:
        names = list(dict.fromkeys(df["benchmark"]))
        listed = ", ".join(names)
        if benchmark is None and len(names) > 1:
            msg = f"the table holds {len(names)} losses ({listed}); choose one with --benchmark"
            raise DataError(path, [f"column 'benchmark': {msg}"])
        if benchmark is not None:
            if benchmark not in names:
                msg = f"no rows for --benchmark '{benchmark}'{suggest(benchmark, names)}; present: {listed}"
                raise DataError(path, [f"column 'benchmark': {msg}"])
            df = df[df["benchmark"] == benchmark].reset_index(drop=True)
    elif benchmark is not None:
        raise DataError(path, [f"--benchmark '{benchmark}' given, but the table has no 'benchmark' column"])
    problems = runs_problems(df, min_runs=7)
    if problems:
        raise DataError(path, problems)
    return df


# ----------------------------------------------------------------------------- fit
def fit(
    runs: pd.DataFrame,
    *,
    irreducible: bool = False,
    likelihood: str = "normal",
    scale: str = "log",
    seed: int = 1,
    profile: str | None = None,
    sampler: str = "numpyro",
    progress: bool = False,
    source: str = "",
    source_sha256: str = "",
) -> xr.DataTree:
    """Sample the scaling law on ``runs`` (columns params, tokens, loss; raw counts) and return a
    self-describing result tree (not yet saved). The classical Huber fit travels in the tree too."""
    import pymc as pm

    from . import classical
    from .fit import PRIOR_DRAWS, sample_model
    from .spec import ModelSpec, SamplerSpec

    if likelihood not in LIKELIHOODS:
        raise ValueError(f"--likelihood '{likelihood}' is not one of {', '.join(LIKELIHOODS)}")
    if scale not in SCALES:
        raise ValueError(f"--scale '{scale}' is not one of {', '.join(SCALES)}")
    t0 = time.time()
    n = runs["params"].to_numpy(float)
    d = runs["tokens"].to_numpy(float)
    y = runs["loss"].to_numpy(float)
    priors = default_priors(y, irreducible=irreducible, scale=scale)
    model = build(n / N_UNIT, d / D_UNIT, y, priors, irreducible=irreducible, likelihood=likelihood, scale=scale)
    # the sampler machinery of `bayesdense fit`: [sampler] defaults (4 chains x 1000 draws after 1000 tuning,
    # dense mass matrix), target_accept 0.95 as in the default spec, and the same profiles (fast, thorough)
    settings = SamplerSpec(sampler=sampler, target_accept=0.95)  # type: ignore[arg-type]
    spec = ModelSpec(name=SCALING_LAW_NAME, sampler=settings)
    idata = sample_model(spec, model, seed=seed, profile=profile, progress=progress, sampler=sampler)
    post = idata["posterior"].to_dataset()
    names = [str(v) for v in post.data_vars]
    keep = [v for v in names if v in KEY_VARS or v.startswith(("sigma_", "student_t_", "n_term", "d_term"))]
    if likelihood == "normal":
        keep = [v for v in keep if v != "student_t_nu"]
    classic = classical.fit_loss_law_huber(n, d, y, irreducible=irreducible)
    with model:  # the priors' forward draws (prior predictive check; stored, so a reprint needs no resampling)
        pri = pm.sample_prior_predictive(draws=PRIOR_DRAWS, random_seed=seed)
    tree = assemble(
        runs,
        post[keep],
        idata["sample_stats"].to_dataset(),
        sampler=json.loads(idata.attrs["bayesdense_sampler"]),
        priors=priors,
        classic=classic,
        irreducible=irreducible,
        likelihood=likelihood,
        scale=scale,
        seed=seed,
        source=source,
        source_sha256=source_sha256,
    )
    tree["prior"] = xr.DataTree(pri["prior"].to_dataset()[[v for v in keep if v in pri["prior"]]])
    tree["prior_predictive"] = xr.DataTree(pri["prior_predictive"].to_dataset())
    tree.attrs["power_scaling"] = json.dumps(power_scaling(tree, model=model))
    tree.attrs["wall_seconds"] = round(time.time() - t0, 2)
    return tree


def _model_of(tree: xr.DataTree) -> Any:
    """The PyMC model a result was sampled from, rebuilt from its runs, priors and options."""
    runs = tree["runs"]
    return build(
        np.asarray(runs["params"], float) / N_UNIT,
        np.asarray(runs["tokens"], float) / D_UNIT,
        np.asarray(runs["loss"], float),
        json.loads(str(tree.attrs["priors"])),
        irreducible=bool(int(tree.attrs["irreducible"])),
        likelihood=str(tree.attrs["likelihood"]),
        scale=str(tree.attrs["scale"]),
    )


def power_scaling(tree: xr.DataTree, *, model: Any = None) -> dict[str, Any]:
    """Prior and likelihood sensitivity of E, a, alpha, b, beta by power-scaling (ArviZ ``psense``,
    Kallioinen et al. 2024) on the posterior draws, without refitting. A prior sensitivity >= 0.05
    with a likelihood sensitivity >= 0.05 is a prior-data conflict (the priors in data units
    should not pull against the runs); a prior sensitivity >= 0.05 alone, a prior that dominates."""
    import arviz_stats as azs
    import pymc as pm

    from .sensitivity import PSENSE_THRESHOLD

    model = model if model is not None else _model_of(tree)
    post = tree["posterior"].to_dataset()
    free = [rv.name for rv in model.free_RVs]
    base = xr.DataTree.from_dict({"posterior": post[[v for v in post.data_vars if v in free or v in KEY_VARS]]})
    kw: dict[str, Any] = {"model": model, "extend_inferencedata": False, "progressbar": False}
    log_prior = pm.stats.compute_log_prior(base, var_names=free, **kw)
    log_lik = pm.stats.compute_log_likelihood(base, **kw)
    dtree = xr.DataTree.from_dict({"posterior": post, "log_prior": log_prior, "log_likelihood": log_lik})
    names = [v for v in KEY_VARS if v in post]
    prior = azs.psense(dtree, var_names=names, group="prior")
    lik = azs.psense(dtree, var_names=names, group="likelihood")
    rows = []
    for v in names:
        p, li = float(prior[v]), float(lik[v])
        diag = ""
        if p >= PSENSE_THRESHOLD:
            diag = "prior-data conflict" if li >= PSENSE_THRESHOLD else "strong prior / weak likelihood"
        key = next(k for k, name in PARAM_NAMES.items() if name == v)
        rows.append({"parameter": key, "prior": round(p, 4), "likelihood": round(li, 4), "diagnosis": diag})
    return {"threshold": PSENSE_THRESHOLD, "rows": rows}


def prior_check(tree: xr.DataTree) -> dict[str, Any] | None:
    """Prior predictive check: each run's observed loss against the 94% equal-tailed interval of its
    prior predictive loss (the priors in data units, before seeing the runs). None for a result
    written before the check existed."""
    if "prior_predictive" not in tree.children:
        return None
    y = np.asarray(tree["runs"]["loss"], float)
    lo, hi = _prior_band(tree)
    inside = (lo <= y) & (y <= hi)
    return {
        "interval": "94% equal-tailed prior predictive interval of each run's loss",
        "runs_inside": int(inside.sum()),
        "n_runs": int(y.size),
        "median_width_factor": float(np.median(hi / lo)),
        "outside": [int(i) for i in np.flatnonzero(~inside)],
    }


def _prior_band(tree: xr.DataTree) -> tuple[np.ndarray, np.ndarray]:
    pp = np.asarray(tree["prior_predictive"]["loss_obs"]).reshape(-1, tree["runs"].sizes["run"])
    if str(tree.attrs["scale"]) == "log":
        pp = np.exp(pp)
    lo, hi = np.quantile(pp, [0.03, 0.97], axis=0)
    return lo, hi


def assemble(
    runs: pd.DataFrame,
    posterior: xr.Dataset,
    sample_stats: xr.Dataset,
    *,
    sampler: dict[str, Any],
    priors: dict[str, Any],
    classic: dict[str, Any],
    irreducible: bool,
    likelihood: str,
    scale: str,
    seed: int,
    source: str = "",
    source_sha256: str = "",
) -> xr.DataTree:
    """A scaling-law result: posterior, sample stats and the runs, with what a reader needs in attributes."""
    from .fit import versions

    runs_ds = xr.Dataset(
        {k: ("run", runs[k].to_numpy(float)) for k in ("params", "tokens", "loss")},
        coords={"run": np.arange(len(runs))},
    )
    runs_ds.attrs["benchmark"] = str(runs["benchmark"].iloc[0]) if "benchmark" in runs else ""
    tree = xr.DataTree.from_dict({"posterior": posterior, "sample_stats": sample_stats, "runs": runs_ds})
    tree.attrs.update(
        {
            "format": "bayesdense-scaling-law",
            "format_version": 1,
            "model": "L = [E +] a N^-alpha + b D^-beta; N in billions, D in trillions",
            "irreducible": int(irreducible),
            "likelihood": likelihood,
            "scale": scale,
            "priors": json.dumps(priors),
            "classical": json.dumps(classic),
            "seed": seed,
            "sampler": json.dumps(sampler),
            "versions": json.dumps(versions()),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "wall_seconds": 0.0,
            "runs_file": source,
            "runs_sha256": source_sha256,
        }
    )
    return tree


def fit_file(path: str | Path, *, benchmark: str | None = None, **kw: Any) -> xr.DataTree:
    runs = load_runs(path, benchmark)
    return fit(runs, source=Path(path).name, source_sha256=sha256_of(path), **kw)


# ----------------------------------------------------------------------------- quantities (from the tree alone)
def _flat(tree: xr.DataTree, var: str) -> np.ndarray:
    return np.asarray(quantities.draws(tree, var)).ravel()


def parameters(tree: xr.DataTree) -> dict[str, dict[str, float]]:
    """E (with the term), a, alpha, b, beta: median and 94% HDI (N in billions, D in trillions)."""
    post = tree["posterior"]
    return {k: quantities.interval(quantities.draws(tree, v)) for k, v in PARAM_NAMES.items() if v in post}


def compute_optimal(tree: xr.DataTree, compute: float) -> dict[str, Any]:
    """N_opt(C), D_opt(C), tokens per parameter and the loss there, with 94% HDIs, at ``compute`` FLOPs."""
    post = tree["posterior"]
    a, al, b, be = (quantities.draws(tree, v) for v in ("loss_a", "loss_alpha", "loss_b", "loss_beta"))
    n_opt, d_opt = laws.compute_optimal(compute, a, al, b, be, n_unit=N_UNIT, d_unit=D_UNIT)
    e = quantities.draws(tree, "loss_e") if "loss_e" in post else 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a run-off draw: inf, said in diagnostics
        loss = e + laws.loss_law(n_opt / N_UNIT, d_opt / D_UNIT, a, al, b, be)
    return {
        "compute_flops": float(compute),
        "params_billions": quantities.interval(n_opt / N_UNIT),
        "tokens_trillions": quantities.interval(d_opt / D_UNIT),
        "tokens_per_param": quantities.interval(d_opt / n_opt),
        "loss": quantities.interval(loss),
        "n_exponent": quantities.interval(be / (al + be)),
        "note": "minimises the fitted law at C = 6 N D; the exponent is N_opt ~ C^(beta/(alpha+beta))",
    }


def classical_answer(tree: xr.DataTree, compute: float) -> dict[str, Any]:
    """The Huber-on-log-loss point estimate, in the posterior's units, with its compute-optimal split."""
    c = json.loads(str(tree.attrs["classical"]))
    a, b = laws.rescale_loss_law(c["a"], c["alpha"], c["b"], c["beta"], N_UNIT, D_UNIT)
    n_opt, d_opt = laws.compute_optimal(compute, a, c["alpha"], b, c["beta"], n_unit=N_UNIT, d_unit=D_UNIT)
    out: dict[str, Any] = {
        "method": "Huber loss on log loss (delta 1e-3), L-BFGS from a grid of initial values "
        "(Hoffmann et al. 2022; Besiroglu et al. 2024)",
        "parameters": {"a": float(a), "alpha": c["alpha"], "b": float(b), "beta": c["beta"]},
        "parameters_raw_units": {k: c[k] for k in ("a", "alpha", "b", "beta")},
        "rmse_log_loss": c["rmse_log_loss"],
        "starts": c["starts"],
        "starts_at_best": c["starts_at_best"],
        "compute_optimal": {
            "params_billions": float(n_opt / N_UNIT),
            "tokens_trillions": float(d_opt / D_UNIT),
            "tokens_per_param": float(d_opt / n_opt),
        },
    }
    if int(tree.attrs["irreducible"]):
        out["parameters"] = {"E": c["E"], **out["parameters"]}
        out["parameters_raw_units"] = {"E": c["E"], **out["parameters_raw_units"]}
    return out


def summary(tree: xr.DataTree, *, compute: float = DEFAULT_COMPUTE, result_file: str | None = None) -> dict[str, Any]:
    """Everything `bayesdense scaling-law` prints, as one JSON-ready dict."""
    runs = tree["runs"]
    return {
        "model": tree.attrs["model"],
        "interval": quantities.CI_LABEL,
        "irreducible": bool(int(tree.attrs["irreducible"])),
        "likelihood": str(tree.attrs["likelihood"]),
        "scale": str(tree.attrs["scale"]),
        "n_runs": int(runs.sizes["run"]),
        "benchmark": str(runs.attrs.get("benchmark", "")) or None,
        "parameters": parameters(tree),
        "compute_optimal": compute_optimal(tree, compute),
        "classical": classical_answer(tree, compute),
        "priors": json.loads(str(tree.attrs["priors"])),
        "diagnostics": quantities.diagnostics(tree, key_vars=KEY_VARS),
        "prior_check": prior_check(tree),
        "power_scaling": json.loads(str(tree.attrs["power_scaling"])) if "power_scaling" in tree.attrs else None,
        "units": UNITS,
        "sampler": json.loads(str(tree.attrs["sampler"])),
        "seed": int(tree.attrs["seed"]),
        "runs_file": str(tree.attrs.get("runs_file", "")),
        "runs_sha256": str(tree.attrs.get("runs_sha256", "")),
        "result_file": result_file,
    }


def _fmt_iv(iv: dict[str, float], fmt: str) -> str:
    return f"{iv['median']:{fmt}} [{iv['hdi_low']:{fmt}}, {iv['hdi_high']:{fmt}}]"


def format_summary(s: dict[str, Any]) -> str:
    """The text `bayesdense scaling-law` prints: posterior beside the classical answer."""
    law = "E + a N^-alpha + b D^-beta" if s["irreducible"] else "a N^-alpha + b D^-beta (no irreducible term)"
    res = "Student-t" if s["likelihood"] == "student_t" else "Normal"
    lines = [
        f"Scaling law L = {law} on {s['n_runs']} runs"
        + (f" ({s['benchmark']})" if s["benchmark"] else "")
        + f"; {res} residuals on {s['scale']} loss",
        f"N in billions of parameters, D in trillions of tokens; intervals: {s['interval']}",
        "",
        f"  {'':6s} {'posterior median [94% HDI]':>34s}   {'classical (Huber on log loss)':>28s}",
    ]
    cl = s["classical"]["parameters"]
    for k, iv in s["parameters"].items():
        lines.append(f"  {k:6s} {_fmt_iv(iv, '.4g'):>34s}   {cl[k]:>28.4g}")
    co, cc = s["compute_optimal"], s["classical"]["compute_optimal"]
    lines += [
        "",
        f"Compute-optimal split at C = {co['compute_flops']:.3g} FLOPs (C = 6 N D):",
        f"  N_opt        {_fmt_iv(co['params_billions'], '.3g')} billion parameters"
        f"   classical {cc['params_billions']:.3g}",
        f"  D_opt        {_fmt_iv(co['tokens_trillions'], '.3g')} trillion tokens"
        f"   classical {cc['tokens_trillions']:.3g}",
        f"  tokens/param {_fmt_iv(co['tokens_per_param'], '.3g')}   classical {cc['tokens_per_param']:.3g}",
        f"  loss there   {_fmt_iv(co['loss'], '.4g')}",
    ]
    d = s["diagnostics"]
    lines += [
        "",
        f"Diagnostics: max R-hat {d['max_rhat']:.3f} ({d['max_rhat_var']}), min bulk ESS {d['min_ess_bulk']:.0f} "
        f"({d['min_ess_bulk_var']}), min tail ESS {d['min_ess_tail']:.0f}, divergences {d['divergences']}, "
        f"{d['chains']} chains x {d['n_draws'] // max(d['chains'], 1)} draws, sampler {s['sampler'].get('sampler')}",
    ]
    if d["failures"]:
        lines.append(
            "WARNING: convergence checks failed: " + "; ".join(d["failures"]) + ". Treat the numbers with caution."
        )
    else:
        lines.append("All convergence checks passed (R-hat <= 1.01, ESS >= 400, no divergences, E-BFMI >= 0.3).")
    pc, ps = s.get("prior_check"), s.get("power_scaling")
    if pc or ps:
        lines.append("")
    if pc:
        lines.append(
            f"Prior predictive check: {pc['runs_inside']} of {pc['n_runs']} runs inside the 94% prior predictive "
            f"interval of their loss (median width: a factor {pc['median_width_factor']:.3g})"
        )
    if ps:
        flagged = [r for r in ps["rows"] if r["diagnosis"]]
        if flagged:
            lines += [
                f"WARNING (power-scaling): {r['parameter']}: {r['diagnosis']} (prior sensitivity {r['prior']:.3f}, "
                f"likelihood {r['likelihood']:.3f}; flag at {ps['threshold']})"
                for r in flagged
            ]
        else:
            worst = max(ps["rows"], key=lambda r: r["prior"])
            lines.append(
                f"Power-scaling: no prior-data conflict (every prior sensitivity < {ps['threshold']}; largest "
                f"{worst['parameter']} {worst['prior']:.3f})"
            )
    if s.get("result_file"):
        lines.append(
            f"\nResult file: {s['result_file']}  (reprint and replot: bayesdense scaling-law {s['result_file']})"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figure
def figure_data(tree: xr.DataTree, *, compute: float = DEFAULT_COMPUTE, max_draws: int = 400) -> dict[str, Any]:
    """The numbers :func:`figure` draws: runs, the compute-optimal loss band, per-run fitted loss."""
    runs = tree["runs"]
    n = np.asarray(runs["params"], float)
    d = np.asarray(runs["tokens"], float)
    y = np.asarray(runs["loss"], float)
    post = tree["posterior"]
    total = post.sizes["chain"] * post.sizes["draw"]
    sel = np.random.default_rng(0).choice(total, size=min(max_draws, total), replace=False)
    a, al, b, be = (_flat(tree, v)[sel, None] for v in ("loss_a", "loss_alpha", "loss_b", "loss_beta"))
    e = _flat(tree, "loss_e")[sel, None] if "loss_e" in post else 0.0
    c_runs = 6 * n * d
    c_grid = np.geomspace(min(c_runs.min(), compute) / 3, max(c_runs.max(), compute) * 3, 80)
    n_opt, d_opt = laws.compute_optimal(c_grid[None, :], a, al, b, be, n_unit=N_UNIT, d_unit=D_UNIT)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frontier = e + laws.loss_law(n_opt / N_UNIT, d_opt / D_UNIT, a, al, b, be)
        fitted = e + laws.loss_law(n[None, :] / N_UNIT, d[None, :] / D_UNIT, a, al, b, be)
    probs = [(1 - quantities.CI_PROB) / 2, 0.5, (1 + quantities.CI_PROB) / 2]
    return {
        "compute_runs": c_runs,
        "tokens_per_param": d / n,
        "loss": y,
        "compute_grid": c_grid,
        "frontier_band": np.quantile(frontier, probs, axis=0),
        "fitted_band": np.quantile(fitted, probs, axis=0),
        "compute": float(compute),
        "band": f"{quantities.CI_PROB:.0%} equal-tailed band of the posterior",
    }


def figure(tree: xr.DataTree, *, compute: float = DEFAULT_COMPUTE, width: str = "double") -> Figure:
    """(a) loss against compute 6ND with the compute-optimal loss and its band; (b) each run's
    observed loss against the fitted law (median, 94% band)."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import ScalarFormatter

    from .plots import OKABE_ITO, _new_figure, paper_style

    f = figure_data(tree, compute=compute)
    with paper_style():
        fig = _new_figure(width, 2.8)
        ax1, ax2 = fig.subplots(1, 2)
        band = f["frontier_band"]
        ax1.fill_between(f["compute_grid"], band[0], band[2], color=OKABE_ITO[0], alpha=0.25, lw=0, label="94% band")
        ax1.plot(f["compute_grid"], band[1], color=OKABE_ITO[0], lw=1, label="compute-optimal loss (median)")
        sc = ax1.scatter(
            f["compute_runs"],
            f["loss"],
            c=f["tokens_per_param"],
            norm=LogNorm(),
            cmap="viridis",
            s=10,
            edgecolor="black",
            lw=0.3,
            zorder=3,
        )
        fig.colorbar(sc, ax=ax1, label="tokens per parameter")
        ax1.axvline(f["compute"], color="grey", lw=0.6, ls="--")
        ax1.set_xscale("log")
        ax1.set_yscale("log")
        ax1.set_xlabel("training compute C = 6 N D (FLOPs)")
        ax1.set_ylabel("loss")
        ax1.legend(frameon=False, fontsize=6)
        fb = f["fitted_band"]
        ax2.errorbar(
            fb[1],
            f["loss"],
            xerr=[fb[1] - fb[0], fb[2] - fb[1]],
            fmt="o",
            ms=3,
            color=OKABE_ITO[1],
            mec="black",
            mew=0.3,
            elinewidth=0.6,
        )
        lo, hi = float(min(f["loss"].min(), fb[0].min())), float(max(f["loss"].max(), fb[2].max()))
        ax2.plot([lo, hi], [lo, hi], color="black", lw=0.6)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        for ax in (ax1, ax2):  # plain numbers on the log loss axes (2, 3, 4), not 2 x 10^0
            for axis in (ax.yaxis, ax2.xaxis) if ax is ax2 else (ax.yaxis,):
                axis.set_major_formatter(ScalarFormatter())
                axis.set_minor_formatter(ScalarFormatter())
        ax2.set_xlabel("fitted loss (median, 94% band)")
        ax2.set_ylabel("observed loss")
    return fig


def prior_figure(tree: xr.DataTree, *, width: str = "single") -> Figure | None:
    """Prior predictive check: each run's observed loss (dot) against the 94% interval of its prior
    predictive loss (bar), runs ordered by compute. None for a result without prior draws."""
    from .plots import OKABE_ITO, _new_figure, paper_style

    if prior_check(tree) is None:
        return None
    runs = tree["runs"]
    y = np.asarray(runs["loss"], float)
    c = 6 * np.asarray(runs["params"], float) * np.asarray(runs["tokens"], float)
    lo, hi = _prior_band(tree)
    order = np.argsort(c)
    with paper_style():
        fig = _new_figure(width, 2.6)
        ax = fig.subplots()
        x = np.arange(y.size)
        ax.vlines(x, lo[order], hi[order], color=OKABE_ITO[0], lw=1.2, label="prior predictive 94% interval")
        ax.scatter(x, y[order], s=8, color="black", zorder=3, label="observed loss")
        ax.set_yscale("log")
        ax.set_xlabel("run, by training compute 6ND")
        ax.set_ylabel("loss")
        ax.legend(frameon=False, fontsize=6, loc="upper right")
    return fig
