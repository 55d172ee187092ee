"""``bayesdense import lm-eval|opencompass``: evaluation results -> an ``own_scores`` CSV (thin)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import jsonout
from .data import EARLIEST_DATE, suggest

if TYPE_CHECKING:
    import pandas as pd

PAPER = "MMLU 5-shot, BBH 3-shot CoT, MATH 4-shot CoT, HumanEval 0-shot, MBPP 3-shot CoT"

EPILOG_LM_EVAL = f"""\
examples:
  lm_eval --model hf --model_args pretrained=my-org/my-7b --tasks mmlu --num_fewshot 5 --output_path out/
  lm_eval --model hf --model_args pretrained=my-org/my-7b \\
      --tasks bbh_cot_fewshot,minerva_math,humaneval,mbpp --confirm_run_unsafe_code --output_path out/
  bayesdense import lm-eval out/my-org__my-7b/results_*.json --release-date 2025-03-01 --params 7.2e9 \\
      --out scores.csv                  both runs' files: one model, five benchmarks
  bayesdense import lm-eval mmlu.json math.json --model My-7B --release-date 2025-03-01 --params 7.2B \\
      --out scores.csv --append          add to an existing file (no duplicate model/benchmark rows)
  bayesdense data check --file scores.csv --kind own_scores

Tasks read: MMLU from mmlu (and its mmlu_flan_* / continuation variants), BBH from bbh_cot_fewshot,
bbh, bbh_fewshot, leaderboard_bbh, MATH from minerva_math or hendrycks_math, HumanEval from
humaneval, MBPP from mbpp. Group scores are used as the file gives them (subtasks folded in);
other tasks are listed and skipped. Fractions become percent. The model name comes from
config.model_args (pretrained=...) unless --model is given, the parameter count from
config.model_num_parameters unless --params is given; the release date always from --release-date
(the file's "date" is when the evaluation ran).

The paper's settings: {PAPER}.
Each score whose n-shot (from the file's "n-shot"), CoT or metric differs, or cannot be checked,
gets a warning line; --strict-setting refuses them. The setting is written to the CSV's `setting`
column, the n-shot to `shots`.
"""

EPILOG_OPENCOMPASS = f"""\
examples:
  bayesdense import opencompass outputs/default/20250301_120000/summary/summary_20250301_120000.csv \\
      --model my-7b-hf=My-7B --release-date 2025-03-01 --params 7.2e9 \\
      --shots MMLU=5,BBH=3,MATH=4,HumanEval=0,MBPP=3 --cot BBH,MATH,MBPP --out scores.csv
  bayesdense import opencompass summary.csv --release-date 2025-03-01 --params 7.2e9 --out scores.csv
                                       a summary with a single model column

Rows read: mmlu and bbh (the summary groups; their lukaemon_mmlu_* / bbh-* subset rows are folded
in), math (accuracy), openai_humaneval (humaneval_pass@1), mbpp (score); other rows are listed
and skipped. Values are percent already. The summary has one column per model abbreviation:
--model ABBR picks one, --model ABBR=NAME picks and renames it.

The paper's settings: {PAPER}.
An OpenCompass summary records neither shots nor CoT: state them with --shots and --cot (what your
dataset configs used), or every score gets a "cannot check" warning (and --strict-setting refuses
them).
"""


class ImportArgumentError(ValueError):
    """A missing or wrong argument; the message names the option and what is allowed."""


# ----------------------------------------------------------------------------- argument types
def _release_date(text: str) -> dt.date:
    try:
        d = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD (the model's release date)") from None
    if not EARLIEST_DATE <= d <= dt.date.today():
        raise argparse.ArgumentTypeError(f"{d} is outside {EARLIEST_DATE} .. today")
    return d


_SUFFIX = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def _params(text: str) -> int:
    t = text.strip().replace("_", "")
    scale = 1.0
    if t[-1:].upper() in _SUFFIX:
        scale, t = _SUFFIX[t[-1].upper()], t[:-1]
    try:
        value = float(t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a parameter count (a raw count such as 7200000000 or 7.2e9, or 7.2B / 350M)"
        ) from None
    if not math.isfinite(value) or value < 1e5:
        raise argparse.ArgumentTypeError(
            f"{text} is too small for a raw parameter count; write 7.2e9 or 7.2B for 7.2 billion"
        )
    return int(round(value))


def _bench(name: str) -> str:
    from .importers import FIVE

    lower = {b.lower(): b for b in FIVE}
    if name.strip().lower() not in lower:
        raise argparse.ArgumentTypeError(
            f"'{name}' is not a benchmark{suggest(name, FIVE)}; allowed: {', '.join(FIVE)}"
        )
    return lower[name.strip().lower()]


def _bench_list(text: str) -> list[str]:
    return [_bench(p) for p in text.split(",") if p.strip()]


def _shots(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in (p for p in text.split(",") if p.strip()):
        name, eq, n = part.partition("=")
        if not eq or not n.strip().isdigit():
            raise argparse.ArgumentTypeError(f"'{part}' is not BENCHMARK=N (e.g. MMLU=5,BBH=3)")
        out[_bench(name)] = int(n)
    return out


# ----------------------------------------------------------------------------- the commands
def _check_out(args: argparse.Namespace) -> None:
    if args.out.exists() and not (args.append or args.force):
        raise ImportArgumentError(
            f"{args.out} exists: --append adds the new rows to it, --force overwrites it (nothing was written)"
        )
    if args.append and args.force:
        raise ImportArgumentError("--append and --force exclude each other")


def _missing(option: str, what: str) -> ImportArgumentError:
    return ImportArgumentError(f"missing {option}: {what} (nothing was written)")


def cmd_lm_eval(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import importers

    _check_out(args)
    imports = [importers.read_lm_eval(p) for p in args.results]
    names = {imp.model: imp for imp in imports if imp.model}
    if args.model:
        model, model_from = args.model, "--model"
    elif len(names) == 1:
        imp = next(iter(names.values()))
        model, model_from = next(iter(names)), f"{imp.model_from} in {Path(imp.source).name}"
    elif len(names) > 1:
        listed = "; ".join(f"{n} ({Path(i.source).name})" for n, i in names.items())
        raise ImportArgumentError(
            f"the files name {len(names)} models ({listed}): import one model per command (use --append to add "
            "the next), or name it with --model if they are one model"
        )
    else:
        raise _missing(
            "--model",
            f"the model's name; {', '.join(str(p) for p in args.results)} record no config.model_args "
            "pretrained=... or model_name",
        )
    found_params = {imp.params: imp for imp in imports if imp.params}
    if args.params:
        params, params_from = args.params, "--params"
    elif len(found_params) == 1:
        imp = next(iter(found_params.values()))
        params, params_from = next(iter(found_params)), f"{imp.params_from} in {Path(imp.source).name}"
    else:
        why = (
            "the files disagree (" + ", ".join(f"{p} in {Path(i.source).name}" for p, i in found_params.items()) + ")"
            if found_params
            else "the files do not record it"
        )
        raise _missing("--params", f"the raw parameter count the density divides by (e.g. 7.2e9 or 7.2B); {why}")
    if args.release_date is None:
        raise _missing(
            "--release-date",
            f"the release date of {model} (YYYY-MM-DD); lm-evaluation-harness files record only when the "
            "evaluation ran",
        )
    rows = pd.concat([imp.rows for imp in imports], ignore_index=True).assign(model=model)
    skipped = [(f"{t} ({Path(imp.source).name})", r) for imp in imports for t, r in imp.skipped]
    folded = {f"{g} ({Path(imp.source).name})": n for imp in imports for g, n in imp.folded.items()}
    return _finish(args, "lm-eval", rows, skipped, folded, model, model_from, params, params_from)


def cmd_opencompass(args: argparse.Namespace) -> int:
    from . import importers

    _check_out(args)
    imp = importers.read_opencompass(args.summary, shots=args.shots, cot=args.cot)
    cols = imp.models
    abbr, _, rename = (args.model or "").partition("=")
    if not args.model:
        if len(cols) > 1:
            raise _missing(
                "--model",
                f"{args.summary} has {len(cols)} model columns ({', '.join(cols)}): --model ABBR picks one, "
                "--model ABBR=NAME picks and renames it",
            )
        abbr, name, model_from = cols[0], cols[0], f"the only model column of {args.summary.name}"
    elif abbr in cols:
        name = rename or abbr
        model_from = f"column {abbr} of {args.summary.name}" + (" renamed by --model" if rename else "")
    elif len(cols) == 1 and not rename:
        abbr, name, model_from = cols[0], args.model, f"--model (the only model column, {cols[0]}, renamed)"
    else:
        raise ImportArgumentError(
            f"--model {args.model}: '{abbr}' is not a model column of {args.summary}{suggest(abbr, cols)}; "
            f"columns: {', '.join(cols)} (nothing was written)"
        )
    if args.params is None:
        raise _missing("--params", f"the raw parameter count of {name} (e.g. 7.2e9 or 7.2B)")
    if args.release_date is None:
        raise _missing("--release-date", f"the release date of {name} (YYYY-MM-DD)")
    rows = imp.rows[imp.rows["model"] == abbr].assign(model=name).reset_index(drop=True)
    skipped = [(t, r) for t, r in imp.skipped if not (r == "no result for this model" and not t.endswith(f"({abbr})"))]
    return _finish(args, "opencompass", rows, skipped, imp.folded, name, model_from, args.params, "--params")


def _fmt_score(r: Any) -> str:
    se = "" if math.isnan(r.stderr) else f" ± {r.stderr:.2f}"
    return f"{r.score:6.2f}{se}"


def _finish(
    args: argparse.Namespace,
    fmt: str,
    rows: pd.DataFrame,
    skipped: list[tuple[str, str]],
    folded: dict[str, int],
    model: str,
    model_from: str,
    params: int,
    params_from: str,
) -> int:
    import pandas as pd

    from . import importers

    files = ", ".join(str(p) for p in (args.results if fmt == "lm-eval" else [args.summary]))
    if args.benchmarks:
        out_of = rows[~rows["benchmark"].isin(args.benchmarks)]
        skipped += [
            (f"{t} ({b})", "left out by --benchmarks") for t, b in zip(out_of["task"], out_of["benchmark"], strict=True)
        ]
        rows = rows[rows["benchmark"].isin(args.benchmarks)].reset_index(drop=True)
    rows, dropped = importers.best_per_benchmark(rows)
    skipped += dropped
    if rows.empty:
        tasks = ", ".join(t for t, _ in skipped) or "none"
        raise ImportArgumentError(
            f"no score in {files} maps to a bayesdense benchmark ({', '.join(importers.FIVE)}); "
            f"found: {tasks} (nothing was written)"
        )
    off = rows[(rows["differs"].map(len) > 0) | (rows["unchecked"].map(len) > 0)]
    if args.strict_setting and not off.empty:
        lines = [
            f"  {r.benchmark} ({r.task}, {r.file}): {'; '.join([*r.differs, *r.unchecked])}"
            for r in off.itertuples(index=False)
        ]
        raise ImportArgumentError(
            f"--strict-setting: {len(off)} score(s) not known to be in the paper's setting ({PAPER}); "
            "nothing was written:\n" + "\n".join(lines) + "\nDrop --strict-setting to import them with their "
            "setting recorded, --benchmarks to import only the others, or re-run them in the paper's setting."
        )
    table = importers.to_own_scores(rows, model=model, release_date=args.release_date, params=params)
    importers.write_own_scores(table, args.out, append=args.append)

    for r in off.itertuples(index=False):
        paper = importers.PAPER_SETTINGS[r.benchmark].label()
        msgs = []
        if r.differs:
            msgs.append(f"setting differs from the paper's ({paper}): {'; '.join(r.differs)}")
        if r.unchecked:
            hint = "; state them with --shots/--cot" if fmt == "opencompass" else ""
            msgs.append(f"cannot check: {'; '.join(r.unchecked)}{hint}")
        print(f"warning: {r.benchmark} {r.score:.2f} ({r.task}, {r.file}): {'. '.join(msgs)}", file=sys.stderr)

    if args.json:
        payload = {
            "format": fmt,
            "files": [str(p) for p in (args.results if fmt == "lm-eval" else [args.summary])],
            "out": str(args.out),
            "appended": bool(args.append),
            "model": model,
            "model_from": model_from,
            "release_date": args.release_date.isoformat(),
            "params": int(params),
            "params_from": params_from,
            "paper_setting": {b: s.label() for b, s in importers.PAPER_SETTINGS.items()},
            "scores": [
                {
                    "benchmark": r.benchmark,
                    "score": float(r.score),
                    "stderr": None if math.isnan(r.stderr) else float(r.stderr),
                    "task": r.task,
                    "metric": r.metric,
                    "shots": None if pd.isna(r.shots) else int(r.shots),
                    "cot": None if r.cot is None else bool(r.cot),
                    "setting": r.setting,
                    "matches_paper_setting": not r.differs and not r.unchecked,
                    "differs": list(r.differs),
                    "unchecked": list(r.unchecked),
                    "file": r.file,
                }
                for r in rows.itertuples(index=False)
            ],
            "skipped": [{"task": t, "reason": why} for t, why in skipped],
            "folded_subtasks": folded,
        }
        print(jsonout.dumps(payload))
        return 0

    print(f"{fmt}: {files}")
    print(
        f"model {model} (from {model_from}), released {args.release_date}, {params:,} parameters (from {params_from})"
    )
    print(f"{len(rows)} score(s) in percent; the paper's settings: {PAPER}")
    for r in rows.itertuples(index=False):
        status = "matches the paper's setting" if not r.differs and not r.unchecked else "see warning"
        print(f"  {r.benchmark:9s} {_fmt_score(r):15s} {r.setting}   [{status}]")
    if folded:
        print("subtasks folded into their group score: " + ", ".join(f"{g} {n}" for g, n in folded.items()))
    if skipped:
        print(f"skipped {len(skipped)}:")
        for t, why in skipped:
            print(f"  {t}: {why}")
    verb = "appended to" if args.append else "wrote"
    print(
        f"{verb} {args.out} (validated as own_scores; check again: bayesdense data check --file {args.out} "
        "--kind own_scores)"
    )
    return 0


# ----------------------------------------------------------------------------- parser
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="own_scores CSV to write (see --append, --force)")
    p.add_argument(
        "--release-date",
        "--date",
        dest="release_date",
        type=_release_date,
        help="the model's release date, YYYY-MM-DD (required; result files do not record it)",
    )
    p.add_argument(
        "--params",
        type=_params,
        help="raw parameter count the density divides by: 7200000000, 7.2e9 or 7.2B",
    )
    p.add_argument(
        "--benchmarks",
        type=_bench_list,
        help="import only these benchmarks, comma-separated (MMLU,BBH,MATH,HumanEval,MBPP)",
    )
    p.add_argument(
        "--strict-setting",
        action="store_true",
        help="refuse (exit 2, nothing written) when a score's n-shot, CoT or metric differs from the paper's "
        "or cannot be checked",
    )
    p.add_argument("--append", action="store_true", help="add the rows to an existing --out file")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--json", action="store_true", help="print one JSON object (scores, settings, skipped tasks)")


def add_commands(sub: Any) -> None:
    imp = sub.add_parser(
        "import",
        help="turn lm-evaluation-harness or OpenCompass results into an own_scores CSV",
        description="Read evaluation results in the format another tool writes, map its tasks to the paper's "
        "five benchmarks (MMLU, BBH, MATH, HumanEval, MBPP), convert to percent, check each score's setting "
        f"against the paper's ({PAPER}), and write an own_scores CSV validated like "
        "`bayesdense data check --kind own_scores`. Errors exit with status 2 and write nothing.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  bayesdense import lm-eval results.json --release-date 2025-03-01 --params 7.2e9 "
        "--out scores.csv\n  bayesdense import opencompass summary.csv --model my-7b-hf=My-7B --release-date "
        "2025-03-01 --params 7.2e9 --out scores.csv\n  bayesdense import lm-eval --help   (and opencompass --help) "
        "for what is read and checked",
    )
    fmt = imp.add_subparsers(dest="format", metavar="FORMAT", required=True)

    lm = fmt.add_parser(
        "lm-eval",
        help="results JSON of EleutherAI's lm-evaluation-harness",
        description="Import the results_<date>.json files that `lm_eval --output_path` writes (one model; "
        "several files are merged).",
        epilog=EPILOG_LM_EVAL,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lm.add_argument("results", nargs="+", type=Path, metavar="RESULTS.json", help="lm-eval results files")
    lm.add_argument("--model", help="model name (default: from config.model_args pretrained=...)")
    _common(lm)
    lm.set_defaults(func=cmd_lm_eval)

    oc = fmt.add_parser(
        "opencompass",
        help="summary CSV of OpenCompass",
        description="Import an OpenCompass summary CSV (outputs/.../summary/summary_<time>.csv: dataset, "
        "version, metric, mode, then one column per model).",
        epilog=EPILOG_OPENCOMPASS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    oc.add_argument("summary", type=Path, metavar="SUMMARY.csv", help="OpenCompass summary CSV")
    oc.add_argument("--model", help="model column to import: ABBR, or ABBR=NAME to rename it")
    oc.add_argument(
        "--shots",
        type=_shots,
        default=None,
        help="shots your dataset configs used, e.g. MMLU=5,BBH=3,MATH=4,HumanEval=0,MBPP=3 (not in the summary)",
    )
    oc.add_argument(
        "--cot",
        type=_bench_list,
        default=None,
        help="benchmarks evaluated with chain of thought, e.g. BBH,MATH,MBPP (given: every other one was not)",
    )
    _common(oc)
    oc.set_defaults(func=cmd_opencompass)
