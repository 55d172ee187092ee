"""Pure functions over a result's posterior draws: intervals, doubling time, densities, checks.

Everything here reads a result tree (from :func:`bayesdense.fit.fit` or :func:`bayesdense.io.load`)
and never samples. Intervals are 94% highest-density intervals (``CI_PROB``).
"""

from __future__ import annotations

import json
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from . import laws
from .inputs import N_UNIT, FitData

CI_PROB = 0.94
CI_LABEL = "94% HDI"
DAYS_PER_MONTH = 30.44
DAYS_PER_YEAR = 365.25  # as in models/densing.py
RHAT_MAX = 1.01
ESS_MIN = 400
KEY_VARS = ("growth_rate_per_day", "intercept", "log_density")
# per-draw transforms of sampled variables that results store for ArviZ users (:func:`derived_draws`);
# their convergence is that of the variables they are computed from, so diagnostics leave them out
DERIVED_VARS = ("doubling_time_days", "density")


def draws(tree: xr.DataTree, var: str) -> xr.DataArray:
    da = tree["posterior"][var]
    assert isinstance(da, xr.DataArray)
    return da


def interval(da: xr.DataArray) -> dict[str, float]:
    """Median and 94% HDI of a (chain, draw) DataArray without other dims."""
    h = az.hdi(da.to_dataset(name="x"), prob=CI_PROB)["x"]
    return {
        "median": float(da.median()),
        "hdi_low": float(h.sel(ci_bound="lower")),
        "hdi_high": float(h.sel(ci_bound="upper")),
    }


def intervals(da: xr.DataArray, dim: str) -> list[dict[str, float]]:
    """Median and 94% HDI along every coordinate of ``dim``."""
    h = az.hdi(da.to_dataset(name="x"), prob=CI_PROB)["x"]
    med = da.median(("chain", "draw"))
    return [
        {
            "median": float(med.isel({dim: i})),
            "hdi_low": float(h.isel({dim: i}).sel(ci_bound="lower")),
            "hdi_high": float(h.isel({dim: i}).sel(ci_bound="upper")),
        }
        for i in range(da.sizes[dim])
    ]


def growth_and_doubling(tree: xr.DataTree) -> dict[str, Any]:
    """Growth rate (per day) and doubling time (days, months), each with its median and 94% HDI.

    See :func:`rate_and_doubling`."""
    return rate_and_doubling(draws(tree, "growth_rate_per_day"))


P_NONPOSITIVE_SHOWN = 0.001  # P(rate <= 0) is printed beside the doubling time above this


def rate_and_doubling(rate: xr.DataArray) -> dict[str, Any]:
    """Median and 94% HDI of a growth rate's (chain, draw) draws (per day), and of the doubling time.

    The doubling time's interval is the HDI of its own draws, ln 2 / rate (``+inf`` in a draw whose
    rate is <= 0: the density never doubles), not the image of the rate's HDI: an HDI is not carried
    through a nonlinear map, and the image would be neither an HDI nor equal-tailed. It is what
    ``az.hdi(tree["posterior"]["doubling_time_days"], prob=0.94)`` gives. When more than 6% of the
    draws never double, the upper end is unbounded: ``hdi_high`` is None and ``unbounded`` is True.
    ``p_growth_nonpositive`` is P(rate <= 0)."""
    r = interval(rate)
    p_pos = float((rate > 0).mean())
    dd = interval(xr.apply_ufunc(laws.doubling_time, rate))

    def finite(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    dbl: dict[str, Any] = {k: finite(v) for k, v in dd.items()}
    dbl["unbounded"] = dbl["hdi_high"] is None
    dbl["interval"] = f"{CI_LABEL} of the doubling-time draws ln 2 / rate (+inf where rate <= 0)"
    reasons = {
        k: f"the {what} of the doubling-time draws is +inf: in {1 - p_pos:.1%} of the draws the growth rate is "
        "<= 0 and the density never doubles"
        for k, what in (("median", "median"), ("hdi_low", "lower HDI end"), ("hdi_high", "upper HDI end"))
        if dbl[k] is None
    }
    if reasons:
        dbl["null_reasons"] = reasons
    months: dict[str, Any] = {
        k: (dbl[k] / DAYS_PER_MONTH if dbl[k] is not None else None) for k in ("median", "hdi_low", "hdi_high")
    }
    if reasons:
        months["null_reasons"] = reasons
    return {
        "growth_rate_per_day": r,
        "p_growth_positive": p_pos,
        "p_growth_nonpositive": 1.0 - p_pos,
        "doubling_time_days": dbl,
        "doubling_time_months": months,
    }


def p_text(p: float, n: int) -> str:
    """``p`` (a share of ``n`` draws) as printed: never 1.000 or 0.000 from finitely many draws.
    All draws on one side give a bound 1 - 1/n rounded outwards to 3 decimals ("> 0.999" from
    4000 draws, "> 0.998" from 600)."""
    bound = np.floor((1 - 1 / n) * 1000) / 1000
    if p >= 1:
        return f"> {bound:.3f}"
    if p <= 0:
        return f"< {1 - bound:.3f}"
    if p > 0.999:
        return "> 0.999"
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}"


