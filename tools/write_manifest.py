"""Rewrite data/manifest.toml: provenance below, hashes from the files, units from the schemas.

Usage:  python tools/write_manifest.py
Run it after changing a shipped table on purpose; the loader refuses a table whose sha256
does not match its manifest entry.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesdense.data import SCHEMAS, sha256_of, validate_file  # noqa: E402

NMI = (
    "Xiao, C. et al. Densing law of LLMs. Nature Machine Intelligence 7, 1823-1833 (2025), "
    "doi:10.1038/s42256-025-01137-0"
)
CC_BY = "CC BY 4.0 (the article); digitized values credited to the article"
TABLES = {
    "reference_losses": (
        "nmi/reference_losses.csv",
        "reference_losses",
        True,
        f"{NMI}, Extended Data Fig. 1a; N from the paper's Table 1",
        "Conditional test loss of the six reference models (5.2M-828M parameters) at D = k x N tokens, "
        "k in {10,15,20,30,40,60}, per benchmark. The 5.2M model shows only k = 30, 40, 60 in the figure.",
    ),
    "link_points": (
        "nmi/link_points.csv",
        "link_points",
        True,
        f"{NMI}, Extended Data Fig. 1b",
        "Loss-to-score points: 10 MiniCPM checkpoints per benchmark used for the fit, 2 held-out larger "
        "models (triangles) per benchmark.",
    ),
    "curve_parameters": (
        "nmi/curve_parameters.csv",
        "curve_parameters",
        True,
        f"{NMI}, Extended Data Fig. 1 (curves); parameters are least-squares refits to the drawn curves",
        "Loss-law (Eq. 2, raw N and D) and link (Eq. 3, percent) parameters recovered from the drawn "
        "curves: an inference, not published numbers. gamma_paper is the paper's (negative) sign.",
    ),
    "fig1_density": (
        "nmi/fig1_density_average.csv",
        "densities",
        True,
        f"{NMI}, Fig. 1",
        "Capability density of 51 models from the average of MMLU, BBH, MATH, HumanEval and MBPP "
        "(D0 = 5T). Marker-implied sizes are approximations from marker area, not sources.",
    ),
    "fig2_density": (
        "nmi/fig2_density_mmlu_cf.csv",
        "densities",
        True,
        f"{NMI}, Fig. 2",
        "Capability density of 47 models on MMLU-CF (contamination-free MMLU).",
    ),
    "fig3c_density": (
        "nmi/fig3c_density_mmlu.csv",
        "densities",
        True,
        f"{NMI}, Fig. 3c",
        "Capability density on MMLU only; 8 models before ChatGPT (2022-11-30), 29 after.",
    ),
    "fig3b_density": (
        "nmi/fig3b_compressed_density.csv",
        "densities",
        True,
        f"{NMI}, Fig. 3b",
        "Densities of compressed (quantized, pruned, distilled) models and their parents. "
        "Llama-3.1-Minitron-4B (0.648) matches neither Minitron-4B point of Fig. 1: an inconsistency "
        "inside the paper.",
    ),
    "fig3a_api_prices": (
        "nmi/fig3a_api_prices.csv",
        "api_prices",
        True,
        f"{NMI}, Fig. 3a",
        "API prices of models at least as good as GPT-3.5, and the paper's cheapest-model line.",
    ),
    "models": (
        "models.csv",
        "models",
        False,
        "Compiled by bayesdense from technical reports, model cards and official announcements; the source "
        "of each value is in its *_source column (see data/models.SOURCES.md)",
        "One row per model in the NMI figures: release date, parameters, architecture, variant, parent, "
        "training tokens. Missing cells mean no source was found.",
    ),
    "public_reference_scores": (
        "public/reference_scores.csv",
        "reference_scores",
        False,
        "Ruan, Maddison, Hashimoto. Observational Scaling Laws and the Predictability of Language Model "
        "Performance. NeurIPS 2024; https://github.com/ryoungj/ObsScaling eval_results/base_llm_benchmark_eval.csv "
        "at commit 4d6e1e43fd2635d04654aa77d1df9d5266ea0382 (Apache-2.0); selected by tools/import_public_family.py",
        "The public reference family (spec data.reference_family = 'public'): base models with published "
        "parameters and pretraining tokens and their MMLU (5-shot) and HumanEval (pass@1) scores, percent. "
        "Mixture-of-experts, code-specialised and inconsistent rows left out (data/public/SOURCES.md).",
    ),
    "scores": (
        "scores.csv",
        "scores",
        False,
        "Compiled by bayesdense from technical reports and model cards; the source of each value is in "
        "its source column (see data/scores.SOURCES.md)",
        "Published per-benchmark scores (MMLU, BBH, MATH, HumanEval, MBPP; percent) of the NMI Fig. 1 "
        "models, with the evaluation setting each source states. Missing cells: no source found.",
    ),
    "open_llm_leaderboard_v1": (
        "leaderboard/open_llm_leaderboard_v1.csv",
        "leaderboard_scores",
        False,
        "Hugging Face Open LLM Leaderboard v1 (archived June 2024), as copied in the Sloth repository "
        "(Maia Polo et al., arXiv 2412.06540): https://github.com/felipemaiapolo/sloth "
        "data/open-llm-leaderboard_old.csv at commit 6dc6bb3efeefc7c1db01d60cba1f4b73e5d260d1 (MIT); "
        "selected by tools/import_leaderboard.py (data/leaderboard/SOURCES.md)",
        "Spec data.targets = 'leaderboard': one MMLU (5-shot) score per usable leaderboard entry, 6,204 of "
        "7,169, with its parameter count (whole billions, as the leaderboard gives it), the date it was "
        "SUBMITTED to the leaderboard (not the model's release date), and the leaderboard's model type, "
        "architecture, precision and merge / MoE / flagged marks. Dropped entries and why: "
        "data/leaderboard/SOURCES.md.",
    ),
}
# licences of tables that are neither digitized from the article nor compiled by bayesdense
LICENCES = {
    "open_llm_leaderboard_v1": "MIT (the Sloth repository's copy, (c) 2024 Felipe Maia Polo); the scores are "
    "the Hugging Face Open LLM Leaderboard's",
}


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    data = ROOT / "data"
    lines = [
        "# Shipped tables of bayesdense. Written by tools/write_manifest.py: do not edit by hand.",
        "# sha256 is checked on every load; units come from the schemas in bayesdense/data.py.",
        "format_version = 1",
        "",
    ]
    for name, (file, kind, digitized, source, desc) in TABLES.items():
        path = data / file
        if not path.exists():
            print(f"skip {name}: {file} not found")
            continue
        validate_file(path, kind)
        licence = CC_BY if digitized else "CC BY 4.0 (bayesdense); the facts are from the cited sources"
        licence = LICENCES.get(name, licence)
        lines += [
            f"[tables.{name}]",
            f"file = {toml_str(file)}",
            f"kind = {toml_str(kind)}",
            f"sha256 = {toml_str(sha256_of(path))}",
            f"digitized_from_figures = {'true' if digitized else 'false'}",
            f"source = {toml_str(source)}",
            f"licence = {toml_str(licence)}",
            f"description = {toml_str(desc)}",
            f"[tables.{name}.units]",
        ]
        header = path.read_text().splitlines()[0].split(",")
        for col in SCHEMAS[kind].columns:
            if col.name in header:
                lines.append(f"{col.name} = {toml_str(col.unit or '-')}")
        lines.append("")
    (data / "manifest.toml").write_text("\n".join(lines))
    print(f"wrote {data / 'manifest.toml'}")


if __name__ == "__main__":
    main()
