"""Figures for papers, from a result file alone (no refit).

Each figure is a function ``fig_x(tree, *, ...) -> Figure`` with a twin ``fig_x_data(tree) ->
dict`` that returns the plotted numbers (tests assert on those). One style for all: Okabe-Ito
colour-blind-safe palette, single (3.5 in) or double (7.2 in) column width, TrueType fonts
embedded in PDF/SVG. Intervals are 94% HDIs (and 50% where a band is drawn).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
import numpy as np
import xarray as xr
from cycler import cycler
from matplotlib.figure import Figure

from . import laws, quantities
from .data import TIME_ORIGIN
from .inputs import D_UNIT, N_UNIT

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
WIDTH = {"single": 3.5, "double": 7.2}
STYLE: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # embed TrueType fonts
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "savefig.bbox": "tight",
    "savefig.dpi": 300,
}
PAPER_MONTHS = (3.3, 3.5)  # arXiv 2412.04315 and NMI 2025


@contextmanager
def paper_style() -> Any:
    with mpl.rc_context(cast(Any, STYLE)):
        yield


def _new_figure(width: str, height: float) -> Figure:
    if width not in WIDTH:
        raise ValueError(f"width must be one of {', '.join(WIDTH)}")
    return Figure(figsize=(WIDTH[width], height), layout="constrained")


def _dates(t_days: np.ndarray) -> np.ndarray:
    return np.array([np.datetime64(TIME_ORIGIN) + np.timedelta64(int(round(t)), "D") for t in t_days])


# ----------------------------------------------------------------------------- 1. density vs date
def density_vs_date_data(tree: xr.DataTree) -> dict[str, Any]:
    fd = quantities.fit_data(tree)
    dens = quantities.intervals(xr.apply_ufunc(np.exp, tree["posterior"]["log_density"]), "model")
    grid = np.linspace(fd.t_days.min() - 20, fd.t_days.max() + 20, 120)
    line = quantities.frontier_at(tree, grid)
    q = line.quantile([0.03, 0.25, 0.5, 0.75, 0.97], dim=("chain", "draw")).values
    paper = json.loads(str(tree.attrs.get("paper_point_estimate", "{}")))
    out = {
        "model": [str(m) for m in fd.model],
        "t_days": fd.t_days,
        "density_median": np.array([d["median"] for d in dens]),
        "density_low": np.array([d["hdi_low"] for d in dens]),
        "density_high": np.array([d["hdi_high"] for d in dens]),
        "params_billions": fd.params / N_UNIT,
        "frontier_t_days": grid,
        "frontier_quantiles": {p: np.exp(q[i]) for i, p in enumerate((3, 25, 50, 75, 97))},
        "paper_density": fd.point_density,
    }
    if paper.get("A_per_day") is not None and paper.get("B") is not None:
        pl = np.asarray(np.exp(paper["A_per_day"] * grid + paper["B"]), float)
        if "change_day" in tree["posterior"]:  # the paper's line belongs to the later era only
            pl = np.where(grid >= float(quantities.draws(tree, "change_day").median()), pl, np.nan)
        out["paper_line"] = pl
    return out


def density_vs_date(tree: xr.DataTree, *, width: str = "double", label_top: int = 8) -> Figure:
    d = density_vs_date_data(tree)
    with paper_style():
        fig = _new_figure(width, 3.2 if width == "double" else 2.8)
        ax = fig.add_subplot()
        x = _dates(d["t_days"])
        gx = _dates(d["frontier_t_days"])
        fq = d["frontier_quantiles"]
        ax.fill_between(gx, fq[3], fq[97], color=OKABE_ITO[0], alpha=0.15, lw=0, label="frontier, 94% interval")
        ax.fill_between(gx, fq[25], fq[75], color=OKABE_ITO[0], alpha=0.3, lw=0, label="frontier, 50% interval")
        ax.plot(gx, fq[50], color=OKABE_ITO[0], lw=1.2, label="frontier, posterior median")
        if "paper_line" in d:
            ax.plot(gx, d["paper_line"], color=OKABE_ITO[3], lw=1, ls="--", label="paper's fit (OLS on records)")
        params = np.nan_to_num(d["params_billions"], nan=5.0)
        size = 4 + 60 * np.log10(np.clip(params, 0.5, 1000) / 0.5) / np.log10(2000)
        ax.errorbar(
            x,
            d["density_median"],
            yerr=[d["density_median"] - d["density_low"], d["density_high"] - d["density_median"]],
            fmt="none",
            ecolor="0.55",
            lw=0.6,
            zorder=2,
        )
        ax.scatter(
            x,
            d["density_median"],
            s=size,
            color=OKABE_ITO[1],
            edgecolor="black",
            lw=0.4,
            zorder=3,
            label="model: median and 94% HDI (size: parameters)",
        )
        ax.set_ylabel("capability density (N_hat / N)")
        ax.set_xlabel("release date")
        ax.legend(loc="upper left", frameon=False)
        _label_points(ax, d["t_days"], d["density_median"], d["model"], np.argsort(-d["density_median"])[:label_top])
    return fig


def _label_points(ax: Any, t: np.ndarray, y: np.ndarray, names: list[str], which: np.ndarray) -> None:
    """Greedy non-overlapping labels: try offsets around each point, keep the first free box.

    Boxes are estimated in (days, log10 density) from the axis limits, the axes' size in inches
    and the 6-pt font (about 0.05 in per character, 0.12 in per line)."""
    ax.set_yscale("log")
    x0, x1 = ax.get_xlim()
    y0_, y1_ = ax.get_ylim()
    fw, fh = ax.figure.get_size_inches()
    pos = ax.get_position()
    day_per_char = (x1 - x0) * 0.05 / max(fw * pos.width, 1.0)
    h = np.log10(y1_ / y0_) * 0.12 / max(fh * pos.height, 0.5)
    placed: list[tuple[float, float, float, float]] = []
    x_dates = _dates(t)
    for i in sorted(which, key=lambda j: -y[j]):
        w = len(names[i]) * day_per_char
        y0 = np.log10(y[i])
        for dx, dy in (
            (0, 1.3),
            (0, -1.6),
            (1, 0),
            (-1, 0),
            (0, 2.6),
            (0, -2.9),
            (1, 1.3),
            (-1, 1.3),
            (1, -1.3),
            (-1, -1.3),
            (0, 3.9),
            (0, -4.2),
        ):
            cx = t[i] + dx * (w / 2 + 3 * day_per_char)
            cy = y0 + dy * h
            box = (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
            if not any(box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in placed):
                break
        placed.append(box)
        ax.annotate(
            names[i],
            (x_dates[i], y[i]),
            xytext=(_dates(np.array([cx]))[0], 10**cy),
            fontsize=6,
            ha="center",
            va="center",
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.4"},
        )


# ----------------------------------------------------------------------------- 2. doubling time
def doubling_time_data(tree: xr.DataTree) -> dict[str, Any]:
    g = quantities.growth_and_doubling(tree)
    rate = quantities.draws(tree, "growth_rate_per_day").values.ravel()
    dbl = np.where(rate > 0, laws.LN2 / np.where(rate > 0, rate, 1.0), np.inf)
    return {
        "rate_draws": rate,
        "doubling_days_draws": dbl,
        "summary": g,
        "paper_months": PAPER_MONTHS,
        "paper": json.loads(str(tree.attrs.get("paper_point_estimate", "{}"))),
    }


def doubling_time(tree: xr.DataTree, *, width: str = "double") -> Figure:
    d = doubling_time_data(tree)
    g = d["summary"]
    with paper_style():
        fig = _new_figure(width, 2.4)
        ax1, ax2 = fig.subplots(1, 2)
        r = d["rate_draws"] * 1000
        ax1.hist(r, bins=60, color=OKABE_ITO[0], alpha=0.8)
        ax1.axvline(0, color="black", lw=0.6)
        lo, hi = g["growth_rate_per_day"]["hdi_low"] * 1000, g["growth_rate_per_day"]["hdi_high"] * 1000
        ax1.axvspan(lo, hi, color=OKABE_ITO[0], alpha=0.12)
        if d["paper"].get("A_per_day"):
            ax1.axvline(d["paper"]["A_per_day"] * 1000, color=OKABE_ITO[3], ls="--", lw=1, label="paper")
            ax1.legend(frameon=False)
        ax1.set_xlabel("growth rate of ln density (x 1e-3 per day)")
        ax1.set_yticks([])
        ax1.set_title(f"P(growth > 0) = {g['p_growth_positive']:.3f}")
        months = d["doubling_days_draws"][np.isfinite(d["doubling_days_draws"])] / quantities.DAYS_PER_MONTH
        cap = np.quantile(months, 0.995) if months.size else 1.0
        ax2.hist(months[months <= cap], bins=60, color=OKABE_ITO[2], alpha=0.8)
        m = g["doubling_time_months"]
        ax2.axvspan(m["hdi_low"], m["hdi_high"] if m["hdi_high"] is not None else cap, color=OKABE_ITO[2], alpha=0.12)
        for pm_, ls in zip(d["paper_months"], (":", "--"), strict=True):
            ax2.axvline(pm_, color=OKABE_ITO[3], ls=ls, lw=1, label=f"paper: {pm_} months")
        ax2.legend(frameon=False)
        ax2.set_xlabel("doubling time (months; 30.44 days)")
        ax2.set_yticks([])
        ax2.set_title(f"median {m['median']:.2f} months, 94% interval shaded")
    return fig


# ----------------------------------------------------------------------------- 3. curve fits
def curve_fits_data(tree: xr.DataTree) -> dict[str, Any]:
    post = tree["posterior"]
    if "loss_a" not in post:
        return {}
    fd = quantities.fit_data(tree)
    out: dict[str, Any] = {}
    draws = post.sizes["chain"] * post.sizes["draw"]
    sel = np.random.default_rng(0).choice(draws, size=min(400, draws), replace=False)

    def flat(v: str, b: int) -> np.ndarray:
        return np.asarray(quantities.draws(tree, v).isel(benchmark=b)).ravel()[sel]

    for b, name in enumerate(fd.benchmarks):
        rb = fd.ref_bench == b
        kk = np.unique(np.round(fd.ref_tokens[rb] / fd.ref_params[rb]))
        n_grid = np.geomspace(fd.ref_params[rb].min() / 1.5, fd.ref_params[rb].max() * 1.5, 60)
        bands = {}
        for k in kk:
            pred = laws.loss_law(
                n_grid[None, :] / N_UNIT,
                k * n_grid[None, :] / D_UNIT,
                flat("loss_a", b)[:, None],
                flat("loss_alpha", b)[:, None],
                flat("loss_b", b)[:, None],
                flat("loss_beta", b)[:, None],
            )
            bands[int(k)] = np.quantile(pred, [0.03, 0.5, 0.97], axis=0)
        lb = fd.link_bench == b
        l_grid = np.linspace(fd.link_loss[lb].min() * 0.8, fd.link_loss[lb].max() * 1.1, 80)
        s = laws.link(
            l_grid[None, :],
            flat("link_c", b)[:, None],
            flat("link_gamma", b)[:, None],
            flat("link_l", b)[:, None],
            flat("link_d", b)[:, None],
        )
        out[name] = {
            "ref_params": fd.ref_params[rb],
            "ref_tokens_per_param": fd.ref_tokens[rb] / fd.ref_params[rb],
            "ref_loss": fd.ref_loss[rb],
            "n_grid": n_grid,
            "loss_bands": bands,
            "link_loss": fd.link_loss[lb],
            "link_score": fd.link_score[lb],
            "link_role": fd.link_role[lb],
            "loss_grid": l_grid,
            "score_band": np.quantile(s, [0.03, 0.5, 0.97], axis=0),
        }
    return out


def curve_fits(tree: xr.DataTree, *, width: str = "double") -> Figure:
    d = curve_fits_data(tree)
    if not d:
        raise ValueError("this result has no curve layers (a trend-only spec): nothing to plot")
    with paper_style():
        fig = _new_figure(width, 2.4 * len(d))
        axes = np.atleast_2d(fig.subplots(len(d), 2))
        for row, (name, c) in zip(axes, d.items(), strict=True):
            ax = row[0]
            for j, (k, band) in enumerate(sorted(c["loss_bands"].items())):
                col = OKABE_ITO[j % len(OKABE_ITO)]
                ax.fill_between(c["n_grid"], band[0], band[2], color=col, alpha=0.2, lw=0)
                ax.plot(c["n_grid"], band[1], color=col, lw=0.8, label=f"D = {k} N")
                m = np.isclose(c["ref_tokens_per_param"], k)
                ax.scatter(c["ref_params"][m], c["ref_loss"][m], s=8, color=col, edgecolor="black", lw=0.3, zorder=3)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("reference model parameters N")
            ax.set_ylabel(f"{name} conditional loss")
            ax.legend(frameon=False, ncol=2, fontsize=6)
            ax = row[1]
            ax.fill_between(
                c["loss_grid"],
                c["score_band"][0],
                c["score_band"][2],
                color=OKABE_ITO[0],
                alpha=0.2,
                lw=0,
                label="link, 94% band",
            )
            ax.plot(c["loss_grid"], c["score_band"][1], color=OKABE_ITO[0], lw=1, label="link, median")
            fit = c["link_role"] == "fit"
            ax.scatter(
                c["link_loss"][fit],
                c["link_score"][fit],
                s=10,
                color=OKABE_ITO[1],
                edgecolor="black",
                lw=0.3,
                zorder=3,
                label="fit points (MiniCPM)",
            )
            ax.scatter(
                c["link_loss"][~fit],
                c["link_score"][~fit],
                s=16,
                marker="^",
                color=OKABE_ITO[3],
                edgecolor="black",
                lw=0.3,
                zorder=3,
                label="held-out points",
            )
            ax.set_xlabel(f"{name} conditional loss")
            ax.set_ylabel("score (%)")
            ax.legend(frameon=False, fontsize=6)
    return fig


# ----------------------------------------------------------------------------- 4. density forest
def density_forest_data(tree: xr.DataTree) -> dict[str, Any]:
    rows = quantities.model_table(tree)
    rows.sort(key=lambda r: r["density"]["median"])
    return {
        "model": [r["name"] for r in rows],
        "median": np.array([r["density"]["median"] for r in rows]),
        "low": np.array([r["density"]["hdi_low"] for r in rows]),
        "high": np.array([r["density"]["hdi_high"] for r in rows]),
        "paper": np.array([r["paper_density"] for r in rows]),
        "below_frontier_median": np.array([r["log_distance_below_frontier"]["median"] for r in rows]),
    }


def density_forest(tree: xr.DataTree, *, width: str = "single") -> Figure:
    d = density_forest_data(tree)
    n = len(d["model"])
    with paper_style():
        fig = _new_figure(width, 0.12 * n + 0.8)
        ax = fig.add_subplot()
        y = np.arange(n)
        ax.hlines(y, d["low"], d["high"], color="0.5", lw=0.8)
        ax.scatter(d["median"], y, s=10, color=OKABE_ITO[0], zorder=3, label="posterior median, 94% HDI")
        ax.scatter(d["paper"], y, s=10, marker="x", color=OKABE_ITO[3], lw=0.8, zorder=3, label="paper")
        ax.set_yticks(
            y, [f"{m}  ({b:.1f})" for m, b in zip(d["model"], d["below_frontier_median"], strict=True)], fontsize=5
        )
        ax.set_xscale("log")
        ax.set_xlabel("capability density")
        ax.set_title("models sorted by density (label: ln-distance below the frontier)")
        ax.legend(frameon=False, loc="upper left")
    return fig


# ----------------------------------------------------------------------------- 5. prior vs posterior
# The main parameters, in panel order: (variable, panel title, display scale, prior key). A panel is
# left out when the variable is not in both the prior and the posterior group (e.g. the cut
# `records` trend has no prior), when its prior key is Fixed (``link_c`` = 100 - d when the
# ceiling fraction is fixed), or when its prior draws are constant. Omega and lambda are shown
# only for models that do not derive the noise sd and inefficiency scale from them.
PRIOR_POSTERIOR_PARAMS: tuple[tuple[str, str, float, str | None], ...] = (
    ("growth_rate_per_day", "growth rate (1e-3 / day)", 1000.0, "growth_rate_per_year"),
    ("growth_rate_per_day_pre", "growth rate before break (1e-3 / day)", 1000.0, "growth_rate_per_year"),
    ("change_day", "break (days since 2023-02-24)", 1.0, None),
    ("intercept", "frontier intercept (ln density, t = 0)", 1.0, None),
    ("noise_sd", "frontier noise sd", 1.0, None),
    ("inefficiency_scale", "inefficiency scale", 1.0, None),
    ("frontier_omega", "frontier scale omega", 1.0, "frontier_omega"),
    ("frontier_lambda", "frontier skewness lambda", 1.0, "frontier_lambda"),
    ("trend_sd", "trend sd", 1.0, "trend_sd"),
    ("quantile_scale", "quantile scale", 1.0, "quantile_scale"),
    ("loss_alpha", "loss exponent alpha (N)", 1.0, "loss_alpha"),
    ("loss_beta", "loss exponent beta (D)", 1.0, "loss_beta"),
    ("link_gamma", "link steepness gamma", 1.0, "link_gamma"),
    ("link_l", "link midpoint l (loss)", 1.0, "link_l"),
    ("link_d", "link floor d (score %)", 1.0, "link_floor_offset"),
    ("link_c", "link range c (score %)", 1.0, "link_ceiling_frac"),
)


def _kde(x: np.ndarray, grid: np.ndarray, lower: float | None) -> np.ndarray:
    """Gaussian KDE (Scott's bandwidth) on ``grid``, reflected at ``lower`` for a bounded variable."""
    from scipy import stats

    if np.ptp(x) == 0:
        return np.zeros_like(grid)
    k = stats.gaussian_kde(x)
    dens = k(grid)
    if lower is not None:
        dens = np.where(grid >= lower, dens + k(2 * lower - grid), 0.0)
    return np.asarray(dens)


def _panel(title: str, scale: float, post: np.ndarray, prior: Any) -> dict[str, Any]:
    """Prior and posterior densities on one grid spanning the central 99% of each, in display
    units. ``prior`` is an array of prior draws (density by KDE) or a frozen scipy distribution
    already in display units (density exact)."""
    post = post * scale
    draws = isinstance(prior, np.ndarray)
    if draws:
        prior = prior * scale
        p_lo, p_hi = np.quantile(prior, [0.005, 0.995])
        p_med, p_sd = np.median(prior), np.std(prior)
        lower = 0.0 if prior.min() >= 0 and post.min() >= 0 else None
    else:
        p_lo, p_hi, p_med, p_sd = prior.ppf(0.005), prior.ppf(0.995), prior.median(), prior.std()
        lower = 0.0 if prior.support()[0] >= 0 else None
    q_lo, q_hi = np.quantile(post, [0.001, 0.999])
    lo, hi = min(p_lo, q_lo), max(p_hi, q_hi)
    pad = 0.04 * (hi - lo)
    start = lo - pad if lower is None else max(lower, lo - pad)
    q_pad = 0.5 * (q_hi - q_lo)  # a posterior much narrower than the prior gets its own fine grid
    grid = np.union1d(np.linspace(start, hi + pad, 300), np.linspace(max(start, q_lo - q_pad), q_hi + q_pad, 200))
    h = quantities.interval(xr.DataArray(post.reshape(1, -1), dims=("chain", "draw")))
    return {
        "title": title,
        "scale": scale,
        "grid": grid,
        "prior_density": _kde(prior, grid, lower) if draws else prior.pdf(grid),
        "posterior_density": _kde(post, grid, lower),
        "prior_median": float(p_med),
        "prior_sd": float(p_sd),
        "posterior_median": h["median"],
        "posterior_hdi": (h["hdi_low"], h["hdi_high"]),
        "posterior_sd": float(np.std(post)),
        "sd_ratio": float(np.std(post) / p_sd),
    }


def prior_posterior_data(tree: xr.DataTree) -> dict[str, Any]:
    """Prior and posterior densities of the main parameters, per panel (per benchmark when the
    parameter has one), in display units (``scale`` times the stored value).

    Prior densities come from the result's ``prior`` group (draws from the priors alone, written by
    every fit). A result without one (written before it existed) gets the growth rate only, with the
    spec's Normal prior evaluated analytically. ``skipped`` says why a parameter has no panel.
    """
    from .spec import parse_spec

    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    post = tree["posterior"].to_dataset()
    panels: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    if "prior" not in tree.children:
        return {"panels": _growth_prior_from_spec(spec, post), "source": "spec", "skipped": skipped}
    prior = tree["prior"].to_dataset()
    for var, title, scale, key in PRIOR_POSTERIOR_PARAMS:
        if var not in post or (var.startswith("frontier_") and "noise_sd" in post):
            continue
        if var not in prior:
            skipped[var] = "no prior draws (derived outside the model)"
            continue
        benches = [str(b) for b in prior[var].coords["benchmark"].values] if "benchmark" in prior[var].dims else [None]
        for b in benches:
            p_da, q_da = (
                (prior[var], post[var]) if b is None else (prior[var].sel(benchmark=b), post[var].sel(benchmark=b))
            )
            name = var if b is None else f"{var}[{b}]"
            if key is not None and spec.prior(key, b).dist == "Fixed":
                skipped[name] = f"prior '{key}' is Fixed"
                continue
            p_draws, q_draws = np.asarray(p_da.values, float).ravel(), np.asarray(q_da.values, float).ravel()
            if np.ptp(p_draws) == 0:
                skipped[name] = "constant prior draws"
                continue
            full_title = title if b is None or len(benches) == 1 else f"{title}\n{b}"
            panels[name] = _panel(full_title, scale, q_draws, p_draws)
    return {"panels": panels, "source": "prior group", "skipped": skipped}


def _growth_prior_from_spec(spec: Any, post: xr.Dataset) -> dict[str, dict[str, Any]]:
    from scipy import stats

    from .models.densing import DAYS_PER_YEAR

    p = spec.prior("growth_rate_per_year")
    if p.dist != "Normal":
        raise ValueError("this result has no prior draws and its growth-rate prior is not Normal: nothing to plot")
    var, title, scale, _ = PRIOR_POSTERIOR_PARAMS[0]
    per_day = stats.norm(scale * float(p.mu or 0.0) / DAYS_PER_YEAR, scale * float(p.sigma or 1.0) / DAYS_PER_YEAR)
    return {var: _panel(title, scale, np.asarray(post[var].values, float).ravel(), per_day)}


def prior_posterior(tree: xr.DataTree, *, width: str = "auto") -> Figure:
    """Small multiples, one panel per parameter: posterior (shaded) and prior (dashed) densities,
    with the ratio of posterior to prior sd (how much the data narrowed it). ``width="auto"``:
    single column for up to two panels, else double."""
    d = prior_posterior_data(tree)
    panels = d["panels"]
    if not panels:
        raise ValueError("this result has no parameter with both prior and posterior draws: nothing to plot")
    n = len(panels)
    if width == "auto":
        width = "single" if n <= 2 else "double"
    # double width: 4 columns, or 3 when that leaves fewer empty cells (9 panels: 3 x 3)
    ncol = min(n, 2 if width == "single" else min((4, 3), key=lambda c: (-n % c, -c)))
    nrow = -(-n // ncol)
    with paper_style():
        fig = _new_figure(width, 0.35 + 1.25 * nrow)
        axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False).ravel())
        for ax, c in zip(axes, panels.values(), strict=False):
            ax.fill_between(c["grid"], c["posterior_density"], color=OKABE_ITO[0], alpha=0.35, lw=0)
            ax.plot(c["grid"], c["posterior_density"], color=OKABE_ITO[0], lw=1, label="posterior")
            ax.plot(c["grid"], c["prior_density"], color=OKABE_ITO[1], lw=1.2, ls="--", label="prior")
            ax.set_ylim(0, 1.3 * max(c["posterior_density"].max(), c["prior_density"].max()))
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
            ax.set_title(c["title"], fontsize=7)
            ax.text(
                0.98,
                0.96,
                f"sd post/prior\n{c['sd_ratio']:.2g}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=6,
                color="0.3",
            )
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=2, frameon=False)
        fig.get_layout_engine().set(h_pad=0.06)  # type: ignore[union-attr, call-arg]
    return fig


