"""Write data/public/reference_scores.csv, the public reference family, from the ObsScaling table.

Usage:  python tools/import_public_family.py --source PATH/TO/base_llm_benchmark_eval.csv

The source is ``eval_results/base_llm_benchmark_eval.csv`` of Ruan, Maddison and Hashimoto,
"Observational Scaling Laws and the Predictability of Language Model Performance" (NeurIPS 2024),
https://github.com/ryoungj/ObsScaling, commit 4d6e1e43fd2635d04654aa77d1df9d5266ea0382 (Apache-2.0):
base (pretrained) models with parameter count, pretraining tokens and accuracies. We keep the
rows with both N and D, and the two benchmarks evaluated as in the densing-law paper: MMLU
(5-shot, Open LLM Leaderboard v1 protocol) and HumanEval (pass@1, 0-shot, EvalPlus). Scores are
converted from fractions to percent; N and D from billions/trillions to raw counts. Rows left out,
and why, are listed in EXCLUDED (and in data/public/SOURCES.md). Nothing is corrected by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesdense.data import validate_file  # noqa: E402

SOURCE = "Ruan, Maddison, Hashimoto (NeurIPS 2024), ObsScaling eval_results/base_llm_benchmark_eval.csv, commit 4d6e1e4"
SETTING = {"MMLU": "5-shot (Open LLM Leaderboard v1 protocol)", "HumanEval": "pass@1, 0-shot (EvalPlus)"}
CODE = "code-specialised pretraining corpus: not the general-purpose family the paper's reference models are"
EXCLUDED = {
    "deepseek-ai/DeepSeek-V2": "mixture of experts; the source gives activated parameters (21B), not a dense size",
    "deepseek-ai/DeepSeek-Coder-V2-Base": "mixture of experts (activated parameters); code-specialised",
    "deepseek-ai/deepseek-moe-16b-base": "mixture of experts",
    "cerebras/btlm-3b-8k-base": "the source's token count (627T) is 1000x the model card's 627B; not corrected",
    "openlm-research/open_llama_7b_v2": "the source's size (13B) contradicts the model's name (7B); not corrected",
    "01-ai/Yi-6B-200K": "long-context continued pretraining of Yi-6B (a second row of the same model)",
    "01-ai/Yi-34B-200K": "long-context continued pretraining of Yi-34B (a second row of the same model)",
}
CODE_PREFIXES = ("codellama/", "bigcode/", "deepseek-ai/deepseek-coder", "Salesforce/codegen")
OUT = ROOT / "data" / "public" / "reference_scores.csv"


def build(source: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    raw = pd.read_csv(source)
    raw = raw.dropna(subset=["Model Size (B)", "Pretraining Data Size (T)"])
    left_out = {m: why for m, why in EXCLUDED.items() if m in set(raw["Model"])}
    left_out |= {m: CODE for m in raw["Model"] if m.startswith(CODE_PREFIXES)}
    keep = raw[~raw["Model"].isin(left_out)]
    rows = []
    for r in keep.itertuples(index=False):
        for bench in ("MMLU", "HumanEval"):
            value = getattr(r, bench)
            if pd.isna(value):
                continue
            rows.append(
                {
                    "model": r.Model,
                    "family": r[1],
                    "params": round(float(r[2]) * 1e9),
                    "tokens": round(float(r[3]) * 1e12),
                    "benchmark": bench,
                    "score": round(100 * float(value), 3),
                    "setting": SETTING[bench],
                    "source": SOURCE,
                }
            )
    return pd.DataFrame(rows), left_out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="ObsScaling base_llm_benchmark_eval.csv")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    df, left_out = build(args.source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False)
    validate_file(args.out, "reference_scores")
    counts = df.groupby("benchmark")["model"].nunique().to_dict()
    print(f"wrote {args.out}: {len(df)} scores of {df['model'].nunique()} models {counts}")
    print(f"left out {len(left_out)} models:")
    for m, why in sorted(left_out.items()):
        print(f"  {m}: {why}")


if __name__ == "__main__":
    main()
