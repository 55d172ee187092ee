"""Slow tier: a real (short) fit through the CLI, its figures, and reproducibility via `rerun`."""

import json

import numpy as np
import pytest

from bayesdense.cli import main

pytestmark = pytest.mark.slow


def test_fit_plot_and_rerun_reproduce(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BAYESDENSE_PROFILE", "fast")
    assert main(["fit", "--out", str(tmp_path), "--json", "--no-progress", "--seed", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    path = out["result_file"]
    g = out["growth_rate_per_day"]
    assert g["hdi_low"] < g["median"] < g["hdi_high"] and out["diagnostics"]["divergences"] < 10

    from bayesdense import io, plots

    tree = io.load(path)
    written = plots.write_all(tree, tmp_path / "figs", fmt="png")
    # change_point needs a change-point trend, benchmark_rates a per-benchmark frontier
    assert {p.stem for p in written} == set(plots.FIGURES) - {"change_point", "benchmark_rates"}
    c = plots.curve_fits_data(tree)["AVERAGE"]
    fit = c["link_role"] == "fit"
    pred = np.interp(c["link_loss"][fit], c["loss_grid"], c["score_band"][1])
    assert np.sqrt(np.mean((pred - c["link_score"][fit]) ** 2)) < 3.0  # the median link passes through its points

    capsys.readouterr()
    assert main(["rerun", path, "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True


def test_change_point_result_has_both_rates_and_its_figure(tmp_path):
    from bayesdense import fit, plots, quantities
    from bayesdense.spec import load_spec

    tree = fit.fit(load_spec("changepoint_fig3c"), seed=1, profile="fast", progress=False)
    cp = quantities.summary(tree)["change_point"]
    assert 0.5 < cp["p_after_faster"] <= 1.0  # the data lean towards faster growth after ChatGPT
    assert cp["change_day"] == {"fixed": -86.0}  # 2022-11-30 is 86 days before 2023-02-24
    d = plots.change_point_data(tree)
    assert np.mean(d["after_draws"] > d["before_draws"]) == pytest.approx(cp["p_after_faster"])
    assert "change_point" in {p.stem for p in plots.write_all(tree, tmp_path)}