# ----------------------------------------------------------------------------- 6. change point
def change_point_data(tree: xr.DataTree) -> dict[str, Any]:
    cp = quantities.change_point(tree)
    if cp is None:
        raise ValueError("this result has no change point")
    return {
        "before_draws": quantities.draws(tree, "growth_rate_per_day_pre").values.ravel(),
        "after_draws": quantities.draws(tree, "growth_rate_per_day").values.ravel(),
        "ratio_draws": quantities.draws(tree, "rate_ratio_post_over_pre").values.ravel(),
        "summary": cp,
    }


def change_point(tree: xr.DataTree, *, width: str = "double") -> Figure:
    d = change_point_data(tree)
    with paper_style():
        fig = _new_figure(width, 2.3)
        ax1, ax2 = fig.subplots(1, 2)
        bins = np.linspace(
            min(d["before_draws"].min(), d["after_draws"].min()) * 1000,
            max(d["before_draws"].max(), d["after_draws"].max()) * 1000,
            60,
        )
        ax1.hist(d["before_draws"] * 1000, bins=bins, alpha=0.6, color=OKABE_ITO[1], label="before the break")
        ax1.hist(d["after_draws"] * 1000, bins=bins, alpha=0.6, color=OKABE_ITO[0], label="after the break")
        ax1.set_xlabel("growth rate (x 1e-3 per day)")
        ax1.set_yticks([])
        ax1.legend(frameon=False)
        r = d["ratio_draws"]
        lo, hi = np.quantile(r, [0.03, 0.97])
        ax2.hist(r[(r > lo) & (r < hi)], bins=50, color=OKABE_ITO[2], alpha=0.8)
        ax2.axvline(1.0, color="black", lw=0.8)
        ax2.axvline(1.5, color=OKABE_ITO[3], ls="--", lw=1, label="paper: +50%")
        ax2.set_xlabel("growth-rate ratio after / before (central 94% of draws)")
        ax2.set_yticks([])
        ax2.set_title(f"P(after > before) = {d['summary']['p_after_faster']:.2f}")
        ax2.legend(frameon=False)
    return fig


