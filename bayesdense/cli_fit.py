"""``bayesdense fit``, ``summary`` and ``spec``: thin wrappers over fit / io / quantities."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from . import cliargs, jsonout
from .quantities import CI_LABEL, DAYS_PER_MONTH


def _num(x: Any, fmt: str) -> str:
    return "unbounded" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def format_summary(s: dict[str, Any], *, top: int = 10) -> str:
    r, d, m = s["growth_rate_per_day"], s["doubling_time_days"], s["doubling_time_months"]
    paper = s.get("paper_point_estimate") or {}
    diag = s["diagnostics"]
    lines = [
        f"bayesdense fit of spec '{s['spec']}'  (D0 = {s['d0_tokens']:.3g} tokens; intervals: {CI_LABEL})",
        "",
        "Densing law: ln(max density) grows linearly in time",
        f"  growth rate     {r['median']:.5f} per day   [{r['hdi_low']:.5f}, {r['hdi_high']:.5f}]",
        f"  P(growth > 0)   {s['p_growth_positive']:.3f}",
        f"  doubling time   {_num(d['median'], '.0f')} days [{_num(d['hdi_low'], '.0f')}, {_num(d['hdi_high'], '.0f')}]"
        f"  = {_num(m['median'], '.2f')} months [{_num(m['hdi_low'], '.2f')}, {_num(m['hdi_high'], '.2f')}]",
    ]
    if d.get("unbounded"):
        lines.append("  note: the growth-rate interval reaches 0, so the doubling time is unbounded above")
    if paper.get("A_per_day") and not str(s.get("point_density_source", "")).startswith("the paper's recipe"):
        lines.append(
            f"  paper (point)   {paper['A_per_day']:.5f} per day, doubling {paper['doubling_time_days']:.0f} days "
            f"= {paper['doubling_time_days'] / DAYS_PER_MONTH:.2f} months ({paper.get('n_records')} records, OLS)"
        )
    cp = s.get("change_point")
    if cp:
        b, a, q = cp["growth_rate_per_day_before"], cp["growth_rate_per_day_after"], cp["rate_ratio_after_over_before"]
        lines += [
            "",
            "Change point (growth rate before and after the break; the rate above is the later era's):",
            f"  before          {b['median']:.5f} per day   [{b['hdi_low']:.5f}, {b['hdi_high']:.5f}]",
            f"  after           {a['median']:.5f} per day   [{a['hdi_low']:.5f}, {a['hdi_high']:.5f}]",
            f"  ratio after/before  {q['median']:.2f}   [{q['hdi_low']:.2f}, {q['hdi_high']:.2f}]",
            f"  P(after > before) = {cp['p_after_faster']:.3f}   P(ratio >= 1.5) = {cp['p_ratio_at_least_1_5']:.3f}",
        ]
        if "median" in cp["change_day"]:
            c = cp["change_day"]
            lines.append(
                f"  break date: day {c['median']:.0f} [{c['hdi_low']:.0f}, {c['hdi_high']:.0f}] since 2023-02-24"
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


def _emit(s: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        print(jsonout.dumps(s))
    else:
        print(format_summary(s, top=args.top))
    if args.strict and s["diagnostics"]["failures"]:
        print("error: --strict: " + "; ".join(s["diagnostics"]["failures"]), file=sys.stderr)
        return 4
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from . import fit, io, quantities
    from .spec import load_spec, missing_anchors

    spec = load_spec(args.spec)
    out_dir = cliargs.writable_dir(args.out, "--out")  # checked now, created only when the result is saved
    path = cliargs.inside(out_dir / f"{spec.name}-seed{args.seed}.nc", out_dir, "the result file")
    for i, line in enumerate(missing_anchors(spec)):
        print(("WARNING: " if i == 0 else "") + line, file=sys.stderr)
    if not args.json:
        print(f"Fitting spec '{spec.name}' ({spec.description}); sampler output follows.", file=sys.stderr)
    tree = fit.fit(spec, seed=args.seed, profile=args.profile, progress=not args.no_progress, sampler=args.sampler)
    io.save(tree, path)
    return _emit(quantities.summary(tree, result_file=str(path)), args)


def cmd_rerun(args: argparse.Namespace) -> int:
    import json as _json

    from . import fit, io, quantities
    from .spec import parse_spec

    old = io.load(args.result)
    spec = parse_spec(str(old.attrs["spec_text"]), f"{args.result} (recorded spec)")
    if spec.data.scores_file and "scores_file" in old.attrs:  # the own-scores file as resolved when fitted
        recorded = str(old.attrs["scores_file"])
        if not Path(recorded).is_file():
            raise cliargs.ArgumentError(
                f"{args.result}: the own-scores file it was fitted on, {recorded} (attribute 'scores_file'), "
                "no longer exists; restore it to rerun"
            )
        spec = spec.model_copy(update={"data": spec.data.model_copy(update={"scores_file": recorded})})
    settings = _json.loads(str(old.attrs.get("sampler", "{}")))
    if fit.data_hash_of(spec) != old.attrs.get("data_hash"):
        print("note: the data changed since this result was written (data hash differs)", file=sys.stderr)
    if settings.get("shared_model_spec"):  # a sensitivity variant fitted on a shared compiled model
        from .shared import SharedModel

        base = parse_spec(settings["shared_model_spec"], f"{args.result} (recorded shared model)")
        new = SharedModel(base).fit(spec, seed=int(old.attrs["seed"]), profile=settings.get("profile"))
    else:
        new = fit.fit(
            spec,
            seed=int(old.attrs["seed"]),
            profile=settings.get("profile"),
            progress=not args.no_progress,
            sampler=settings.get("sampler"),
        )
    a, b = quantities.summary(old), quantities.summary(new)
    keys = ("growth_rate_per_day", "p_growth_positive", "doubling_time_days")
    same = all(a[k] == b[k] for k in keys) and [m["density"] for m in a["models"]] == [
        m["density"] for m in b["models"]
    ]
    report = {
        "result_file": str(args.result),
        "identical": same,
        "recorded": {k: a[k] for k in keys},
        "rerun": {k: b[k] for k in keys},
        "versions_recorded": _json.loads(str(old.attrs.get("versions", "{}"))),
        "versions_now": fit.versions(),
    }
    if args.json:
        print(jsonout.dumps(report))
    else:
        r0, r1 = a["growth_rate_per_day"], b["growth_rate_per_day"]
        print(f"recorded growth rate {r0['median']:.6f} [{r0['hdi_low']:.6f}, {r0['hdi_high']:.6f}]")
        print(f"rerun    growth rate {r1['median']:.6f} [{r1['hdi_low']:.6f}, {r1['hdi_high']:.6f}]")
        print(
            "identical summaries: the result reproduces"
            if same
            else "summaries differ (different machine, package versions or data; see --json for versions)"
        )
    return 0 if same else 5


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text)
    tmp.replace(path)


def cmd_plot(args: argparse.Namespace) -> int:
    from . import io, plots

    cliargs.writable_dir(args.out, "--out")
    if Path(args.result).suffix == ".csv":  # a sensitivity table: its forest plot
        fig = plots.sensitivity_forest(args.result, width=args.width or "single")
        print(plots.save(fig, Path(args.out) / f"sensitivity_forest.{args.format}"))
        return 0
    tree = io.load(args.result)
    try:
        paths = plots.write_all(tree, args.out, fmt=args.format, width=args.width, highlight=args.highlight or ())
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from . import io, report

    if args.out:
        cliargs.output_file(args.out, "--out", inputs=[args.result])
    text = report.table(io.load(args.result), args.format)
    if args.out:
        _write_text_atomic(Path(args.out), text)
        print(args.out)
    else:
        print(text, end="")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import io, report

    cliargs.output_file(args.html, "--html", inputs=[args.result], suffixes=(".html", ".htm"))
    _write_text_atomic(Path(args.html), report.html_report(io.load(args.result), title=f"bayesdense: {args.result}"))
    print(args.html)
    return 0


SCHEDULER_HELP = (
    "run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (needs bayesdense[dask] here and "
    "bayesdense installed on its workers); default: local processes"
)


def cmd_forward(args: argparse.Namespace) -> int:
    from . import validation
    from .spec import load_spec

    spec = load_spec(args.spec)
    cutoffs = args.cutoff or ["2024-01-01", "2024-04-01", "2024-07-01"]
    try:
        validation.check_cutoffs(spec, cutoffs)  # before any fit
    except ValueError as e:
        raise cliargs.ArgumentError(f"--cutoff: {e}") from None
    rows = validation.time_forward(
        spec, cutoffs, seed=args.seed, profile=args.profile, workers=args.workers, scheduler=args.scheduler
    )
    if args.json:
        print(jsonout.dumps(rows))
        return 0
    print(f"Time-forward validation of spec '{spec.name}' (fit before each cut-off, predict the later models)")
    print("cut-off      train test  cover94  mean LPD  | later records: |log err| ours  paper | paper A")
    for r in rows:
        ours = r["later_records_log_error_ours"]
        paper = r["later_records_log_error_paper"]
        print(
            f"{r['cutoff']}  {r['n_train']:5d} {r['n_test']:4d}  {r['coverage_94']:7.2f}  "
            f"{r['mean_log_predictive_density']:8.2f}  | {r['n_later_records']:2d} records "
            f"{_num(ours, '6.2f')}  {_num(paper, '6.2f')} | {r['paper_A_per_day']:.5f}"
        )
    print("cover94: share of later models inside the 94% posterior predictive interval at their date.")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from . import plots, validation
    from .spec import load_spec

    spec = load_spec(args.spec)
    spec_inputs = [args.spec] if Path(args.spec).is_file() else []
    if args.out:
        cliargs.output_file(args.out, "--out", inputs=spec_inputs, suffixes=(".json",))
    if args.plot:
        cliargs.output_file(args.plot, "--plot", inputs=spec_inputs, suffixes=(".png", ".pdf", ".svg"))
    res = validation.calibrate(
        spec, sims=args.sims, profile=args.profile, workers=args.workers, scheduler=args.scheduler
    )
    if args.out:
        _write_text_atomic(Path(args.out), jsonout.dumps(res))
    if args.plot:
        plots.save(plots.sbc_ranks(res), Path(args.plot))
    if args.json:
        print(jsonout.dumps({k: v for k, v in res.items() if k != "ranks"}))
        return 0
    print(f"Simulation-based calibration of '{spec.name}': {res['sims']} simulations, {res['n_draws']} draws each")
    print(f"{'quantity':40s} {'uniformity p':>12s} {'cover 50%':>10s} {'cover 94%':>10s}")
    for r in res["summary"]:
        print(f"{r['quantity']:40s} {r['uniformity_p']:12.3f} {r['coverage_50']:10.2f} {r['coverage_94']:10.2f}")
    print(f"Fits with divergences: {res['divergent_fits']} of {res['sims']} (sampler: {res['sampler']}).")
    print("A well-calibrated model: uniformity p not small, coverage near 0.50 and 0.94 (more so with more sims).")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from . import plots, report, sensitivity
    from .spec import load_spec

    base = load_spec(args.spec)
    cliargs.writable_dir(args.out, "--out")
    table = sensitivity.run(
        base,
        args.axis,
        args.out,
        seed=args.seed,
        profile=args.profile,
        workers=args.workers,
        scheduler=args.scheduler,
        reuse=not args.no_reuse,
    )
    plots.save(plots.sensitivity_forest(table), Path(args.out) / "sensitivity_forest.png")
    for fmt in ("md", "tex"):
        _write_text_atomic(Path(args.out) / f"sensitivity.{fmt}", report.sensitivity_table(table, fmt))
    effect = sensitivity.axis_effect(table) if "doubling_days_median" in table else None
    if args.json:
        print(
            jsonout.dumps(
                {
                    "variants": table.to_dict(orient="records"),
                    "axis_effect": None if effect is None else effect.reset_index().to_dict(orient="records"),
                }
            )
        )
        return 0
    print(f"Sensitivity of spec '{base.name}' along '{args.axis}' ({len(table)} variants; 94% intervals)")
    for r in table.to_dict(orient="records"):
        if r.get("error"):
            print(f"  {r['axis']:10s} {r['variant']:38s} FAILED: {r['error']}")
            continue
        warn = "" if r["converged"] else "  (convergence warning)"
        print(
            f"  {r['axis']:10s} {r['variant']:38s} doubling {_num(r['doubling_days_median'], '6.0f')} days "
            f"[{_num(r['doubling_days_hdi_low'], '.0f')}, {_num(r['doubling_days_hdi_high'], '.0f')}]"
            f"  P(A>0) {r['p_growth_positive']:.3f}{warn}"
        )
    if effect is not None and len(effect):
        top = effect.index[0]
        print(
            f"\nThe '{top}' axis moves the median doubling time most: {effect.loc[top, 'min_days']:.0f} to "
            f"{effect.loc[top, 'max_days']:.0f} days."
        )
    print(
        f"Table: {Path(args.out) / 'sensitivity.csv'} (also .md, .tex)   "
        f"forest plot: {Path(args.out) / 'sensitivity_forest.png'}"
    )
    return 0


def cmd_power_scaling(args: argparse.Namespace) -> int:
    from . import io, sensitivity

    tree = io.load(args.result)
    _enough_draws(tree, args.result, "power-scaling (Pareto-smoothed importance sampling)")
    res = sensitivity.power_scaling(tree)
    if args.json:
        print(jsonout.dumps(res))
        return 0
    print(f"Power-scaling sensitivity of '{res['spec']}' ({res['n_draws']} draws; Kallioinen et al. 2024)")
    print(f"{'quantity':28s} {'prior':>7s} {'likelihood':>10s}  diagnosis (threshold {res['threshold']})")
    for r in res["rows"]:
        print(f"{r['quantity']:28s} {r['prior']:7.3f} {r['likelihood']:10.3f}  {r['diagnosis'] or '-'}")
    print("\nGrowth rate: sensitivity to each top-level prior scaled alone")
    for name, v in res["growth_rate_by_prior"].items():
        print(f"  {name:28s} {v:.3f}{'  <- above threshold' if v >= res['threshold'] else ''}")
    print("prior >= 0.05: the prior shapes the posterior; with likelihood >= 0.05 too: prior and data disagree.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from . import compare, io

    seen: dict[Path, Path] = {}
    for path in args.results:
        if path.resolve() in seen:
            raise ValueError(f"{path}: given twice (as {seen[path.resolve()]} too); compare distinct results")
        seen[path.resolve()] = path
    loaded = [(path, io.load(path)) for path in args.results]
    names = [str(t.attrs.get("spec_name") or path.stem) for path, t in loaded]
    # results of the same spec (other seeds or settings) are told apart by their file names
    keys = [n if names.count(n) == 1 else f"{n} [{path}]" for n, (path, _) in zip(names, loaded, strict=True)]
    trees = dict(zip(keys, (t for _, t in loaded), strict=True))
    res = compare.compare(trees)
    if args.json:
        print(jsonout.dumps(res))
        return 0
    print("PSIS-LOO over models (latent densities integrated out), stacking weights:")
    for row in res["loo"]:
        print(
            f"  {row['spec']:32s} elpd_loo {row['elpd_loo']:8.2f} (se {row['se']:.2f})  p_loo {row['p_loo']:5.2f}"
            f"  weight {res['weights'][row['spec']]:.3f}  Pareto k > 0.7: {row['n_pareto_k_above_0.7']}"
        )
    r, d = res["model_averaged"]["growth_rate_per_day"], res["model_averaged"]["doubling_time_days"]
    print(
        f"Model-averaged growth rate {r['median']:.5f} per day [{r['hdi_low']:.5f}, {r['hdi_high']:.5f}], "
        f"doubling {d['median']:.0f} days [{_num(d['hdi_low'], '.0f')}, {_num(d['hdi_high'], '.0f')}] (94% HDI)"
    )
    for w in res["warnings"]:
        print("WARNING:", w)
    return 0


MIN_PSIS_DRAWS = 100  # Pareto smoothing fits the largest ~20% of the weights: it needs enough of them


def _enough_draws(tree: Any, path: Any, what: str) -> None:
    post = tree["posterior"]
    n = int(post.sizes.get("chain", 0) * post.sizes.get("draw", 0))
    if n < MIN_PSIS_DRAWS:
        raise cliargs.ArgumentError(
            f"{path}: {what} needs at least {MIN_PSIS_DRAWS} posterior draws (chains x draws); this result has "
            f"{n}. Refit with more draws (the spec's [sampler] draws)"
        )


def cmd_summary(args: argparse.Namespace) -> int:
    from . import io, quantities

    tree = io.load(args.result)
    return _emit(quantities.summary(tree, result_file=str(args.result)), args)


def cmd_spec(args: argparse.Namespace) -> int:
    from .spec import DEFAULT_PRIORS, load_spec, shipped_specs

    if args.action == "list":
        for name, path in shipped_specs().items():
            s = load_spec(path)
            print(f"{name:22s} {s.description}")
        return 0
    s = load_spec(args.name)
    if args.action == "check":
        print(f"ok: {args.name} ({s.description})")
        return 0
    print(s.text.rstrip())
    print("\n# resolved priors (spec value or default):")
    for k in DEFAULT_PRIORS:
        print(f"#   {k} = {s.prior(k).model_dump(exclude_none=True)}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object (the documented contract)")
    p.add_argument("--strict", action="store_true", help="exit with status 4 when a convergence check fails")
    p.add_argument(
        "--top", type=cliargs.positive_int, default=10, help="how many of the densest models to list (default 10)"
    )


def add_commands(sub: Any) -> None:
    f = sub.add_parser(
        "fit",
        help="Bayesian fit of a spec on the shipped data (the main job)",
        description="Fit a model spec (default: models/default.toml) on the shipped data, print the posterior "
        "growth rate and doubling time with 94% HDIs, P(growth > 0), the paper's point estimate beside them, the "
        "densest models and convergence diagnostics, and save a result file that `bayesdense summary` and later "
        "commands read without refitting. Sampler settings come from the spec's [sampler] table; "
        "--profile fast (or BAYESDENSE_PROFILE=fast) runs 2 chains x 300 draws for a quick look.",
    )
    f.add_argument(
        "spec",
        nargs="?",
        default="default",
        help="shipped spec name (see `bayesdense spec list`) or path to a TOML spec (default: default)",
    )
    f.add_argument("--out", default="results", help="directory for the result file (default: results/)")
    f.add_argument(
        "--seed",
        type=cliargs.seed,
        default=1,
        help="random seed, 0 to 2**32-1 (same seed, spec and data: same result)",
    )
    f.add_argument(
        "--profile",
        choices=["default", "fast", "thorough"],
        default=None,
        help="sampler profile overriding draws/chains (default: the spec's settings)",
    )
    f.add_argument(
        "--sampler",
        choices=["numpyro", "pymc", "nutpie"],
        default=None,
        help="NUTS implementation (default: the spec's; numpyro)",
    )
    f.add_argument("--no-progress", action="store_true", help="hide the sampler's progress bar")
    _common(f)
    f.set_defaults(func=cmd_fit)

    s = sub.add_parser(
        "summary",
        help="reprint the summary of a saved result file (no refit)",
        description="Read a result file written by `bayesdense fit` and print its summary.",
    )
    s.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    _common(s)
    s.set_defaults(func=cmd_summary)

    rr = sub.add_parser(
        "rerun",
        help="refit from what a result file records and compare the summaries",
        description="Refit the spec text, seed and sampler settings recorded in RESULT on the shipped data, and "
        "report whether the summary is identical (exit 0) or differs (exit 5). Same machine, packages and data "
        "give identical summaries.",
    )
    rr.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    rr.add_argument("--json", action="store_true", help="print a JSON report")
    rr.add_argument("--no-progress", action="store_true", help="hide the sampler's progress bar")
    rr.set_defaults(func=cmd_rerun)

    pl = sub.add_parser(
        "plot",
        help="write every figure a result supports (no refit)",
        description="Figures for papers from a result file: density vs date with the posterior frontier, the "
        "doubling-time posterior, loss-law and link fits with bands, a density forest and prior vs posterior of "
        "the growth rate. Paper style (8-pt fonts, Okabe-Ito colours, fonts embedded).",
    )
    pl.add_argument(
        "result",
        type=Path,
        help="result file (.nc) written by bayesdense fit, or a sensitivity.csv written by bayesdense "
        "sensitivity (then its forest plot only)",
    )
    pl.add_argument("--out", default="figures", help="directory for the figures (default: figures/)")
    pl.add_argument("--format", choices=["png", "pdf", "svg"], default="png", help="file format (default png)")
    pl.add_argument(
        "--width",
        choices=["single", "double"],
        default=None,
        help="figure width: single column (3.5 in) or double column (7.2 in), exact in every format "
        "(default: each figure's own; density_vs_date and doubling_time double, the forests single)",
    )
    pl.add_argument(
        "--highlight",
        action="append",
        metavar="MODEL",
        help="mark and label this model in density_vs_date (repeatable)",
    )
    pl.set_defaults(func=cmd_plot)

    tb = sub.add_parser(
        "table",
        help="densities and effective sizes with 94%% HDIs as Markdown, LaTeX or CSV",
        description="One row per model: date, parameters, density and effective size with 94% HDIs, and the "
        "paper's density. LaTeX uses booktabs.",
    )
    tb.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    tb.add_argument("--format", choices=["md", "tex", "csv"], default="md", help="table format (default md)")
    tb.add_argument("--out", default=None, help="write to this file instead of standard output")
    tb.set_defaults(func=cmd_table)

    rp = sub.add_parser(
        "report",
        help="one self-contained HTML page: summary, figures, diagnostics, provenance",
        description="Write a single HTML file with the figures embedded, the summary, the model table, "
        "convergence diagnostics and the provenance of the data and spec.",
    )
    rp.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    rp.add_argument("--html", required=True, help="output HTML file")
    rp.set_defaults(func=cmd_report)

    se = sub.add_parser(
        "sensitivity",
        help="fit variants of a spec along an axis and compare their doubling times",
        description="Variants of BASE_SPEC along an axis: d0 (1T to 20T tokens), frontier (stochastic frontier "
        "half-normal / exponential, mean trend, records, quantile regression at q=0.9), models (with and without "
        "quantized / compressed models, MoE by activated or total parameters, release-date windows), priors "
        "(prior swaps), benchmarks (joint specs: all 31 subsets of the five benchmarks on the published "
        "per-benchmark scores; trend specs: MMLU-CF vs MMLU vs AVERAGE densities), or all (every axis but "
        "benchmarks). Variants that differ only in their data (subsets of models or benchmarks, D0, parameter "
        "basis) share one compiled model (nutpie; --no-reuse compiles each). A failure is a row, not a crash; "
        "results already in OUT for the same spec and data are reused. Writes sensitivity.csv (.md, .tex), "
        "sensitivity.json, every variant's spec and result, and a forest plot of the doubling times.",
    )
    se.add_argument("spec", nargs="?", default="default", help="base spec name or path (default: default)")
    se.add_argument("--axis", required=True, choices=["d0", "frontier", "models", "priors", "benchmarks", "all"])
    se.add_argument("--out", default="results/sensitivity", help="output directory (default results/sensitivity)")
    se.add_argument("--seed", type=cliargs.seed, default=1, help="random seed, 0 to 2**32-1")
    se.add_argument("--profile", choices=["default", "fast", "thorough"], default=None)
    se.add_argument(
        "--workers", type=cliargs.positive_int, default=2, help="parallel fits (local processes; default 2)"
    )
    se.add_argument("--scheduler", metavar="ADDRESS", default=None, help=SCHEDULER_HELP)
    se.add_argument("--no-reuse", action="store_true", help="compile every variant's model (no shared models)")
    se.add_argument("--json", action="store_true")
    se.set_defaults(func=cmd_sensitivity)

    cm = sub.add_parser(
        "compare",
        help="PSIS-LOO comparison of specs fitted on the same data, with stacking weights",
        description="Compare result files of specs fitted on the same data (e.g. stochastic frontier vs mean trend "
        "vs quantile regression): PSIS-LOO over models with each model's latent density integrated out (in closed "
        "form for trend specs, on a grid for joint specs), stacking weights, Pareto-k warnings, and the doubling "
        "time averaged over the specs by the weights.",
    )
    cm.add_argument("results", nargs="+", type=Path, help="result files (.nc) of specs fitted on the same data")
    cm.add_argument("--json", action="store_true")
    cm.set_defaults(func=cmd_compare)

    ps = sub.add_parser(
        "power-scaling",
        help="prior and likelihood sensitivity of a saved fit by power-scaling (no refit)",
        description="Power-scaling sensitivity (ArviZ psense; Kallioinen et al. 2024): how much the posterior of "
        "the growth rate, the intercept and the loss-law exponents would move if the priors (top-level only) or "
        "the likelihood were raised to a power near 1, by Pareto-smoothed importance sampling on the saved "
        "draws. Prior sensitivity >= 0.05 flags an informative prior; with likelihood sensitivity >= 0.05 as "
        "well, a prior-data conflict. Also lists, for the growth rate, each prior's own effect.",
    )
    ps.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=cmd_power_scaling)

    fw = sub.add_parser(
        "validate-forward",
        help="time-forward validation: fit before a cut-off, score predictions of later models",
        description="For each cut-off date, fit the spec on models released before it, then score the "
        "posterior predictive distribution of a new model's log density at the dates of the later models: "
        "coverage of the 94% interval and mean log predictive density; beside it, the paper's recipe (records "
        "+ OLS) on the same training models, extrapolated.",
    )
    fw.add_argument("spec", nargs="?", default="trend_fig2", help="spec name or path (default: trend_fig2)")
    fw.add_argument(
        "--cutoff", action="append", type=cliargs.date, default=None, help="cut-off date YYYY-MM-DD (repeatable)"
    )
    fw.add_argument("--seed", type=cliargs.seed, default=1, help="random seed, 0 to 2**32-1")
    fw.add_argument("--profile", choices=["default", "fast", "thorough"], default="fast")
    fw.add_argument("--workers", type=cliargs.positive_int, default=2, help="parallel fits (local processes)")
    fw.add_argument("--scheduler", metavar="ADDRESS", default=None, help=SCHEDULER_HELP)
    fw.add_argument("--json", action="store_true")
    fw.set_defaults(func=cmd_forward)

    cb = sub.add_parser(
        "calibrate",
        help="simulation-based calibration: are the intervals as wide as they claim?",
        description="Draw parameters from the prior, simulate data of the shipped data's shape, fit, and record "
        "the rank of the truth among posterior draws for the growth rate, the intercept, the loss-law exponents "
        "(joint specs) and three model densities; report a chi-squared test of uniform ranks and the coverage of "
        "50% and 94% intervals (Talts et al. 2018). Each batch of simulations is fitted on one compiled model "
        "(nutpie). --plot writes the rank histograms and ECDF-difference plots.",
    )
    cb.add_argument("spec", nargs="?", default="trend_fig2", help="spec name or path (default: trend_fig2)")
    cb.add_argument(
        "--sims", type=cliargs.positive_int, default=20, help="number of simulations (>= 200 for a real check)"
    )
    cb.add_argument("--profile", choices=["default", "fast", "thorough"], default="fast")
    cb.add_argument("--workers", type=cliargs.positive_int, default=2, help="parallel batches (local processes)")
    cb.add_argument("--scheduler", metavar="ADDRESS", default=None, help=SCHEDULER_HELP)
    cb.add_argument("--out", default=None, help="write all ranks and the summary as JSON to this file")
    cb.add_argument("--plot", default=None, help="write rank histograms and ECDF differences to this PNG/PDF/SVG")
    cb.add_argument("--json", action="store_true")
    cb.set_defaults(func=cmd_calibrate)

    sp = sub.add_parser(
        "spec",
        help="list, check or show model specs",
        description="list: shipped specs. check NAME|PATH: validate a spec. show NAME|PATH: "
        "the spec text and every prior it resolves to.",
    )
    sp.add_argument("action", choices=["list", "check", "show"])
    sp.add_argument("name", nargs="?", default="default", help="spec name or path (default: default)")
    sp.set_defaults(func=cmd_spec)
