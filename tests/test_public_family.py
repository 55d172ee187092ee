"""The public reference family (data/public/, issue #15 item 4): scores of base models with published
N and D, fitted through the composition score = link(loss law(N, D)), and `--axis reference`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesdense import classical, laws, plots, sensitivity
from bayesdense.data import load_table
from bayesdense.inputs import FitData, prepare, reference_priors
from bayesdense.models import build
from bayesdense.models.densing import coords_of
from bayesdense.spec import SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]


def _importer():
    from fakes import load_tool

    return load_tool("import_public_family")


def _public(benchmarks: str = '["MMLU"]', extra: str = "") -> str:
    return (
        f'name = "p"\n[data]\ntargets = "published_scores"\nbenchmarks = {benchmarks}\n'
        f'reference_family = "public"\n{extra}'
    )


# ----------------------------------------------------------------------------- the table
def test_the_importer_keeps_dense_general_models_with_n_and_d(tmp_path):
    src = pd.DataFrame(
        {
            "Model": ["org/dense-7b", "deepseek-ai/DeepSeek-V2", "bigcode/starcoderbase-1b", "org/no-tokens"],
            "Model Family": ["Dense", "DeepSeek-V2", "StarCoder", "X"],
            "Model Size (B)": [7.0, 21.0, 1.0, 3.0],
            "Pretraining Data Size (T)": [2.0, 8.1, 1.0, np.nan],
            "FLOPs (1E21)": [84.0, 1.0, 6.0, np.nan],
            "MMLU": [0.5, 0.78, 0.27, 0.3],
            "HumanEval": [np.nan, 0.47, 0.15, 0.1],
        }
    )
    f = tmp_path / "src.csv"
    src.to_csv(f, index=False)
    df, left_out = _importer().build(f)
    assert list(df["model"]) == ["org/dense-7b"]  # one score: HumanEval is missing in the source
    row = df.iloc[0]
    assert (row["params"], row["tokens"], row["benchmark"], row["score"]) == (7_000_000_000, 2e12, "MMLU", 50.0)
    assert set(left_out) == {"deepseek-ai/DeepSeek-V2", "bigcode/starcoderbase-1b"}


def test_the_shipped_table_loads_with_its_provenance():
    df = load_table("public_reference_scores")
    assert df.groupby("benchmark")["model"].nunique().to_dict() == {"HumanEval": 94, "MMLU": 100}
    assert df["source"].str.contains("ObsScaling").all()
    text = (ROOT / "data" / "public" / "SOURCES.md").read_text()
    for m in _importer().EXCLUDED:
        assert m not in set(df["model"])
        assert m.split("/")[1].split("-")[0].lower() in text.lower()


# ----------------------------------------------------------------------------- the composition
def test_the_classical_composition_fit_recovers_a_known_one():
    rng = np.random.default_rng(2)
    n = np.exp(rng.uniform(np.log(1e8), np.log(1e11), 80))
    d = np.exp(rng.uniform(np.log(1e11), np.log(1.5e13), 80))
    truth = dict(a=1.5, alpha=0.3, b=2.0, beta=0.25, l=2.0, floor=26.0)
    loss = laws.loss_law(n / 1e9, d / 1e12, truth["a"], truth["alpha"], truth["b"], truth["beta"])
    score = laws.link(loss, 100 - truth["floor"], 1.0, truth["l"], truth["floor"])
    c = classical.fit_composition(n, d, score, chance=25.0)
    assert c.alpha == pytest.approx(truth["alpha"], rel=1e-3)
    assert c.beta == pytest.approx(truth["beta"], rel=1e-3)
    assert c.d == pytest.approx(truth["floor"], abs=1e-3)
    np.testing.assert_allclose(c.score_at(n, d), score, atol=1e-4)  # raw-unit curves reproduce it


# ----------------------------------------------------------------------------- spec and inputs
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_public('["MMLU", "BBH"]'), "it has MMLU and HumanEval only, not BBH"),
        (_public(extra="[layers]\nirreducible_loss = true\n"), "irreducible loss"),
        (
            'name = "p"\n[data]\ntargets = "simulated"\nbenchmarks = ["MMLU"]\nreference_family = "public"\n',
            "is built from the paper's curves",
        ),
        (
            _public(extra='reference_runs = "r.csv"\nlink_points = "l.csv"\n'),
            "data.reference_runs is your own family",
        ),
    ],
)
def test_spec_refuses_a_public_family_it_cannot_fit(text, expected):
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert expected in str(e.value)


def test_prepare_gives_scores_not_losses_and_round_trips():
    spec = parse_spec(_public())
    fd = prepare(spec)
    mmlu = load_table("public_reference_scores").query("benchmark == 'MMLU'")
    assert fd.score_based and len(fd.ref_score) == len(mmlu) == 100
    np.testing.assert_array_equal(fd.ref_score, mmlu["score"].to_numpy())
    assert np.isnan(fd.ref_loss).all() and fd.link_loss.size == 0
    back = FitData.from_dataset(fd.to_dataset())
    np.testing.assert_array_equal(back.ref_score, fd.ref_score)
    assert not FitData.from_dataset(prepare(load_spec("mmlu_scores")).to_dataset()).score_based


def test_the_model_observes_the_composition_with_the_links_slope_fixed():
    spec = parse_spec(_public())
    fd = prepare(spec)
    model = build(spec, fd)
    observed = {v.name for v in model.observed_RVs}
    free = {v.name for v in model.free_RVs}
    assert "ref_score" in observed and not {"ref_log_loss", "ref_loss", "link_score"} & observed
    assert "link_gamma" not in free and "link_l" in free
    assert reference_priors(spec).prior("link_sd", "MMLU").sigma == 10.0
    labels = coords_of(fd)["reference_run"]
    assert len(set(labels)) == len(labels)  # two public models of equal N and D get distinct labels


# ----------------------------------------------------------------------------- the axis
def test_reference_variants_drop_the_paper_anchors_for_the_public_family():
    rows = sensitivity.variants(load_spec("mmlu_scores"), "reference")
    assert [name for _, name, _ in rows] == [
        "paper's family (6 models, losses)",
        "public family (100 base models, scores)",
    ]
    paper, public = (parse_spec(text) for _, _, text in rows)
    assert paper.data.reference_family == "paper" and "loss_alpha" in paper.benchmark_priors["MMLU"]
    assert public.data.reference_family == "public" and "loss_alpha" not in public.benchmark_priors.get("MMLU", {})
    assert public.prior("score_sd").value == paper.prior("score_sd").value  # the rest of the spec is kept
    table = pd.DataFrame(
        {
            "variant": [name for _, name, _ in rows],
            "doubling_days_median": [141.0, 165.0],
            "doubling_days_hdi_low": [105.0, 125.0],
            "doubling_days_hdi_high": [189.0, 224.0],
        }
    )
    assert list(plots.base_rows(table)) == [True, False]  # the forest and tables mark the base spec's row
    assert public.sampler.target_accept == 0.99


def test_reference_axis_refuses_benchmarks_the_public_family_lacks():
    with pytest.raises(ValueError, match="MMLU and HumanEval only"):
        sensitivity.variants(load_spec("multibench"), "reference")
    assert "reference" not in {a for a, _, _ in sensitivity.variants(load_spec("default"), "all")}


@pytest.mark.slow
def test_sensitivity_reference_axis_runs_from_the_cli(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "bayesdense.cli", "sensitivity", "mmlu_scores", "--axis", "reference"]
        + ["--profile", "fast", "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["variants"]
    assert len(rows) == 2 and all(np.isfinite(x["doubling_days_median"]) for x in rows)
