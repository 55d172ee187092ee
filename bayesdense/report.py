"""Tables (Markdown, LaTeX booktabs, CSV) and a self-contained HTML report, from a result file."""

from __future__ import annotations

import base64
import html
import io as _io
import json
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import plots, quantities
from .data import TIME_ORIGIN


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


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not np.isfinite(v):
            return "--"
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _display(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "Model": df["model"],
            "Date": df["date"],
            "N (B)": df["params_b"].map(_fmt),
            "Density [94% HDI]": [
                f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
                for m, lo, hi in zip(df["density"], df["density_hdi_low"], df["density_hdi_high"], strict=True)
            ],
            "N_eff (B) [94% HDI]": [
                f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
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


def _latex(d: pd.DataFrame, caption: str) -> str:
    cols = "l" + "r" * (len(d.columns) - 1)
    lines = [
        r"% requires \usepackage{booktabs}",
        r"\begin{table}[t]",
        r"\centering\small",
        rf"\caption{{{caption}}}",
        rf"\begin{{tabular}}{{{cols}}}",
        r"\toprule",
        " & ".join(_tex(c) for c in d.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(_tex(str(v)) for v in row) + r" \\" for row in d.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _sensitivity_display(t: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table (``sensitivity.csv``) as printed: one row per variant."""
    err = t["error"].astype(object).fillna("") if "error" in t else pd.Series("", index=t.index)

    def interval(m: Any, lo: Any, hi: Any, digits: str) -> str:
        if pd.isna(m):
            return "--"
        hi_s = "unbounded" if pd.isna(hi) else format(hi, digits)
        return f"{format(m, digits)} [{format(lo, digits)}, {hi_s}]"

    rows = []
    for i, r in t.iterrows():
        failed = bool(err[i])
        get = r.get
        rows.append(
            {
                "Axis": r["axis"],
                "Variant": r["variant"],
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
            }
        )
    return pd.DataFrame(rows)


def sensitivity_table(t: pd.DataFrame, fmt: str) -> str:
    """The doubling time per variant as Markdown, LaTeX (booktabs) or CSV."""
    if fmt == "csv":
        return t.to_csv(index=False)
    d = _sensitivity_display(t)
    if fmt == "md":
        return _markdown(d)
    if fmt == "tex":
        return _latex(d, "Doubling time per analysis variant, medians with 94\\% HDIs.")
    raise ValueError(f"unknown table format '{fmt}'; choose md, tex or csv")


def table(tree: xr.DataTree, fmt: str) -> str:
    df = models_table(tree)
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "md":
        return to_markdown(df)
    if fmt == "tex":
        return to_latex(df)
    raise ValueError(f"unknown table format '{fmt}'; choose md, tex or csv")


def html_report(tree: xr.DataTree, *, title: str = "bayesdense result") -> str:
    """One self-contained HTML page: summary, figures (embedded PNG), diagnostics, provenance."""
    from .cli_fit import format_summary

    s = quantities.summary(tree)
    figs = []
    for name, fn in plots.FIGURES.items():
        try:
            fig = fn(tree)
        except ValueError:
            continue
        buf = _io.BytesIO()
        with plots.paper_style():
            fig.savefig(buf, format="png", dpi=150)
        figs.append((name, base64.b64encode(buf.getvalue()).decode()))
    versions = json.loads(str(tree.attrs.get("versions", "{}")))
    prov = {
        "spec": tree.attrs.get("spec_name"),
        "spec hash": tree.attrs.get("spec_hash"),
        "data hash": tree.attrs.get("data_hash"),
        "seed": tree.attrs.get("seed"),
        "created": tree.attrs.get("created"),
        "sampler": tree.attrs.get("sampler"),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "pre{background:#f6f6f6;padding:1em;overflow-x:auto}img{max-width:100%}"
        "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Summary</h2>",
        f"<pre>{html.escape(format_summary(s, top=15))}</pre>",
        "<h2>Figures</h2>",
    ]
    for name, b64 in figs:
        parts.append(
            f"<figure><img alt='{name}' src='data:image/png;base64,{b64}'>"
            f"<figcaption>{html.escape(name.replace('_', ' '))}</figcaption></figure>"
        )
    parts += [
        "<h2>Models</h2>",
        _display(models_table(tree)).to_html(index=False, escape=True, border=0),
        "<h2>Diagnostics</h2>",
        f"<pre>{html.escape(json.dumps(s['diagnostics'], indent=2))}</pre>",
        "<h2>Provenance</h2><table>",
    ]
    parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in prov.items()]
    parts += [
        "</table>",
        "<h3>Spec</h3>",
        f"<pre>{html.escape(str(tree.attrs.get('spec_text', '')))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)
