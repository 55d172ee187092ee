"""Figures for papers, from a result file alone (no refit).

Each figure is a function ``fig_x(tree, *, ...) -> Figure`` with a twin ``fig_x_data(tree) ->
dict`` that returns the plotted numbers (tests assert on those). One style for all: Okabe-Ito
colour-blind-safe palette, single (3.5 in) or double (7.2 in) column width, TrueType fonts
embedded in PDF/SVG. Intervals are 94% HDIs (and 50% where a band is drawn).
"""

from __future__ import annotations

import json
import textwrap
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
from .quantities import p_text as p_text  # re-exported: figures and the report print shares this way

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
    "savefig.bbox": "standard",  # never "tight": a figure is exactly its column width
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
SIZE_KEY_BILLIONS = (1, 10, 100)  # parameter counts shown in the marker-size key


def marker_area(params_billions: Any) -> np.ndarray:
    """Marker area (pt^2) for a parameter count in billions: log-scaled from 0.5B (4) to 1000B (64);
    an unknown count gets the size of 5B."""
    p = np.nan_to_num(np.asarray(params_billions, float), nan=5.0)
    return np.asarray(4 + 60 * np.log10(np.clip(p, 0.5, 1000) / 0.5) / np.log10(2000))


def density_vs_date_data(tree: xr.DataTree, *, label_top: int = 8, highlight: Any = ()) -> dict[str, Any]:
    fd = quantities.fit_data(tree)
    dens = quantities.intervals(xr.apply_ufunc(np.exp, tree["posterior"]["log_density"]), "model")
    grid = np.linspace(fd.t_days.min() - 20, fd.t_days.max() + 20, 120)
    line = quantities.frontier_at(tree, grid)
    q = line.quantile([0.03, 0.25, 0.5, 0.75, 0.97], dim=("chain", "draw")).values
    paper = json.loads(str(tree.attrs.get("paper_point_estimate", "{}")))
    names = [str(m) for m in fd.model]
    median = np.array([d["median"] for d in dens])
    unknown = sorted(set(highlight) - set(names))
    if unknown:
        raise ValueError(f"no model named {', '.join(unknown)} in this result (models: {', '.join(names)})")
    labelled = [names[i] for i in np.argsort(-median)[:label_top]]
    labelled += [m for m in highlight if m not in labelled]
    out = {
        "model": names,
        "t_days": fd.t_days,
        "density_median": median,
        "density_low": np.array([d["hdi_low"] for d in dens]),
        "density_high": np.array([d["hdi_high"] for d in dens]),
        "params_billions": fd.params / N_UNIT,
        "marker_area": marker_area(fd.params / N_UNIT),
        "size_key": {f"{b:g}B": float(marker_area(b)) for b in SIZE_KEY_BILLIONS},
        "labelled": labelled,
        "highlight": list(highlight),
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


def density_vs_date(tree: xr.DataTree, *, width: str = "double", label_top: int = 8, highlight: Any = ()) -> Figure:
    """Each model's density (median, 94% HDI; marker area by parameter count, with a size key)
    against its release date, the posterior frontier with 50% and 94% bands and the paper's line.
    The ``label_top`` densest models and the ``highlight`` ones (marked in purple, bold label) are
    named; labels are placed clear of every marker, error bar and other label (``_place_labels``),
    with leader lines drawn above the error bars. The legend sits above the axes."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    d = density_vs_date_data(tree, label_top=label_top, highlight=highlight)
    with paper_style():
        fig = _new_figure(width, 3.4 if width == "double" else 3.3)
        ax = fig.add_subplot()
        x = _dates(d["t_days"])
        gx = _dates(d["frontier_t_days"])
        fq = d["frontier_quantiles"]
        band94 = ax.fill_between(gx, fq[3], fq[97], color=OKABE_ITO[0], alpha=0.15, lw=0)
        band50 = ax.fill_between(gx, fq[25], fq[75], color=OKABE_ITO[0], alpha=0.3, lw=0)
        (median_line,) = ax.plot(gx, fq[50], color=OKABE_ITO[0], lw=1.2)
        lines = [median_line]
        handles: list[Any] = [band94, band50, median_line]
        texts = ["frontier, 94% interval", "frontier, 50% interval", "frontier, posterior median"]
        if "paper_line" in d:
            (pl,) = ax.plot(gx, d["paper_line"], color=OKABE_ITO[3], lw=1, ls="--")
            lines.append(pl)
            handles.append(pl)
            texts.append("paper's recipe (OLS on records)")
        many = len(x) > MANY_MODELS  # a leaderboard: small translucent markers, intervals in the forest plot
        shrink = 0.12 if many else 1.0
        err = ax.errorbar(
            x,
            d["density_median"],
            yerr=[d["density_median"] - d["density_low"], d["density_high"] - d["density_median"]],
            fmt="none",
            ecolor="0.6",
            lw=0.2 if many else 0.6,
            alpha=0.3 if many else 1.0,
            zorder=2,
        )
        hl = np.isin(d["model"], d["highlight"])
        pts = ax.scatter(
            x,
            d["density_median"],
            s=d["marker_area"] * shrink,
            color=np.where(hl, OKABE_ITO[4], OKABE_ITO[1]),
            edgecolor="black",
            lw=0.1 if many else 0.4,
            alpha=0.6 if many else 1.0,
            zorder=3,
        )
        handles.append(
            (
                Line2D([], [], ls="", marker="|", ms=9, mew=0.6, color="0.6"),
                Line2D([], [], ls="", marker="o", ms=4, mfc=OKABE_ITO[1], mec="black", mew=0.4),
            )
        )
        texts.append("model: median, 94% HDI")
        if hl.any():
            handles.append(Line2D([], [], ls="", marker="o", ms=4, mfc=OKABE_ITO[4], mec="black", mew=0.4))
            texts.append("highlighted")
        for key, area in d["size_key"].items():
            handles.append(
                Line2D([], [], ls="", marker="o", ms=np.sqrt(area * shrink), mfc=OKABE_ITO[1], mec="black", mew=0.4)
            )
            texts.append(f"{key} parameters")
        ax.set_yscale("log")
        top = np.log10(np.nanmax(np.r_[d["density_high"], fq[97]]))
        bottom = np.log10(np.nanmin(np.r_[d["density_low"], fq[3]]))
        ax.set_ylim(10 ** (bottom - 0.04 * (top - bottom)), 10 ** (top + 0.12 * (top - bottom)))  # room for labels
        ax.set_ylabel(r"capability density $\hat{N} / N$")
        from .spec import parse_spec

        board = parse_spec(str(tree.attrs["spec_text"]), "result").data.targets == "leaderboard"
        ax.set_xlabel("submission date to the leaderboard" if board else "release date")
        span_months = (d["frontier_t_days"][-1] - d["frontier_t_days"][0]) / quantities.DAYS_PER_MONTH
        step = next(s for s in (1, 2, 3, 4, 6, 12, 24) if span_months / s <= (5 if width == "single" else 9))
        loc = mdates.MonthLocator(bymonth=range(1, 13, step) if step < 12 else (1,), interval=max(step // 12, 1))
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))
        ncol = 2 if width == "single" else 4
        fig.legend(
            handles,
            texts,
            loc="outside upper center",
            ncol=ncol,
            frameon=False,
            fontsize=6,
            handlelength=1.6,
            columnspacing=1.0,
        )
        which = [d["model"].index(m) for m in d["labelled"]]
        x0, x1 = ax.get_xlim()
        ax.set_xticks([v for v in loc.tick_values(*mdates.num2date((x0, x1))) if x0 <= v <= x1])
        # widen the axis on the right (a gutter for labels) until every label has a clear place with a
        # leader under 45 pt; failing that, the width that came closest
        args = (d["t_days"], d["density_median"], d["model"], which, set(d["highlight"]))
        tried = {}
        for grow in (0.0, 0.06, 0.12, 0.18, 0.24, 0.3):
            ax.set_xlim(x0, x1 + grow * (x1 - x0))
            tried[grow] = _place_labels(ax, pts, err, lines, *args)
            if tried[grow] == (0, 0):
                break
        best = min(tried, key=lambda k: tried[k])
        if tried[best] != (0, 0) and best != grow:
            ax.set_xlim(x0, x1 + best * (x1 - x0))
            _place_labels(ax, pts, err, lines, *args)
    return fig


def _place_labels(
    ax: Any,
    pts: Any,
    err: Any,
    lines: list[Any],
    t: np.ndarray,
    y: np.ndarray,
    names: list[str],
    which: list[int],
    bold: set[str],
) -> tuple[int, int]:
    """Name the models ``which`` with labels placed in display space once the layout is fixed.

    Each label goes to the cheapest of its candidate positions on rings of growing distance around
    its marker (every 15 degrees): inside the axes, clear of every marker, error bar, placed label
    and leader line (a hard constraint), then as close as possible, off the frontier and paper lines,
    crossing few error bars and not beside another leader. A label more than 4 pt from its marker
    gets a leader line, drawn with the label above the error bars. Greedy in the given order; labels
    that found no clear place go first in the next attempt (at most 4). Returns the number of labels
    left without a clear place and the number with a leader longer than 45 pt. The layout engine is
    switched off so that saving does not move the axes under the placed labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    for old in [a for a in ax.texts if a.get_gid() == "model-label"]:
        old.remove()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    fig.set_layout_engine("none")
    renderer = canvas.get_renderer()
    px = fig.dpi / 72.0  # pixels per point
    pad = 1.0 * px
    data_to_px = ax.transData
    centres = data_to_px.transform(np.asarray(pts.get_offsets(), float))
    radius = np.sqrt(np.broadcast_to(pts.get_sizes(), (len(centres),))) / 2 * px + 0.4 * px
    hard: list[tuple[float, float, float, float]] = [
        (cx - r, cx + r, cy - r, cy + r) for (cx, cy), r in zip(centres, radius, strict=True)
    ]
    half_lw = 0.5 * px
    for seg in err.lines[2][0].get_segments():
        (x0, y0), (x1, y1) = data_to_px.transform(np.asarray(seg, float))
        hard.append((min(x0, x1) - half_lw, max(x0, x1) + half_lw, min(y0, y1), max(y0, y1)))
    soft = np.vstack([_densify(data_to_px.transform(ln.get_xydata()), 2.0) for ln in lines])
    soft = soft[np.isfinite(soft).all(axis=1)]
    lo, hi = (ax.bbox.x0 + pad, ax.bbox.y0 + pad), (ax.bbox.x1 - pad, ax.bbox.y1 - pad)

    # every 15 degrees; near-vertical leaders would read as error bars, so those only touch the marker
    angles = np.deg2rad(np.arange(0, 360, 15))
    gaps = np.r_[1.5, np.arange(4, 30, 2.5), np.arange(30, 150, 5)] * px
    bars = np.asarray(hard[len(centres) :])
    sizes = {}
    for i in which:
        probe = ax.text(0, 0, names[i], fontsize=6, fontweight="bold" if names[i] in bold else "normal")
        bb = probe.get_window_extent(renderer)
        probe.remove()
        sizes[i] = (bb.width + 2 * pad, bb.height + 2 * pad)

    def place(order: list[int]) -> dict[int, tuple[Any, ...]]:
        """Greedy: each label in ``order`` at its cheapest candidate given the ones before it."""
        fixed = np.asarray(hard)
        leaders: list[np.ndarray] = []
        leader_pts = np.empty((0, 2))
        label_boxes: list[tuple[float, float, float, float]] = []
        out: dict[int, tuple[Any, ...]] = {}
        for i in order:
            w, h = sizes[i]
            p, r = centres[i], radius[i]
            others, r_others = np.delete(centres, i, axis=0), np.delete(radius, i)
            best: tuple[Any, ...] | None = None
            best_cost = np.inf
            for g in gaps:
                if best_cost < g / px:  # no farther candidate can beat the best one
                    break
                ok = np.ones(len(angles), bool) if g <= 4 * px else np.abs(np.sin(angles)) <= 0.95
                cen = p + np.c_[np.cos(angles) * (r + g + w / 2), np.sin(angles) * (r + g + h / 2)]
                bx = np.c_[cen[:, 0] - w / 2, cen[:, 0] + w / 2, cen[:, 1] - h / 2, cen[:, 1] + h / 2]
                ok &= (lo[0] < bx[:, 0]) & (bx[:, 1] < hi[0]) & (lo[1] < bx[:, 2]) & (bx[:, 3] < hi[1])
                box_hits = _overlaps(bx, fixed).sum(axis=1) + _contains(bx, leader_pts)
                for k in np.flatnonzero(ok & (1e6 * box_hits < best_cost)):
                    c, box, a = cen[k], tuple(bx[k]), angles[k]
                    hits = int(box_hits[k])
                    untidy = 10.0 * bool(_contains(bx[k : k + 1], soft)[0])  # on a line: worth 10 pt
                    # the leader from the marker's edge to the label box's edge: clear of other markers
                    # and labels, not crossing other leaders, few error bars crossed
                    seg = _leader(p, r, c, w, h) if g > 4 * px else np.empty((0, 2))
                    if len(seg):
                        clear = r_others + 2.5 * px
                        # a marker overlapping this one: only the leader's part beyond it counts
                        touching = np.hypot(*(others - seg[0]).T) < clear
                        trimmed = np.array([seg[0] + (seg[1] - seg[0]) * min(1.0, 2 * clear.max() / g), seg[1]])
                        dist = np.where(touching, _seg_dist(others, trimmed), _seg_dist(others, seg))
                        hits += int((dist < clear).sum())
                        # ... and it must not set off across that marker
                        toward = (others - p) @ (c - p) / (np.hypot(*(others - p).T) * np.hypot(*(c - p)) + 1e-9)
                        hits += int((touching & (toward > 0.3)).sum())
                        pts_ = _densify(seg, 2.0)
                        if label_boxes:
                            hits += int(_contains(np.asarray(label_boxes), pts_).sum())
                        for s in leaders:  # crossing or running close beside another leader
                            hits += _crosses((seg[0], seg[1]), (s[0], s[1]))
                            untidy += 8.0 * bool(_seg_dist(pts_, s).min() < 3 * px)
                        x_at = np.clip((bars[:, 0] + bars[:, 1]) / 2, *sorted((seg[0, 0], seg[1, 0])))
                        frac = (x_at - seg[0, 0]) / (seg[1, 0] - seg[0, 0]) if seg[1, 0] != seg[0, 0] else 0.0
                        y_at = seg[0, 1] + frac * (seg[1, 1] - seg[0, 1])
                        crossed = (x_at == (bars[:, 0] + bars[:, 1]) / 2) & (bars[:, 2] <= y_at) & (y_at <= bars[:, 3])
                        untidy += 3.0 * int(crossed.sum())  # each error bar crossed: 3 pt
                    cost = 1e6 * hits + untidy + g / px + 0.5 * abs(np.sin(a))
                    if cost < best_cost:
                        best, best_cost = (c, box, g, seg), cost
            if best is None:  # nowhere inside the axes: keep it to the right of the point
                c = p + np.array([r + gaps[0] + w / 2, 0.0])
                best = (c, (c[0] - w / 2, c[0] + w / 2, c[1] - h / 2, c[1] + h / 2), gaps[0], np.empty((0, 2)))
                best_cost = 1e6
            c, box, g, seg = best
            out[i] = (*best, best_cost)
            fixed = np.vstack([fixed, box])
            label_boxes.append(box)
            if len(seg):
                leaders.append(seg)
                leader_pts = np.vstack([leader_pts, _densify(seg, 2.0)])
        return out

    # greedy in the given order; labels that found no clear place go first in the next attempt
    order = list(which)
    best_run: dict[int, tuple[Any, ...]] = {}
    best_score = (np.inf, np.inf)
    for _ in range(4):
        run = place(order)
        blocked = [i for i in order if run[i][4] >= 1e6]
        score = (len(blocked), sum(v[4] for v in run.values()))
        if score < best_score:
            best_run, best_score = run, score
        if not blocked:
            break
        order = blocked + [i for i in order if i not in blocked]
    x_dates = _dates(t)
    for i in which:
        c, _, g, _, cost = best_run[i]
        if cost >= 1e6 and names[i] not in bold:
            continue  # no clear place: better unnamed than on top of another model (highlighted ones stay)
        xy_text = data_to_px.inverted().transform(c)
        ax.annotate(
            names[i],
            (x_dates[i], y[i]),
            xytext=(float(xy_text[0]), float(xy_text[1])),
            textcoords="data",
            fontsize=6,
            fontweight="bold" if names[i] in bold else "normal",
            ha="center",
            va="center",
            zorder=5,
            gid="model-label",
            arrowprops={
                "arrowstyle": "-",
                "lw": 0.5,
                "color": "0.15",
                "shrinkA": 0.5,
                "shrinkB": float(radius[i] / px) + 0.3,
            }
            if g > 4 * px
            else None,
        )
    return int(best_score[0]), sum(best_run[i][2] > 45 * px for i in which)


def _densify(xy: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline no more than ``step`` apart (display units); NaN gaps are kept out."""
    out = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            continue
        k = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
        out.append(a + (b - a) * np.linspace(0, 1, k + 1)[1:, None])
    return np.vstack(out)


def _leader(p: np.ndarray, r: float, c: np.ndarray, w: float, h: float) -> np.ndarray:
    """The visible part of a leader from marker centre ``p`` (radius ``r``) to a ``w`` x ``h`` label
    centred at ``c``: from the marker's edge to the box's edge, as a 2 x 2 array (empty if none)."""
    v = c - p
    d = float(np.hypot(*v))
    s_box = min(w / 2 / abs(v[0]) if v[0] else np.inf, h / 2 / abs(v[1]) if v[1] else np.inf)  # fraction of v
    a, b = p + v * (r / d), c - v * s_box
    return np.array([a, b]) if np.dot(b - a, v) > 0 else np.empty((0, 2))


def _seg_dist(q: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Distance of each point in ``q`` to the segment ``seg`` (2 x 2)."""
    a, b = seg
    ab = b - a
    s = np.clip(((q - a) @ ab) / max(float(ab @ ab), 1e-12), 0, 1)
    return np.asarray(np.hypot(*(q - (a + s[:, None] * ab)).T))


def _crosses(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether segments ``a`` and ``b`` (pairs of 2-d points) cross."""

    def side(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
        return float(np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])))

    return side(*a, b[0]) * side(*a, b[1]) < 0 and side(*b, a[0]) * side(*b, a[1]) < 0


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) matrix: whether box a[i] overlaps box b[j] (boxes as x0, x1, y0, y1 rows)."""
    if not len(b):
        return np.zeros((len(a), 0), bool)
    return np.asarray(
        (a[:, None, 0] < b[None, :, 1])
        & (b[None, :, 0] < a[:, None, 1])
        & (a[:, None, 2] < b[None, :, 3])
        & (b[None, :, 2] < a[:, None, 3])
    )


def _contains(boxes: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per box (x0, x1, y0, y1 rows): whether any of the points ``p`` lies strictly inside it."""
    if not len(p):
        return np.zeros(len(boxes), bool)
    x, y = p[None, :, 0], p[None, :, 1]
    b = boxes[:, :, None]
    return np.asarray(((b[:, 0] < x) & (x < b[:, 1]) & (b[:, 2] < y) & (y < b[:, 3])).any(axis=1))


# ----------------------------------------------------------------------------- 2. doubling time
# The paper's doubling times and where each is stated.
PAPER_SOURCES = {3.3: "arXiv 2412.04315 v1", 3.5: "Nature Machine Intelligence 2025"}
PAPER_SOURCES_SHORT = {3.3: "arXiv v1", 3.5: "NMI 2025"}
HIST_CUT_QUANTILE = 0.995  # the doubling-time histogram's x axis ends here; the figure says so


def doubling_time_data(tree: xr.DataTree) -> dict[str, Any]:
    g = quantities.growth_and_doubling(tree)
    rate = quantities.draws(tree, "growth_rate_per_day").values.ravel()
    dbl = np.where(rate > 0, laws.LN2 / np.where(rate > 0, rate, 1.0), np.inf)
    months = dbl / quantities.DAYS_PER_MONTH
    finite = months[np.isfinite(months)]
    cut = float(np.quantile(finite, HIST_CUT_QUANTILE)) if finite.size else 1.0
    return {
        "rate_draws": rate,
        "doubling_days_draws": dbl,
        "summary": g,
        "p_growth_positive_text": f"P(growth > 0) {p_text(g['p_growth_positive'], rate.size)}",
        "cut_months": cut,
        "n_beyond_cut": int((finite > cut).sum()),
        "n_unbounded": int((~np.isfinite(months)).sum()),  # growth rate <= 0: density never doubles
        "paper_months": PAPER_MONTHS,
        "paper_sources": {m: PAPER_SOURCES[m] for m in PAPER_MONTHS},
        "paper": json.loads(str(tree.attrs.get("paper_point_estimate", "{}"))),
    }


def doubling_time(tree: xr.DataTree, *, width: str = "double") -> Figure:
    """Growth-rate posterior (94% HDI shaded, P(growth > 0) in the title) and the doubling time
    ln 2 / rate in months with the paper's two values and their sources. The doubling-time axis ends
    at the draws' 99.5% quantile; its label says how many draws lie beyond and how many never double.
    Side by side at double width, stacked at single width; the legend below the panels."""
    d = doubling_time_data(tree)
    g = d["summary"]
    with paper_style():
        fig = _new_figure(width, 2.5 if width == "double" else 4.0)
        ax1, ax2 = fig.subplots(1, 2) if width == "double" else fig.subplots(2, 1)
        r = d["rate_draws"] * 1000
        ax1.hist(r, bins=60, color=OKABE_ITO[0], alpha=0.8)
        ax1.axvline(0, color="black", lw=0.6)
        lo, hi = g["growth_rate_per_day"]["hdi_low"] * 1000, g["growth_rate_per_day"]["hdi_high"] * 1000
        ax1.axvspan(lo, hi, color=OKABE_ITO[0], alpha=0.12)
        handles: list[Any] = []
        if d["paper"].get("A_per_day"):
            handles.append(
                ax1.axvline(
                    d["paper"]["A_per_day"] * 1000,
                    color=OKABE_ITO[3],
                    ls="-.",
                    lw=1,
                    label="paper's recipe on these data",
                )
            )
        ax1.set_xlabel(r"growth rate of ln density ($10^{-3}$ per day)")
        ax1.set_yticks([])
        ax1.set_title(d["p_growth_positive_text"])
        months = d["doubling_days_draws"][np.isfinite(d["doubling_days_draws"])] / quantities.DAYS_PER_MONTH
        cap = d["cut_months"]
        ax2.hist(months[months <= cap], bins=60, color=OKABE_ITO[2], alpha=0.8)
        m = g["doubling_time_months"]
        ax2.axvspan(m["hdi_low"], m["hdi_high"] if m["hdi_high"] is not None else cap, color=OKABE_ITO[2], alpha=0.12)
        for pm_, ls in zip(d["paper_months"], (":", "--"), strict=True):
            label = f"paper: {pm_} months ({PAPER_SOURCES_SHORT[pm_]}; records + OLS)"
            handles.append(ax2.axvline(pm_, color=OKABE_ITO[3], ls=ls, lw=1, label=label))
        note = f"axis cut at the {100 * HIST_CUT_QUANTILE:g}% quantile: {d['n_beyond_cut']} of {r.size} draws beyond"
        if d["n_unbounded"]:
            note += f"; {d['n_unbounded']} never double (growth <= 0)"
        ax2.set_xlabel(f"doubling time (months of 30.44 days)\n{note}")
        ax2.set_yticks([])
        ax2.set_title(f"median {m['median']:.2f} months; shaded: 94% interval")
        fig.legend(
            handles=handles, loc="outside lower center", ncol=len(handles) if width == "double" else 1, frameon=False
        )
    return fig


# ----------------------------------------------------------------------------- 3. curve fits
def curve_fits_data(tree: xr.DataTree) -> dict[str, Any]:
    post = tree["posterior"]
    if "loss_a" not in post:
        return {}
    fd = quantities.fit_data(tree)
    if fd.score_based:  # a score-based reference family has no losses to draw
        return {}
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
        if width == "single":  # one panel per row: loss law above its link
            fig = _new_figure(width, 4.2 * len(d))
            axes = np.asarray(fig.subplots(2 * len(d), 1)).reshape(len(d), 2)
        else:
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
FOREST_MAX = 60  # models in one forest plot (a leaderboard's thousands would not fit on a page)
MANY_MODELS = 300  # from here on density_vs_date draws small translucent markers


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
    """Every model's density (posterior median, 94% HDI; the paper's value as x), sorted; each label
    carries the model's ln-distance below the frontier in brackets. Beyond ``FOREST_MAX`` models
    (leaderboards) only the densest ``FOREST_MAX``, and the title says so."""
    d = density_forest_data(tree)
    total = len(d["model"])
    if total > FOREST_MAX:
        d = {k: v[-FOREST_MAX:] for k, v in d.items()}
    n = len(d["model"])
    with paper_style():
        fig = _new_figure(width, 0.125 * n + 1.0)
        ax = fig.add_subplot()
        y = np.arange(n)
        ax.hlines(y, d["low"], d["high"], color="0.5", lw=0.8, label="94% HDI")
        ax.scatter(d["median"], y, s=10, color=OKABE_ITO[0], zorder=3, label="posterior median")
        ax.scatter(d["paper"], y, s=10, marker="x", color=OKABE_ITO[3], lw=0.8, zorder=3, label="paper")
        ticks = [  # leaderboard names run long: cut at 36 characters
            f"{m if len(m) <= 36 else m[:35] + '…'}  ({0.0 if round(b, 1) == 0 else b:.1f})"
            for m, b in zip(d["model"], d["below_frontier_median"], strict=True)
        ]
        ax.set_yticks(y, ticks, fontsize=6)
        ax.set_ylim(-0.8, n - 0.2)
        ax.set_xscale("log")
        ax.set_xlabel(r"capability density $\hat{N} / N$")
        which = "Models" if total == n else f"The {n} densest of {total:,} models"
        fig.suptitle(
            f"{which} sorted by posterior density;\nin brackets: ln-distance below the frontier (median)", fontsize=7
        )
        fig.legend(loc="outside lower center", ncol=3, frameon=False)
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
            ax.set_title(textwrap.fill(c["title"], 26 if width == "single" else 40), fontsize=7)
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
        fig = _new_figure(width, 2.3 if width == "double" else 4.0)
        ax1, ax2 = fig.subplots(1, 2) if width == "double" else fig.subplots(2, 1)
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
AXIS_TITLES = {
    "d0": "token budget D0",
    "frontier": "frontier",
    "models": "model set",
    "priors": "priors",
    "benchmarks": "benchmarks",
}
# variants that are the base spec itself (sensitivity.variants makes them with no change)
# variants that are the base spec by construction (bayesdense/sensitivity.py names them)
BASE_VARIANTS = (
    "base priors",
    "AVERAGE (paper-implied scores)",
    "paper's family (6 models, losses)",  # --axis reference on a paper-family base
    "your family (data.reference_runs)",  # --axis reference on a base with reference runs of your own
)


def variant_label(axis: str, variant: str) -> str:
    """A sensitivity variant's name as a reader wants it: ``d0=1e+12`` -> ``D0 = 1T tokens``,
    ``stochastic_frontier(half_normal)`` -> ``stochastic frontier (half-normal)``."""
    import re

    m = re.fullmatch(r"d0=([0-9.e+-]+)", variant)
    if m:
        return f"D0 = {float(m.group(1)) / 1e12:g}T tokens"
    m = re.fullmatch(r"(\w+)\((\w+)\)", variant)
    if m:
        return f"{m.group(1).replace('_', ' ')} ({m.group(2).replace('_', '-')})"
    if variant == "records":
        return "records (the paper's recipe)"
    return variant.replace("_", " ")


def _warning_reason(row: Any) -> str:
    """Why a variant is flagged, from its table row (the fit's checks: R-hat, bulk ESS, divergences)."""
    reasons = []
    if float(row.get("max_rhat", np.nan)) > quantities.RHAT_MAX:
        v = float(row["max_rhat"])
        reasons.append(f"R-hat {v:.3f}" if round(v, 3) > quantities.RHAT_MAX else f"R-hat {v:.4f}")
    if float(row.get("min_ess_bulk", np.inf)) < quantities.ESS_MIN:
        reasons.append(f"ESS {float(row['min_ess_bulk']):.0f}")
    if int(row.get("divergences", 0) or 0):
        reasons.append(f"{int(row['divergences'])} div.")
    if float(row.get("min_bfmi", np.inf)) < 0.3:  # tables written before this column: not shown
        reasons.append(f"BFMI {float(row['min_bfmi']):.2f}")
    return ", ".join(reasons) or "other diagnostic"


def base_rows(df: Any, base: Any = None) -> np.ndarray:
    """Which rows of a sensitivity table are the base spec (see :func:`sensitivity_forest_data`)."""
    cols = ["doubling_days_median", "doubling_days_hdi_low", "doubling_days_hdi_high"]
    if base is not None:
        return np.asarray(df["variant"].isin(list(base)).to_numpy(), bool)
    if "is_base" in df:
        return np.asarray(df["is_base"].astype(bool).to_numpy(), bool)
    named = df[df["variant"].isin(BASE_VARIANTS)][cols].to_numpy(float)
    values = df[cols].to_numpy(float)
    return np.array(
        [bool(np.isfinite(v[0])) and any(np.array_equal(v, b, equal_nan=True) for b in named) for v in values], bool
    )


def sensitivity_forest_data(table: Any, *, base: Any = None) -> dict[str, Any]:
    """Doubling-time medians and intervals (days) per variant, from the sensitivity table (CSV or
    DataFrame), with readable labels, which rows are the base spec and why a row is flagged.

    The base spec's rows: ``base`` (variant names) when given, else a table's ``is_base`` column,
    else the variants that are the base spec by construction (``BASE_VARIANTS``) and every row with
    exactly their numbers (the same fit reached along another axis, e.g. ``D0 = 5T tokens``)."""
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.read_csv(table)
    ok = df[df["doubling_days_median"].notna()].reset_index(drop=True)
    high = ok["doubling_days_hdi_high"].astype(float)
    is_base = base_rows(ok, base)
    converged = ok["converged"].astype(bool).to_numpy()
    return {
        "label": [f"{a}: {v}" for a, v in zip(ok["axis"], ok["variant"], strict=True)],
        "axis": [str(a) for a in ok["axis"]],
        "display": [variant_label(str(a), str(v)) for a, v in zip(ok["axis"], ok["variant"], strict=True)],
        "median": ok["doubling_days_median"].to_numpy(float),
        "low": ok["doubling_days_hdi_low"].to_numpy(float),
        "high": high.to_numpy(float),  # NaN: unbounded above
        "converged": converged,
        "warning": ["" if c else _warning_reason(r) for c, (_, r) in zip(converged, ok.iterrows(), strict=True)],
        "is_base": is_base,
        "paper_days": tuple(m * quantities.DAYS_PER_MONTH for m in PAPER_MONTHS),
        "failed": [
            f"{a}: {v}"
            for a, v in zip(df["axis"], df["variant"], strict=True)
            if pd.isna(df.loc[df["variant"] == v, "doubling_days_median"]).any()
        ],
    }


def _day_ticks(lo: float, hi: float) -> list[float]:
    """Round day values for a log axis from ``lo`` to ``hi``: the coarsest set giving at least 5."""
    sets = (
        (10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
        (10, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000),
        (10, 20, 30, 40, 50, 60, 70, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1500, 2000),
    )
    ticks: list[float] = []
    for s in sets:
        ticks = [float(v) for v in s if lo <= v <= hi]
        if len(ticks) >= 5:
            return ticks
    return ticks


def _fit_right_texts(fig: Figure, ax: Any, texts: list[Any], rounds: int = 4, max_growth: float = 1.6) -> None:
    """Widen a log x axis to the right until every text in ``texts`` ends inside the axes (text
    keeps its size in points while the data shrink, so a few rounds converge). The data keep at
    least 1 / ``max_growth`` of the axis: when the texts need more, each is cut to its first
    comma-separated item plus a count of the rest ("R-hat 1.013 +2"), and the axis widened again."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not texts:
        return
    x0, x1 = ax.get_xlim()
    limit = np.log(x1 / x0) * max_growth
    for shortened in (False, True):
        if shortened:
            for t in texts:
                parts = t.get_text().split(", ")
                t.set_text(parts[0] + (f" +{len(parts) - 1}" if len(parts) > 1 else ""))
        for _ in range(rounds):
            canvas = FigureCanvasAgg(fig)
            canvas.draw()  # lay out first (constrained layout moves the axes)
            r = canvas.get_renderer()
            box = ax.get_window_extent(r)
            right = max(t.get_window_extent(r).x1 for t in texts)
            if right <= box.x1:
                return
            lo, hi = ax.get_xlim()
            span = np.log(hi / lo) * (right - box.x0) / box.width * 1.03
            if span > limit:
                ax.set_xlim(lo, lo * float(np.exp(limit)))
                break
            ax.set_xlim(lo, lo * float(np.exp(span)))


def _thin_x_ticklabels(fig: Figure, ax: Any, pad_pt: float = 3.0) -> None:
    """Blank every x tick label that would touch the previous one kept (narrow log axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    ticks, labels = ax.get_xticks(), [t.get_text() for t in ax.get_xticklabels()]
    last = -np.inf
    for k, t in enumerate(ax.get_xticklabels()):
        box = t.get_window_extent(r)
        if box.x0 < last + pad_pt * fig.dpi / 72.0:
            labels[k] = ""
        else:
            last = box.x1
    ax.set_xticks(ticks, labels)


def sensitivity_forest(table: Any, *, width: str = "single", base: Any = None) -> Figure:
    """Doubling time (days, log axis) per variant: median and 94% interval, grouped by axis under a
    heading; the base spec's rows in bold with its median as a vertical grey line; variants with a
    convergence warning as open purple diamonds with the reason; the paper's 3.3 and 3.5 months as
    vermilion lines. Long names are wrapped so they do not squeeze the plot."""
    from matplotlib.lines import Line2D

    d = sensitivity_forest_data(table, base=base)
    n = len(d["label"])
    wrap = 30 if width == "single" else 48
    # rows top to bottom: a heading per axis (when there are several), then its variants
    rows: list[tuple[str, int | None]] = []
    for axis in dict.fromkeys(d["axis"]):
        if len(set(d["axis"])) > 1:
            rows.append((AXIS_TITLES.get(axis, axis), None))
        rows += [(d["display"][i], i) for i in range(n) if d["axis"][i] == axis]
    texts = [
        textwrap.fill(s + (" (base)" if i is not None and d["is_base"][i] else ""), wrap, break_on_hyphens=False)
        for s, i in rows
    ]
    heights = [1.0 + 0.7 * tx.count("\n") for tx in texts]
    ypos = -(np.cumsum(heights) - np.asarray(heights) / 2)
    with paper_style():
        n_legend = 3 + bool(d["is_base"].any()) + bool(d["failed"]) + bool((~d["converged"]).any())
        legend_in = 0.13 * (n_legend if width == "single" else -(-n_legend // 3))
        fig = _new_figure(width, 0.15 * sum(heights) + 0.75 + legend_in)
        ax = fig.add_subplot()
        idx = np.array([i for _, i in rows if i is not None], int)
        y = np.array([yy for (_, i), yy in zip(rows, ypos, strict=True) if i is not None])
        lo_all = np.nanmin(np.r_[d["low"], d["paper_days"]]) / 1.15
        # one very long upper tail must not squeeze every other row: the axis ends at 4x the largest
        # median at most, and longer intervals end in an arrow there
        cap = min(
            np.nanmax(np.r_[d["high"], d["median"], d["paper_days"]]) * 1.25,
            np.nanmax(np.r_[d["median"], d["paper_days"]]) * 4.0,
        )
        open_hi = ~(np.isfinite(d["high"][idx]) & (d["high"][idx] <= cap))
        hi = np.where(open_hi, cap, d["high"][idx])
        ok = d["converged"][idx]
        ax.hlines(y, d["low"][idx], hi, color="0.5", lw=1)
        ax.scatter(hi[open_hi], y[open_hi], marker=">", s=10, color="0.5")
        ax.scatter(d["median"][idx][ok], y[ok], s=14, color=OKABE_ITO[0], zorder=3)
        warn_col = OKABE_ITO[4]
        ax.scatter(
            d["median"][idx][~ok], y[~ok], s=18, marker="D", facecolor="white", edgecolor=warn_col, lw=1, zorder=3
        )
        reasons = [
            ax.text(h * 1.04, yy, d["warning"][i], fontsize=6, color=warn_col, va="center", ha="left")
            for yy, h, i in zip(y, hi, idx, strict=True)
            if d["warning"][i]
        ]
        handles: list[Any] = [Line2D([], [], color="0.5", marker="o", mfc=OKABE_ITO[0], mec=OKABE_ITO[0], ms=3.5, lw=1)]
        labels = ["median, 94% interval"]
        if (~d["converged"]).any():
            handles.append(Line2D([], [], color="0.5", marker="D", mfc="white", mec=warn_col, ms=3.5, lw=1))
            labels.append("convergence warning (reason)")
        if d["is_base"].any():
            b = float(np.median(d["median"][d["is_base"]]))
            handles.append(ax.axvline(b, color="0.75", lw=2.5, zorder=0))
            labels.append("base spec (bold)")
        for m, days, ls in zip(PAPER_MONTHS, d["paper_days"], (":", "--"), strict=True):
            handles.append(ax.axvline(days, color=OKABE_ITO[3], ls=ls, lw=0.9))
            labels.append(f"paper: {m} months ({PAPER_SOURCES_SHORT[m]})")
        ax.set_xscale("log")  # durations: equal ratios get equal room, long upper tails stay readable
        ax.set_xlim(lo_all, cap * (1.5 if any(d["warning"]) else 1.0))
        ticks = _day_ticks(lo_all, cap)
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
        ax.set_yticks(ypos, texts, fontsize=6)
        ax.set_ylim(ypos[-1] - 0.7, 0.3)
        _fit_right_texts(fig, ax, reasons)
        _thin_x_ticklabels(fig, ax)
        for tick, (_, i) in zip(ax.get_yticklabels(), rows, strict=True):
            if i is None:
                tick.set_fontweight("bold")
                tick.set_fontsize(6.5)
                if tick.get_position()[1] < ypos[0]:  # a rule above every heading but the first
                    ax.axhline(tick.get_position()[1] + 0.75, color="0.85", lw=0.5, zorder=0)
            elif d["is_base"][i]:
                tick.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("doubling time (days, log scale)")
        axes_in = list(dict.fromkeys(d["axis"]))
        if len(axes_in) == 1:
            fig.suptitle(f"Sensitivity along the {AXIS_TITLES.get(axes_in[0], axes_in[0])} axis", fontsize=7)
        if d["failed"]:
            labels.append(f"failed (not shown): {len(d['failed'])}")
            handles.append(Line2D([], [], ls=""))
        fig.legend(handles, labels, loc="outside lower center", ncol=1 if width == "single" else 3, frameon=False)
    return fig


# ----------------------------------------------------------------------------- 7. benchmark rates
def raw_rates(table: Any, benchmarks: list[str], *, where: str | None = None) -> dict[str, tuple[float, float, float]]:
    """Each benchmark's unpooled doubling time (median, 94% low, high; days) from a sensitivity
    table (CSV path or DataFrame) whose rows named after single benchmarks fit that benchmark
    alone (`bayesdense sensitivity --axis benchmarks`). Every one of ``benchmarks`` must be there;
    errors name ``where`` (default: the path, or "the sensitivity table")."""
    import pandas as pd

    where = where or ("the sensitivity table" if isinstance(table, pd.DataFrame) else str(table))
    df = table if isinstance(table, pd.DataFrame) else pd.read_csv(table)
    need = {"variant", "doubling_days_median", "doubling_days_hdi_low", "doubling_days_hdi_high"}
    if not need <= set(df.columns):
        raise ValueError(f"{where}: not a sensitivity table (needs columns {', '.join(sorted(need))})")
    rows = df.set_index("variant")
    missing = [b for b in benchmarks if b not in rows.index]
    if missing:
        raise ValueError(
            f"{where}: no single-benchmark row for {', '.join(missing)} (write one with "
            "`bayesdense sensitivity --axis benchmarks`)"
        )
    cols = ["doubling_days_median", "doubling_days_hdi_low", "doubling_days_hdi_high"]
    return {b: tuple(float(v) for v in rows.loc[b, cols]) for b in benchmarks}  # type: ignore[misc]


def benchmark_rates_data(tree: xr.DataTree, raw: Any = None) -> dict[str, Any]:
    """Rows of :func:`benchmark_rates`; with ``raw`` (a sensitivity table) each benchmark's
    unpooled doubling time as well (NaN on the mean and new-benchmark rows)."""
    br = quantities.benchmark_rates(tree)
    if br is None:
        raise ValueError("this result has one frontier for all benchmarks (frontier.by_benchmark is off)")
    rows = [(name, b) for name, b in br["benchmarks"].items()]
    rows.sort(key=lambda r: r[1]["growth_rate_per_day"]["median"])
    rows += [("all benchmarks (mean rate)", br["population"]), ("a new benchmark (predictive)", br["new_benchmark"])]

    def days(b: dict[str, Any], k: str) -> float:
        v = b["doubling_time_days"][k]
        return float("nan") if v is None else float(v)

    unpooled = raw_rates(raw, list(br["benchmarks"])) if raw is not None else {}
    nan3 = (float("nan"),) * 3
    return {
        "label": [r[0] for r in rows],
        "median": np.array([days(b, "median") for _, b in rows]),
        "low": np.array([days(b, "hdi_low") for _, b in rows]),
        "high": np.array([days(b, "hdi_high") for _, b in rows]),
        "raw": np.array([unpooled.get(name, nan3) for name, _ in rows]),  # (row, median/low/high)
        "n_benchmarks": len(br["benchmarks"]),
        "rate_sd": br["growth_rate_sd_per_day"],
    }


def benchmark_rates(tree: xr.DataTree, *, width: str = "single", raw: Any = None) -> Figure:
    """Each benchmark's doubling time on its own, partially pooled frontier (median and 94% HDI of
    the doubling-time draws), the benchmarks' mean and the predictive one of a benchmark not in the
    data; the mean's interval as a band. An interval open above (over 6% of draws never double) is drawn to the
    axis edge with an arrow. ``raw``: a sensitivity table whose single-benchmark rows (each benchmark
    fitted alone, no pooling) are drawn as open squares just below each pooled row."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    d = benchmark_rates_data(tree, raw)
    n, k = len(d["label"]), d["n_benchmarks"]
    with paper_style():
        fig = _new_figure(width, 0.28 * n + 1.5)
        ax = fig.add_subplot()
        y = np.arange(n)[::-1]
        finite = np.concatenate([d["low"], d["high"], d["median"], d["raw"].ravel()])
        finite = finite[np.isfinite(finite)]
        hi_edge = min(float(finite.max()), 4.0 * float(np.nanmax(np.r_[d["median"], d["raw"][:, 0]]))) * 1.3
        ax.axvspan(d["low"][k], d["high"][k], color=OKABE_ITO[0], alpha=0.12, lw=0, label="mean rate, 94%")
        for i in range(n):
            colour = "0.35" if i >= k else OKABE_ITO[0]
            high = min(d["high"][i], hi_edge) if np.isfinite(d["high"][i]) else hi_edge
            ax.hlines(y[i], d["low"][i], high, color=colour, lw=1.0)
            ax.plot(d["median"][i], y[i], "o", ms=3.5, color=colour, mfc=colour if i < k else "white", zorder=3)
            if not np.isfinite(d["high"][i]) or d["high"][i] > hi_edge:
                ax.annotate("", (hi_edge, y[i]), (hi_edge * 0.85, y[i]), arrowprops={"arrowstyle": "->", "lw": 0.8})
            med, lo, hi_raw = d["raw"][i]
            if np.isfinite(med):
                yr = y[i] - 0.3
                top = hi_raw if np.isfinite(hi_raw) and hi_raw <= hi_edge else hi_edge
                ax.hlines(yr, lo, top, color="0.6", lw=0.8)
                ax.plot(med, yr, "s", ms=3.0, mfc="white", mec="0.4", mew=0.7, zorder=3)
                if top == hi_edge:
                    ax.annotate("", (hi_edge, yr), (hi_edge * 0.85, yr), arrowprops={"arrowstyle": "->", "lw": 0.6})
        ax.set_yticks(y, d["label"], fontsize=7)
        ax.set_xscale("log")
        ax.set_xlim(max(float(finite.min()) * 0.8, 1.0), hi_edge * 1.05)
        # a doubling series: evenly spaced on the log axis, never crowded
        ticks = [t for t in (15, 30, 60, 120, 240, 480, 960, 1920) if ax.get_xlim()[0] <= t <= hi_edge]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("doubling time (days, log scale)")
        sd = d["rate_sd"]
        ax.set_title(
            "One density frontier per benchmark, rates partially pooled\n"
            f"sd of the rates {1000 * sd['median']:.1f} [{1000 * sd['hdi_low']:.1f}, "
            f"{1000 * sd['hdi_high']:.1f}] x 1e-3 per day",
            fontsize=7,
            loc="right",  # the benchmark names take the left: a centred title would run off the right edge
        )
        handles = [
            Line2D([], [], color=OKABE_ITO[0], marker="o", ms=3.5, lw=1.0, label="benchmark: median, 94% HDI"),
            Line2D([], [], color="0.35", marker="o", ms=3.5, mfc="white", lw=1.0, label="mean / new benchmark"),
            Patch(color=OKABE_ITO[0], alpha=0.12, lw=0, label="mean rate, 94% HDI"),
        ]
        if np.isfinite(d["raw"][:, 0]).any():
            handles.insert(
                1,
                Line2D(
                    [],
                    [],
                    color="0.6",
                    marker="s",
                    ms=3.0,
                    mfc="white",
                    mec="0.4",
                    lw=0.8,
                    label="benchmark fitted alone (no pooling)",
                ),
            )
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.4, -0.2), fontsize=6, frameon=False, ncol=1)
    return fig


FIGURES = {
    "density_vs_date": density_vs_date,
    "doubling_time": doubling_time,
    "curve_fits": curve_fits,
    "density_forest": density_forest,
    "prior_posterior": prior_posterior,
    "change_point": change_point,
    "benchmark_rates": benchmark_rates,
}


def write_all(
    tree: xr.DataTree,
    out_dir: str | Path,
    *,
    fmt: str = "png",
    width: str | None = None,
    highlight: Any = (),
    raw_rates_table: Any = None,
) -> list[Path]:
    """Every figure the result supports, as ``out_dir/<name>.<fmt>``; returns the paths written.
    ``width`` ("single" or "double") for every figure, or None for each figure's own default;
    ``highlight``: model names to mark and label in ``density_vs_date``; ``raw_rates_table``: a
    sensitivity table drawn beside the pooled rates of ``benchmark_rates`` (checked before any
    figure is written)."""
    if width is not None and width not in WIDTH:
        raise ValueError(f"width must be one of {', '.join(WIDTH)}")
    if raw_rates_table is not None:  # read and checked once, before any figure is written
        import pandas as pd

        br = quantities.benchmark_rates(tree)
        if br is None:
            raise ValueError("--raw-rates needs a result with one frontier per benchmark (frontier.by_benchmark)")
        where = None if isinstance(raw_rates_table, pd.DataFrame) else str(raw_rates_table)
        if where is not None:
            raw_rates_table = pd.read_csv(raw_rates_table)
        raw_rates(raw_rates_table, list(br["benchmarks"]), where=where)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in FIGURES.items():
        kw: dict[str, Any] = {} if width is None else {"width": width}
        if name == "density_vs_date" and highlight:
            kw["highlight"] = tuple(highlight)
        if name == "benchmark_rates" and raw_rates_table is not None:
            kw["raw"] = raw_rates_table
        try:
            fig = fn(tree, **kw)
        except ValueError as e:
            if "no model named" in str(e):
                raise
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


def sbc_ranks_data(calibration: dict[str, Any], *, bins: int | None = None) -> dict[str, Any]:
    """Per quantity: rank histogram counts on equal-width bins (each bin the same number of the
    L + 1 possible ranks, :func:`bayesdense.validation.equal_width_bins`) and the ECDF of the
    fractional ranks minus the uniform CDF, with a simultaneous 95% band for that difference."""
    from .validation import equal_width_bins

    n_draws = int(calibration["n_draws"])
    bins = bins or equal_width_bins(n_draws + 1)
    grid = np.linspace(0, 1, 101)[1:-1]
    out: dict[str, Any] = {"grid": grid, "bins": bins, "quantities": {}}
    band = None
    for name, ranks in calibration["ranks"].items():
        r = np.asarray(ranks, float)
        u = (r + 0.5) / (n_draws + 1)
        counts, _ = np.histogram(r, bins=bins, range=(0, n_draws + 1))
        ecdf = np.searchsorted(np.sort(u), grid, side="right") / len(u)
        if band is None:
            band = _ecdf_band(len(u), grid) / len(u) - grid
        inside = bool(np.all((ecdf - grid >= band[0] - 1e-12) & (ecdf - grid <= band[1] + 1e-12)))
        out["quantities"][name] = {"hist": counts, "ecdf_diff": ecdf - grid, "inside_band": inside}
    out["band"] = band
    out["n_sims"] = int(len(next(iter(calibration["ranks"].values()))))
    return out


SBC_PANELS_PER_ROW = 7
SBC_PANELS_PER_ROW_SINGLE = 4


def _panel_title(name: str, chars: int = 14) -> str:
    """A calibrated quantity's name for a narrow panel: ``log_density[Llama4-Scout-17B-16E]`` ->
    ``log rho`` and the model's name wrapped at hyphens to ``chars`` characters a line."""
    import textwrap

    base, _, rest = name.partition("[")
    base = base.replace("log_density", "log rho").replace("_per_day", "")
    if not rest:
        return base
    return base + "\n" + "\n".join(textwrap.wrap(rest.rstrip("]"), chars, break_on_hyphens=True))


def sbc_ranks(calibration: dict[str, Any], *, width: str = "double") -> Figure:
    """Rank histograms and, below each, the ECDF difference with a simultaneous 95% band; one panel
    pair per calibrated quantity, at most ``SBC_PANELS_PER_ROW`` per row. Input: the dict written by
    ``bayesdense calibrate --out``."""
    d = sbc_ranks_data(calibration)
    names = list(d["quantities"])
    n = len(names)
    ncol = min(n, SBC_PANELS_PER_ROW if width == "double" else SBC_PANELS_PER_ROW_SINGLE)
    nrow = -(-n // ncol)
    with paper_style():
        fig = _new_figure(width, 2.4 * nrow)
        axes = fig.subplots(2 * nrow, ncol, squeeze=False)
        expected = d["n_sims"] / d["bins"]
        for j, name in enumerate(names):
            q = d["quantities"][name]
            row, col = 2 * (j // ncol), j % ncol
            ax = axes[row, col]
            ax.bar(np.arange(d["bins"]) + 0.5, q["hist"], width=0.9, color=OKABE_ITO[0])
            ax.axhline(expected, color="0.3", lw=0.8, ls="--")
            title = _panel_title(name)
            ax.set_title(title, fontsize=6)
            ax.set_xticks([])
            ax.tick_params(labelsize=6)
            ax = axes[row + 1, col]
            ax.fill_between(d["grid"], d["band"][0], d["band"][1], color="0.85", lw=0)
            ax.plot(d["grid"], q["ecdf_diff"], color=OKABE_ITO[0] if q["inside_band"] else OKABE_ITO[3], lw=1)
            ax.axhline(0, color="0.3", lw=0.6)
            ax.set_xticks([0, 0.5, 1])
            ax.tick_params(labelsize=6)
        for j in range(n, nrow * ncol):  # empty slots of the last row
            axes[2 * (j // ncol), j % ncol].set_visible(False)
            axes[2 * (j // ncol) + 1, j % ncol].set_visible(False)
        for r in range(nrow):
            axes[2 * r, 0].set_ylabel("count", fontsize=7)
            axes[2 * r + 1, 0].set_ylabel("ECDF - uniform", fontsize=7)
        sep = "; " if width == "double" else "\n"
        fig.suptitle(
            f"{'Posterior SBC' if calibration.get('around') == 'posterior' else 'SBC'} of "
            f"'{calibration.get('spec', '')}': {d['n_sims']} simulations, {d['bins']} equal-width rank bins"
            f"{sep}grey: simultaneous 95% band (orange line: outside)",
            fontsize=7,
        )
    return fig


# ----------------------------------------------------------------------------- trace and rank plots
TRACE_BINS = 20  # bins of the rank histograms


def trace_rank_data(tree: xr.DataTree, *, extra: int = 1) -> dict[str, Any]:
    """Per chain, the draws in sampling order and the histogram of their ranks among all draws, for
    the growth rate, the intercept and the ``extra`` elements with the largest R-hat (any variable
    that moves). Ranks of well-mixed chains are uniform: each chain's histogram is flat at
    ``expected``."""
    import arviz as az

    # the stored transforms (doubling time, density) mix as the variables they are computed from
    post = tree["posterior"].to_dataset().drop_vars(quantities.DERIVED_VARS, errors="ignore")
    picks: list[tuple[str, dict[str, Any]]] = [(v, {}) for v in ("growth_rate_per_day", "intercept") if v in post]
    rhat = az.rhat(post)
    worst: list[tuple[float, str, dict[str, Any]]] = []
    for v in post.data_vars:
        r = np.asarray(rhat[v].values, float)
        if not np.any(np.isfinite(r)):
            continue
        i = int(np.nanargmax(r)) if r.ndim else 0
        idx = dict(zip(rhat[v].dims, np.unravel_index(i, r.shape), strict=True)) if r.ndim else {}
        worst.append((float(np.nanmax(r)), str(v), {k: int(j) for k, j in idx.items()}))
    for _, v, idx in sorted(worst, key=lambda w: -w[0])[:extra]:
        if (v, idx) not in picks:
            picks.append((v, idx))
    panels = {}
    for v, idx in picks:
        da = post[v].isel(idx) if idx else post[v]
        x = np.asarray(da.transpose("chain", "draw").values, float)
        ranks = np.argsort(np.argsort(x, axis=None, kind="stable"), kind="stable").reshape(x.shape)
        edges = np.linspace(0, x.size, TRACE_BINS + 1)
        label = v if not idx else f"{v}[{', '.join(str(post[v][k].values[j]) for k, j in idx.items())}]"
        panels[label] = {
            "draws": x,
            "rank_hist": np.stack([np.histogram(r, bins=edges)[0] for r in ranks]),
            "rhat": float(np.asarray(rhat[v].isel(idx) if idx else rhat[v]).item()),
        }
    chains, draws = (int(post.sizes["chain"]), int(post.sizes["draw"]))
    return {"panels": panels, "chains": chains, "draws": draws, "bins": TRACE_BINS, "expected": draws / TRACE_BINS}


def trace_rank(tree: xr.DataTree, *, width: str = "double", extra: int = 1) -> Figure:
    """Trace (left) and per-chain rank histograms (right) of the quantities of
    :func:`trace_rank_data`; R-hat in each panel's title."""
    d = trace_rank_data(tree, extra=extra)
    n = len(d["panels"])
    with paper_style():
        fig = _new_figure(width, 1.25 * n + 0.3)
        axes = fig.subplots(n, 2, squeeze=False, width_ratios=[1.6, 1])
        for i, (label, p) in enumerate(d["panels"].items()):
            ax_t, ax_r = axes[i]
            for c in range(d["chains"]):
                colour = OKABE_ITO[c % len(OKABE_ITO)]
                ax_t.plot(p["draws"][c], color=colour, lw=0.5, alpha=0.8, label=f"chain {c}")
                x = np.arange(d["bins"]) + c / (d["chains"] + 1)
                ax_r.bar(x, p["rank_hist"][c], width=1 / (d["chains"] + 1), align="edge", color=colour)
            ax_r.axhline(d["expected"], color="0.2", lw=0.8, ls="--")
            ax_t.set_title(f"{label}  (R-hat {p['rhat']:.3f})", loc="left")
            ax_t.set_ylabel("value")
            ax_r.set_yticks([0, round(d["expected"])])
            ax_r.set_xticks([])
            ax_r.set_ylabel("draws per bin")
        axes[-1, 0].set_xlabel("draw (after tuning)")
        axes[-1, 1].set_xlabel(f"rank among all draws ({d['bins']} bins)" if width == "double" else "rank")
        if d["chains"] <= 8:
            fig.legend(
                *axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=d["chains"], frameon=False
            )
    return fig