# ----------------------------------------------------------------------------- 7. sensitivity forest
def sensitivity_forest_data(table: Any) -> dict[str, Any]:
    """Doubling-time medians and intervals per variant, from the sensitivity table (CSV or DataFrame)."""
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.read_csv(table)
    ok = df[df["doubling_days_median"].notna()].reset_index(drop=True)
    high = ok["doubling_days_hdi_high"].astype(float)
    return {
        "label": [f"{a}: {v}" for a, v in zip(ok["axis"], ok["variant"], strict=True)],
        "median": ok["doubling_days_median"].to_numpy(float),
        "low": ok["doubling_days_hdi_low"].to_numpy(float),
        "high": high.to_numpy(float),  # NaN: unbounded above
        "converged": ok["converged"].astype(bool).to_numpy(),
        "failed": [
            f"{a}: {v}"
            for a, v in zip(df["axis"], df["variant"], strict=True)
            if pd.isna(df.loc[df["variant"] == v, "doubling_days_median"]).any()
        ],
    }


def sensitivity_forest(table: Any, *, width: str = "single") -> Figure:
    d = sensitivity_forest_data(table)
    n = len(d["label"])
    axes_in = sorted({str(lab).split(": ", 1)[0] for lab in d["label"]})
    labels = [str(lab).split(": ", 1)[-1] for lab in d["label"]] if len(axes_in) == 1 else list(d["label"])
    with paper_style():
        fig = _new_figure(width, 0.16 * n + 0.9)
        ax = fig.add_subplot()
        y = np.arange(n)[::-1]
        months = quantities.DAYS_PER_MONTH
        cap = np.nanmax(np.r_[d["high"], d["median"]]) * 1.2 if n else 1.0
        hi = np.where(np.isfinite(d["high"]), d["high"], cap)
        ax.hlines(y, d["low"] / months, hi / months, color="0.5", lw=1)
        col = np.where(d["converged"], OKABE_ITO[0], OKABE_ITO[3])
        ax.scatter(d["median"] / months, y, s=12, color=col, zorder=3)
        for m in PAPER_MONTHS:
            ax.axvline(m, color=OKABE_ITO[3], ls=":", lw=0.8)
        ax.set_xscale("log")  # durations: equal ratios get equal room, long upper tails stay readable
        ticks = [
            t for t in (1, 2, 3, 5, 10, 20, 50, 100) if 0.8 * np.nanmin(d["low"] / months) <= t <= 1.2 * cap / months
        ]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_yticks(y, labels, fontsize=6)
        ax.set_xlabel("doubling time (months, log scale): median and 94% interval")
        ax.set_title(
            (f"axis: {axes_in[0]}; " if len(axes_in) == 1 else "")
            + "red: convergence warning; dotted: paper's 3.3 / 3.5 months",
            fontsize=7,
        )
    return fig


