"""``bayesdense structural``: the structural study behind the headline's second interval."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import cliargs


def cmd_structural(args: argparse.Namespace) -> int:
    from . import jsonout, structural
    from .spec import load_spec

    spec = load_spec(args.spec)
    structural.check_spec(spec)  # refused before anything is fitted
    out = cliargs.writable_dir(args.out, "--out")
    mem, found = structural.members(spec, mode_weights=args.mode_weights)
    if not args.json:
        print(
            f"Structural study of spec '{spec.name}': {len(mem)} members (every combination of "
            f"{', '.join(mem[0]['levels'])}), fitted into {out / 'members'} "
            "(a member already fitted from the same spec and data is reused).",
            file=sys.stderr,
        )
        for resid, ms in found.items():
            for m in ms:
                print(
                    f"  loss-law mode ({resid} residuals): alpha = {m['alpha']:.3f}, beta = {m['beta']:.3f}, "
                    f"RSS {m['rss']:.5f}, weight {m['weight']:.3f}",
                    file=sys.stderr,
                )
    rec = structural.run(
        spec, out, seed=args.seed, mode_weights=args.mode_weights, workers=args.workers, planned=(mem, found)
    )
    path = structural.record_path(spec, out, args.mode_weights)
    rec["record_file"] = str(path)
    if args.json:
        print(jsonout.dumps(rec))
        return 0
    print(structural.format_structural(structural.headline(rec)))
    print(f"\nRecorded in {path}; `bayesdense fit {spec.name} --structural {path}` prints it beside the fit.")
    return 0


def add_commands(sub: Any) -> None:
    st = sub.add_parser(
        "structural",
        help="the doubling time over the modelling choices the data cannot settle (structural interval)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fit every combination of four modelling choices and mix the posteriors with stated weights:\n"
            "  loss_law_mode   each mode of the reference loss law (found by a multi-start search), weighted by\n"
            "                  the data (Laplace evidence under wide priors) or, with --mode-weights paper, all\n"
            "                  weight on the paper's mode\n"
            "  loss_residuals  log or linear residuals of the reference losses (declared 1/2 each)\n"
            "  frontier        the spec's frontier or the paper's running-maximum records + OLS (1/2 each)\n"
            "  window          all models, released from 2023-09-01, released to 2024-09-30 (1/2, 1/4, 1/4)\n"
            "Prints the mixture's 94% equal-tailed interval for the growth rate and doubling time, each\n"
            "choice's share of the variance, and writes OUT/structural_SPEC.json (spec and data hashes,\n"
            "seed, versions), which `bayesdense fit --structural FILE` shows beside the conditional result."
        ),
        epilog=(
            "examples:\n"
            "  bayesdense structural                        the default spec, members under results/structural/\n"
            "  bayesdense structural default --mode-weights paper   only the paper's loss-law mode (12 members)\n"
        ),
    )
    st.add_argument("spec", nargs="?", default="default", help="shipped spec name or TOML path (default: default)")
    st.add_argument("--out", default="results/structural", help="directory for the members and the record")
    st.add_argument("--seed", type=cliargs.seed, default=1, help="sampler seed of every member (default 1)")
    st.add_argument(
        "--mode-weights",
        choices=["data", "paper"],
        default="data",
        help="data: weigh the loss-law modes by their evidence; paper: only the paper's mode",
    )
    st.add_argument("--workers", type=cliargs.positive_int, default=2, help="worker processes (default 2)")
    st.add_argument("--json", action="store_true", help="print the whole record as JSON")
    st.set_defaults(func=cmd_structural)
