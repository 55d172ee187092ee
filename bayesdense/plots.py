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


# ----------------------------------------------------------------------------- 6. prior vs posterior
def prior_posterior_data(tree: xr.DataTree) -> dict[str, Any]:
    from .spec import parse_spec

    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    p = spec.prior("growth_rate_per_year")
    post = quantities.draws(tree, "growth_rate_per_day").values.ravel()
    grid = np.linspace(min(post.min(), -0.01), max(post.max(), 0.02), 300)
    from scipy import stats

    if p.dist != "Normal":
        raise ValueError("prior-vs-posterior plot supports a Normal growth-rate prior")
    dens = stats.norm(float(p.mu or 0.0) / 365.25, float(p.sigma or 1.0) / 365.25).pdf(grid)
    return {"grid_per_day": grid, "prior_density": dens, "posterior_draws": post, "prior": p.model_dump()}


def prior_posterior(tree: xr.DataTree, *, width: str = "single") -> Figure:
    d = prior_posterior_data(tree)
    with paper_style():
        fig = _new_figure(width, 2.2)
        ax = fig.add_subplot()
        ax.hist(d["posterior_draws"] * 1000, bins=60, density=True, color=OKABE_ITO[0], alpha=0.7, label="posterior")
        ax.plot(d["grid_per_day"] * 1000, d["prior_density"] / 1000, color=OKABE_ITO[1], lw=1.2, label="prior")
        ax.set_xlabel("growth rate (x 1e-3 per day)")
        ax.set_yticks([])
        ax.legend(frameon=False)
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


# ----------------------------------------------------------------------------- 5. sensitivity forest
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
    with paper_style():
        fig = _new_figure(width, 0.16 * n + 0.9)
        ax = fig.add_subplot()
        y = np.arange(n)[::-1]
        cap = np.nanmax(np.r_[d["high"], d["median"]]) * 1.2 if n else 1.0
        hi = np.where(np.isfinite(d["high"]), d["high"], cap)
        ax.hlines(y, d["low"] / quantities.DAYS_PER_MONTH, hi / quantities.DAYS_PER_MONTH, color="0.5", lw=1)
        col = np.where(d["converged"], OKABE_ITO[0], OKABE_ITO[3])
        ax.scatter(d["median"] / quantities.DAYS_PER_MONTH, y, s=12, color=col, zorder=3)
        for m in PAPER_MONTHS:
            ax.axvline(m, color=OKABE_ITO[3], ls=":", lw=0.8)
        ax.set_yticks(y, d["label"], fontsize=6)
        ax.set_xlabel("doubling time (months), median and 94% interval")
        ax.set_title("sensitivity (red: convergence warning; dotted: paper's 3.3 / 3.5)")
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
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in FIGURES.items():
        try:
            fig = fn(tree)
        except ValueError:
            continue  # not supported by this result (e.g. no curve layers)
        path = out / f"{name}.{fmt}"
        tmp = path.with_suffix(f".part.{fmt}")
        with paper_style():
            fig.savefig(tmp, format=fmt, metadata={"Creator": "bayesdense"} if fmt != "png" else None)
        tmp.replace(path)
        written.append(path)
    return written
