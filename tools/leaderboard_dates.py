"""How much it matters that the leaderboard's dates are submission dates, not release dates.

    python tools/leaderboard_dates.py            # the dates alone (seconds)
    python tools/leaderboard_dates.py --fit      # and the growth rate both ways (two fits, ~2 min)
    python tools/leaderboard_dates.py --fit --record   # also write validation/leaderboard_dates_seed1.txt

The Open LLM Leaderboard v1 table (data/leaderboard/) dates each entry by its submission to the
leaderboard. For the entries that are models of the paper's own list (data/models.csv, where each
release date carries its source), this prints both dates and the lag between them, and how many
entries share the leaderboard's two bulk dates (models evaluated when the leaderboard was
(re)started, whatever their age). With ``--fit`` it fits the spec ``leaderboard_pretrained`` as
shipped and again with those entries dated by release (every other entry keeps its submission
date: no release date is known for it), and prints both growth rates.

The matching of a leaderboard repository to a model of the paper's list is by hand (MATCHES
below): the same weights under the organisation's own repository, base models only (the list's
StableLM-Zephyr-3B is on the leaderboard, but the list gives it no release date).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# leaderboard repository -> model name in data/models.csv
MATCHES = {
    "facebook/opt-66b": "OPT-66B",
    "EleutherAI/gpt-neox-20b": "GPT-NeoX-20B",
    "huggyllama/llama-7b": "Llama-7B",
    "huggyllama/llama-13b": "Llama-13B",
    "huggyllama/llama-65b": "Llama-65B",
    "tiiuae/falcon-40b": "Falcon-40B",
    "mosaicml/mpt-30b": "MPT-30B",
    "meta-llama/Llama-2-7b-hf": "Llama-2-7B",
    "meta-llama/Llama-2-13b-hf": "Llama-2-13B",
    "meta-llama/Llama-2-70b-hf": "Llama-2-70B",
    "microsoft/phi-1_5": "Phi-1.5-1.2B",
    "mistralai/Mistral-7B-v0.1": "Mistral-7B-v0.1",
    "deepseek-ai/deepseek-llm-67b-base": "DeepSeek-LLM-67B",
    "mistralai/Mixtral-8x7B-v0.1": "Mixtral-8x7B",
    "microsoft/phi-2": "Phi-2-2B",
    "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T": "TinyLlama-1.1B",
    "deepseek-ai/deepseek-moe-16b-base": "DeepSeek-MoE-16B",
    "google/gemma-2b": "Gemma-2B",
    "google/gemma-7b": "Gemma-7B",
    "mistralai/Mixtral-8x22B-v0.1": "Mixtral-8x22B",
    "meta-llama/Meta-Llama-3-8B": "Llama-3-8B",
    "meta-llama/Meta-Llama-3-70B": "Llama-3-70B",
    "mistralai/Mistral-7B-v0.3": "Mistral-7B-v0.3",
}
BASE_SPEC = "leaderboard_pretrained"


def matched_dates() -> pd.DataFrame:
    """One row per matched entry: its types, submission date, the paper list's release date, lag."""
    from bayesdense import data

    board = data.load_table(data.LEADERBOARD_TABLE).set_index("model")
    models = data.load_table("models").set_index("model")
    missing = [m for m in MATCHES if m not in board.index] + [p for p in MATCHES.values() if p not in models.index]
    if missing:
        raise SystemExit(f"error: not in the shipped tables: {', '.join(missing)}")
    rows = []
    for repo, name in MATCHES.items():
        sub = pd.Timestamp(board.at[repo, "submitted_date"])
        rel = pd.Timestamp(models.at[name, "release_date"])
        rows.append(
            {
                "entry": repo,
                "paper_model": name,
                "entry_type": board.at[repo, "entry_type"],
                "released": rel.date(),
                "submitted": sub.date(),
                "lag_days": int((sub - rel).days),
            }
        )
    return pd.DataFrame(rows).sort_values("released").reset_index(drop=True)


