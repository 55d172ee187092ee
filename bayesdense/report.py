"""Tables (Markdown, LaTeX booktabs, CSV) and a self-contained HTML report, from a result file."""

from __future__ import annotations

import base64
import html
import io as _io
import json
import tomllib
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import plots, quantities
from .data import TIME_ORIGIN
from .quantities import DAYS_PER_MONTH, ESS_MIN, RHAT_MAX


def models_table(tree: xr.DataTree) -> pd.DataFrame:
    """One row per model: date, size, density and effective size with 94% HDIs, the paper's density."""
    rows = []
    for r in quantities.model_table(tree):
        d = r["density"]
        n = r.get("n_eff", {})
        rows.append(
            {
                "model": r["name"],
                "date": (pd.Timestamp(TIME_ORIGIN) + pd.Timedelta(days=r["t_days"])).date().isoformat(),
                "params_b": r.get("params_billions", np.nan),
                "density": d["median"],
                "density_hdi_low": d["hdi_low"],
                "density_hdi_high": d["hdi_high"],
                "n_eff_b": n.get("median", np.nan),
                "n_eff_b_hdi_low": n.get("hdi_low", np.nan),
                "n_eff_b_hdi_high": n.get("hdi_high", np.nan),
                "paper_density": r["paper_density"],
            }
        )
    return pd.DataFrame(rows).sort_values("density", ascending=False, ignore_index=True)


SIG_DIGITS = 3  # significant figures of a median; its interval's ends get the same decimals


def decimals_for(x: float, digits: int = SIG_DIGITS) -> int:
    """Decimals that give ``x`` about ``digits`` significant figures (0 for |x| >= 10**(digits-1))."""
    if not np.isfinite(x) or x == 0:
        return digits - 1
    return int(min(8, max(0, digits - 1 - np.floor(np.log10(abs(x))))))


def _fmt(v: Any, dec: int | None = None) -> str:
    """A number at ``SIG_DIGITS`` significant figures (or ``dec`` decimals); '--' when missing."""
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, bool):
        v = float(v)
        if not np.isfinite(v):
            return "--"
        return f"{v:,.{decimals_for(v) if dec is None else dec}f}"
    return str(v)


def fmt_interval(m: Any, lo: Any, hi: Any, *, digits: int = SIG_DIGITS) -> str:
    """'median [low, high]' with the same decimals throughout, set by the median's significant
    figures ('13.0 [4.2, 74.1]', never '13 [4.2, 74.1]'); a missing upper end prints as 'unbounded'."""
    if m is None or not np.isfinite(float(m)):
        return "--"
    dec = decimals_for(float(m), digits)
    hi_s = "unbounded" if hi is None or not np.isfinite(float(hi)) else _fmt(hi, dec)
    return f"{_fmt(m, dec)} [{_fmt(lo, dec)}, {hi_s}]"


def _display(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "Model": df["model"],
            "Date": df["date"],
            "N (B)": df["params_b"].map(_fmt),
            "Density [94% HDI]": [
                fmt_interval(m, lo, hi)
                for m, lo, hi in zip(df["density"], df["density_hdi_low"], df["density_hdi_high"], strict=True)
            ],
            "N_eff (B) [94% HDI]": [
                fmt_interval(m, lo, hi)
                for m, lo, hi in zip(df["n_eff_b"], df["n_eff_b_hdi_low"], df["n_eff_b_hdi_high"], strict=True)
            ],
            "Paper": df["paper_density"].map(_fmt),
        }
    )
    return out


def to_markdown(df: pd.DataFrame) -> str:
    return _markdown(_display(df))


def _md_cell(v: object) -> str:
    """A Markdown table cell: '|' escaped, line breaks and other control characters as spaces."""
    return "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in str(v)).replace("|", "\\|")


def _markdown(d: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(_md_cell, d.columns)) + " |", "|" + "---|" * len(d.columns)]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in d.itertuples(index=False)]
    return "\n".join(lines) + "\n"


TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def _tex(s: str) -> str:
    """Text safe in LaTeX (any font encoding): each special character replaced in one pass."""
    return "".join(TEX_ESCAPES.get(ch, ch) for ch in s)


def to_latex(df: pd.DataFrame, *, caption: str = "Capability density with 94\\% HDIs.") -> str:
    return _latex(_display(df), caption)


LONGTABLE_ROWS = 25  # tables with more rows are a longtable (breaks across pages), not a float


