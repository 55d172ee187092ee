"""Write data/leaderboard/open_llm_leaderboard_v1.csv from the Open LLM Leaderboard v1 snapshot.

Usage:  python tools/import_leaderboard.py PATH/TO/open-llm-leaderboard_old.csv [--out FILE]

The source is ``data/open-llm-leaderboard_old.csv`` of the Sloth repository (Maia Polo et al.,
"Sloth: scaling laws for LLM skills", arXiv 2412.06540), https://github.com/felipemaiapolo/sloth,
commit 6dc6bb3efeefc7c1db01d60cba1f4b73e5d260d1 (MIT): a snapshot of the Hugging Face Open LLM
Leaderboard v1, 7,169 entries. We keep one MMLU row (5-shot, the leaderboard's setting) per usable
entry; every kept value is the source's (parameters converted from billions to a raw count, the
submission timestamp cut to its UTC date). Entries are dropped for the first of these reasons that
applies, and the count of each is printed (and recorded in data/leaderboard/SOURCES.md):

  missing_date         no submission date
  params_not_positive  no parameter count: missing, not a number, zero or negative
  missing_mmlu         no MMLU score (missing or not a number)
  duplicate_model      another entry of the same model (names equal ignoring letter case) is kept:
                       the one evaluated unquantized (float16/bfloat16 before 8bit/4bit/GPTQ), then
                       the earliest submitted, then by name, precision and score

The leaderboard's "Merged", "MoE" and "Flagged" columns hold the negation of their names (its code
wrote ``not is_merge``, ``not is_moe`` and ``not_flagged`` into them; data/leaderboard/SOURCES.md);
the table's ``merged``, ``moe`` and ``flagged`` say what their names say. The output is sorted by
model name and written with "\\n" line ends, so the same source gives the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesdense.data import validate_file  # noqa: E402

OUT = ROOT / "data" / "leaderboard" / "open_llm_leaderboard_v1.csv"
N_SOURCE = 7169  # entries of the snapshot at the commit above

# the leaderboard's model-type labels (after their emoji) -> entry_type; anything else -> missing
ENTRY_TYPE = {
    "pretrained": "pretrained",
    "continuously pretrained": "continuously_pretrained",
    "fine-tuned on domain-specific datasets": "fine_tuned",
    "chat models (RLHF, DPO, IFT, ...)": "chat",
    "base merges and moerges": "merge",
}
QUANTIZED = ("8bit", "4bit", "GPTQ")  # evaluated with quantized weights
UNKNOWN_ARCHITECTURE = ("", "?", "Unknown")
# the leaderboard column -> our column; the value is negated (see the module docstring)
NEGATED = {"Merged": "merged", "MoE": "moe", "Flagged": "flagged"}
SOURCE_COLUMNS = ("Model", "MMLU", "Type", "Architecture", "Precision", "#Params (B)", "date", *NEGATED)
REASONS = ("missing_date", "params_not_positive", "missing_mmlu", "duplicate_model")
COLUMNS = (
    "model",
    "submitted_date",
    "params",
    "benchmark",
    "score",
    "shots",
    "precision",
    "entry_type",
    "architecture",
    "merged",
    "moe",
    "flagged",
)


def _date(raw: str) -> str | None:
    """The UTC date of a submission timestamp ('2024-05-05T12:22:44Z'), or None."""
    try:
        return dt.date.fromisoformat(raw.strip()[:10]).isoformat()
    except ValueError:
        return None


def _params(raw: str) -> int | None:
    """Raw parameter count from billions, exactly (Decimal), or None when not a positive number."""
    try:
        billions = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not billions.is_finite() or billions <= 0:
        return None
    return int((billions * 10**9).to_integral_value())


def _score(raw: str) -> str | None:
    """The MMLU cell as written in the source (percent), or None when it is not a number."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return raw.strip() if value.is_finite() else None


def _bool(raw: str, column: str, line: int) -> bool:
    if raw not in ("True", "False"):
        raise ValueError(f"line {line}, column '{column}': {raw!r} is not True/False")
    return raw == "True"


def _entry_type(raw: str) -> str:
    text = raw.strip()
    if text and not text[0].isascii():  # the leaderboard's emoji before the label
        text = text.split(" ", 1)[-1]
    return ENTRY_TYPE.get(text, "")


def build(source: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """The table (strings, sorted by model) and the count of entries kept and dropped per reason."""
    raw = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[])
    missing = [c for c in SOURCE_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{source}: not the leaderboard v1 snapshot; columns missing: {', '.join(missing)}")
    counts: Counter[str] = Counter({r: 0 for r in REASONS})
    rows = []
    for i, r in enumerate(raw.to_dict("records")):
        line = i + 2
        date, params, score = _date(r["date"]), _params(r["#Params (B)"]), _score(r["MMLU"])
        reason = (
            "missing_date"
            if date is None
            else "params_not_positive"
            if params is None
            else "missing_mmlu"
            if score is None
            else None
        )
        if reason:
            counts[reason] += 1
            continue
        flags = {ours: not _bool(r[theirs], theirs, line) for theirs, ours in NEGATED.items()}
        arch = r["Architecture"].strip()
        rows.append(
            {
                "model": r["Model"].strip(),
                "submitted_date": date,
                "params": params,
                "benchmark": "MMLU",
                "score": score,
                "shots": 5,
                "precision": r["Precision"].strip(),
                "entry_type": _entry_type(r["Type"]),
                "architecture": "" if arch in UNKNOWN_ARCHITECTURE else arch,
                **flags,
            }
        )
    usable = pd.DataFrame(rows, columns=list(COLUMNS))
    # one entry per model: unquantized first, then the earliest submission, then name, precision, score
    ranked = usable.assign(_key=usable["model"].str.lower(), _quantized=usable["precision"].isin(QUANTIZED))
    order = ranked.sort_values(["_key", "_quantized", "submitted_date", "model", "precision", "score"], kind="stable")
    keep = ~order["_key"].duplicated(keep="first")
    counts["duplicate_model"] = int((~keep).sum())
    table = order[keep].drop(columns=["_key", "_quantized"]).sort_values("model", kind="stable")
    counts["kept"] = len(table)
    return table.reset_index(drop=True), dict(counts)


def write(table: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, lineterminator="\n")
    validate_file(out, "leaderboard_scores")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="the Sloth repository's data/open-llm-leaderboard_old.csv")
    ap.add_argument("--out", type=Path, default=OUT, help="table to write (default: the shipped one)")
    args = ap.parse_args(argv)
    table, counts = build(args.source)
    write(table, args.out)
    total = sum(counts.values())
    print(f"wrote {args.out}: {counts['kept']} MMLU scores of {counts['kept']} entries (of {total} in the source)")
    for reason in REASONS:
        print(f"  dropped {reason:20s} {counts[reason]:5d}")
    types = table["entry_type"].replace("", "(missing)").value_counts().sort_index()
    print("entry types: " + ", ".join(f"{k} {v}" for k, v in types.items()))
    print(f"submission dates {table['submitted_date'].min()} .. {table['submitted_date'].max()}")
    if total != N_SOURCE:
        print(f"note: the source has {total} entries, not the {N_SOURCE} of the recorded snapshot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
