"""No silent wrong results: strict JSON from every --json output, NaN diagnostics fail the
convergence check, duplicate spec names in compare, own-data specs without anchors warned."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fakes import fake_result

from bayesdense import io, jsonout, quantities
from bayesdense.cli import main

NASTY = {"a": float("nan"), "b": float("inf"), "c": [1.0, float("-inf")], "d": np.float64("nan"), "e": 1.5}


def strict(text: str):
    return jsonout.loads_strict(text)


def test_clean_turns_non_finite_numbers_into_null_with_a_reason():
    out = strict(jsonout.dumps(NASTY))
    assert out["a"] is None and out["b"] is None and out["d"] is None and out["e"] == 1.5
    assert out["c"] == [1.0, None]
    assert out["null_reasons"] == {"a": "not a number", "b": "infinite", "d": "not a number"}
    # a reason given by the producer is kept
    assert strict(jsonout.dumps({"x": None, "null_reasons": {"x": "why"}}))["null_reasons"] == {"x": "why"}


def test_strict_parser_refuses_what_plain_json_writes():
    import json

    with pytest.raises(ValueError, match="NaN"):
        strict(json.dumps({"a": float("nan")}))


def _result(tmp_path, rate, name="r.nc", spec_name="trend_fig2"):
    return io.save(fake_result(rate, spec_name=spec_name), tmp_path / name)


def test_summary_json_of_a_negative_growth_rate_is_strict(tmp_path, capsys):
    rate = np.random.default_rng(0).normal(-0.002, 0.0005, size=(2, 200))
    path = _result(tmp_path, rate)
    assert main(["summary", str(path), "--json"]) == 0
    out = strict(capsys.readouterr().out)
    d = out["doubling_time_days"]
    assert d["median"] is None and d["hdi_high"] is None and d["unbounded"] is True
    assert "<= 0" in d["null_reasons"]["median"]
    assert out["doubling_time_months"]["median"] is None


def test_text_summary_of_a_negative_growth_rate_says_unbounded(tmp_path, capsys):
    rate = np.random.default_rng(0).normal(-0.002, 0.0005, size=(2, 200))
    path = _result(tmp_path, rate)
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "doubling time   unbounded days" in out and "inf" not in out.split("Densest")[0]


# every command with --json, with its computation replaced by one that returns NaN and inf
FAKE_ROWS = [{"cutoff": "2024-01-01", "value": float("nan"), "other": float("inf")}]


@pytest.mark.parametrize(
    ("argv", "target", "value"),
    [
        (["validate-forward", "--json"], "bayesdense.validation.time_forward", FAKE_ROWS),
        (["calibrate", "--json"], "bayesdense.validation.calibrate", {"sims": 1, "p": float("nan"), "ranks": []}),
        (["power-scaling", "RESULT", "--json"], "bayesdense.sensitivity.power_scaling", {"x": float("inf")}),
        (["compare", "RESULT", "RESULT2", "--json"], "bayesdense.compare.compare", {"w": float("nan")}),
        (["sensitivity", "--axis", "d0", "--json", "--out", "OUT"], "bayesdense.sensitivity.run", None),
    ],
)
def test_every_json_output_is_strict(tmp_path, capsys, monkeypatch, argv, target, value):
    import importlib

    mod, attr = target.rsplit(".", 1)
    if value is None:  # sensitivity: a table with a NaN doubling time
        table = pd.DataFrame(
            [
                {
                    "axis": "d0",
                    "variant": "v",
                    "doubling_days_median": math.inf,
                    "doubling_days_hdi_low": float("nan"),
                    "doubling_days_hdi_high": None,
                    "p_growth_positive": 0.4,
                    "growth_median": -0.001,
                    "growth_hdi_low": -0.003,
                    "growth_hdi_high": 0.002,
                    "max_rhat": float("nan"),
                    "divergences": 0,
                    "converged": False,
                    "error": "",
                }
            ]
        )
        monkeypatch.setattr(
            "bayesdense.plots.sensitivity_forest", lambda t: __import__("matplotlib.figure").figure.Figure()
        )
        monkeypatch.setattr("bayesdense.sensitivity.axis_effect", lambda t: pd.DataFrame())

        def fake(*a, **k):
            return table

    else:

        def fake(*a, **k):
            return value

    monkeypatch.setattr(importlib.import_module(mod), attr, fake)
    rate = np.full((2, 60), 0.006) + np.random.default_rng(1).normal(0, 1e-4, (2, 60))
    argv = [
        str(_result(tmp_path, rate, "a.nc"))
        if a == "RESULT"
        else str(_result(tmp_path, rate, "b.nc", spec_name="trend_fig3c"))
        if a == "RESULT2"
        else str(tmp_path / "out")
        if a == "OUT"
        else a
        for a in argv
    ]
    assert main(argv) == 0
    strict(capsys.readouterr().out)


@pytest.mark.parametrize("argv", [["reproduce", "--figure", f, "--json"] for f in ("fig1", "fig2", "fig3c")])
def test_reproduce_json_is_strict(capsys, argv):
    assert main(argv) == 0
    strict(capsys.readouterr().out)


def test_implied_scores_json_is_strict(capsys):
    assert main(["data", "implied-scores", "--json"]) == 0
    rows = strict(capsys.readouterr().out)
    gaps = [r for r in rows if r["params_active"] is None]  # dense models have no "active" count
    assert gaps and all(r["null_reasons"]["params_active"] == "not a number" for r in gaps)


def test_all_nan_draws_fail_the_convergence_check(tmp_path, capsys):
    tree = fake_result(np.full((2, 100), np.nan))
    d = quantities.diagnostics(tree)
    assert not d["ok"] and any("growth_rate_per_day" in f for f in d["failures"])
    path = io.save(tree, tmp_path / "nan.nc")
    assert main(["summary", str(path), "--strict"]) == 4
    out = capsys.readouterr().out
    assert "All convergence checks passed" not in out and "WARNING: convergence checks failed" in out


def test_a_constant_fixed_quantity_is_not_a_failure_but_a_single_chain_is():
    rng = np.random.default_rng(4)
    tree = fake_result(0.006 + 1e-4 * rng.normal(size=(4, 500)))
    post = tree["posterior"].to_dataset().assign(score_sd=(("chain", "draw"), np.full((4, 500), 0.9)))
    tree["posterior"] = xr_tree(post)
    d = quantities.diagnostics(tree)
    assert not any("score_sd" in f for f in d["failures"]), d["failures"]
    one = fake_result(0.006 + 1e-4 * rng.normal(size=(1, 500)))
    assert any("one chain" in f for f in quantities.diagnostics(one)["failures"])


def xr_tree(ds):
    import xarray as xr

    return xr.DataTree(ds)


def test_compare_tells_results_of_the_same_spec_apart(tmp_path, capsys, monkeypatch):
    seen = {}

    def fake(trees, **k):
        seen.update(trees)
        return {"loo": [], "weights": {}, "model_averaged": {}, "warnings": []}

    monkeypatch.setattr("bayesdense.compare.compare", fake)
    rate = np.full((2, 20), 0.006) + np.random.default_rng(1).normal(0, 1e-4, (2, 20))
    paths = [str(_result(tmp_path, rate, f"{i}.nc")) for i in range(3)]
    assert main(["compare", *paths, "--json"]) == 0
    assert len(seen) == 3 and all(p in " ".join(seen) for p in paths)


def test_compare_refuses_the_same_file_twice(tmp_path, capsys):
    rate = np.full((2, 20), 0.006) + np.random.default_rng(1).normal(0, 1e-4, (2, 20))
    p = str(_result(tmp_path, rate))
    assert main(["compare", p, p]) == 2
    assert "given twice" in capsys.readouterr().err


OWN = "model,release_date,params,benchmark,score\nMine-7B,2024-06-01,7e9,MMLU,60\nMine-2B,2024-09-01,2e9,MMLU,50\n"


def test_own_data_spec_without_anchors_is_warned_before_sampling(tmp_path, capsys, monkeypatch):
    (tmp_path / "s.csv").write_text(OWN)
    spec = tmp_path / "own.toml"
    spec.write_text(
        f'name = "own"\n[data]\ntargets = "own_scores"\nscores_file = "{tmp_path / "s.csv"}"\nbenchmarks = ["MMLU"]\n'
    )

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("bayesdense.fit.fit", stop)
    assert main(["fit", str(spec), "--out", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert "WARNING: the loss-law exponents" in err
    assert "[benchmark_priors.MMLU]" in err and "loss_alpha = { dist = " in err
    # with the lines it printed, no warning
    fix = "\n".join(x.strip() for x in err.splitlines() if x.startswith("    "))
    spec.write_text(spec.read_text() + fix + "\n")
    assert main(["fit", str(spec), "--out", str(tmp_path / "out")]) == 130
    assert "WARNING" not in capsys.readouterr().err


def test_own_data_densities_far_from_the_recipe_are_flagged(capsys):
    rate = 0.006 + 1e-4 * np.random.default_rng(5).normal(size=(2, 200))
    tree = fake_result(rate)
    fd = tree["fit_data"].to_dataset()
    fd["params_basis"] = ("model", np.array(["file"] * fd.sizes["model"]))
    tree["fit_data"] = xr_tree(fd)
    assert quantities.summary(tree)["warnings"] == []  # posterior at the recipe's values
    post = tree["posterior"].to_dataset()
    post["log_density"] = post["log_density"] - np.log(15.0)
    tree["posterior"] = xr_tree(post)
    s = quantities.summary(tree)
    assert len(s["warnings"]) == 1 and "0.0667x the paper's recipe" in s["warnings"][0]
    assert s["point_density_source"].startswith("the paper's recipe")
    from bayesdense.cli_fit import format_summary

    text = format_summary(s)
    assert "recipe" in text and "   paper " not in text and "WARNING: the posterior densities" in text
