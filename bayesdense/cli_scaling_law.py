"""``bayesdense scaling-law``: the loss law on a table of your own runs (thin: parse, call, print)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import cliargs, jsonout

DESCRIPTION = """\
Fit the scaling law L(N, D) = [E +] a N^-alpha + b D^-beta on a table of training runs (a CSV with
columns params and tokens as raw counts, loss, optionally benchmark) with PyMC, print the posterior
of E, a, alpha, b, beta (94% HDIs), the compute-optimal split at --compute FLOPs (C = 6 N D) and
convergence diagnostics beside the classical answer (Huber loss on log loss, as in Hoffmann et al.
2022 and Besiroglu et al. 2024), and save a result file and a figure. Given a result file (.nc)
instead of a CSV, reprint and replot it without refitting. N is in billions of parameters and D in
trillions of tokens, so a is the N-term at 1B parameters and b the D-term at 1T tokens.
"""

EPILOG = """\
examples:
  bayesdense scaling-law runs.csv --irreducible                    E + a N^-alpha + b D^-beta, Normal on log loss
  bayesdense scaling-law runs.csv --irreducible --likelihood student_t --json
  bayesdense scaling-law runs.csv --benchmark MMLU --scale loss   one loss of a multi-benchmark table
  bayesdense scaling-law results/scaling-law-runs-seed1.nc --compute 1e24   reprint at another budget

Priors (weakly informative, in data units; printed with --json under "priors"): alpha, beta
LogNormal with median 0.3; each reducible term at the runs' geometric-mean size/tokens LogNormal with
median = median loss / 2 (/ 4 with E), sigma 1.25; E LogNormal with median = smallest loss / 2,
sigma 0.75; residual scale HalfNormal(0.1) on log loss (0.1 x median loss on the loss scale);
Student-t degrees of freedom Gamma(2, 0.1).

Student-t residuals and the Huber objective: both are robust M-estimation, limiting the pull of a
few runs that sit far off the law (a diverged or mis-logged run). Minimising the Huber loss on log
loss (delta = 1e-3) is maximum likelihood under a density that is Gaussian in its core and Laplace
(exponential) in its tails: an outlier's influence is capped but never falls to zero, and the
threshold delta is fixed by hand rather than estimated. Student-t residuals are a proper
generative model with heavier (polynomial) tails: a gross outlier's influence falls towards zero,
and the tail weight (nu) and the scale are estimated from the runs with the rest of the law, so
their uncertainty reaches the intervals. With few outliers the two agree closely; with many, or
with gross ones, Student-t discounts them more.
"""


def _compute(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of FLOPs (e.g. 1e23)") from None
    if not 1e12 <= v <= 1e32:
        raise argparse.ArgumentTypeError(f"{text} is outside 1e12 .. 1e32 FLOPs")
    return v


def cmd_scaling_law(args: argparse.Namespace) -> int:
    from . import io, plots, scaling_law

    src = Path(args.runs)
    out_dir = cliargs.writable_dir(args.out, "--out")  # checked now, created only when writing
    fit_options = {
        "--irreducible": args.irreducible,
        "--likelihood": args.likelihood,
        "--scale": args.scale,
        "--benchmark": args.benchmark,
    }
    if src.suffix.lower() == ".nc":
        given = [k for k, v in fit_options.items() if v not in (None, False)]
        if given:
            raise cliargs.ArgumentError(
                f"{', '.join(given)}: apply when fitting a runs table; the result file {src} records its own"
            )
        tree = io.load_scaling_law(src)
        path = src
    else:
        runs = scaling_law.load_runs(src, args.benchmark)  # every check before any sampling
        stem = f"scaling-law-{src.stem}" + (f"-{args.benchmark}" if args.benchmark else "")
        path = cliargs.inside(out_dir / f"{stem}-seed{args.seed}.nc", out_dir, "the result file")
        cliargs.output_file(path, "--out", inputs=[src])
        if not args.json:
            print(f"Fitting the scaling law on {len(runs)} runs of {src}; sampler output follows.", file=sys.stderr)
        from .data import sha256_of

        tree = scaling_law.fit(
            runs,
            irreducible=bool(args.irreducible),
            likelihood=args.likelihood or "normal",
            scale=args.scale or "log",
            seed=args.seed,
            profile=args.profile,
            sampler=args.sampler,
            progress=not (args.no_progress or args.json),
            source=src.name,
            source_sha256=sha256_of(src),
        )
        io.save(tree, path)
    fig_path = cliargs.inside(out_dir / f"{path.stem}.{args.format}", out_dir, "the figure")
    plots.save(scaling_law.figure(tree, compute=args.compute), fig_path)
    s = scaling_law.summary(tree, compute=args.compute, result_file=str(path))
    s["figure"] = str(fig_path)
    prior_fig = scaling_law.prior_figure(tree)
    if prior_fig is not None:
        prior_path = cliargs.inside(out_dir / f"{path.stem}-prior.{args.format}", out_dir, "the figure")
        plots.save(prior_fig, prior_path)
        s["prior_figure"] = str(prior_path)
    if args.json:
        print(jsonout.dumps(s))
    else:
        print(scaling_law.format_summary(s))
        print(f"Figure: {fig_path}")
        if s.get("prior_figure"):
            print(f"Prior predictive figure: {s['prior_figure']}")
    if args.strict and s["diagnostics"]["failures"]:
        print("error: --strict: " + "; ".join(s["diagnostics"]["failures"]), file=sys.stderr)
        return 4
    return 0


def add_commands(sub: Any) -> None:
    from .fit import PROFILES

    p = sub.add_parser(
        "scaling-law",
        help="fit L = [E +] a N^-alpha + b D^-beta on your own training runs (posterior + classical Huber fit)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "runs", metavar="RUNS.csv|RESULT.nc", help="runs table (params, tokens, loss[, benchmark]) or a saved result"
    )
    p.add_argument(
        "--irreducible", action="store_true", default=None, help="add the irreducible loss E (default: no E)"
    )
    p.add_argument(
        "--likelihood",
        choices=["normal", "student_t"],
        default=None,
        help="residual distribution (default normal); student_t is robust to outlying runs (see below)",
    )
    p.add_argument("--scale", choices=["log", "loss"], default=None, help="residuals on log loss (default) or on loss")
    p.add_argument("--benchmark", default=None, help="with a benchmark column holding several losses: the one to fit")
    p.add_argument(
        "--compute",
        type=_compute,
        default=1e23,
        help="compute budget C = 6 N D in FLOPs for the compute-optimal split (default 1e23)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object (parameters, compute_optimal, diagnostics, ...)"
    )
    p.add_argument("--out", default="results", help="directory for the result file and the figure (default: results/)")
    p.add_argument("--format", choices=["png", "pdf", "svg"], default="png", help="figure format (default png)")
    p.add_argument("--seed", type=cliargs.seed, default=1, help="random seed (default 1)")
    p.add_argument(
        "--profile", choices=list(PROFILES), default=None, help="sampler settings: default, fast or thorough"
    )
    p.add_argument(
        "--sampler",
        choices=["numpyro", "pymc", "nutpie"],
        default="numpyro",
        help="NUTS implementation, always named (default numpyro, as in the default spec)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--strict", action="store_true", help="exit with status 4 if a convergence check fails")
    p.set_defaults(func=cmd_scaling_law)
