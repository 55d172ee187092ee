"""``bayesdense fit``, ``summary`` and ``spec``: thin wrappers over fit / io / quantities."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from . import cliargs, jsonout
from .summary import format_summary as format_summary  # re-exported; its home is summary.py
from .summary import num as _num


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
    from . import structural

    # the structural study is looked up (and a stale or broken one refused) before sampling
    struct, why_not = structural.lookup(spec, args.structural)
    if args.structural and struct is None:
        raise cliargs.ArgumentError(f"--structural: {why_not}")
    tree = fit.fit(spec, seed=args.seed, profile=args.profile, progress=not args.no_progress, sampler=args.sampler)
    io.save(tree, path)
    summary = quantities.summary(tree, result_file=str(path))
    summary["structural"] = structural.headline(struct) if struct else None
    if struct is None:
        summary.setdefault("null_reasons", {})["structural"] = why_not
    rc = _emit(summary, args)
    if not args.json:
        print("\n" + structural.format_structural(summary["structural"], why_not))
    return rc


def cmd_rerun(args: argparse.Namespace) -> int:
    import json as _json

    from . import fit, io, quantities
    from .spec import parse_spec

    old = io.load(args.result)
    spec = parse_spec(str(old.attrs["spec_text"]), f"{args.result} (recorded spec)")
    for key in spec.data_files:  # your files as resolved when fitted
        attr = fit.FILE_ATTRS[key]
        if attr not in old.attrs:
            continue
        recorded = str(old.attrs[attr])
        if not Path(recorded).is_file():
            raise cliargs.ArgumentError(
                f"{args.result}: the file it was fitted on (spec data.{key}), {recorded} (attribute '{attr}'), "
                "no longer exists; restore it to rerun"
            )
        spec = spec.model_copy(update={"data": spec.data.model_copy(update={key: recorded})})
    settings = _json.loads(str(old.attrs.get("sampler", "{}")))
    if fit.data_hash_of(spec) != old.attrs.get("data_hash"):
        print("note: the data changed since this result was written (data hash differs)", file=sys.stderr)
    if settings.get("shared_model_spec"):  # a sensitivity variant fitted on a shared compiled model
        from .shared import SharedModel

        base = parse_spec(settings["shared_model_spec"], f"{args.result} (recorded shared model)")
        new = SharedModel(base, sampler=settings.get("sampler", "nutpie")).fit(
            spec, seed=int(old.attrs["seed"]), profile=settings.get("profile")
        )
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
    if Path(args.result).suffix == ".json":  # a calibration record (`calibrate --out`): its rank plots
        import json

        try:
            cal = json.loads(Path(args.result).read_text(encoding="utf-8"))
            fig = plots.sbc_ranks(cal, width=args.width or "double")
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(
                f"error: {args.result}: not a calibration record written by `bayesdense calibrate --out` ({e!r})",
                file=sys.stderr,
            )
            return 2
        tail = "_posterior" if cal.get("around") == "posterior" else ""
        print(plots.save(fig, Path(args.out) / f"sbc_{cal.get('spec', 'ranks')}{tail}.{args.format}"))
        return 0
    tree = io.load(args.result)
    if args.raw_rates is not None and not args.raw_rates.is_file():
        print(f"error: --raw-rates {args.raw_rates}: no such file", file=sys.stderr)
        return 2
    try:
        paths = plots.write_all(
            tree,
            args.out,
            fmt=args.format,
            width=args.width,
            highlight=args.highlight or (),
            raw_rates_table=args.raw_rates,
        )
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
    text = report.table(io.load(args.result), args.format, top=args.top, headline=args.headline)
    if args.out:
        _write_text_atomic(Path(args.out), text)
        print(args.out)
    else:
        print(text, end="")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import io, report

    cliargs.output_file(args.html, "--html", inputs=[args.result], suffixes=(".html", ".htm"))
    tree = io.load(args.result)
    _write_text_atomic(Path(args.html), report.html_report(tree, structural=report.structural_for(tree)))
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
    print("cut-off      train test  cover94  mean LPD  scale | later records: |log err| ours  paper | paper A")
    for r in rows:
        ours = r["later_records_log_error_ours"]
        paper = r["later_records_log_error_paper"]
        cover, lpd = _num(r["coverage_94"], "7.2f"), _num(r["mean_log_predictive_density"], "8.2f")
        scale = _num(r.get("median_log_ratio_to_published"), "+5.2f")
        print(
            f"{r['cutoff']}  {r['n_train']:5d} {r['n_test']:4d}  {cover}  {lpd}  {scale} "
            f"| {r['n_later_records']:2d} records {_num(ours, '6.2f')}  {_num(paper, '6.2f')} "
            f"| {r['paper_A_per_day']:.5f}"
        )
    print("cover94: share of later models inside the 94% posterior predictive interval at their date.")
    if rows and rows[0].get("density_scale"):
        print(f"Later models' densities: {rows[0]['density_scale']}.")
        print("scale: median log ratio of those densities to the published ones. The paper's records line is")
        print("scored on the published densities (its own scale).")
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
        spec, sims=args.sims, profile=args.profile, workers=args.workers, scheduler=args.scheduler, around=args.around
    )
    if args.out:
        _write_text_atomic(Path(args.out), jsonout.dumps(res))
    if args.plot:
        plots.save(plots.sbc_ranks(res), Path(args.plot))
    if args.json:
        print(jsonout.dumps({k: v for k, v in res.items() if k not in ("ranks", "in_hdi")}))
        return 0
    print(validation.calibration_text(res))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from . import plots, report, sensitivity
    from .spec import load_spec

    base = load_spec(args.spec)
    cliargs.writable_dir(args.out, "--out")
    t0 = time.time()
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
    wall = time.time() - t0
    plots.save(plots.sensitivity_forest(table), Path(args.out) / "sensitivity_forest.png")
    for fmt in ("md", "tex"):
        text = report.sensitivity_table(table, fmt, spec=base.name, seed=args.seed)
        _write_text_atomic(Path(args.out) / f"sensitivity.{fmt}", text)
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
    from .quantities import p_text

    def _p(r: dict[str, Any]) -> str:  # never 1.000 from finitely many draws (tables before n_draws: as a share)
        n = r.get("n_draws")
        if n is None or (isinstance(n, float) and math.isnan(n)):
            return f"{r['p_growth_positive']:.3f}"
        return p_text(r["p_growth_positive"], int(n)).removeprefix("= ")

    print(f"Sensitivity of spec '{base.name}' along '{args.axis}' ({len(table)} variants; 94% intervals)")
    width = max(38, *(len(str(v)) for v in table["variant"]))
    for r in table.to_dict(orient="records"):
        if r.get("error"):
            print(f"  {r['axis']:10s} {r['variant']:{width}s} FAILED: {r['error']}")
            continue
        warn = "" if r["converged"] else "  (convergence warning)"
        print(
            f"  {r['axis']:10s} {r['variant']:{width}s} doubling {_num(r['doubling_days_median'], '6.0f')} days "
            f"[{_num(r['doubling_days_hdi_low'], '.0f')}, {_num(r['doubling_days_hdi_high'], '.0f')}]"
            f"  P(A>0) {_p(r)}{warn}"
        )
    if effect is not None and len(effect) > 1:  # "moves most" needs more than one axis
        top = effect.index[0]
        print(
            f"\nThe '{top}' axis moves the median doubling time most: {effect.loc[top, 'min_days']:.0f} to "
            f"{effect.loc[top, 'max_days']:.0f} days."
        )
    fitted = table[table["error"].fillna("") == ""] if "error" in table else table
    n_ok = int(fitted["converged"].astype(bool).sum()) if "converged" in fitted else 0
    print(
        f"{n_ok} of {len(fitted)} fitted variants pass every convergence check (R-hat <= 1.01, bulk ESS >= 400, "
        f"no divergences, E-BFMI >= 0.3); {wall:.0f} s in all (results reused from OUT included)."
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
    held: tuple[str, ...] = ()
    if s.layers.curves == "paper":
        from .inputs import paper_curves
        from .spec import PAPER_CURVE_KEYS

        held = PAPER_CURVE_KEYS
        paper = paper_curves(s)
        print("\n# curves held at the paper's (layers.curves = 'paper'), in the model's units:")
        for b in s.data.benchmarks:
            print(f"#   {b}: " + ", ".join(f"{k} = {paper.prior(k, b).value:.6g}" for k in held))
    print("\n# resolved priors (spec value or default):")
    for k in DEFAULT_PRIORS:
        if k not in held:
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
        "--structural",
        metavar="FILE",
        default=None,
        help="the structural study to show beside the fit (written by `bayesdense structural`); default: "
        "validation/structural_SPEC.json or results/structural/structural_SPEC.json in the current directory, "
        "used only when its spec and data hashes match (a stale one is named, never used)",
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
        "the growth rate, and per-benchmark doubling times for a result with one frontier per benchmark. Paper "
        "style (8-pt fonts, Okabe-Ito colours, fonts embedded).",
    )
    pl.add_argument(
        "result",
        type=Path,
        help="result file (.nc) written by bayesdense fit, a sensitivity.csv written by bayesdense "
        "sensitivity (then its forest plot only), or a calibration record (.json) written by bayesdense "
        "calibrate --out (then its rank plots only)",
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
    pl.add_argument(
        "--raw-rates",
        type=Path,
        metavar="CSV",
        help="for a benchmarks_hier-style result: a sensitivity.csv from `bayesdense sensitivity --axis "
        "benchmarks`; its single-benchmark rows (each benchmark fitted alone) are drawn beside the "
        "partially pooled rates in benchmark_rates",
    )
    pl.set_defaults(func=cmd_plot)

    tb = sub.add_parser(
        "table",
        help="densities and effective sizes with 94%% HDIs as Markdown, LaTeX or CSV",
        description="One row per model: date, parameters, density and effective size with 94% HDIs, and the "
        "paper's density; or, with --headline, the growth rate and doubling time. Numbers at 3 significant "
        "figures (an interval's ends at its median's decimals); captions name the spec, D0 and seed. LaTeX "
        "uses booktabs, and longtable for tables of more than 25 rows.",
    )
    tb.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    tb.add_argument("--format", choices=["md", "tex", "csv"], default="md", help="table format (default md)")
    tb.add_argument("--out", default=None, help="write to this file instead of standard output")
    tb.add_argument(
        "--top", type=cliargs.positive_int, default=None, metavar="N", help="only the N densest models (default all)"
    )
    tb.add_argument(
        "--headline",
        action="store_true",
        help="the headline table instead: growth rate, doubling time (days, months) with 94%% HDIs, "
        "P(growth rate <= 0), beside the paper's point estimate",
    )
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
        "per-benchmark scores, the four-benchmark ones being leave-one-out; all five on the scores "
        "evaluated as the paper's only, and all five with a per-benchmark offset on the other settings' scores "
        "(data.score_settings = 'offset'); trend specs: MMLU-CF vs MMLU vs AVERAGE densities, and MMLU-CF vs "
        "MMLU on the 28 models of both figures), reference (joint specs on MMLU or HumanEval, e.g. mmlu_scores: "
        "the paper's reference family against the public one, data/public, and yours with data.reference_runs), "
        "entries (leaderboard specs: every entry type, pretrained only, pretrained + continuously pretrained, "
        "without merges, flagged entries kept), or all (every axis but benchmarks, reference and entries). "
        "Variants that differ only "
        "in their data (subsets of models or benchmarks, D0, parameter basis) share one compiled model "
        "(nutpie; --no-reuse compiles each). A failure is a row, not a crash; "
        "results already in OUT for the same spec and data are reused. Writes sensitivity.csv (.md, .tex), "
        "sensitivity.json, every variant's spec and result, and a forest plot of the doubling times.",
    )
    se.add_argument("spec", nargs="?", default="default", help="base spec name or path (default: default)")
    se.add_argument(
        "--axis",
        required=True,
        choices=["d0", "frontier", "models", "priors", "benchmarks", "reference", "entries", "all"],
    )
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
        "coverage of the 94% interval and mean log predictive density. For a joint spec each later model's "
        "density is read from its scores through the training fit's curves, draw by draw, so predictions and "
        "held-out models share one scale ('scale' prints the median log ratio of those densities to the "
        "published ones). Beside it, the paper's recipe (records + OLS) on the same training models, "
        "extrapolated and scored on the published densities, its own scale.",
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
        description="Draw parameters from the prior, simulate data of the shipped data's shape, and fit each "
        "simulation as `bayesdense fit` fits the spec (same sampler and settings; --profile fast only for bounded "
        "runs, and the output says so). Ranks of the truth among 99 posterior draws for the growth rate, the "
        "intercept, every free parameter that is not per model, three model densities and the log likelihood of "
        "the simulated data; chi-squared test of uniform ranks (equal-width bins), coverage of central 50%/94% "
        "intervals and of the 94% HDI (Talts et al. 2018; Modrak et al. 2023). Prints each fit's max R-hat, min "
        "bulk ESS and divergences, the share converged (R-hat <= 1.01, no divergences) and the summaries over all "
        "fits and over converged fits. --plot writes the rank histograms and ECDF-difference plots. --around "
        "posterior (joint specs) draws the parameters from the shipped data's posterior instead and fits each "
        "simulation together with the shipped data (posterior SBC): the check then covers the region where the real "
        "posterior is.",
    )
    cb.add_argument("spec", nargs="?", default="trend_fig2", help="spec name or path (default: trend_fig2)")
    cb.add_argument(
        "--sims", type=cliargs.positive_int, default=20, help="number of simulations (>= 200 for a real check)"
    )
    cb.add_argument(
        "--profile",
        choices=["default", "fast", "thorough"],
        default="default",
        help="sampler settings: default = the spec's own (production); fast (2 x 300) for bounded runs only",
    )
    cb.add_argument(
        "--around",
        choices=["prior", "posterior"],
        default="prior",
        help="prior: parameters from the prior (classic SBC); posterior (joint specs): parameters from the posterior "
        "of the shipped data, each simulation fitted together with the shipped data (posterior SBC, Saeilynoja et "
        "al. 2025): checks the sampler where the real posterior is",
    )
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
