import numpy as np
import pandas as pd
import pytest

from bayesdense import plots, sensitivity
from bayesdense.spec import load_spec, parse_spec


def test_variants_are_valid_specs_that_differ_where_they_should():
    base = load_spec("default")
    for axis in ("d0", "frontier", "models", "priors", "benchmarks"):
        vs = sensitivity.variants(base, axis)
        assert len({name for _, name, _ in vs}) == len(vs)
        specs = [parse_spec(text, name) for _, name, text in vs]
        assert all(s.name.startswith("default__") for s in specs)
    d0 = [parse_spec(t).data.d0_tokens for _, _, t in sensitivity.variants(base, "d0")]
    assert d0 == [1e12, 2e12, 5e12, 1e13, 2e13]
    bench = [parse_spec(t) for _, _, t in sensitivity.variants(base, "benchmarks")]
    # 31 subsets, all five on the paper's settings only, the AVERAGE base
    assert len(bench) == 34 and all(s.data.targets == "published_scores" for s in bench[:33])
    assert bench[31].data.score_settings == "as_paper" and len(bench[31].data.benchmarks) == 5
    assert bench[32].data.score_settings == "offset" and len(bench[32].data.benchmarks) == 5
    assert bench[33].data.benchmarks == ["AVERAGE"] and bench[33].data.targets == "paper_implied"
    bench = bench[:31]
    assert all(set(s.benchmark_priors) == set(s.data.benchmarks) for s in bench)
    with pytest.raises(ValueError, match="unknown axis"):
        sensitivity.variants(base, "colour")


def test_a_failing_variant_is_a_row_not_a_crash(tmp_path):
    row = sensitivity._run_one(("priors", "broken", 'name = "x"\n[data]\nd0_tokens = -1\n', str(tmp_path), 1, "fast"))
    assert row["variant"] == "broken" and "SpecError" in row["error"]


def test_axis_effect_and_forest_data():
    t = pd.DataFrame(
        {
            "axis": ["a", "a", "b", "b", "b"],
            "variant": ["1", "2", "1", "2", "3"],
            "doubling_days_median": [100.0, 140.0, 120.0, 125.0, np.nan],
            "doubling_days_hdi_low": [80.0, 110, 100, 100, np.nan],
            "doubling_days_hdi_high": [130.0, np.nan, 150, 160, np.nan],
            "converged": [True, False, True, True, False],
            "error": ["", "", "", "", "RuntimeError: x"],
        }
    )
    eff = sensitivity.axis_effect(t)
    assert list(eff.index) == ["a", "b"] and eff.loc["a", "spread_days"] == 40
    d = plots.sensitivity_forest_data(t)
    assert len(d["label"]) == 4 and d["failed"] == ["b: 3"] and np.isnan(d["high"][1])


@pytest.mark.slow
def test_sensitivity_run_resumes_from_existing_results(tmp_path):
    base = load_spec("trend_fig2")
    first = sensitivity.run(base, "frontier", tmp_path, profile="fast", workers=1)
    assert len(first) == 4 and (first["error"] == "").all() and not first["reused"].any()
    again = sensitivity.run(base, "frontier", tmp_path, profile="fast", workers=1)
    assert again["reused"].all()
    np.testing.assert_allclose(again["growth_median"], first["growth_median"])


@pytest.mark.slow
def test_power_scaling_flags_an_informative_prior_and_not_a_weak_one():
    from bayesdense import fit

    base = load_spec("trend_fig2")
    weak = sensitivity.power_scaling(fit.fit(base, seed=1, profile="fast", progress=False))
    tight = parse_spec(
        base.text + '\n[priors.growth_rate_per_year]\ndist = "Normal"\nmu = 0.0\nsigma = 0.3\n', "tight growth prior"
    )
    strong = sensitivity.power_scaling(fit.fit(tight, seed=1, profile="fast", progress=False))

    def growth(res):
        return next(r for r in res["rows"] if r["quantity"] == "growth_rate_per_day")

    assert growth(weak)["prior"] < 0.05 <= growth(strong)["prior"]
    assert growth(strong)["diagnosis"] and not growth(weak)["diagnosis"]
    assert max(strong["growth_rate_by_prior"], key=strong["growth_rate_by_prior"].get) == "growth_rate_per_year"


def test_axis_effect_reads_a_table_back_from_csv(tmp_path):
    t = pd.DataFrame(
        {"axis": ["a", "a"], "variant": ["1", "2"], "doubling_days_median": [100.0, 130.0], "error": ["", ""]}
    )
    t.to_csv(tmp_path / "s.csv", index=False)
    back = pd.read_csv(tmp_path / "s.csv")  # empty error cells come back as NaN
    assert sensitivity.axis_effect(back).loc["a", "spread_days"] == 30


@pytest.mark.slow
def test_a_shared_model_variant_reruns_identically(tmp_path, capsys, monkeypatch):
    from bayesdense import shared
    from bayesdense.cli import main

    table = sensitivity.run(load_spec("trend_fig2"), "d0", tmp_path, profile="fast", workers=1)
    assert table["shared_model"].all()

    compiled = []
    monkeypatch.setattr(shared, "SharedModel", lambda *a, **k: compiled.append(a))
    again = sensitivity.run(load_spec("trend_fig2"), "d0", tmp_path, profile="fast", workers=1)
    assert again["reused"].all() and (again["error"] == "").all()
    assert compiled == []  # a resumed study with every result present compiles nothing
    capsys.readouterr()
    assert main(["sensitivity", "trend_fig2", "--axis", "d0", "--out", str(tmp_path), "--profile", "fast"]) == 0
    n_ok = int(again["converged"].sum())
    assert f"{n_ok} of 5 fitted variants pass every convergence check" in capsys.readouterr().out
    monkeypatch.undo()
    from bayesdense import io

    assert "prior" in io.load(table["result_file"][1]).children  # prior draws from the variant's own model
    assert main(["rerun", table["result_file"][1], "--json", "--no-progress"]) == 0
    assert '"identical": true' in capsys.readouterr().out


