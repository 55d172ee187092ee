import numpy as np
import pytest
from scipy import integrate, stats

from bayesdense.compare import ald_plus_normal_logpdf, skewnormal_plus_normal_logpdf


@pytest.mark.parametrize(("omega", "alpha", "s"), [(1.0, -3.0, 0.3), (0.5, -1.0, 0.1), (1.5, -8.0, 0.5)])
def test_closed_form_marginal_matches_numerical_convolution(omega, alpha, s):
    for y in (-2.0, -0.3, 0.4):
        num = integrate.quad(
            lambda x, y=y: stats.skewnorm.pdf(x, alpha, scale=omega) * stats.norm.pdf(y - x, 0, s),
            -30,
            30,
            points=[y],
            limit=200,
        )[0]
        assert np.exp(skewnormal_plus_normal_logpdf(y, 0.0, omega, alpha, s)) == pytest.approx(num, rel=1e-6)


@pytest.mark.parametrize(("scale", "q", "s"), [(0.5, 0.9, 0.1), (1.0, 0.5, 0.3), (0.3, 0.75, 0.05)])
def test_quantile_marginal_matches_pymc_density_convolved(scale, q, s):
    """The closed form against PyMC's own AsymmetricLaplace (as the model uses it, b = 1/scale)."""
    import pymc as pm

    x = np.linspace(-25, 25, 200001)
    ald = np.exp(pm.logp(pm.AsymmetricLaplace.dist(mu=0.0, b=1.0 / scale, q=q), x).eval())
    for y in (-1.5, -0.2, 0.0, 0.6):
        num = integrate.trapezoid(ald * stats.norm.pdf(y - x, 0, s), x)
        assert np.exp(ald_plus_normal_logpdf(y, 0.0, scale, q, s)) == pytest.approx(num, rel=1e-4)
    # q is the quantile of the line: P(X < mu) = q
    assert integrate.trapezoid(np.where(x < 0, ald, 0.0), x) == pytest.approx(q, abs=1e-3)


@pytest.mark.slow
def test_compare_trend_specs(tmp_path):
    from bayesdense import compare, fit
    from bayesdense.spec import load_spec, parse_spec

    base = load_spec("trend_fig2")
    mean = parse_spec(
        base.text.replace('kind = "stochastic_frontier"', 'kind = "mean_trend"').replace(
            'name = "trend_fig2"', 'name = "trend_fig2_mean"'
        )
    )
    trees = {s.name: fit.fit(s, seed=2, profile="fast", progress=False) for s in (base, mean)}
    res = compare.compare(trees)
    assert sum(res["weights"].values()) == pytest.approx(1.0)
    assert all(row["max_pareto_k"] < 1.0 for row in res["loo"])  # integrated LOO is usable here
    assert res["model_averaged"]["growth_rate_per_day"]["hdi_low"] > 0