def derived_draws(post: xr.Dataset) -> dict[str, xr.DataArray]:
    """The doubling time and the densities of every draw, as ``DERIVED_VARS`` (for a result's posterior).

    ``doubling_time_days`` is :func:`bayesdense.laws.doubling_time` of ``growth_rate_per_day``:
    ``+inf`` in a draw whose rate is <= 0 (the density does not double); the summary's doubling-time
    HDI is the HDI of these draws (computed from the rate, so older results without them are
    summarised the same). ``density`` is ``exp(log_density)`` (``+inf`` where a score lies beyond
    the reference law's reach)."""
    out: dict[str, xr.DataArray] = {}
    if "growth_rate_per_day" in post:
        dbl = xr.apply_ufunc(laws.doubling_time, post["growth_rate_per_day"])
        dbl.attrs = {
            "long_name": "doubling time of the density: ln 2 / growth_rate_per_day per draw; "
            "+inf in draws whose growth rate is <= 0 (no doubling)",
            "units": "days",
        }
        out["doubling_time_days"] = dbl
    if "log_density" in post:
        dens = xr.apply_ufunc(np.exp, post["log_density"])
        dens.attrs = {
            "long_name": "capability density: exp(log_density), effective over real parameter count at D0",
            "units": "1",
        }
        out["density"] = dens
    return out


def fit_data(tree: xr.DataTree) -> FitData:
    return FitData.from_dataset(tree["fit_data"].to_dataset())


def model_table(tree: xr.DataTree) -> list[dict[str, Any]]:
    """Per target model: density and effective size (billions) with HDIs, flags."""
    fd = fit_data(tree)
    log_rho = draws(tree, "log_density")
    dens = intervals(xr.apply_ufunc(np.exp, log_rho), "model")
    out = []
    sat = score_saturation(tree)
    frontier = frontier_distance(tree)
    for i, name in enumerate(fd.model):
        row: dict[str, Any] = {
            "name": str(name),
            "t_days": float(fd.t_days[i]),
            "density": dens[i],
            "paper_density": float(fd.point_density[i]),
            "paper_record": bool(fd.paper_record[i]),
            "log_distance_below_frontier": frontier[i],
        }
        if np.isfinite(fd.params[i]):
            row["params_billions"] = float(fd.params[i] / N_UNIT)
            row["n_eff"] = {k: v * fd.params[i] / N_UNIT for k, v in dens[i].items()}
            row["n_eff_unit"] = "billions of parameters"
        if sat is not None:
            row["p_score_beyond_reach"] = sat[i]
            row["unbounded_above"] = sat[i] > 0.5
        out.append(row)
    return out


def frontier_distance(tree: xr.DataTree) -> list[dict[str, float]]:
    """Posterior of (frontier at the model's date) - (model's log density), >= 0 mostly."""
    fd = fit_data(tree)
    t = xr.DataArray(fd.t_days, dims="model")
    line = draws(tree, "intercept") + draws(tree, "growth_rate_per_day") * t
    return intervals(line - draws(tree, "log_density"), "model")


