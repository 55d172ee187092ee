"""Where a model sits, and where the frontier is going: pure functions over a saved result.

:func:`place` answers "where does my model sit, with what certainty?" for a placed model
(``data.extra_models``; see :mod:`bayesdense.models.placed`) or any fitted model: its density and
effective size, the frontier at its release date, its ratio to the frontier, the probability that
it lies above the frontier's median line, and its rank among the fitted models released within
+-3 months. :func:`forecast` and :func:`target_date` extrapolate the fitted line. Everything works
from the result file alone (nothing is refitted or resampled); intervals are 94% HDIs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from typing import Any

import numpy as np
import xarray as xr

from . import laws, quantities
from .inputs import N_UNIT, FitData
from .quantities import CI_LABEL, CI_PROB, DAYS_PER_MONTH, draws, interval
from .spec import parse_spec

WINDOW_MONTHS = 3.0
EXTRAPOLATION_CAVEAT = (
    "Extrapolation: this assumes ln(max density) keeps growing on the fitted straight line after the last "
    "fitted release ({last}); the interval carries the posterior uncertainty of that line only, not a change "
    "of trend (the paper itself finds a faster rate after ChatGPT than before). Dates far beyond the data are "
    "scenarios, not predictions."
)


def time_origin(tree: xr.DataTree) -> dt.date:
    """The date t = 0 of the result's time axis (the spec's ``data.time_origin``)."""
    return parse_spec(str(tree.attrs["spec_text"]), "result (recorded spec)").data.time_origin


def _exp(da: xr.DataArray) -> xr.DataArray:
    return xr.apply_ufunc(np.exp, da)


def _date(tree: xr.DataTree, t_days: float) -> str:
    return (time_origin(tree) + dt.timedelta(days=round(float(t_days)))).isoformat()


def placed_data(tree: xr.DataTree) -> FitData | None:
    """The placed models' data (group ``placed_data``), or None for a result without them."""
    if "placed_data" not in tree.children:
        return None
    return FitData.from_dataset(tree["placed_data"].to_dataset())


def model_names(tree: xr.DataTree) -> tuple[list[str], list[str]]:
    """(fitted models, placed models) of a result."""
    placed = placed_data(tree)
    return [str(m) for m in quantities.fit_data(tree).model], ([str(m) for m in placed.model] if placed else [])


def _unknown_model(name: str, fitted: list[str], placed: list[str]) -> ValueError:
    everything = placed + fitted
    close = difflib.get_close_matches(name, everything, n=3, cutoff=0.5)
    close += [m for m in everything if name.lower() in m.lower() and m not in close][: 3 - len(close)]
    hint = f"; close names: {', '.join(close)}" if close else ""
    where = (
        f"placed models: {', '.join(placed)}"
        if placed
        else 'this result has no placed models (a spec adds them with [data] extra_models = "scores.csv")'
    )
    return ValueError(f"--model {name!r}: no such model in this result{hint}; {where}; {len(fitted)} fitted models")


def _log_density(tree: xr.DataTree, name: str) -> tuple[xr.DataArray, float, float, bool]:
    """(log density draws, t_days, params, placed?) of a placed or fitted model."""
    fitted, placed = model_names(tree)
    if name in placed:
        pd_ = placed_data(tree)
        assert pd_ is not None
        i = placed.index(name)
        return (
            draws(tree, "placed_log_density").sel(placed_model=name, drop=True),
            float(pd_.t_days[i]),
            float(pd_.params[i]),
            True,
        )
    if name in fitted:
        fd = quantities.fit_data(tree)
        i = fitted.index(name)
        return draws(tree, "log_density").sel(model=name, drop=True), float(fd.t_days[i]), float(fd.params[i]), False
    raise _unknown_model(name, fitted, placed)


def _scores(fd: FitData, i: int) -> list[dict[str, Any]]:
    return [
        {"benchmark": fd.benchmarks[int(b)], "score": float(s)}
        for m, b, s in zip(fd.obs_model, fd.obs_bench, fd.obs_score, strict=True)
        if int(m) == i
    ]


