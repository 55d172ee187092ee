import numpy as np
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayesdense import laws
from bayesdense.classical import published_curves

CURVES = published_curves()
D0 = 5e12


@settings(max_examples=200, deadline=None)
@given(bench=st.sampled_from(sorted(CURVES)), log10_n=st.floats(6.0, 13.0))
def test_effective_size_inverts_the_forward_map(bench, log10_n):
    c = CURVES[bench]
    n = 10.0**log10_n
    s = float(c.score_at(n, D0))
    if not (c.d + 1e-6 < s < min(c.c + c.d, c.max_score(D0)) - 1e-6):
        return  # numerically saturated: covered by the domain tests below
    n_back = float(laws.effective_size(s, c, D0))
    assert n_back == pytest.approx(n, rel=1e-5)


@settings(max_examples=100, deadline=None)
@given(loss=st.floats(0.05, 1.0), bench=st.sampled_from(sorted(CURVES)))
def test_link_inverse_round_trips(loss, bench):
    c = CURVES[bench]
    s = c.score_from_loss(loss)
    if c.d + 1e-6 < s < c.c + c.d - 1e-6:
        assert float(laws.link_inverse(s, c.c, c.gamma, c.l, c.d)) == pytest.approx(loss, rel=1e-6)


def test_out_of_domain_scores_are_defined_not_silent():
    c = CURVES["AVERAGE"]
    below, above_reach, above_ceiling = c.d - 1, (c.max_score(D0) + c.c + c.d) / 2, c.c + c.d + 1
    out = laws.effective_size([below, above_reach, above_ceiling], c, D0)
    assert np.isnan(out[0]) and np.isinf(out[1]) and np.isnan(out[2])
    reasons = laws.domain_reason([below, above_reach, above_ceiling, 40.0], c, D0)
    assert list(reasons) == [laws.REASON_BELOW_FLOOR, laws.REASON_UNREACHABLE, laws.REASON_ABOVE_CEILING, ""]
    with pytest.raises(laws.DomainError, match="unbounded"):
        laws.effective_size([40.0, above_reach], c, D0, strict=True)


def test_numpy_and_pytensor_laws_agree():
    c = CURVES["MMLU"]
    n = np.array([1e8, 1e9, 7e10])
    d = np.array([1e10, 1e12, 5e12])
    np_loss = laws.loss_law(n, d, c.a, c.alpha, c.b, c.beta)
    pt_loss = laws.loss_law(pt.as_tensor(n), pt.as_tensor(d), c.a, c.alpha, c.b, c.beta).eval()
    np.testing.assert_allclose(np_loss, pt_loss, rtol=1e-12)
    np_s = laws.link(np_loss, c.c, c.gamma, c.l, c.d)
    pt_s = laws.link(pt.as_tensor(np_loss), c.c, c.gamma, c.l, c.d, xp=pt).eval()
    np.testing.assert_allclose(np_s, pt_s, rtol=1e-10)


def test_running_max_records_keeps_only_new_maxima_and_best_of_a_date():
    t = np.array([0, 0, 10, 20, 20, 30])
    v = np.array([1.0, 2.0, 1.5, 3.0, 2.5, 2.9])
    assert laws.running_max_records(t, v).tolist() == [False, True, False, True, False, False]


def test_doubling_time_is_infinite_without_growth():
    assert laws.doubling_time(0.0) == np.inf
    assert float(laws.doubling_time(np.log(2) / 100)) == pytest.approx(100)


def test_rescaled_loss_law_is_the_same_function():
    c = CURVES["BBH"]
    a2, b2 = laws.rescale_loss_law(c.a, c.alpha, c.b, c.beta, 1e9, 1e12)
    assert laws.loss_law(3.0, 2.0, a2, c.alpha, b2, c.beta) == pytest.approx(
        laws.loss_law(3e9, 2e12, c.a, c.alpha, c.b, c.beta), rel=1e-12
    )
