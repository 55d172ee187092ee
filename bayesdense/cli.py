"""The ``bayesdense`` command: parses arguments, calls the library, prints. Nothing else."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

EPILOG = """\
examples:
  bayesdense fit                          Bayesian fit of the default spec on the shipped data
  bayesdense fit models/records.toml --seed 2 --out results/
  bayesdense summary results/default-seed1.nc   reprint a saved fit (no refit)
  bayesdense rerun results/default-seed1.nc     refit from what the file records; same summary?
  bayesdense plot results/default-seed1.nc --format pdf   figures for a paper
  bayesdense sensitivity --axis frontier  how much the frontier definition moves the doubling time
  bayesdense power-scaling results/default-seed1.nc   which priors the posterior leans on
  bayesdense calibrate default --sims 200 --plot sbc.png   are the 94% intervals really 94%?
  bayesdense reproduce --figure fig1      the paper's own point estimates, reproduced
  bayesdense data check                   validate every shipped table against its schema and hash

All intervals are 94% highest-density intervals (HDI). Growth rates are per day; doubling time
= ln 2 / growth rate, in days and in months of 30.44 days. t = 0 is 2023-02-24 (Llama-1).
"""


class UserError(Exception):
    """An error whose message is the whole story (no traceback unless --debug)."""


def _print_json(obj: Any) -> None:
    from . import jsonout

    print(jsonout.dumps(obj))


# ----------------------------------------------------------------------------- reproduce
def _fmt_trend(r: dict[str, Any], indent: str = "  ") -> str:
    return (
        f"{indent}records ({r['n_records']}): {', '.join(r['records'])}\n"
        f"{indent}A = {r['A_per_day']:.5f} per day   B = {r['B']:.3f}   R^2 = {r['r2']:.3f}\n"
        f"{indent}doubling time = {r['doubling_time_days']:.1f} days = {r['doubling_time_months']:.2f} months"
    )


def cmd_reproduce(args: argparse.Namespace) -> int:
    from . import classical

    r = classical.reproduce(args.figure)
    if args.json:
        _print_json(r)
        return 0
    print(f"Paper-faithful reproduction of NMI {args.figure} ({r['n_models']} models, table '{r['table']}'):")
    print("running-maximum records in date order, then OLS of ln(density) on days since 2023-02-24")
    if args.figure == "fig3c":
        for key, label in (("pre_chatgpt", "before ChatGPT (2022-11-30)"), ("post_chatgpt", "after ChatGPT")):
            print(f"\n {label}, {r[key]['n_models']} models:")
            print(_fmt_trend(r[key]))
        print(
            f"\n growth-rate ratio after/before = {r['rate_ratio_post_over_pre']:.2f} "
            "(point estimates on 3 and 6 records; no uncertainty)"
        )
    else:
        print(_fmt_trend(r))
    return 0


# ----------------------------------------------------------------------------- data
def cmd_data(args: argparse.Namespace) -> int:
    from . import classical, data

    if args.action == "list":
        for name, info in data.manifest().items():
            flag = "digitized from figures" if info.digitized_from_figures else "compiled from sources"
            print(f"{name:18s} {info.file:34s} {flag}\n{'':18s} {info.description}\n{'':18s} source: {info.source}")
        return 0
    if args.action == "check":
        failed = 0
        for name, info in data.manifest().items():
            try:
                df = data.load_table(name)
                print(f"ok    {name:18s} {len(df):4d} rows  sha256 {info.sha256[:12]}  ({info.file})")
            except data.DataError as e:
                failed += 1
                print(f"FAIL  {name}: {e}")
        if args.file and args.spec and args.kind == "own_scores":  # the benchmarks of the spec's own family
            from .inputs import own_scores_table
            from .spec import load_spec

            df = own_scores_table(args.file, load_spec(args.spec))
            print(f"ok    {args.file}: {len(df)} rows of kind '{args.kind}' (benchmarks of spec {args.spec})")
        elif args.file:
            df = data.validate_file(args.file, args.kind)
            print(f"ok    {args.file}: {len(df)} rows of kind '{args.kind}'")
        return 1 if failed else 0
    if args.action == "implied-scores":
        df = classical.implied_scores(d0=args.d0, benchmark="AVERAGE")
        if args.json:
            _print_json(df.to_dict(orient="records"))
        else:
            print(df.to_csv(index=False), end="")
        return 0
    raise UserError(f"unknown data action {args.action}")


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from . import cliargs

    p = argparse.ArgumentParser(
        prog="bayesdense",
        description="Bayesian densing law of LLMs: how fast capability density (effective parameters per "
        "real parameter) grows, with posteriors instead of point estimates.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    r = sub.add_parser(
        "reproduce",
        help="the paper's point-estimate trend lines, reproduced from the shipped figure data",
        description="Reproduce the paper's densing-law fit from shipped figure densities: keep models that set a "
        "new running maximum of density in date order, fit ln(density) = A t + B by ordinary least squares "
        "(t in days since 2023-02-24), doubling time = ln 2 / A. fig3c fits before and after ChatGPT separately.",
    )
    r.add_argument(
        "--figure",
        choices=["fig1", "fig2", "fig3c"],
        default="fig1",
        help="fig1: 51 models, 5-benchmark average (default); fig2: MMLU-CF; fig3c: MMLU, pre/post ChatGPT",
    )
    r.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    r.set_defaults(func=cmd_reproduce)

    d = sub.add_parser(
        "data",
        help="list, validate or derive the shipped tables",
        description="list: every shipped table with its source. check: validate every table against its schema "
        "and manifest hash (and, with --file/--kind, a table of your own). implied-scores: the AVERAGE score "
        "that each Fig. 1 density implies through the paper's curves (a reconstruction, CSV).",
    )
    d.add_argument("action", choices=["list", "check", "implied-scores"])
    d.add_argument("--file", type=Path, help="with check: also validate this CSV file")
    d.add_argument(
        "--kind",
        default="densities",
        help="with --file: the table kind; yours are own_scores (target models), reference_runs and "
        "own_link_points (a reference family of your own); the shipped kinds are "
        "reference_losses, link_points, curve_parameters, densities, scores, models, api_prices",
    )
    d.add_argument(
        "--spec",
        help="with --file --kind own_scores: allow the benchmarks of this spec's own reference family "
        "(data.reference_runs), e.g. --spec examples/own_family/spec.toml",
    )
    d.add_argument(
        "--d0",
        type=cliargs.d0_tokens,
        default=5e12,
        help="with implied-scores: reference tokens D0, 1e9 to 1e15 (default 5e12)",
    )
    d.add_argument("--json", action="store_true", help="with implied-scores: JSON records instead of CSV")
    d.set_defaults(func=cmd_data)

    _add_fit_commands(sub)
    __import__("bayesdense.cli_import").cli_import.add_commands(sub)
    __import__("bayesdense.cli_scaling_law").cli_scaling_law.add_commands(sub)
    __import__("bayesdense.cli_structural").cli_structural.add_commands(sub)
    __import__("bayesdense.cli_place").cli_place.add_commands(sub)
    __import__("bayesdense.priorcheck").priorcheck.add_commands(sub)
    return p


def _add_fit_commands(sub: Any) -> None:
    from . import cli_fit

    cli_fit.add_commands(sub)


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM: unwind like Ctrl-C (so a half-written result's temporary file is removed), exit 143."""
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    from .cliargs import ArgumentError
    from .data import DataError
    from .io import ResultError
    from .spec import SpecError

    on_main_thread = threading.current_thread() is threading.main_thread()  # signals can only be set there
    old_handler = signal.signal(signal.SIGTERM, _terminated) if on_main_thread else None
    try:
        return func(args)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written (results are written only when complete)", file=sys.stderr)
        return 130
    except SystemExit as e:
        if e.code == 143:
            print("\nterminated: nothing was written (results are written only when complete)", file=sys.stderr)
            return 143
        raise
    except (
        ArgumentError,
        UserError,
        DataError,
        SpecError,
        ResultError,
        KeyError,
        OSError,
        ValueError,
    ) as e:
        if args.debug:
            raise
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        if isinstance(e, OSError) and e.filename and str(e.filename) not in msg:
            msg = f"{e.filename}: {e.strerror or msg}"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, old_handler if old_handler is not None else signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