def place(tree: xr.DataTree, name: str, *, window_months: float = WINDOW_MONTHS) -> dict[str, Any]:
    """Where model ``name`` sits against the fitted frontier, as one JSON-ready dict.

    ``density``, ``effective_params`` (billions), ``frontier_density_at_release`` (the frontier
    line exp(intercept + rate * t) at the release date) and ``ratio_to_frontier`` (density over
    that line, per draw) each as ``{median, hdi_low, hdi_high}`` (94% HDI); ``p_above_frontier``:
    P(the model's log density is above the posterior median of the frontier line at its date);
    ``p_ratio_above_1``: P(density above the line, draw by draw); ``rank``: among the fitted models
    released within ``window_months`` of it (the model itself excluded), by posterior median and
    draw by draw."""
    log_rho, t, params, is_placed = _log_density(tree, name)
    line = quantities.frontier_at(tree, np.array([t])).isel(t=0, drop=True)
    fd = quantities.fit_data(tree)
    src = placed_data(tree) if is_placed else fd
    assert src is not None
    i = [str(m) for m in src.model].index(name)

    window = window_months * DAYS_PER_MONTH
    fitted = [str(m) for m in fd.model]
    near = [j for j in range(fd.n_models) if abs(fd.t_days[j] - t) <= window and fitted[j] != name]
    all_log = draws(tree, "log_density")
    rank: dict[str, Any] = {
        "window_months": window_months,
        "n_compared": len(near),
        "of": len(near) + 1,
        "among": "fitted models released within the window (the model itself excluded)",
    }
    if near:
        others = all_log.isel(model=near)
        per_draw = 1 + (others > log_rho).sum("model")
        med_self = float(log_rho.median())
        med_others = others.median(("chain", "draw")).values
        rank["by_median"] = int(1 + np.sum(med_others > med_self))
        rank["per_draw"] = interval(per_draw.astype(float))
        rank["neighbours"] = sorted(
            (
                {
                    "model": fitted[j],
                    "release_date": _date(tree, fd.t_days[j]),
                    "density_median": float(np.exp(med_others[k])),
                }
                for k, j in enumerate(near)
            ),
            key=lambda r: -r["density_median"],
        )
    else:
        rank["by_median"] = 1
        rank["note"] = f"no fitted model was released within {window_months:g} months of this one"

    own_data = bool(np.all(fd.params_basis == "file"))
    point_source = quantities.point_density_source(tree, is_placed or own_data)
    out: dict[str, Any] = {
        "model": name,
        "placed": is_placed,
        "placed_note": (
            "placed model: its density is drawn given each posterior draw of the fit; it does not inform the "
            "trend or the curves (a cut)"
            if is_placed
            else "a fitted model: it is part of the data the trend was fitted on"
        ),
        "release_date": _date(tree, t),
        "t_days": t,
        "params": params,
        "scores": _scores(src, i),
        "interval": CI_LABEL,
        "density": interval(_exp(log_rho)),
        "effective_params": interval(_exp(log_rho) * params / N_UNIT),
        "effective_params_unit": "billions of parameters",
        "frontier_density_at_release": interval(_exp(line)),
        "ratio_to_frontier": interval(_exp(log_rho - line)),
        "p_above_frontier": float((log_rho > float(line.median())).mean()),
        "p_above_frontier_definition": "P(density > the posterior median of the frontier line at the release date)",
        "p_ratio_above_1": float((log_rho > line).mean()),
        "point_density": float(src.point_density[i]),
        "point_density_source": point_source,
        "rank": rank,
        "spec": tree.attrs.get("spec_name"),
    }
    sat = _beyond_reach(tree, src, i)
    if sat is not None:
        out["p_score_beyond_reach"] = sat
        if sat > 0.5:
            out["warning"] = (
                "a score is above what the reference law reaches at D0 in most draws: the density is bounded "
                "only by the frontier prior (unbounded above by the scores)"
            )
    return out


def _beyond_reach(tree: xr.DataTree, fd: FitData, i: int) -> float | None:
    post = tree["posterior"]
    if "max_score" not in post:
        return None
    p = 0.0
    for m, b, s in zip(fd.obs_model, fd.obs_bench, fd.obs_score, strict=True):
        if int(m) == i:
            p = max(p, float((post["max_score"].isel(benchmark=int(b)) < s).mean()))
    return p