def fit_json(spec_path: str, seed: int) -> dict:
    cmd = [sys.executable, "-m", "bayesdense.cli", "fit", spec_path, "--json", "--no-progress", "--seed", str(seed)]
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([*cmd, "--out", out], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"error: {' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout)


def redated_spec(tmp: Path, dates: pd.DataFrame) -> tuple[Path, int, int]:
    """The base spec on its own entries as an own_scores file, the matched ones dated by release."""
    from bayesdense import inputs
    from bayesdense.spec import ModelSpec, load_spec, spec_to_toml

    base = load_spec(BASE_SPEC)
    entries = inputs.load_leaderboard(base)  # filtered as the spec says; release_date = submission date
    release = dates.set_index("entry")["released"].astype(str)
    hit = entries["model"].isin(release.index)
    entries.loc[hit, "release_date"] = entries.loc[hit, "model"].map(release)
    csv = tmp / "entries_redated.csv"
    entries[["model", "release_date", "params", "benchmark", "score", "shots"]].to_csv(csv, index=False)
    d = base.model_dump(exclude={"source_text"}, exclude_none=True)
    for key in ("entry_types", "drop_flagged", "drop_merged"):
        d["data"].pop(key, None)
    d["data"].update(targets="own_scores", scores_file=str(csv))
    d["name"] = f"{BASE_SPEC}_release_dates"
    path = tmp / f"{d['name']}.toml"
    path.write_text(spec_to_toml(ModelSpec(**d), header=f"{BASE_SPEC}, matched entries dated by release"))
    return path, int(hit.sum()), len(entries)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true", help=f"fit {BASE_SPEC} with both dates (two fits)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record", action="store_true", help="write what it prints to validation/, with provenance")
    args = ap.parse_args()
    if not args.record:
        return report(args)
    import contextlib
    import datetime as dt
    import io

    from bayesdense.fit import data_hash_of, versions
    from bayesdense.spec import load_spec

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = report(args)
    print(buf.getvalue(), end="")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "bayesdense", "data", "models", "tools"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    spec = load_spec(BASE_SPEC)
    head = [
        f"# python tools/leaderboard_dates.py {' '.join(sys.argv[1:])}",
        f"# commit {commit.stdout.strip()}{' plus uncommitted changes' if dirty else ''}, {dt.date.today()}",
        "# " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"# spec {spec.name} (hash {spec.hash}), data hash {data_hash_of(spec)[:16]}, seed {args.seed}",
    ]
    path = ROOT / "validation" / f"leaderboard_dates_seed{args.seed}.txt"
    path.write_text("\n".join(head) + "\n\n" + buf.getvalue())
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return code


def report(args: argparse.Namespace) -> int:
    import warnings

    from bayesdense import data

    warnings.simplefilter("ignore", UserWarning)  # the specs' dropped near-chance rows: counted below
    board = data.load_table(data.LEADERBOARD_TABLE)
    top = board["submitted_date"].astype(str).value_counts().head(2)
    print(
        f"Open LLM Leaderboard v1, {len(board):,} entries, submitted {board['submitted_date'].min()} to "
        f"{board['submitted_date'].max()}"
    )
    print(
        "Busiest submission dates: "
        + ", ".join(f"{d} ({n} entries)" for d, n in top.items())
        + f"; together {top.sum() / len(board):.0%} of the table"
    )
    dates = matched_dates()
    print(f"\nEntries that are models of the paper's list (data/models.csv release dates), {len(dates)}:")
    print(dates.to_string(index=False))
    early = dates[dates["released"] < pd.Timestamp("2023-09-01").date()]
    late = dates[dates["released"] >= pd.Timestamp("2023-09-01").date()]
    print(
        f"\nLag from release to submission: median {early['lag_days'].median():.0f} days for the {len(early)} "
        f"released before 2023-09-01, median {late['lag_days'].median():.0f} days (max {late['lag_days'].max()}) "
        f"for the {len(late)} released later"
    )
    if not args.fit:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path, n_hit, n_all = redated_spec(Path(tmp), dates)
        runs = {"submission dates (as shipped)": fit_json(BASE_SPEC, args.seed)}
        runs[f"release dates for {n_hit} of {n_all} entries"] = fit_json(str(path), args.seed)
    print(f"\nSpec {BASE_SPEC}, seed {args.seed}: growth rate per day, median [94% HDI]; doubling time")
    for label, s in runs.items():
        g, d = s["growth_rate_per_day"], s["diagnostics"]
        print(
            f"  {label:42s} {g['median']:.5f} [{g['hdi_low']:.5f}, {g['hdi_high']:.5f}]  "
            f"{0.6931 / g['median'] / 30.44:.2f} months;  max R-hat {d['max_rhat']:.3f}, divergences "
            f"{d['divergences']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
