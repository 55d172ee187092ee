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