def with_placed(tree: xr.DataTree) -> xr.DataTree:
    """A copy of ``tree`` whose ``model`` dimension holds the fitted and the placed models (for
    figures such as ``density_vs_date``). The frontier draws are the fit's, unchanged; do not fit
    or compare on the copy (the placed models are not part of the fitted data)."""
    placed = placed_data(tree)
    if placed is None:
        return tree
    fd = quantities.fit_data(tree)
    n = fd.n_models
    merged = dataclasses.replace(  # the fit's curve data, model-level data of both
        fd,
        model=np.r_[fd.model, placed.model],
        t_days=np.r_[fd.t_days, placed.t_days],
        params=np.r_[fd.params, placed.params],
        params_basis=np.r_[fd.params_basis, placed.params_basis],
        paper_record=np.r_[fd.paper_record, np.zeros(placed.n_models, bool)],
        point_density=np.r_[fd.point_density, placed.point_density],
        obs_model=np.r_[fd.obs_model, placed.obs_model + n],
        obs_bench=np.r_[fd.obs_bench, placed.obs_bench],
        obs_score=np.r_[fd.obs_score, placed.obs_score],
        obs_other_setting=(
            np.r_[fd.obs_other_setting, np.zeros(len(placed.obs_score), bool)]
            if fd.obs_other_setting.size
            else fd.obs_other_setting
        ),
    )
    post = tree["posterior"].to_dataset()
    extra = post["placed_log_density"].rename(placed_model="model")
    log_rho = xr.concat([post["log_density"], extra], dim="model")
    post = post.drop_vars(["placed_log_density", "log_density", "placed_model"]).drop_dims("model", errors="ignore")
    post = post.assign(log_density=log_rho)
    groups = {k: tree[k].to_dataset() for k in tree.children if k not in ("posterior", "fit_data", "placed_data")}
    out = xr.DataTree.from_dict({**groups, "posterior": post, "fit_data": merged.to_dataset()})
    out.attrs.update(tree.attrs)
    return out


# ----------------------------------------------------------------------------- forecasts
def _last_release(tree: xr.DataTree) -> float:
    return float(quantities.fit_data(tree).t_days.max())


def _t_of(tree: xr.DataTree, date: dt.date | str) -> float:
    d = dt.date.fromisoformat(date) if isinstance(date, str) else date
    return float((d - time_origin(tree)).days)


def _caveat(tree: xr.DataTree) -> str:
    return EXTRAPOLATION_CAVEAT.format(last=_date(tree, _last_release(tree)))


def _trend_kind(tree: xr.DataTree) -> str:
    if "growth_rate_per_day_pre" in tree["posterior"]:
        return "change point: the later era's straight line"
    return "straight line: ln(max density) linear in time"


def forecast(tree: xr.DataTree, *, date: dt.date | str, params: float | None = None) -> dict[str, Any]:
    """The frontier density at ``date`` (the line exp(intercept + rate * t), 94% HDI) and, with
    ``params`` (a raw parameter count), the effective size of a model of that size on the frontier
    then: ``params * frontier density``, in billions."""
    t = _t_of(tree, date)
    line = quantities.frontier_at(tree, np.array([t])).isel(t=0, drop=True)
    last = _last_release(tree)
    out: dict[str, Any] = {
        "date": _date(tree, t),
        "t_days": t,
        "interval": CI_LABEL,
        "trend": _trend_kind(tree),
        "frontier_density": interval(_exp(line)),
        "last_fitted_release": _date(tree, last),
        "months_beyond_data": (t - last) / DAYS_PER_MONTH,
        "caveat": _caveat(tree),
    }
    if params is not None:
        out["params"] = float(params)
        out["effective_params_at_frontier"] = interval(_exp(line) * float(params) / N_UNIT)
        out["effective_params_unit"] = "billions of parameters"
    return out


def _per_draw(tree: xr.DataTree, name: str, b: int) -> Any:
    """Flattened draws of a per-benchmark curve parameter (a Fixed prior from the recorded spec)."""
    post = tree["posterior"]
    if name in post:
        v = post[name]
        v = v.isel(benchmark=b) if "benchmark" in v.dims else v
        return np.asarray(v.transpose("chain", "draw").values, float).reshape(-1)
    spec = parse_spec(str(tree.attrs["spec_text"]), "result (recorded spec)")
    bench = quantities.fit_data(tree).benchmarks[b]
    p = spec.prior(name, bench)
    if p.dist != "Fixed" or p.value is None:
        raise ValueError(f"'{name}' is missing from the result's posterior")
    n = post.sizes["chain"] * post.sizes["draw"]
    return np.full(n, float(p.value))


def hdi_with_infinity(x: np.ndarray, prob: float = CI_PROB) -> tuple[float, float]:
    """The narrowest interval holding ``prob`` of the draws, +inf allowed (a draw that never
    happens): when more than 1 - prob of the draws are +inf, the upper end is +inf."""
    s = np.sort(np.asarray(x, float))
    n = len(s)
    k = max(int(np.ceil(prob * n)), 1)
    with np.errstate(invalid="ignore"):
        width = s[k - 1 :] - s[: n - k + 1]
    width = np.where(np.isnan(width), np.inf, width)
    j = int(np.argmin(width))
    return float(s[j]), float(s[j + k - 1])