FIGURES = {
    "density_vs_date": density_vs_date,
    "doubling_time": doubling_time,
    "curve_fits": curve_fits,
    "density_forest": density_forest,
    "prior_posterior": prior_posterior,
    "change_point": change_point,
}


def write_all(tree: xr.DataTree, out_dir: str | Path, *, fmt: str = "png") -> list[Path]:
    """Every figure the result supports, as ``out_dir/<name>.<fmt>``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in FIGURES.items():
        try:
            fig = fn(tree)
        except ValueError:
            continue  # not supported by this result (e.g. no curve layers)
        written.append(save(fig, out / f"{name}.{fmt}"))
    return written


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` in the paper style, format from the suffix, under a temporary name in the same
    directory, then renamed into place (never a half-written figure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".")
    tmp = path.with_suffix(f".part.{fmt}")
    with paper_style():
        fig.savefig(tmp, format=fmt, metadata={"Creator": "bayesdense"} if fmt != "png" else None)
    tmp.replace(path)
    return path


# ----------------------------------------------------------------------------- calibration (SBC)
def _ecdf_band(n_sims: int, grid: np.ndarray, prob: float = 0.95, n_rep: int = 2000, seed: int = 0) -> np.ndarray:
    """Simultaneous ``prob`` band for the ECDF of ``n_sims`` uniform draws on ``grid`` (Säilynoja,
    Bürkner & Vehtari 2022): pointwise binomial bands at a level tuned by simulation so that a
    ``prob`` share of whole uniform ECDFs stay inside everywhere. Returns (lower, upper) counts."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    u = np.sort(rng.random((n_rep, n_sims)), axis=1)
    counts = np.stack([np.searchsorted(row, grid, side="right") for row in u])
    # the smallest pointwise tail probability each simulated ECDF reaches
    cdf = stats.binom.cdf(counts, n_sims, grid)
    sf = stats.binom.sf(counts - 1, n_sims, grid)
    worst = np.minimum(cdf, sf).min(axis=1)
    gamma = float(np.quantile(worst, 1 - prob))
    lo = stats.binom.ppf(gamma, n_sims, grid)
    hi = stats.binom.isf(gamma, n_sims, grid)
    return np.vstack([lo, hi])