def frontier_at(tree: xr.DataTree, t_days: np.ndarray) -> xr.DataArray:
    """Posterior draws of the frontier log density at the given days since the origin
    (piecewise for a change-point result: each era's own line)."""
    t = xr.DataArray(np.asarray(t_days, float), dims="t")
    post = tree["posterior"]
    if "growth_rate_per_day_pre" in post:
        c = draws(tree, "change_day")
        pre = draws(tree, "frontier_level_pre") + draws(tree, "growth_rate_per_day_pre") * (t - c)
        after = draws(tree, "frontier_level_post") + draws(tree, "growth_rate_per_day") * (t - c)
        return xr.where(t < c, pre, after)
    line = draws(tree, "intercept") + draws(tree, "growth_rate_per_day") * t
    if "frontier_curvature" in post:  # the bending trend: + curvature x (years from the mid-date)^2
        fd = fit_data(tree)
        t_mid = 0.5 * (float(fd.t_days.min()) + float(fd.t_days.max()))
        line = line + draws(tree, "frontier_curvature") * ((t - t_mid) / DAYS_PER_YEAR) ** 2
    return line


def score_saturation(tree: xr.DataTree) -> list[float] | None:
    """Per model, P(an observed score is above what the reference law can reach at D0)."""
    post = tree["posterior"]
    if "max_score" not in post:
        return None
    fd = fit_data(tree)
    out = np.zeros(fd.n_models)
    for k in range(len(fd.obs_score)):
        m, b = int(fd.obs_model[k]), int(fd.obs_bench[k])
        p = float((post["max_score"].isel(benchmark=b) < fd.obs_score[k]).mean())
        out[m] = max(out[m], p)
    return [float(v) for v in out]


def heldout_link_check(tree: xr.DataTree) -> list[dict[str, Any]]:
    """Posterior-predictive check of the held-out link points (94% predictive interval)."""
    post = tree["posterior"]
    if "link_c" not in post:
        return []
    fd = fit_data(tree)
    rng = np.random.default_rng(0)
    out = []
    for k in np.flatnonzero(fd.link_role == "heldout"):
        b = int(fd.link_bench[k])
        p = post.isel(benchmark=b)
        mu = laws.link(
            fd.link_loss[k], p["link_c"].values, p["link_gamma"].values, p["link_l"].values, p["link_d"].values
        )
        pred = mu + rng.normal(0, 1, mu.shape) * p["link_sd"].values
        lo, hi = np.quantile(pred, [(1 - CI_PROB) / 2, (1 + CI_PROB) / 2])
        out.append(
            {
                "benchmark": fd.benchmarks[b],
                "loss": float(fd.link_loss[k]),
                "score": float(fd.link_score[k]),
                "predicted_median": float(np.median(pred)),
                "pi_low": float(lo),
                "pi_high": float(hi),
                "inside": bool(lo <= fd.link_score[k] <= hi),
            }
        )
    return out