def target_date(tree: xr.DataTree, *, score: float, params: float, benchmark: str | None = None) -> dict[str, Any]:
    """Posterior of the date at which a frontier model with ``params`` parameters reaches ``score``.

    Per draw: the score is inverted through that draw's link and loss law at D0 to the effective
    size it needs (``n_req``), so the density it needs is ``n_req / params``; the frontier line
    reaches that density at t = (ln(n_req / params) - intercept) / rate. A draw whose law cannot
    reach the score at D0, or whose growth rate is <= 0, never gets there (``p_never``); when more
    than 6% of the draws never do, the interval is unbounded above."""
    fd = quantities.fit_data(tree)
    if benchmark is None:
        if len(fd.benchmarks) != 1:
            raise ValueError(
                f"--benchmark: this result was fitted on {', '.join(fd.benchmarks)}; say which one the score is on"
            )
        benchmark = fd.benchmarks[0]
    if benchmark not in fd.benchmarks:
        close = difflib.get_close_matches(benchmark, fd.benchmarks, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"--benchmark {benchmark!r}{hint}: this result has {', '.join(fd.benchmarks)}")
    if not 0 < score < 100:
        raise ValueError(f"--target-score {score:g}: a score is in percent, 0 < score < 100")
    if not params > 0:
        raise ValueError(f"--params {params:g}: a parameter count must be > 0")
    if "frontier_curvature" in tree["posterior"]:
        raise ValueError(
            "--target-score: this result has a bending (quadratic) trend; the date a score is reached is "
            "computed for straight-line and change-point results only (the density forecast, --date, works)"
        )
    b = fd.benchmarks.index(benchmark)
    a, alpha, floor = (_per_draw(tree, k, b) for k in ("loss_a", "loss_alpha", "loss_floor_d0"))
    c, gamma, lmid, d = (_per_draw(tree, k, b) for k in ("link_c", "link_gamma", "link_l", "link_d"))
    post = tree["posterior"]
    if "growth_rate_per_day_pre" in post:  # the later era's line, t = c + (x - level_post) / rate
        rate = _per_draw(tree, "growth_rate_per_day", b)
        t0 = _per_draw(tree, "change_day", b)
        level = _per_draw(tree, "frontier_level_post", b)
    else:
        rate = _per_draw(tree, "growth_rate_per_day", b)
        t0 = np.zeros_like(rate)
        level = _per_draw(tree, "intercept", b)
    loss_req = laws.link_inverse(score, c, gamma, lmid, d)  # NaN where the score is outside (d, c + d)
    excess = loss_req - floor
    with np.errstate(divide="ignore", invalid="ignore"):
        n_req = (excess / a) ** (-1.0 / alpha)  # billions
        log_rho_req = np.log(n_req * N_UNIT / params)
        t_req = t0 + (log_rho_req - level) / rate
    below = score <= d  # at or under the link's floor: any model scores that
    never = ~below & (~(excess > 0) | (score >= c + d) | ~(rate > 0) | ~np.isfinite(t_req))
    t_req = np.where(below, -np.inf, np.where(never, np.inf, t_req))
    if np.mean(below) > 0.5:
        raise ValueError(
            f"--target-score {score:g}: at or below the {benchmark} link's floor in most draws (chance level); "
            "every model reaches it"
        )
    lo, hi = hdi_with_infinity(t_req)
    med = float(np.median(t_req))
    res: dict[str, Any] = {
        "benchmark": benchmark,
        "target_score": float(score),
        "params": float(params),
        "interval": CI_LABEL,
        "trend": _trend_kind(tree),
        "p_never": float(np.mean(never)),
        "p_never_reason": "the loss law cannot reach the score at D0, or the growth rate is <= 0, in these draws",
        "date": {
            "median": _date(tree, med) if np.isfinite(med) else None,
            "hdi_low": _date(tree, lo) if np.isfinite(lo) else None,
            "hdi_high": _date(tree, hi) if np.isfinite(hi) else None,
        },
        "t_days": {"median": med, "hdi_low": lo, "hdi_high": hi},
        "required_density_median": float(np.exp(np.median(np.where(never, np.inf, log_rho_req)))),
        "last_fitted_release": _date(tree, _last_release(tree)),
        "caveat": _caveat(tree),
    }
    reasons = {
        k: (
            "the frontier never reaches the score in so many draws that the interval is unbounded above"
            if res["t_days"][k] > 0
            else "at or below the link's floor in these draws (any model reaches it)"
        )
        for k, v in res["date"].items()
        if v is None
    }
    if reasons:
        res["date"]["null_reasons"] = reasons
    return res