def sbc_ranks_data(calibration: dict[str, Any], *, bins: int = 10) -> dict[str, Any]:
    """Per quantity: rank histogram counts and the ECDF of the fractional ranks minus the uniform
    CDF, with a simultaneous 95% band for that difference."""
    n_draws = int(calibration["n_draws"])
    grid = np.linspace(0, 1, 101)[1:-1]
    out: dict[str, Any] = {"grid": grid, "bins": bins, "quantities": {}}
    band = None
    for name, ranks in calibration["ranks"].items():
        r = np.asarray(ranks, float)
        u = (r + 0.5) / (n_draws + 1)
        counts, _ = np.histogram(u, bins=bins, range=(0, 1))
        ecdf = np.searchsorted(np.sort(u), grid, side="right") / len(u)
        if band is None:
            band = _ecdf_band(len(u), grid) / len(u) - grid
        inside = bool(np.all((ecdf - grid >= band[0] - 1e-12) & (ecdf - grid <= band[1] + 1e-12)))
        out["quantities"][name] = {"hist": counts, "ecdf_diff": ecdf - grid, "inside_band": inside}
    out["band"] = band
    out["n_sims"] = int(len(next(iter(calibration["ranks"].values()))))
    return out


def sbc_ranks(calibration: dict[str, Any], *, width: str = "double") -> Figure:
    """Rank histograms (top) and ECDF differences with a simultaneous 95% band (bottom), one column
    per calibrated quantity. Input: the dict written by ``bayesdense calibrate --out``."""
    d = sbc_ranks_data(calibration)
    names = list(d["quantities"])
    n = len(names)
    with paper_style():
        fig = _new_figure(width, 2.4)
        axes = fig.subplots(2, n, squeeze=False)
        expected = d["n_sims"] / d["bins"]
        for j, name in enumerate(names):
            q = d["quantities"][name]
            ax = axes[0, j]
            ax.bar(np.arange(d["bins"]) + 0.5, q["hist"], width=0.9, color=OKABE_ITO[0])
            ax.axhline(expected, color="0.3", lw=0.8, ls="--")
            title = name.replace("log_density", "log rho").replace("_per_day", "").replace("[", "\n[")
            ax.set_title(title, fontsize=6)
            ax.set_xticks([])
            ax.tick_params(labelsize=6)
            ax = axes[1, j]
            ax.fill_between(d["grid"], d["band"][0], d["band"][1], color="0.85", lw=0)
            ax.plot(d["grid"], q["ecdf_diff"], color=OKABE_ITO[0] if q["inside_band"] else OKABE_ITO[3], lw=1)
            ax.axhline(0, color="0.3", lw=0.6)
            ax.set_xticks([0, 0.5, 1])
            ax.tick_params(labelsize=6)
        axes[0, 0].set_ylabel("count", fontsize=7)
        axes[1, 0].set_ylabel("ECDF - uniform", fontsize=7)
        fig.suptitle(
            f"SBC of '{calibration.get('spec', '')}': {d['n_sims']} simulations; grey: simultaneous 95% band "
            "(red line: outside)",
            fontsize=7,
        )
    return fig