def diagnostics(tree: xr.DataTree, *, key_vars: tuple[str, ...] = KEY_VARS) -> dict[str, Any]:
    """Convergence diagnostics; ``failures`` names every check that fails and the variables.

    ``key_vars``: the quantities whose bulk and tail ESS are reported (the densing law's by default)."""
    post = tree["posterior"].to_dataset().drop_vars(DERIVED_VARS, errors="ignore")
    stats = tree["sample_stats"].to_dataset()
    key = [v for v in key_vars if v in post]
    rhat = az.rhat(post)
    ess_b = az.ess(post, method="bulk")
    ess_t = az.ess(post, method="tail")

    # Elements whose draws are one finite constant (a Fixed prior) have no R-hat or ESS and are not
    # checked. Infinite draws are a property, not a sampling failure (a derived density is +inf
    # where a score lies beyond the reference law's reach: the summary flags it unbounded), so
    # those elements are left out and listed. A NaN draw, or a NaN diagnostic of anything left,
    # is a failure, never skipped.
    all_vars, nonfinite, infinite, varying = [], [], [], {}
    for v in post.data_vars:
        x = post[v]
        if bool(np.isnan(x).any()):
            nonfinite.append(str(v))
            continue
        ok = xr.apply_ufunc(np.isfinite, x)
        finite = ok.all(("chain", "draw")).values
        if not np.all(finite):
            infinite.append(str(v))
        kept = x.where(ok)
        moving = finite & (kept.max(("chain", "draw")) > kept.min(("chain", "draw"))).values
        if np.any(moving):
            all_vars.append(str(v))
            varying[str(v)] = moving
    key = [v for v in key if v in all_vars]
    not_computable: list[str] = []

    def worst(ds: xr.Dataset, fn: str, names: list[str]) -> tuple[float, str | None]:
        vals = {}
        for v in names:
            x = np.asarray(ds[v].values, float)[varying[v]] if np.ndim(ds[v].values) else np.asarray([ds[v].values])
            if np.all(np.isfinite(x)):
                vals[v] = float(x.max() if fn == "max" else x.min())
            elif v not in not_computable:
                not_computable.append(v)
        if not vals:
            return float("nan"), None
        name = (max if fn == "max" else min)(vals, key=vals.__getitem__)
        return vals[name], name

    max_rhat, rhat_var = worst(rhat, "max", all_vars)
    min_ess, ess_var = worst(ess_b, "min", key)
    min_ess_all, ess_all_var = worst(ess_b, "min", all_vars)
    min_tail, tail_var = worst(ess_t, "min", key)
    div = int(stats["diverging"].sum()) if "diverging" in stats else 0
    out: dict[str, Any] = {
        "max_rhat": max_rhat,
        "max_rhat_var": rhat_var,
        "min_ess_bulk": min_ess,
        "min_ess_bulk_var": ess_var,
        "min_ess_tail": min_tail,
        "min_ess_tail_var": tail_var,
        "min_ess_bulk_all_params": min_ess_all,
        "min_ess_bulk_all_params_var": ess_all_var,
        "divergences": div,
        "wall_seconds": float(tree.attrs.get("wall_seconds", float("nan"))),
        "n_draws": int(post.sizes["chain"] * post.sizes["draw"]),
        "chains": int(post.sizes["chain"]),
    }
    if "energy" in stats:
        e = stats["energy"].values
        bfmi = np.sum(np.diff(e, axis=1) ** 2, axis=1) / np.sum((e - e.mean(axis=1, keepdims=True)) ** 2, axis=1)
        out["min_bfmi"] = float(bfmi.min())
    if "reached_max_treedepth" in stats:
        out["treedepth_saturated"] = int(stats["reached_max_treedepth"].sum())
    fails = []
    out["infinite_draws_in"] = infinite
    if nonfinite:
        fails.append(f"NaN draws in {', '.join(nonfinite)}")
    if not_computable:
        fails.append(f"R-hat/ESS not computable (NaN) for {', '.join(not_computable)}")
    if out["chains"] < 2:
        fails.append("one chain: R-hat needs at least two")
    if not key:
        what = "growth rate, intercept, densities" if key_vars == KEY_VARS else ", ".join(key_vars)
        fails.append(f"none of the key quantities ({what}) has usable draws")
    if out.get("min_bfmi") is not None and not np.isfinite(out["min_bfmi"]):
        fails.append("E-BFMI not computable (NaN)")
    if max_rhat > RHAT_MAX:
        fails.append(f"R-hat {max_rhat:.3f} > {RHAT_MAX} ({rhat_var})")
    if min_ess < ESS_MIN:
        fails.append(f"bulk ESS {min_ess:.0f} < {ESS_MIN} ({ess_var})")
    if min_tail < ESS_MIN:
        fails.append(f"tail ESS {min_tail:.0f} < {ESS_MIN} ({tail_var})")
    if div:
        fails.append(f"{div} divergent transitions")
    if out.get("min_bfmi", 1.0) < 0.3:
        fails.append(f"E-BFMI {out['min_bfmi']:.2f} < 0.3")
    if out.get("treedepth_saturated", 0):
        fails.append(f"{out['treedepth_saturated']} draws hit the maximum tree depth")
    out["failures"] = fails
    out["ok"] = not fails
    return out


