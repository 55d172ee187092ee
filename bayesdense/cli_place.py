"""``bayesdense place`` and ``bayesdense forecast``: thin wrappers over :mod:`bayesdense.place`."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from . import cliargs, jsonout
from .cli_import import _params
from .quantities import CI_LABEL

EPILOG_PLACE = """\
examples:
  bayesdense place results/mine-seed1.nc --model My-7B
  bayesdense place results/mine-seed1.nc --model My-7B --json > my-7b.json
  bayesdense place results/mine-seed1.nc --model My-7B --plot figures/my-7b.png
  bayesdense place results/default-seed1.nc --model MiniCPM3-4B     a fitted model works too

A placed model comes from a spec with [data] extra_models = "scores.csv" (an own_scores CSV, e.g.
written by `bayesdense import lm-eval`): its density is drawn given each posterior draw of the fit,
so it never moves the frontier it is judged against. Printed, with 94% HDIs: density and effective
size, the frontier density at the release date, density / frontier (the ratio), P(above the
frontier's median line), and the rank among the fitted models released within +-3 months.
Nothing is refitted: everything comes from the result file.
"""

EPILOG_FORECAST = """\
examples:
  bayesdense forecast results/default-seed1.nc --date 2026-06-01
  bayesdense forecast results/default-seed1.nc --date 2026-06-01 --params 7e9
  bayesdense forecast results/default-seed1.nc --target-score 60 --params 7B
  bayesdense forecast results/multi-seed1.nc --target-score 70 --params 7B --benchmark MMLU --json

--date: the frontier density then (exp of the fitted line), and with --params N the effective size
of an N-parameter model on the frontier (N x frontier density). --target-score S --params N: the
posterior of the date at which a frontier model of N parameters scores S (on the result's benchmark,
or --benchmark): S is inverted through each draw's link and loss law at D0 to the effective size it
needs, and the line gives the date. Both extrapolate the fitted straight line: the output says so.
"""


def _iv(d: dict[str, Any], fmt: str = ".3g") -> str:
    def f(x: Any) -> str:
        return "unbounded" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)

    return f"{f(d['median'])} [{f(d['hdi_low'])}, {f(d['hdi_high'])}]"


def format_place(r: dict[str, Any]) -> str:
    rank = r["rank"]
    lines = [
        f"{r['model']}: released {r['release_date']}, {r['params'] / 1e9:.3g}B parameters  (intervals: {CI_LABEL})",
        f"  {r['placed_note']}",
        "  scores used: " + ", ".join(f"{s['benchmark']} {s['score']:.1f}" for s in r["scores"]),
        "",
        f"  density                     {_iv(r['density'])}",
        f"  effective size              {_iv(r['effective_params'])} billion parameters",
        f"  frontier density at release {_iv(r['frontier_density_at_release'])}",
        f"  density / frontier          {_iv(r['ratio_to_frontier'])}",
        f"  P(above the frontier's median line) = {r['p_above_frontier']:.3f}",
        f"  point density {r['point_density']:.3g}: {r['point_density_source']}",
    ]
    if rank["n_compared"]:
        pd_ = rank["per_draw"]
        lines.append(
            f"  rank among fitted models released within +-{rank['window_months']:g} months: {rank['by_median']} of "
            f"{rank['of']} by median density (draw by draw: {pd_['median']:.0f} [{pd_['hdi_low']:.0f}, "
            f"{pd_['hdi_high']:.0f}])"
        )
        top = rank["neighbours"][:5]
        lines.append("    densest neighbours: " + ", ".join(f"{n['model']} {n['density_median']:.3g}" for n in top))
    else:
        lines.append(f"  rank: {rank['note']}")
    if r.get("warning"):
        lines.append(f"WARNING: {r['warning']}")
    return "\n".join(lines)


def cmd_place(args: argparse.Namespace) -> int:
    from . import io, place

    if args.plot:
        cliargs.output_file(args.plot, "--plot", inputs=[args.result], suffixes=(".png", ".pdf", ".svg"))
    tree = io.load(args.result)
    res = place.place(tree, args.model, window_months=args.window_months)
    res["result_file"] = str(args.result)
    if args.plot:
        from . import plots

        fig = plots.density_vs_date(place.with_placed(tree), width=args.width, highlight=[args.model])
        res["figure"] = str(plots.save(fig, Path(args.plot)))
    if args.json:
        print(jsonout.dumps(res))
        return 0
    print(format_place(res))
    if args.plot:
        print(f"\nFigure (density_vs_date, {args.model} highlighted): {res['figure']}")
    return 0


def format_forecast(r: dict[str, Any]) -> str:
    lines = []
    if "frontier_density" in r:
        lines += [
            f"Frontier on {r['date']} ({r['months_beyond_data']:.1f} months after the last fitted release; "
            f"{r['trend']}; {CI_LABEL}):",
            f"  frontier density            {_iv(r['frontier_density'])}",
        ]
        if "effective_params_at_frontier" in r:
            lines.append(
                f"  a {r['params'] / 1e9:.3g}B model on the frontier: effective size "
                f"{_iv(r['effective_params_at_frontier'])} billion parameters"
            )
    if "target" in r:
        t = r["target"]

        def when(k: str) -> str:
            day = t["t_days"][k]
            return t["date"][k] or ("never" if day is None or day > 0 else "at any date (below the floor)")

        need = t["required_density_median"]
        lines += [
            f"When does a {t['params'] / 1e9:.3g}B model on the frontier score {t['target_score']:g} on "
            f"{t['benchmark']}? ({t['trend']}; {CI_LABEL})",
            f"  date                        {when('median')} [{when('hdi_low')}, {when('hdi_high')}]",
            "  density it needs (median)   "
            + (f"{need:.3g}" if need is not None else "unreachable (beyond the loss law at D0)"),
        ]
        if t["p_never"] > 0:
            lines.append(f"  never reached in {t['p_never']:.1%} of the draws ({t['p_never_reason']})")
    lines += ["", "Caveat: " + (r.get("caveat") or r["target"]["caveat"])]
    return "\n".join(lines)


def cmd_forecast(args: argparse.Namespace) -> int:
    from . import io, place

    if args.date is None and args.target_score is None:
        raise cliargs.ArgumentError(
            "give --date YYYY-MM-DD (frontier density then; add --params N for an N-parameter model's effective "
            "size), or --target-score S --params N (the date the frontier reaches S at that size)"
        )
    if args.target_score is not None and args.params is None:
        raise cliargs.ArgumentError("--target-score needs --params N (the model size whose score is forecast)")
    if args.benchmark and args.target_score is None:
        raise cliargs.ArgumentError("--benchmark goes with --target-score")
    tree = io.load(args.result)
    res: dict[str, Any] = {"result_file": str(args.result)}
    if args.date is not None:
        res.update(place.forecast(tree, date=args.date, params=args.params))
    if args.target_score is not None:
        res["target"] = place.target_date(tree, score=args.target_score, params=args.params, benchmark=args.benchmark)
    if args.json:
        print(jsonout.dumps(res))
    else:
        print(format_forecast(res))
    return 0


def _score(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a score in percent (e.g. 60)") from None
    if not 0 < v < 100:
        raise argparse.ArgumentTypeError(f"{text}: a score is in percent, 0 < score < 100")
    return v


def _months(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of months") from None
    if not 0 < v <= 120:
        raise argparse.ArgumentTypeError(f"{text}: months must be > 0 and <= 120")
    return v


def add_commands(sub: Any) -> None:
    pl = sub.add_parser(
        "place",
        help="where a model sits against the fitted frontier (density, ratio, P(above), rank)",
        description="Place one model (a placed model from [data] extra_models, or any fitted model) against the "
        "posterior frontier of a saved result: density and effective size with 94% HDIs, the frontier at its "
        "release date, density / frontier with its interval, P(density above the frontier's median line), its "
        "rank among the fitted models released within +-3 months, and optionally the density_vs_date figure "
        "with the model highlighted. Nothing is refitted.",
        epilog=EPILOG_PLACE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pl.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    pl.add_argument("--model", required=True, metavar="NAME", help="model name as in the scores file")
    pl.add_argument(
        "--window-months",
        type=_months,
        default=3.0,
        help="rank among fitted models released within this many months (default 3)",
    )
    pl.add_argument("--plot", default=None, metavar="FILE", help="write density_vs_date (.png/.pdf/.svg) here")
    pl.add_argument("--width", choices=["single", "double"], default="double", help="figure width (default double)")
    pl.add_argument("--json", action="store_true", help="print one JSON object (the documented contract)")
    pl.set_defaults(func=cmd_place)

    fc = sub.add_parser(
        "forecast",
        help="the frontier at a future date, or the date the frontier reaches a score (extrapolated)",
        description="Extrapolate the posterior frontier of a saved result: its density at --date (with --params, "
        "the effective size of a model that size on the frontier), or with --target-score S --params N the "
        "posterior of the date at which a frontier model of N parameters reaches score S. 94% HDIs. The output "
        "states the extrapolation caveat.",
        epilog=EPILOG_FORECAST,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fc.add_argument("result", type=Path, help="result file (.nc) written by bayesdense fit")
    fc.add_argument("--date", type=cliargs.date, default=None, help="date YYYY-MM-DD of the forecast")
    fc.add_argument("--params", type=_params, default=None, help="raw parameter count: 7000000000, 7e9 or 7B")
    fc.add_argument("--target-score", type=_score, default=None, metavar="S", help="score in percent to reach")
    fc.add_argument(
        "--benchmark", default=None, help="benchmark of --target-score (default: the result's only benchmark)"
    )
    fc.add_argument("--json", action="store_true", help="print one JSON object")
    fc.set_defaults(func=cmd_forecast)
