"""The calibration machinery: it must pass a calibrated posterior and catch miscalibrated ones."""

import numpy as np
import pytest

from bayesdense.validation import RankStats, rank_of_truth, sbc_summary


def _ranks(shift: float, scale: float, sims: int = 300, draws: int = 99, seed: int = 0) -> np.ndarray:
    """theta ~ N(0, 1), y ~ N(theta, 1): the exact posterior is N(y / 2, 1 / 2); perturb it."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sims):
        theta = rng.normal()
        y = rng.normal(theta, 1.0)
        post = rng.normal(y / 2 + shift, scale * np.sqrt(0.5), draws)
        out.append(rank_of_truth(post, theta, rng))
    return np.array(out)


def test_a_calibrated_posterior_passes():
    rs = RankStats("theta", _ranks(0.0, 1.0), 99)
    assert rs.uniformity_pvalue() > 0.01
    assert rs.coverage(0.94) == pytest.approx(0.94, abs=0.04)
    assert rs.coverage(0.5) == pytest.approx(0.5, abs=0.08)


@pytest.mark.parametrize(("shift", "scale"), [(0.7, 1.0), (0.0, 0.4), (0.0, 2.5)])
def test_a_shifted_too_narrow_or_too_wide_posterior_is_caught(shift, scale):
    rs = RankStats("theta", _ranks(shift, scale), 99)
    assert rs.uniformity_pvalue() < 1e-4


def test_summary_rows():
    rows = sbc_summary({"a": _ranks(0, 1, sims=50), "b": _ranks(0, 0.3, sims=50)}, 99)
    assert [r["quantity"] for r in rows] == ["a", "b"]
    assert rows[1]["coverage_94"] < rows[0]["coverage_94"]


def _calibration(shift: float, scale: float, sims: int = 200) -> dict:
    return {"spec": "toy", "n_draws": 99, "ranks": {"theta": _ranks(shift, scale, sims=sims).tolist()}}


def test_ecdf_band_is_simultaneous_at_95_percent():
    from bayesdense.plots import _ecdf_band

    n, grid = 50, np.linspace(0, 1, 101)[1:-1]
    lo, hi = _ecdf_band(n, grid)
    rng = np.random.default_rng(99)  # fresh uniform samples, not the ones the band was tuned on
    counts = np.stack([np.searchsorted(np.sort(rng.random(n)), grid, side="right") for _ in range(1000)])
    inside = np.mean(np.all((counts >= lo) & (counts <= hi), axis=1))
    assert 0.92 <= inside <= 0.98


def test_rank_plot_data_flags_a_miscalibrated_posterior():
    from bayesdense import plots

    good = plots.sbc_ranks_data(_calibration(0.0, 1.0))["quantities"]["theta"]
    assert good["inside_band"] and good["hist"].sum() == 200
    for shift, scale in [(0.7, 1.0), (0.0, 0.4)]:
        assert not plots.sbc_ranks_data(_calibration(shift, scale))["quantities"]["theta"]["inside_band"]
    fig = plots.sbc_ranks({**_calibration(0.0, 1.0), "ranks": {"a": _ranks(0, 1).tolist(), "b": _ranks(0, 1).tolist()}})
    assert len(fig.axes) == 4


@pytest.mark.slow
def test_bounded_sbc_catches_a_planted_miscalibration():
    """The real pipeline (simulate, fit, rank): fitting with a growth prior pinned far from the one
    the data were simulated from must show up as non-uniform ranks and lost coverage."""
    from bayesdense.spec import load_spec, parse_spec
    from bayesdense.validation import calibrate

    spec = load_spec("trend_fig2")
    wrong = parse_spec(
        spec.text + '\n[priors.growth_rate_per_year]\ndist = "Normal"\nmu = -1.0\nsigma = 0.02\n', "planted"
    )
    res = calibrate(spec, sims=8, profile="fast", workers=2, fit_spec=wrong)
    row = next(r for r in res["summary"] if r["quantity"] == "growth_rate_per_day")
    assert row["uniformity_p"] < 0.01 and row["coverage_94"] <= 0.25


@pytest.mark.slow
def test_bounded_sbc_run_of_the_joint_model():
    from bayesdense.spec import load_spec
    from bayesdense.validation import calibrate

    res = calibrate(load_spec("default"), sims=4, profile="fast", workers=2)
    names = [r["quantity"] for r in res["summary"]]
    assert "loss_alpha[AVERAGE]" in names and "loss_beta[AVERAGE]" in names
    for q, ranks in res["ranks"].items():
        assert 0 <= min(ranks) and max(ranks) <= res["n_draws"], q


@pytest.mark.slow
def test_bounded_sbc_run_of_the_trend_model():
    from bayesdense.spec import load_spec
    from bayesdense.validation import calibrate

    res = calibrate(load_spec("trend_fig2"), sims=6, profile="fast", workers=2)
    assert res["sims"] == 6 and len(res["summary"]) == 5
    for row in res["summary"]:
        assert 0 <= row["coverage_94"] <= 1
        ranks = np.array(res["ranks"][row["quantity"]])
        assert ranks.min() >= 0 and ranks.max() <= res["n_draws"]
