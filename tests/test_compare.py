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
    # Integrated LOO is usable here: few models with Pareto k > 0.7. Not the max k of one fit: with
    # 600 draws k-hat of a borderline model varies from fit to fit (seeds 1-6 of the fast profile:
    # max k 0.49-1.13, but never more than 1 of the 47 models above 0.7, for either spec; elpd
    # -71.0 to -71.4 and -76.1 to -77.1, Monte Carlo spread ~0.3 against se 6.4-9.4).
    for row in res["loo"]:
        assert row["n_pareto_k_above_0.7"] <= 2, row
        assert np.isfinite(row["elpd_loo"]) and 0 < row["se"] < 20
    by = {row["spec"]: row["elpd_loo"] for row in res["loo"]}
    # the frontier predicts left-out models better than the mean trend (gap ~5.5 nats in all six seeds,
    # Monte Carlo error ~0.5 for the difference)
    assert by["trend_fig2"] - by["trend_fig2_mean"] > 2.0
    assert res["model_averaged"]["growth_rate_per_day"]["hdi_low"] > 0


@pytest.mark.slow
def test_joint_marginal_likelihood_matches_monte_carlo_over_the_frontier():
    """The grid integral over each model's latent against plain Monte Carlo: draw log densities from
    the fitted frontier, average the score likelihood."""
    from bayesdense import compare, fit, laws, quantities
    from bayesdense.models.densing import DAYS_PER_YEAR, t_mid_days
    from bayesdense.spec import load_spec

    tree = fit.fit(load_spec("default"), seed=1, profile="fast", progress=False)
    ll = compare.joint_marginal_loglik(tree)
    post, fd = tree["posterior"].to_dataset(), quantities.fit_data(tree)
    rng = np.random.default_rng(0)
    for c, d, i in [(0, 10, 0), (1, 250, 20), (0, 299, fd.n_models - 1)]:
        p = post.isel(chain=c, draw=d)
        tau = (fd.t_days[i] - t_mid_days(fd)) / DAYS_PER_YEAR
        line = float(p["frontier_log_density_mid"] + p["growth_rate_per_year"] * tau)
        rho = stats.skewnorm.rvs(
            -float(p["frontier_lambda"]), loc=line, scale=float(p["frontier_omega"]), size=1_000_000, random_state=rng
        )
        (k,) = np.flatnonzero(fd.obs_model == i)
        n = np.log(fd.params[i] / 1e9) + rho
        loss = float(p["loss_a"][0]) * np.exp(-float(p["loss_alpha"][0]) * n) + float(p["loss_floor_d0"][0])
        mu = laws.link(loss, *(float(p[v][0]) for v in ("link_c", "link_gamma", "link_l", "link_d")))
        mc = np.log(np.mean(stats.norm.pdf(fd.obs_score[k], mu, 0.9)))  # the default spec's fixed score_sd
        assert float(ll.isel(chain=c, draw=d, model=i)) == pytest.approx(mc, abs=0.01)