@pytest.mark.slow
def test_power_scaling_counts_the_frontier_term_as_likelihood():
    # The growth rate meets the data only through p(log density | trend): power-scaling must scale
    # that term with the likelihood. Measured (seed 1): without it the growth rate's likelihood
    # sensitivity is 0.117 on this fast fit and 0.029 on the default profile; with it 0.412 and 0.289
    # (validation/power_scaling_default.json). 0.2 lies between both pairs.
    from bayesdense import fit

    res = sensitivity.power_scaling(fit.fit(load_spec("default"), seed=1, profile="fast", progress=False))
    growth = next(r for r in res["rows"] if r["quantity"] == "growth_rate_per_day")
    assert growth["likelihood"] > 0.2, growth
    # Its prior sensitivity is small but sits at the 0.05 convention (0.055 on this fit, 0.048 on the
    # default profile): the diagnosis label flips with Monte Carlo noise, so the bound has a margin.
    assert growth["prior"] < 0.15, growth


def test_mmlu_against_mmlu_cf_like_for_like():
    # Fig. 2 (MMLU-CF, 47 models) and Fig. 3c (MMLU, 37) share 28 models once spellings are matched
    # through the model table's aliases (Fig. 3c's "Llama-3.2-1B" is Fig. 2's "Llama3.2-1B").
    from bayesdense import classical, inputs

    vs = {n: parse_spec(t, n) for _, n, t in sensitivity.variants(load_spec("trend_fig2"), "benchmarks")}
    a = inputs.prepare(vs["MMLU-CF (Fig. 2), models also in Fig. 3c"])
    b = inputs.prepare(vs["MMLU (Fig. 3c), models also in Fig. 2"])
    canon = classical._model_rows()
    names_a = {str(canon[m].model) if m in canon else m for m in a.model}
    names_b = {str(canon[m].model) if m in canon else m for m in b.model}
    assert names_a == names_b and len(names_a) == 28
    assert inputs.prepare(vs["MMLU-CF (Fig. 2)"]).n_models == 47
    with pytest.raises(ValueError, match="models_also_in = 'fig2' is the spec's own figure"):
        parse_spec(
            sensitivity.variants(load_spec("trend_fig2"), "benchmarks")[0][2].replace(
                "[data]\n", '[data]\nmodels_also_in = "fig2"\n'
            ),
            "x",
        )


def test_paper_settings_variant_keeps_only_scores_evaluated_as_the_paper():
    from bayesdense import inputs
    from bayesdense.data import load_table

    sc = load_table("scores")
    keep = inputs.as_paper_setting(sc)
    # Phi-1.5's MMLU is 2-shot, the Llama-1 MATH rows state no shots
    for model, bench in (("Phi-1.5-1.2B", "MMLU"), ("Llama-65B", "MATH")):
        assert not keep[((sc["model"] == model) & (sc["benchmark"] == bench)).to_numpy()].any()
    # an instruct/SFT model is out even at the paper's shots (no shipped row is both, so a made-up one)
    made_up = pd.DataFrame({"model": ["MiniCPM-2.4B", "Llama-65B"], "benchmark": ["MMLU", "MMLU"], "shots": [5, 5]})
    assert inputs.as_paper_setting(made_up).tolist() == [False, True]
    assert keep[((sc["model"] == "Llama-65B") & (sc["benchmark"] == "MMLU")).to_numpy()].all()  # 5-shot, base
    vs = {n: parse_spec(t, n) for _, n, t in sensitivity.variants(load_spec("default"), "benchmarks")}
    fd = inputs.prepare(vs["all five, paper's settings only"])
    assert len(fd.obs_score) == int(keep.sum()) < len(inputs.prepare(vs["MMLU+BBH+MATH+HumanEval+MBPP"]).obs_score)
    with pytest.raises(ValueError, match="score_settings applies to data.targets = 'published_scores' only"):
        parse_spec('name = "x"\n[data]\nscore_settings = "as_paper"\n', "x")


@pytest.mark.parametrize("axes", [["d0", "d0"], ["d0", "frontier"]])
def test_the_axis_that_moves_most_is_named_only_when_several_ran(tmp_path, capsys, monkeypatch, axes):
    import matplotlib.figure

    from bayesdense.cli import main

    rows = [
        {
            "axis": a,
            "variant": f"v{i}",
            "doubling_days_median": 100.0 + 30 * i,
            "doubling_days_hdi_low": 80.0,
            "doubling_days_hdi_high": 150.0,
            "p_growth_positive": 1.0,
            "growth_median": 0.006,
            "growth_hdi_low": 0.004,
            "growth_hdi_high": 0.008,
            "max_rhat": 1.001,
            "min_ess_bulk": 900,
            "divergences": 0,
            "converged": True,
            "error": "",
            "seconds": 1.0,
        }
        for i, a in enumerate(axes)
    ]
    monkeypatch.setattr("bayesdense.sensitivity.run", lambda *a, **k: pd.DataFrame(rows))
    monkeypatch.setattr("bayesdense.plots.sensitivity_forest", lambda t: matplotlib.figure.Figure())
    assert main(["sensitivity", "--axis", "d0", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ("moves the median doubling time most" in out) is (len(set(axes)) > 1)
    assert "P(A>0) 1.000" in out  # a table without n_draws (older CSVs): the share as it is
    rows[0]["n_draws"] = rows[1]["n_draws"] = 4000
    assert main(["sensitivity", "--axis", "d0", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "P(A>0) > 0.999" in out and "1.000" not in out