def change_point(tree: xr.DataTree) -> dict[str, Any] | None:
    """Growth before vs after a break: both rates, their ratio, P(after > before), the break date."""
    post = tree["posterior"]
    if "growth_rate_per_day_pre" not in post:
        return None
    pre, after = draws(tree, "growth_rate_per_day_pre"), draws(tree, "growth_rate_per_day")
    p_pre_nonpos = float((pre <= 0).mean())
    out: dict[str, Any] = {
        "growth_rate_per_day_before": interval(pre),
        "growth_rate_per_day_after": interval(after),
        "rate_difference_after_minus_before": interval(after - pre),
        # a ratio means "x times faster" only while the earlier rate is positive in (nearly) every draw
        "rate_ratio_after_over_before": interval(after / pre) if p_pre_nonpos < 0.001 else None,
        "p_before_nonpositive": p_pre_nonpos,
        "p_after_faster": float((after > pre).mean()),
        # "at least 50% faster" as a statement about the rates, defined whatever the sign of the earlier one
        "p_ratio_at_least_1_5": float((after >= 1.5 * pre).mean()),
    }
    if out["rate_ratio_after_over_before"] is None:
        out["null_reasons"] = {
            "rate_ratio_after_over_before": f"the earlier growth rate is <= 0 in {p_pre_nonpos:.1%} of the draws; "
            "see rate_difference_after_minus_before"
        }
    day = draws(tree, "change_day")
    if float(day.std()) > 0:
        out["change_day"] = interval(day)
    else:
        out["change_day"] = {"fixed": float(day.mean())}
    return out


ESTIMANDS = {
    "stochastic_frontier": "the slope of the stochastic frontier: every quantile of the frontier (a line plus a "
    "time-constant inefficiency) grows at this rate",
    "mean_trend": "the slope of the mean trend of ln density (all models, not a frontier)",
    "quantile": "the slope of a quantile line of ln density (Bayesian quantile regression)",
    "change_point": "the slope of the frontier after the break (the later era)",
    "records": "the slope of the least-squares line through the running-maximum records (the paper's estimand)",
}
PAPER_ESTIMAND = "least-squares line through the running-maximum records (records + OLS)"


def estimand(tree: xr.DataTree) -> dict[str, Any]:
    """Which quantity the headline growth rate is, and whether the paper's point estimate is the same one."""
    from .spec import parse_spec

    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    kind = spec.frontier.kind if spec.layers.kind == "joint" or spec.frontier.kind != "records" else "records"
    return {
        "frontier": kind,
        "description": ESTIMANDS.get(kind, kind),
        "paper_estimand": PAPER_ESTIMAND,
        "same_as_paper": kind == "records",
    }


def benchmark_rates(tree: xr.DataTree) -> dict[str, Any] | None:
    """For one frontier per benchmark (``frontier.by_benchmark``): how much the choice of benchmark
    moves the growth rate (``growth_rate_sd_per_day``, tau), each benchmark's partially pooled rate
    and doubling time, and the predictive ones of a benchmark not in the data; None otherwise."""
    post = tree["posterior"]
    if "growth_rate_per_day_benchmark" not in post:
        return None
    per = post["growth_rate_per_day_benchmark"]
    assert isinstance(per, xr.DataArray)
    return {
        "growth_rate_sd_per_day": interval(draws(tree, "growth_rate_sd_per_day")),
        "population": rate_and_doubling(draws(tree, "growth_rate_per_day")),
        "new_benchmark": rate_and_doubling(draws(tree, "growth_rate_per_day_new_benchmark")),
        "benchmarks": {str(b): rate_and_doubling(per.sel(benchmark=b)) for b in np.asarray(per["benchmark"])},
    }


def curvature(tree: xr.DataTree) -> dict[str, Any] | None:
    """For a bending (quadratic) trend: the growth rate in the data's first and last year and
    P(last year's rate < first year's), i.e. "is growth slowing?"; None for a straight line."""
    post = tree["posterior"]
    if "growth_rate_per_day_last_year" not in post:
        return None
    first = draws(tree, "growth_rate_per_day_first_year")
    last = draws(tree, "growth_rate_per_day_last_year")
    return {
        "growth_rate_per_day_first_year": interval(first),
        "growth_rate_per_day_last_year": interval(last),
        "curvature_per_year2": interval(draws(tree, "frontier_curvature")),
        "p_last_year_slower": float((last < first).mean()),
    }


