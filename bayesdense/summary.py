"""The summary of a fit as plain text: what `bayesdense fit` and `bayesdense summary` print.

Works from the dict of :func:`bayesdense.quantities.summary` alone, so the CLI, the HTML report and
notebooks share one wording of the headline numbers.
"""

from __future__ import annotations

import math
from typing import Any

from .quantities import CI_LABEL, DAYS_PER_MONTH, P_NONPOSITIVE_SHOWN, p_text


def num(x: Any, fmt: str) -> str:
    """``x`` formatted, or "unbounded" for None and non-finite values (an open interval end)."""
    return "unbounded" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def format_summary(s: dict[str, Any], *, top: int = 10) -> str:
    """The summary dict as the text the CLI prints; ``top`` densest models are listed."""
    r, d, m = s["growth_rate_per_day"], s["doubling_time_days"], s["doubling_time_months"]
    paper = s.get("paper_point_estimate") or {}
    diag = s["diagnostics"]
    lines = [
        f"bayesdense fit of spec '{s['spec']}'  (D0 = {s['d0_tokens']:.3g} tokens; intervals: {CI_LABEL})",
        "",
        "Densing law (conditional interval: given this spec's choices): ln(max density) grows "
        + ("along a bending (quadratic) trend in time" if s.get("curvature") else "linearly in time"),
        *([f"  estimand        {s['estimand']['description']}"] if s.get("estimand") else []),
        f"  growth rate     {r['median']:.5f} per day   [{r['hdi_low']:.5f}, {r['hdi_high']:.5f}]",
        f"  P(growth > 0)   {p_text(s['p_growth_positive'], s['diagnostics']['n_draws']).removeprefix('= ')}",
        f"  doubling time   {num(d['median'], '.0f')} days [{num(d['hdi_low'], '.0f')}, {num(d['hdi_high'], '.0f')}]"
        f"  = {num(m['median'], '.2f')} months [{num(m['hdi_low'], '.2f')}, {num(m['hdi_high'], '.2f')}]",
    ]
    p0 = 1.0 - float(s["p_growth_positive"])
    if p0 > P_NONPOSITIVE_SHOWN:
        lines.append(
            f"  P(growth <= 0)  {p0:.3f}: the share of draws in which the density never doubles"
            + ("; more than 6% of them, so the doubling time's HDI is unbounded above" if d.get("unbounded") else "")
        )
    if paper.get("A_per_day") and not str(s.get("point_density_source", "")).startswith("the paper's recipe"):
        same = (s.get("estimand") or {}).get("same_as_paper", False)
        lines.append(
            f"  paper (point)   {paper['A_per_day']:.5f} per day, doubling {paper['doubling_time_days']:.0f} days "
            f"= {paper['doubling_time_days'] / DAYS_PER_MONTH:.2f} months ({paper.get('n_records')} records, OLS)"
        )
        lines.append(
            "                  the same estimand as the growth rate above"
            if same
            else "                  a different estimand (OLS through running-maximum records); "
            "like with like: bayesdense fit records"
        )
    cp = s.get("change_point")
    if cp:
        b, a, q = cp["growth_rate_per_day_before"], cp["growth_rate_per_day_after"], cp["rate_ratio_after_over_before"]
        lines += [
            "",
            "Change point (growth rate before and after the break; the rate above is the later era's):",
            f"  before          {b['median']:.5f} per day   [{b['hdi_low']:.5f}, {b['hdi_high']:.5f}]",
            f"  after           {a['median']:.5f} per day   [{a['hdi_low']:.5f}, {a['hdi_high']:.5f}]",
        ]
        if cp.get("rate_difference_after_minus_before"):
            df = cp["rate_difference_after_minus_before"]
            lines.append(f"  after - before  {df['median']:.5f} per day   [{df['hdi_low']:.5f}, {df['hdi_high']:.5f}]")
        if q:
            lines.append(f"  ratio after/before  {q['median']:.2f}   [{q['hdi_low']:.2f}, {q['hdi_high']:.2f}]")
        else:
            lines.append(
                "  ratio after/before  not shown: the earlier rate is <= 0 in "
                f"{cp['p_before_nonpositive']:.1%} of draws"
            )
        lines.append(
            f"  P(after > before) = {cp['p_after_faster']:.3f}   "
            f"P(after >= 1.5 x before) = {cp['p_ratio_at_least_1_5']:.3f}"
        )
        if "median" in cp["change_day"]:
            c = cp["change_day"]
            lines.append(
                f"  break date: day {c['median']:.0f} [{c['hdi_low']:.0f}, {c['hdi_high']:.0f}] since 2023-02-24"
            )
    cv = s.get("curvature")
    if cv:
        f, la = cv["growth_rate_per_day_first_year"], cv["growth_rate_per_day_last_year"]
        lines += [
            "",
            "Bending trend (quadratic in time; the growth rate above is the rate at the data's mid-date):",
            f"  first year      {f['median']:.5f} per day   [{f['hdi_low']:.5f}, {f['hdi_high']:.5f}]",
            f"  last year       {la['median']:.5f} per day   [{la['hdi_low']:.5f}, {la['hdi_high']:.5f}]",
            f"  P(last year's rate < first year's) = {cv['p_last_year_slower']:.3f}",
        ]
    br = s.get("benchmark_rates")
    if br:
        sd = br["growth_rate_sd_per_day"]

        def rate_row(name: str, b: dict[str, Any]) -> str:
            r, d = b["growth_rate_per_day"], b["doubling_time_days"]
            return (
                f"  {name:15s} {r['median']:.5f} [{r['hdi_low']:.5f}, {r['hdi_high']:.5f}]   "
                f"{num(d['median'], '.0f')} days [{num(d['hdi_low'], '.0f')}, {num(d['hdi_high'], '.0f')}]"
            )

        lines += [
            "",
            "One frontier per benchmark (rates partially pooled; the rate above is their mean):",
            f"  spread of the benchmarks' rates (sd)  {sd['median']:.5f} per day   "
            f"[{sd['hdi_low']:.5f}, {sd['hdi_high']:.5f}]",
            f"  {'benchmark':15s} {'growth rate per day':30s}   doubling time",
            *(rate_row(name, b) for name, b in br["benchmarks"].items()),
            rate_row("a new benchmark", br["new_benchmark"]) + "   (predictive)",
        ]
    bt = s.get("inefficiency_by_type")
    if bt:
        lines += [
            "",
            "Inefficiency by entry type (one frontier line; each type's half-normal scale below it, partially pooled):",
            f"  {'entry type':24s} {'entries':>7s}   {'scale (ln density)':24s}   median entry's density / frontier's",
        ]
        for name, t in bt["types"].items():
            sc, rel = t["inefficiency_scale"], t["median_entry_vs_frontier"]
            lines.append(
                f"  {name:24s} {t['entries']:7d}   {sc['median']:.2f} [{sc['hdi_low']:.2f}, {sc['hdi_high']:.2f}]"
                f"{'':8s}   {rel['median']:.2f} [{rel['hdi_low']:.2f}, {rel['hdi_high']:.2f}]"
            )
    models = sorted(s["models"], key=lambda x: -x["density"]["median"])
    own = str(s.get("point_density_source", "")).startswith("the paper's recipe")
    label = "recipe" if own else "paper"
    lines += [
        "",
        f"Densest models (posterior median density, {CI_LABEL}; "
        + ("the paper's recipe on your scores):" if own else "paper's value):"),
    ]
    for row in models[:top]:
        dd = row["density"]
        flag = "  UNBOUNDED ABOVE: score beyond the reference law's reach at D0" if row.get("unbounded_above") else ""
        lines.append(
            f"  {row['name']:28s} {dd['median']:7.3f} [{dd['hdi_low']:.3f}, {dd['hdi_high']:.3f}]"
            f"   {label} {row['paper_density']:.3f}{flag}"
        )
    unb = [row["name"] for row in s["models"] if row.get("unbounded_above")]
    if unb:
        lines.append(f"  {len(unb)} model(s) have scores above what the reference law reaches at D0: {', '.join(unb)}")
    held = s.get("heldout_link_check") or []
    if held:
        inside = sum(h["inside"] for h in held)
        lines += ["", f"Held-out link points inside their 94% predictive interval: {inside} of {len(held)}"]
    lines += [
        "",
        f"Diagnostics: max R-hat {diag['max_rhat']:.3f} ({diag['max_rhat_var']}), min bulk ESS "
        f"{diag['min_ess_bulk']:.0f} ({diag['min_ess_bulk_var']}), min tail ESS {diag['min_ess_tail']:.0f}, "
        f"divergences {diag['divergences']}, E-BFMI {diag.get('min_bfmi', float('nan')):.2f}, "
        f"{diag['chains']} chains x {diag['n_draws'] // max(diag['chains'], 1)} draws, {diag['wall_seconds']:.0f} s",
    ]
    for w in s.get("warnings") or []:
        lines.append(f"WARNING: {w}")
    if diag["failures"]:
        lines.append(
            "WARNING: convergence checks failed: "
            + "; ".join(diag["failures"])
            + ". Treat the numbers above with caution (use --strict to make this an error)."
        )
    else:
        lines.append("All convergence checks passed (R-hat <= 1.01, ESS >= 400, no divergences, E-BFMI >= 0.3).")
    if s.get("result_file"):
        lines.append(f"\nResult file: {s['result_file']}  (reprint: bayesdense summary {s['result_file']})")
    return "\n".join(lines)
