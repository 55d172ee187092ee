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


def cmd_modes(args: argparse.Namespace) -> int:
    from . import jsonout, modes
    from .spec import load_spec

    spec = load_spec(args.spec)
    table = {b: modes.mode_table(spec, b) for b in spec.data.benchmarks}
    if args.json:
        print(jsonout.dumps({"spec": spec.name, "residuals": spec.layers.loss_residuals, "modes": table}))
        return 0

    def w(x: float | None) -> str:
        return "   -" if x is None else f"{x:4.2f}"

    print(
        f"Loss-law modes of spec '{spec.name}' ({spec.layers.loss_residuals} residuals; least squares from "
        f"{len(modes.ALPHA_STARTS) * len(modes.BETA_STARTS)} starts on each benchmark's reference runs)"
    )
    print("benchmark   alpha  beta   RSS      starts  weight: wide  spec's a,b   paper's alpha  spec's alpha prior")
    for bench, rows in table.items():
        for r in rows:
            paper = "" if r["paper_alpha"] is None else f"{r['paper_alpha']:.3f}" + (" (this)" if r["is_paper"] else "")
            anchor = {True: "covers it", False: "excludes it", None: "not anchored"}[r["in_spec_prior"]]
            print(
                f"{bench:10s}  {r['alpha']:5.3f}  {r['beta']:5.3f}  {r['rss']:.5f}  {r['starts']:6d}  "
                f"{w(r['weight_vague']):>12s}  {w(r['weight_spec']):>11s}   {paper:14s} {anchor}"
            )
    print(
        "weight: each mode's share of the Laplace evidence under wide priors centred on no mode, and under the\n"
        "spec's priors for a and b ('-': those priors leave no posterior mode there). 'this': the mode is the\n"
        "paper's (alpha within 0.3 in log of the published exponent). The spec's alpha prior covers a mode whose\n"
        "alpha lies within 2 of its log-normal sds; an anchor that excludes every well-fitting mode decides the\n"
        "answer without the data (README, What we found)."
    )
    return 0


def add_commands(sub: Any) -> None:
    from .structural import MEMBER_SAMPLER as ms
    from .structural import REFIT_CHAINS_FACTOR, REFIT_TARGET_ACCEPT

    md = sub.add_parser(
        "modes",
        help="the modes of each benchmark's reference loss law, their evidence, and where the spec's prior sits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Find every least-squares optimum of L = a N^-alpha + b D^-beta on each of the spec's benchmarks'\n"
            "reference runs (on the spec's residual scale), weigh them by their Laplace evidence under wide\n"
            "priors and under the spec's priors for a and b, and say which one is the paper's and whether the\n"
            "spec's prior on alpha covers it. Nothing is sampled (a few seconds per benchmark)."
        ),
        epilog=(
            "examples:\n"
            "  bayesdense modes                    AVERAGE, the default spec's benchmark\n"
            "  bayesdense modes multibench         the five benchmarks the paper averages\n"
            "  bayesdense modes multibench --json  the same as JSON"
        ),
    )
    md.add_argument("spec", nargs="?", default="default", help="shipped spec name or TOML path (default: default)")
    md.add_argument("--json", action="store_true", help="print the modes as JSON")
    md.set_defaults(func=cmd_modes)

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
            "seed, versions), which `bayesdense fit --structural FILE` shows beside the conditional result.\n"
            f"Each member runs the spec's sampler with {ms['chains']} chains x {ms['draws']} draws after "
            f"{ms['tune']} tuning steps; one that\n"
            f"fails a convergence check is refitted once in its worker (target acceptance {REFIT_TARGET_ACCEPT} "
            "if it diverged,\n"
            f"else {REFIT_CHAINS_FACTOR} x the chains). Members already in OUT/members from the same spec and "
            "data are reused,\n"
            "so an interrupted study resumes. The default spec's 24 members take about 4 minutes on 2 cores."
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