def inefficiency_by_type(tree: xr.DataTree) -> dict[str, Any] | None:
    """frontier.inefficiency_by: per entry type, its entries and its inefficiency's scale (sd of the
    half-normal below the frontier, ln density) with the density of its median entry relative to the
    frontier, exp(-0.674 x scale) (the half-normal's median); None for any other frontier."""
    if "inefficiency_scale_by_type" not in tree["posterior"]:
        return None
    scale = draws(tree, "inefficiency_scale_by_type")
    fd = fit_data(tree)
    counts = np.bincount(fd.model_group, minlength=len(fd.groups))
    rows = intervals(scale, "entry_type")
    rel = intervals(xr.apply_ufunc(np.exp, -0.674 * scale), "entry_type")
    types = [str(t) for t in scale["entry_type"].to_numpy()]
    return {
        "types": {
            t: {"entries": int(counts[i]), "inefficiency_scale": rows[i], "median_entry_vs_frontier": rel[i]}
            for i, t in enumerate(types)
        },
        "lambda_sd_log": interval(draws(tree, "frontier_lambda_sd_log")),
    }


def own_family(tree: xr.DataTree) -> bool:
    """Whether the result was fitted on a reference family of your own (spec data.reference_runs)."""
    return "reference_runs_file" in tree.attrs


def point_density_source(tree: xr.DataTree, own: bool) -> str:
    """What a result's point densities ("paper" / "recipe" beside the posterior) are."""
    if own_family(tree):
        return (
            "the paper's recipe (least squares of the loss law and link on your reference runs and link points, "
            "the law's irreducible term by the Huber fit on log loss when the spec has one) applied to your scores; "
            "not a published value"
        )
    if own:
        return (
            "the paper's recipe (curves of NMI Extended Data Fig. 1, records + OLS) applied to your scores; "
            "not a published value"
        )
    return "the paper's published density (NMI figure data)"


def summary(tree: xr.DataTree, *, result_file: str | None = None) -> dict[str, Any]:
    """Everything `bayesdense fit/summary` prints, as one JSON-ready dict."""
    g = growth_and_doubling(tree)
    models = model_table(tree)
    own = bool(np.all(fit_data(tree).params_basis == "file"))
    point_source = point_density_source(tree, own)
    warnings = []
    ratios = [
        m["density"]["median"] / m["paper_density"]
        for m in models
        if m["paper_density"] > 0 and np.isfinite(m["paper_density"]) and m["density"]["median"] > 0
    ]
    if own and ratios and not own_family(tree):
        r = float(np.median(ratios))
        if not 1 / 3 <= r <= 3:
            warnings.append(
                f"the posterior densities are {r:.3g}x the paper's recipe on the same scores (median over models): "
                "the loss-law exponents are probably not anchored; see `bayesdense spec show` and the README's "
                "own-data section (benchmark_priors)"
            )
    out: dict[str, Any] = {
        "spec": tree.attrs.get("spec_name"),
        "interval": CI_LABEL,
        **g,
        "intercept": interval(draws(tree, "intercept")),
        "estimand": estimand(tree),
        "paper_point_estimate": json.loads(tree.attrs.get("paper_point_estimate", "{}")),
        "models": models,
        "point_density_source": point_source,
        "warnings": warnings,
        "heldout_link_check": heldout_link_check(tree),
        "change_point": change_point(tree),
        "curvature": curvature(tree),
        "benchmark_rates": benchmark_rates(tree),
        "inefficiency_by_type": inefficiency_by_type(tree),
        "diagnostics": diagnostics(tree),
        "result_file": result_file,
        "seed": int(tree.attrs.get("seed", -1)),
        "spec_hash": tree.attrs.get("spec_hash"),
        "data_hash": tree.attrs.get("data_hash"),
        "sampler": json.loads(tree.attrs.get("sampler", "{}")),
        "d0_tokens": float(tree["fit_data"].attrs["d0_tokens"]),
        "units": {
            "growth_rate_per_day": "per day (ln density)",
            "doubling_time_days": "days",
            "doubling_time_months": f"months of {DAYS_PER_MONTH} days",
            "n_eff": "billions of parameters",
        },
    }
    return out