def _latex(d: pd.DataFrame, caption: str, *, label: str | None = None) -> str:
    """booktabs table; with more than ``LONGTABLE_ROWS`` rows a longtable that repeats its header
    on every page. ``caption`` is LaTeX (already escaped)."""
    cols = "l" + "r" * (len(d.columns) - 1)
    head = " & ".join(_tex(c) for c in d.columns) + r" \\"
    lab = rf"\label{{{label}}}" if label else ""
    body = [" & ".join(_tex(str(v)) for v in row) + r" \\" for row in d.itertuples(index=False)]
    if len(d) > LONGTABLE_ROWS:
        n = len(d.columns)
        lines = [
            r"% requires \usepackage{booktabs,longtable}",
            r"{\small",
            rf"\begin{{longtable}}{{{cols}}}",
            rf"\caption{{{caption}}}{lab}\\",
            r"\toprule",
            head,
            r"\midrule",
            r"\endfirsthead",
            rf"\multicolumn{{{n}}}{{l}}{{\emph{{(continued)}}}}\\",
            r"\toprule",
            head,
            r"\midrule",
            r"\endhead",
            r"\bottomrule",
            r"\endlastfoot",
            *body,
            r"\end{longtable}}",
        ]
        return "\n".join(lines) + "\n"
    lines = [
        r"% requires \usepackage{booktabs}",
        r"\begin{table}[htbp]",
        r"\centering\small",
        rf"\caption{{{caption}}}{lab}",
        rf"\begin{{tabular}}{{{cols}}}",
        r"\toprule",
        head,
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def _sensitivity_display(t: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table (``sensitivity.csv``) as printed: one row per variant, the axis named on
    its first row only, readable variant names with the base spec marked, and why a row is flagged."""
    err = t["error"].astype(object).fillna("") if "error" in t else pd.Series("", index=t.index)
    is_base = plots.base_rows(t.reset_index(drop=True))

    def interval(m: Any, lo: Any, hi: Any, digits: str) -> str:
        if pd.isna(m):
            return "--"
        hi_s = "unbounded" if pd.isna(hi) else format(hi, digits)
        return f"{format(m, digits)} [{format(lo, digits)}, {hi_s}]"

    rows = []
    last_axis = None
    for k, (i, r) in enumerate(t.iterrows()):
        failed = bool(err[i])
        get = r.get
        ok = get("converged", True)
        converged = bool(pd.notna(ok) and ok)
        rows.append(
            {
                "Axis": "" if r["axis"] == last_axis else r["axis"],
                "Variant": plots.variant_label(str(r["axis"]), str(r["variant"])) + (" (base)" if is_base[k] else ""),
                "Doubling (days) [94% HDI]": "failed"
                if failed
                else interval(
                    get("doubling_days_median"), get("doubling_days_hdi_low"), get("doubling_days_hdi_high"), ".0f"
                ),
                "Growth (1/day) [94% HDI]": "--"
                if failed
                else interval(get("growth_median"), get("growth_hdi_low"), get("growth_hdi_high"), ".5f"),
                "Max R-hat": "--" if failed else f"{get('max_rhat'):.3f}",
                "Divergences": "--" if failed else f"{int(get('divergences'))}",
                "Flag": f"fit failed: {err[i]}" if failed else ("" if converged else plots._warning_reason(r)),
            }
        )
        last_axis = r["axis"]
    return pd.DataFrame(rows)


def sensitivity_table(t: pd.DataFrame, fmt: str, *, spec: str | None = None, seed: int | None = None) -> str:
    """The doubling time per variant as Markdown, LaTeX (booktabs) or CSV; the LaTeX caption names
    the base spec and the seed when given."""
    if fmt == "csv":
        return t.to_csv(index=False)
    d = _sensitivity_display(t)
    if fmt == "md":
        return _markdown(d)
    if fmt == "tex":
        of = f" of spec \\texttt{{{_tex(spec)}}}" if spec else ""
        at = f", sampler seed {seed}" if seed is not None else ""
        return _latex(d, f"Doubling time per analysis variant{of}{at}: medians with 94\\% HDIs.")
    raise ValueError(f"unknown table format '{fmt}'; choose md, tex or csv")


# ----------------------------------------------------------------------------- result tables
def spec_info(tree: xr.DataTree) -> dict[str, Any]:
    """Name, description, targets and D0 of the result's recorded spec (its TOML text), with
    defaults where the text does not say (as the spec itself defaults them)."""
    try:
        doc = tomllib.loads(str(tree.attrs.get("spec_text", "")))
    except tomllib.TOMLDecodeError:
        doc = {}
    data = doc.get("data", {}) if isinstance(doc.get("data"), dict) else {}
    d0 = tree["fit_data"].attrs.get("d0_tokens") if "fit_data" in tree.children else None
    return {
        "name": str(tree.attrs.get("spec_name") or doc.get("name") or "unnamed"),
        "description": str(doc.get("description", "")),
        "targets": str(data.get("targets", "paper_implied")),
        "benchmarks": list(data.get("benchmarks", ["AVERAGE"])),
        "d0_tokens": float(d0 if d0 is not None else data.get("d0_tokens", float("nan"))),
        "seed": tree.attrs.get("seed"),
    }


def _d0_html(d0: float) -> str:
    if not np.isfinite(d0) or d0 <= 0:
        return "--"
    e = int(np.floor(np.log10(d0)))
    m = d0 / 10**e
    return (f"{m:g}&times;" if abs(m - 1) > 1e-9 else "") + f"10<sup>{e}</sup>"


def _d0_tex(d0: float) -> str:
    if not np.isfinite(d0) or d0 <= 0:
        return "--"
    e = int(np.floor(np.log10(d0)))
    m = d0 / 10**e
    return rf"$D_0 = {m:g}\times10^{{{e}}}$" if abs(m - 1) > 1e-9 else rf"$D_0 = 10^{{{e}}}$"


def caption(tree: xr.DataTree, what: str, fmt: str) -> str:
    """``what``, then the spec, D0 and seed; LaTeX-escaped for ``fmt == 'tex'``."""
    i = spec_info(tree)
    if fmt == "tex":
        return (
            f"{what}; spec \\texttt{{{_tex(i['name'])}}}, {_d0_tex(i['d0_tokens'])} tokens, "
            f"seed {_tex(str(i['seed']))}."
        ).replace("94% HDI", "94\\% HDI")
    return f"{what}; spec '{i['name']}', D0 = {i['d0_tokens']:.3g} tokens, seed {i['seed']}."


def p_nonpositive(s: dict[str, Any]) -> str:
    """P(growth rate <= 0) as printed: never 0 from finitely many draws ('< 0.002' from 600)."""
    n = int(s["diagnostics"]["n_draws"])
    return plots.p_text(1.0 - float(s["p_growth_positive"]), n).removeprefix("= ")


STRUCTURAL_ROWS = (
    ("growth_rate_per_day", "Growth rate (per day)"),
    ("doubling_time_days", "Doubling time (days)"),
    ("doubling_time_months", "Doubling time (months)"),
)


def _as_interval(v: Any) -> dict[str, Any] | None:
    """An interval dict with ``hdi_low``/``hdi_high`` keys (the structural study's are equal-tailed,
    ``eti_low``/``eti_high``; the label says so)."""
    if not isinstance(v, dict) or "median" not in v:
        return None
    return {
        "median": v["median"],
        "hdi_low": v.get("hdi_low", v.get("eti_low")),
        "hdi_high": v.get("hdi_high", v.get("eti_high")),
    }


def structural_for(tree: xr.DataTree) -> dict[str, Any] | None:
    """The recorded structural study matching the result's spec and data (see structural.lookup), or None."""
    from . import structural
    from .spec import parse_spec

    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    rec, _ = structural.lookup(spec)
    return structural.headline(rec) if rec else None


def headline_table(s: dict[str, Any]) -> pd.DataFrame:
    """Growth rate, doubling time (days, months) with 94% HDIs and P(rate <= 0), beside the paper's
    point estimate; rows of the structural interval too when the summary has one."""
    r, d, m = s["growth_rate_per_day"], s["doubling_time_days"], s["doubling_time_months"]
    paper = s.get("paper_point_estimate") or {}
    pa = paper.get("A_per_day")
    pd_days = paper.get("doubling_time_days")
    structural = s.get("structural")
    tag = " (conditional)" if structural else ""
    rows = [
        (f"Growth rate (per day){tag}", fmt_interval(r["median"], r["hdi_low"], r["hdi_high"]), _fmt(pa)),
        (f"Doubling time (days){tag}", fmt_interval(d["median"], d["hdi_low"], d["hdi_high"]), _fmt(pd_days)),
        (
            f"Doubling time (months){tag}",
            fmt_interval(m["median"], m["hdi_low"], m["hdi_high"]),
            _fmt(pd_days / DAYS_PER_MONTH) if pd_days else "--",
        ),
        (f"P(growth rate <= 0){tag}", p_nonpositive(s), "--"),
    ]
    if isinstance(structural, dict):
        for key, label in STRUCTURAL_ROWS:
            v = _as_interval(structural.get(key))
            if v is not None:
                rows.append(
                    (f"{label} (structural, 94% ETI)", fmt_interval(v["median"], v["hdi_low"], v["hdi_high"]), "--")
                )
    return pd.DataFrame(rows, columns=["Quantity", "Median [94% HDI]", "Paper (point)"])


def table(tree: xr.DataTree, fmt: str, *, top: int | None = None, headline: bool = False) -> str:
    """The models table (the ``top`` densest, default all) or, with ``headline``, the headline
    table, as Markdown (pandoc ``Table:`` caption), LaTeX (booktabs; longtable when long) or CSV."""
    if fmt not in ("md", "tex", "csv"):
        raise ValueError(f"unknown table format '{fmt}'; choose md, tex or csv")
    if headline:
        s = quantities.summary(tree)
        s["structural"] = structural_for(tree)
        d = headline_table(s)
        what = "Densing-law growth rate and doubling time, posterior medians with 94% HDIs"
        if fmt == "csv":
            return d.to_csv(index=False)
        label = "tab:bayesdense-headline"
    else:
        df = models_table(tree)
        n_all = len(df)
        if top is not None:
            df = df.head(top)
        if fmt == "csv":
            return df.to_csv(index=False)
        d = _display(df)
        what = "Capability density and effective size, posterior medians with 94% HDIs" + (
            f"; the {len(df)} densest of {n_all} models" if len(df) < n_all else ""
        )
        label = "tab:bayesdense-models"
    if fmt == "md":
        return _markdown(d) + "\nTable: " + caption(tree, what, "md") + "\n"
    tex = _latex(d, caption(tree, what, "tex"), label=label)
    return tex.replace(r"\textless{}=", r"$\leq$").replace(r"\textless{} ", "$<$ ") if headline else tex


# ----------------------------------------------------------------------------- HTML report
FIGURE_TEXT = {
    "density_vs_date": (
        "Capability density against release date",
        "Each dot is a model's posterior median density (effective size / real size, log scale) with its 94% "
        "HDI as a bar; marker area grows with the parameter count (key: 1B, 10B, 100B). The solid line is the "
        "posterior median frontier (the densing law) with 50% and 94% bands; the dashed line is the paper's "
        "recipe (records + least squares). Read: the frontier's slope is the growth rate; the width of its "
        "band is how well the data pin it down; models well below the band were less dense than the best of "
        "their time.",
    ),
    "doubling_time": (
        "Growth rate and doubling time",
        "Left: the posterior of the growth rate of ln(max density) per day, with P(growth > 0). Right: the "
        "doubling time ln 2 / rate in months, with the paper's 3.3 months (arXiv v1) and 3.5 months (NMI 2025) "
        "marked. Read: the spread of the histogram is the uncertainty a point estimate leaves out; where the "
        "paper's values fall in it says how plausible they are under this model.",
    ),
    "curve_fits": (
        "Reference loss law and loss-to-score link",
        "The reference loss law per token budget and the loss-to-score link, each with its 94% posterior band, "
        "over the digitized reference points (held-out link points marked). Read: every density is derived "
        "through these two curves; points outside a band mark where the curves, and the densities that depend "
        "on them, are least certain.",
    ),
    "density_forest": (
        "Every model's density",
        "All models sorted by posterior median density, with 94% HDIs, and each model's distance below the "
        "frontier at its release date. Read: a wide bar is a model whose score sits where the curves are flat, "
        "so a small change in score moves its density a lot.",
    ),
    "prior_posterior": (
        "Prior against posterior",
        "Prior (dashed) against posterior (solid) for the growth rate, the intercept, the frontier's shape and "
        "the curve parameters. Read: a posterior that looks like its prior was not informed by the data; its "
        "value comes from the spec, and a different prior would change it.",
    ),
    "change_point": (
        "Growth before and after the break",
        "The growth rates before and after the change point and their ratio, with 94% HDIs. Read: a ratio "
        "interval that includes 1 means the data do not establish a change of pace.",
    ),
}
TRACE_TEXT = (
    "Trace and rank plots",
    "Left: each chain's draws in sampling order for the growth rate, the intercept and the quantity with the "
    "worst R-hat. Right: per chain, how many of its draws fall in each twentieth of the ranks of all draws. "
    "Read: chains that mixed overlap as indistinguishable noise on the left and give flat histograms near the "
    "dashed line on the right; a chain whose ranks pile up at one end explored a different region, and the "
    "posterior summaries are then not yet reliable.",
)

# README, "What we found on the way (read before citing a number)": (number, applies to, text)
README_FINDINGS = "README.md, section &ldquo;What we found on the way (read before citing a number)&rdquo;"
FINDINGS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "curves",
        "The reference loss law has two modes on the plotted points (alpha ~ 0.11 and ~ 0.36 fit about "
        "equally well); the second would change the densities several-fold. The shipped specs anchor the "
        "exponents on the paper's curve, so the numbers here are conditional on that choice.",
    ),
    (
        2,
        "link",
        "The link's ceiling is not identified by the data; the spec fixes it (default: c + d = 100%).",
    ),
    (
        3,
        "curves",
        "Which residual scale the loss law is fitted on (loss vs log loss) moves the densities by ~25%: the "
        "inversion amplifies small shifts of the link midpoint. It is a modelling choice, not a detail.",
    ),
    (
        4,
        "change_point",
        "The '+50% after ChatGPT' is not established by these data: the ratio's 94% HDI is about [0.5, 10].",
    ),
    (
        5,
        "multibench",
        "Real per-benchmark scores give a slower, wider answer (about 149 days [101, 246]) than the "
        "paper-implied AVERAGE scores; some published settings differ from the paper's.",
    ),
    (
        6,
        "always",
        "Package versions move the interval's ends by 3-5 days (Monte Carlo error in the tails). Quote the "
        "interval rounded to ~5 days and cite the result file, which records the versions.",
    ),
)

