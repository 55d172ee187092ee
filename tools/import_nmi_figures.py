"""Convert the digitized NMI figure tables into bayesdense's schema (maintainer tool).

Usage:  python tools/import_nmi_figures.py SOURCE_DIR
SOURCE_DIR holds the digitized CSVs described in data/README.md (figure data of Xiao et al.,
Nat. Mach. Intell. 7, 1823-1833, 2025, CC BY 4.0). The tool rewrites data/nmi/*.csv; run
``python tools/write_manifest.py`` afterwards to refresh hashes and units.
Only columns that carry a digitized value are kept; anything derivable (ln density, days since
the origin, running-max flags, compute) is recomputed by bayesdense, never shipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "nmi"
BENCH = {"MMLU": "MMLU", "BBH": "BBH", "MATH": "MATH", "HUMANEVAL": "HumanEval", "MBPP": "MBPP", "AVERAGE": "AVERAGE"}


def main(src: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ref = pd.read_csv(src / "nmi_ed1a_reference_model_losses.csv")
    pd.DataFrame(
        {
            "benchmark": ref["bench"].map(BENCH),
            "params": ref["N"],
            "tokens_per_param": ref["tokens_per_param"],
            "tokens": ref["D_tokens"],
            "loss": ref["loss"],
        }
    ).to_csv(OUT / "reference_losses.csv", index=False)

    link = pd.read_csv(src / "nmi_ed1b_loss_vs_performance_points.csv")
    pd.DataFrame(
        {
            "benchmark": link["bench"].map(BENCH),
            "role": link["kind"].str.startswith("fit").map({True: "fit", False: "heldout"}),
            "loss": link["loss"],
            "score": link["performance"],
        }
    ).to_csv(OUT / "link_points.csv", index=False)

    cp = pd.read_csv(src / "nmi_ed1_recovered_curve_parameters.csv")
    cp = cp.rename(columns={"bench": "benchmark", "gamma": "gamma_paper"})
    cp["benchmark"] = cp["benchmark"].map(BENCH)
    cp[
        [
            "benchmark",
            "a",
            "alpha",
            "b",
            "beta",
            "c",
            "gamma_paper",
            "l",
            "d",
            "powerlaw_curve_rmse",
            "sigmoid_curve_rmse",
        ]
    ].to_csv(OUT / "curve_parameters.csv", index=False)

    f1 = pd.read_csv(src / "nmi_fig1_density_5benchmarks.csv")
    f1.rename(columns={"release_date": "plotted_date", "marker_implied_params_B": "marker_implied_params_b"})[
        ["model", "plotted_date", "density", "marker_radius_pt", "marker_implied_params_b"]
    ].to_csv(OUT / "fig1_density_average.csv", index=False)

    f2 = pd.read_csv(src / "nmi_fig2_density_mmlu_cf.csv")
    name = f2["model"].str.split(" (", n=1, regex=False)
    pd.DataFrame(
        {
            "model": name.str[0],
            "plotted_date": f2["release_date"],
            "density": f2["density_mmlu_cf"],
            "label_note": name.str[1].str.rstrip(")").fillna(""),
        }
    ).to_csv(OUT / "fig2_density_mmlu_cf.csv", index=False)

    f3c = pd.read_csv(src / "nmi_fig3c_density_mmlu_pre_post_chatgpt.csv")
    f3c.rename(columns={"density_mmlu": "density"})[["model", "plotted_date", "density"]].to_csv(
        OUT / "fig3c_density_mmlu.csv", index=False
    )

    f3a = pd.read_csv(src / "nmi_fig3a_api_prices.csv")
    f3a.rename(columns={"price_usd_per_million_tokens": "price_usd_per_mtok"}).to_csv(
        OUT / "fig3a_api_prices.csv", index=False
    )

    f3b = pd.read_csv(src / "nmi_fig3b_compressed_models.csv")
    f3b.to_csv(OUT / "fig3b_compressed_density.csv", index=False)
    print(f"wrote {len(list(OUT.glob('*.csv')))} tables to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