DIAG_TEXT = {
    "rhat": "Compares the spread between chains with the spread within them; near 1 when the chains agree. "
    "Above the limit the chains have not mixed and no summary is trustworthy.",
    "ess_bulk": "Effective number of independent draws behind the medians (smallest over the growth rate, "
    "intercept and densities). Low values make the medians noisy.",
    "ess_tail": "Effective draws behind the 3% and 97% quantiles, which set the ends of every 94% interval. "
    "Low values make the interval ends noisy.",
    "divergences": "Transitions where the sampler's numerical integration broke down; any at all means some "
    "region of the posterior may have been missed.",
    "bfmi": "Energy Bayesian fraction of missing information (lowest chain): how freely the sampler moves "
    "between energy levels. Low values mean it struggles to reach the posterior's tails.",
    "treedepth": "Draws that hit the sampler's maximum tree depth: the trajectory was cut short, so the "
    "sampler explored less efficiently than it should.",
}

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1a1a1a;
 line-height:1.5;margin:0;padding:1.5rem 1.25rem 4rem;background:#fff}
main{max-width:60rem;margin:0 auto}
h1{font-size:1.7rem;line-height:1.25;margin:.2rem 0 .3rem}
h2{font-size:1.3rem;margin:2.4rem 0 .6rem;padding-top:.4rem;border-top:1px solid #e3e3e3}
h3{font-size:1.05rem;margin:1.6rem 0 .4rem}
p,li,dd,figcaption{overflow-wrap:break-word}
.subtitle{color:#444;margin:0 0 1rem;font-size:1.05rem}
.meta{color:#555;font-size:.9rem;margin:0 0 1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.banner{border-left:6px solid;border-radius:4px;padding:.7rem 1rem;margin:.8rem 0;font-size:.97rem}
.banner strong{display:block;font-size:1.05rem;margin-bottom:.15rem}
.banner code{white-space:nowrap}
.banner.danger{background:#fdecea;border-color:#b3261e}
.banner.caution{background:#fff4e0;border-color:#b26a00}
.banner.info{background:#e8f1fb;border-color:#0b5cad}
nav.toc{background:#f6f7f9;border:1px solid #e3e5e8;border-radius:6px;padding:.6rem 1.2rem;margin:1.2rem 0}
nav.toc h2{border:0;margin:.2rem 0;padding:0;font-size:1rem}
nav.toc ol{margin:.2rem 0;padding-left:1.3rem;display:flex;flex-wrap:wrap;gap:.1rem 2.2rem}
ol.figlist{margin:.2rem 0 1rem}
.headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.8rem;margin:.8rem 0}
.card{border:1px solid #d9dde3;border-radius:8px;padding:.8rem 1rem;background:#fbfcfd}
.card .label{font-size:.85rem;color:#555;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:1.6rem;font-weight:600;font-variant-numeric:tabular-nums;line-height:1.2}
.card .hdi{font-variant-numeric:tabular-nums;color:#333}
.card .note{font-size:.85rem;color:#555;margin-top:.3rem}
.card.structural{border-style:dashed}
.note{color:#444;font-size:.93rem}
figure{margin:1.2rem 0 2rem}
figure img{display:block;max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.93rem;color:#333;margin-top:.5rem;max-width:52rem}
figcaption b{color:#000}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e1e1e1;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f7f9}
td.num,td.nowrap{text-align:right;white-space:nowrap}
table.models td:nth-child(n+3){text-align:right;white-space:nowrap}
.ok{color:#1b6e20;font-weight:600}.fail{color:#b3261e;font-weight:600}
pre{background:#f6f7f9;padding:.8rem 1rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _interval_html(v: dict[str, Any]) -> str:
    return _e(fmt_interval(v["median"], v["hdi_low"], v["hdi_high"]))


def _card(label: str, value: str, hdi: str, note: str = "", cls: str = "card") -> str:
    out = f"<div class='{cls}'><div class='label'>{label}</div><div class='value'>{value}</div>"
    out += f"<div class='hdi'>{hdi}</div>"
    return out + (f"<div class='note'>{note}</div>" if note else "") + "</div>"


def _headline_html(s: dict[str, Any]) -> str:
    r, d, m = s["growth_rate_per_day"], s["doubling_time_days"], s["doubling_time_months"]
    dec = decimals_for(r["median"])
    cards = [
        _card(
            "Growth rate of ln(max density)",
            f"{_fmt(r['median'], dec)} <small>per day</small>",
            f"94% HDI [{_fmt(r['hdi_low'], dec)}, {_fmt(r['hdi_high'], dec)}]",
        )
    ]
    if d["median"] is None:
        cards.append(_card("Doubling time", "none", "the median growth rate is not positive"))
    else:
        dd = decimals_for(d["median"])
        hi = "unbounded" if d["hdi_high"] is None else _fmt(d["hdi_high"], dd)
        mm = decimals_for(m["median"])
        mhi = "unbounded" if m["hdi_high"] is None else _fmt(m["hdi_high"], mm)
        cards.append(
            _card(
                "Doubling time",
                f"{_fmt(d['median'], dd)} <small>days</small>",
                f"94% HDI [{_fmt(d['hdi_low'], dd)}, {hi}] days",
                f"= {_fmt(m['median'], mm)} months [{_fmt(m['hdi_low'], mm)}, {mhi}]; the HDI of the "
                "doubling-time draws ln 2 / rate",
            )
        )
    paper = s.get("paper_point_estimate") or {}
    if paper.get("A_per_day") and paper.get("doubling_time_days"):
        cards.append(
            _card(
                "Paper's point estimate",
                f"{_fmt(paper['doubling_time_days'])} <small>days</small>",
                f"{_fmt(paper['A_per_day'], dec)} per day; no interval",
                f"records + least squares on the same data ({_e(paper.get('n_records', '?'))} records)",
            )
        )
    # Structural interval: rendered here when the summary carries one (key "structural").
    structural = s.get("structural")
    if isinstance(structural, dict):
        cards.append(_structural_card(structural))
    parts = ["<div class='headline'>", *cards, "</div>"]
    p0 = 1.0 - float(s["p_growth_positive"])
    notes = []
    if p0 > quantities.P_NONPOSITIVE_SHOWN:
        notes.append(
            f"<b>P(growth rate &le; 0) = {_e(p_nonpositive(s))}</b>: the share of posterior draws in which "
            "density does not grow at all."
        )
    if d.get("unbounded"):
        notes.append(
            "More than 6% of the draws never double, so the doubling time's HDI is <b>unbounded above</b>: the "
            "data do not rule out that density never doubles."
        )
    notes.append(
        "All intervals are 94% highest-density intervals (HDI) of the posterior; the growth rate is per day of "
        f"ln(density), months are {DAYS_PER_MONTH} days"
        + (
            ". These intervals are <b>conditional</b> on the spec's reference curves and data; the structural "
            "interval above adds the uncertainty of those choices."
            if isinstance(structural, dict)
            else "; they are conditional on the spec's reference curves and data."
        )
    )
    parts += [f"<p class='note'>{n}</p>" for n in notes]
    cp = s.get("change_point")
    if cp:
        b, a, q = cp["growth_rate_per_day_before"], cp["growth_rate_per_day_after"], cp["rate_ratio_after_over_before"]
        parts += [
            "<h3>Change point</h3><div class='scroll'><table>",
            "<tr><th>Quantity</th><th>Median [94% HDI]</th></tr>",
            f"<tr><td>Growth rate before (per day)</td><td class='num'>{_interval_html(b)}</td></tr>",
            f"<tr><td>Growth rate after (per day)</td><td class='num'>{_interval_html(a)}</td></tr>",
            f"<tr><td>After &minus; before (per day)</td><td class='num'>"
            f"{_interval_html(cp['rate_difference_after_minus_before'])}</td></tr>"
            if cp.get("rate_difference_after_minus_before")
            else "",
            f"<tr><td>Ratio after / before</td><td class='num'>{_interval_html(q)}</td></tr>"
            if q
            else "<tr><td>Ratio after / before</td><td>not shown: the earlier rate is &le; 0 in "
            f"{cp['p_before_nonpositive']:.1%} of draws</td></tr>",
            f"<tr><td>P(after &gt; before)</td><td class='num'>{cp['p_after_faster']:.3f}</td></tr>",
            f"<tr><td>P(after &ge; 1.5 &times; before)</td><td class='num'>{cp['p_ratio_at_least_1_5']:.3f}</td></tr>",
            "</table></div>",
        ]
    held = s.get("heldout_link_check") or []
    if held:
        inside = sum(h["inside"] for h in held)
        parts.append(
            f"<p class='note'>Held-out link points inside their 94% predictive interval: {inside} of {len(held)}.</p>"
        )
    return "\n".join(parts)


def _structural_card(st: dict[str, Any]) -> str:
    """The structural interval (conditional interval widened by the uncertainty of the analysis
    choices), from the summary's "structural" entry: whichever of growth rate / doubling time it has."""
    rows = []
    for key, label in STRUCTURAL_ROWS:
        v = _as_interval(st.get(key))
        if v is not None:
            rows.append(f"{_e(label)}: {_interval_html(v)}")
    note = _e(
        st.get("note")
        or st.get("description")
        or (
            f"{st['interval']}, over the loss-law mode, residual scale, frontier estimand and release window; "
            f"from {st.get('record', '')}"
            if "interval" in st
            else ""
        )
    )
    dd = _as_interval(st.get("doubling_time_days"))
    big = f"{dd['median']:.0f} days" if dd and dd["median"] is not None else None
    return _card(
        "Structural interval",
        big or (rows[0].split(": ", 1)[1].split(" [", 1)[0] if rows else "--"),
        "<br>".join(rows) or "no interval recorded",
        note,
        cls="card structural",
    )


def _banners(s: dict[str, Any], info: dict[str, Any]) -> list[str]:
    diag = s["diagnostics"]
    out = []
    if diag["failures"]:
        out.append(
            "<div class='banner danger' role='alert'><strong>Not converged: do not cite these numbers.</strong>"
            "Convergence checks failed: "
            + _e("; ".join(diag["failures"]))
            + ". See <a href='#diagnostics'>Diagnostics</a>; refit with the spec's default sampler settings (or "
            "<code>--profile thorough</code>) before using any number on this page.</div>"
        )
    profile = (s.get("sampler") or {}).get("profile")
    if profile == "fast":
        out.append(
            "<div class='banner caution' role='alert'><strong>Quick-look fit (profile &lsquo;fast&rsquo;).</strong>"
            f"{diag['chains']} chains &times; {diag['n_draws'] // max(diag['chains'], 1)} draws: enough to see "
            "the shape of the answer, too few for interval ends worth quoting. Refit without "
            "<code>--profile fast</code> for numbers to cite.</div>"
        )
    if info["targets"] == "paper_implied":
        out.append(
            "<div class='banner info'><strong>Reconstructed data.</strong>The scores fitted here are "
            "<em>paper-implied</em> AVERAGE scores, reconstructed from the densities the paper publishes through "
            'curves recovered from its figures (<code>data.targets = "paper_implied"</code>), not measured '
            "benchmark scores. The analysis shows what the paper's own numbers imply, with their uncertainty; "
            "fit real scores (the <code>multibench</code> spec, or your own) for an independent answer.</div>"
        )
    elif info["targets"] == "published_densities":
        out.append(
            "<div class='banner info'><strong>Digitized data.</strong>The densities fitted here are read off the "
            'paper\'s figures (<code>data.targets = "published_densities"</code>), not recomputed from '
            "scores.</div>"
        )
    elif info["targets"] == "simulated":
        out.append(
            "<div class='banner caution'><strong>Simulated data.</strong>This fit is on simulated scores "
            '(<code>data.targets = "simulated"</code>); its numbers say nothing about real models.</div>'
        )
    return out


def _findings_html(tree: xr.DataTree, s: dict[str, Any], info: dict[str, Any]) -> str:
    post = tree["posterior"]
    applies = {
        "always": True,
        "curves": "loss_alpha" in post,
        "link": "link_c" in post,
        "change_point": bool(s.get("change_point")),
        "multibench": len(info["benchmarks"]) > 1 or info["targets"] == "published_scores",
    }
    items = [f"<li><b>Finding {n}.</b> {_e(text)}</li>" for n, key, text in FINDINGS if applies[key]]
    return (
        "<p>The findings of "
        + README_FINDINGS
        + " that apply to this fit (numbered as there; read the README for the evidence):</p><ul>"
        + "".join(items)
        + "</ul>"
    )


def _diagnostics_html(diag: dict[str, Any]) -> str:
    def row(name: str, value: str, where: str, limit: str, ok: bool, key: str) -> str:
        status = "<span class='ok'>pass</span>" if ok else "<span class='fail'>fail</span>"
        return (
            f"<tr><td>{name}</td><td class='num'>{value}</td><td>{_e(where)}</td>"
            f"<td class='nowrap'>{limit}</td><td>{status}</td>"
            f"<td>{_e(DIAG_TEXT[key])}</td></tr>"
        )

    def num(x: Any, fmt: str) -> str:
        return format(x, fmt) if x is not None and np.isfinite(x) else "--"

    rows = [
        row(
            "R-hat (largest)",
            num(diag["max_rhat"], ".3f"),
            diag.get("max_rhat_var") or "",
            f"&le; {RHAT_MAX}",
            bool(diag["max_rhat"] <= RHAT_MAX),
            "rhat",
        ),
        row(
            "Bulk ESS (smallest)",
            num(diag["min_ess_bulk"], ",.0f"),
            diag.get("min_ess_bulk_var") or "",
            f"&ge; {ESS_MIN}",
            bool(diag["min_ess_bulk"] >= ESS_MIN),
            "ess_bulk",
        ),
        row(
            "Tail ESS (smallest)",
            num(diag["min_ess_tail"], ",.0f"),
            diag.get("min_ess_tail_var") or "",
            f"&ge; {ESS_MIN}",
            bool(diag["min_ess_tail"] >= ESS_MIN),
            "ess_tail",
        ),
        row("Divergences", f"{diag['divergences']:,}", "", "0", diag["divergences"] == 0, "divergences"),
    ]
    if diag.get("min_bfmi") is not None:
        rows.append(
            row("E-BFMI (lowest chain)", num(diag["min_bfmi"], ".2f"), "", "&ge; 0.3", diag["min_bfmi"] >= 0.3, "bfmi")
        )
    if "treedepth_saturated" in diag:
        t = diag["treedepth_saturated"]
        rows.append(row("Max tree depth hit", f"{t:,}", "", "0", t == 0, "treedepth"))
    per_chain = diag["n_draws"] // max(diag["chains"], 1)
    return (
        "<div class='scroll'><table class='diagnostics'><tr><th>Check</th><th>Value</th><th>Where</th>"
        "<th>Limit</th><th>Status</th><th>What it means</th></tr>"
        + "".join(rows)
        + "</table></div>"
        + f"<p class='note'>{diag['chains']} chains &times; {per_chain:,} draws after tuning, "
        f"{_fmt(diag['wall_seconds'], 0)} s of sampling. "
        + ("All checks pass." if not diag["failures"] else "Failing: " + _e("; ".join(diag["failures"])) + ".")
        + "</p>"
    )


def _png(fig: Any) -> str:
    buf = _io.BytesIO()
    with plots.paper_style():
        fig.savefig(buf, format="png", dpi=150)
    return base64.b64encode(buf.getvalue()).decode()


def _figure_html(name: str, b64: str, title: str, text: str, number: int) -> str:
    return (
        f"<figure id='fig-{name}'><img alt='{_e(name)}' src='data:image/png;base64,{b64}'>"
        f"<figcaption><b>Figure {number}. {_e(title)}.</b> {_e(text)}</figcaption></figure>"
    )


MODELS_WHAT = (
    "Capability density and effective size (billions of parameters), posterior medians with 94% HDIs, densest first"
)


def html_report(tree: xr.DataTree, *, title: str | None = None, structural: dict[str, Any] | None = None) -> str:
    """One self-contained HTML document (figures embedded as PNG, no outside resources): title from
    the spec, contents, banners (non-converged, quick-look, reconstructed data), the headline numbers,
    the "read before citing" findings that apply, figures with captions, diagnostics with trace and
    rank plots, the models table and the provenance."""
    s = quantities.summary(tree)
    if structural:
        s["structural"] = structural
    info = spec_info(tree)
    heading = title or f"Densing law of LLMs: Bayesian fit of spec \u2018{info['name']}\u2019"
    figs = []
    for name, fn in plots.FIGURES.items():
        try:
            fig = fn(tree)
        except ValueError:
            continue
        figs.append((name, _png(fig)))
    trace = None
    if int(tree["posterior"].sizes.get("chain", 0)) >= 1:
        trace = _png(plots.trace_rank(tree))
    versions = json.loads(str(tree.attrs.get("versions", "{}")))
    sampler = s.get("sampler") or {}
    prov = {
        "spec": f"{info['name']} ({info['description']})" if info["description"] else info["name"],
        "targets": info["targets"],
        "D0 (tokens)": f"{info['d0_tokens']:.3g}",
        "seed": tree.attrs.get("seed"),
        "sampler": ", ".join(f"{k} = {v}" for k, v in sampler.items()) or "--",
        "spec hash": tree.attrs.get("spec_hash"),
        "data hash": tree.attrs.get("data_hash"),
        "created": tree.attrs.get("created"),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }
    sections = [("headline", "Headline"), ("before-citing", "Read before citing")]
    sections += [("figures", "Figures")]
    sections += [("diagnostics", "Diagnostics"), ("models", "Models"), ("provenance", "Provenance")]
    sections += [("spec", "Spec")]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(heading)}</title>",
        f"<style>{CSS}</style>",
        "</head><body><main>",
        "<header>",
        f"<h1>{_e(heading)}</h1>",
        f"<p class='subtitle'>{_e(info['description'])}</p>" if info["description"] else "",
        f"<p class='meta'>D<sub>0</sub> = {_d0_html(info['d0_tokens'])} tokens &middot; "
        f"seed {_e(info['seed'])}"
        + (f" &middot; fitted {_e(tree.attrs['created'])}" if tree.attrs.get("created") else "")
        + " &middot; bayesdense report</p>",
        *_banners(s, info),
        "</header>",
        "<nav class='toc' aria-label='Contents'><h2>Contents</h2><ol>",
        *(f"<li><a href='#{sid}'>{label}</a></li>" for sid, label in sections),
        "</ol></nav>",
        "<section id='headline'><h2>Headline</h2>",
        _headline_html(s),
        "</section>",
        "<section id='before-citing'><h2>Read before citing</h2>",
        _findings_html(tree, s, info),
        "</section>",
        "<section id='figures'><h2>Figures</h2><ol class='figlist'>",
        *(f"<li><a href='#fig-{n}'>{_e(FIGURE_TEXT.get(n, (n, ''))[0])}</a></li>" for n, _ in figs),
        "</ol>",
    ]
    for i, (name, b64) in enumerate(figs, start=1):
        t, text = FIGURE_TEXT.get(name, (name.replace("_", " "), ""))
        parts.append(_figure_html(name, b64, t, text, i))
    parts += ["</section>", "<section id='diagnostics'><h2>Diagnostics</h2>", _diagnostics_html(s["diagnostics"])]
    if trace is not None:
        parts.append(_figure_html("trace_rank", trace, *TRACE_TEXT, len(figs) + 1))
    shown = _display(models_table(tree))
    parts += [
        "</section>",
        "<section id='models'><h2>Models</h2>",
        f"<p class='note'>{_e(caption(tree, MODELS_WHAT, 'md'))} "
        f"&ldquo;Paper&rdquo;: {_e(s['point_density_source'])}.</p>",
        "<div class='scroll'>",
        shown.to_html(index=False, escape=True, border=0, classes="models"),
        "</div></section>",
        "<section id='provenance'><h2>Provenance</h2><div class='scroll'><table>",
    ]
    parts += [
        f"<tr><th>{_e(k)}</th><td><code>{_e(v if v not in (None, '') else '--')}</code></td></tr>"
        for k, v in prov.items()
    ]
    parts += [
        "</table></div></section>",
        "<section id='spec'><h2>Spec</h2>",
        f"<pre>{_e(tree.attrs.get('spec_text', ''))}</pre>",
        "</section></main></body></html>",
    ]
    return "\n".join(p for p in parts if p)
