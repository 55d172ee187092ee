"""Slow tier: parameter recovery on data simulated from the trend model's own generative process."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_trend_model_recovers_a_known_growth_rate():
    import pymc as pm
    from scipy.stats import skewnorm

    from bayesdense import quantities
    from bayesdense.inputs import prepare
    from bayesdense.models import build
    from bayesdense.models.densing import DAYS_PER_YEAR, t_mid_days
    from bayesdense.spec import load_spec

    spec = load_spec("trend_fig2")
    fd = prepare(spec)
    rng = np.random.default_rng(7)
    rate_y, b_mid, omega, lam = 2.4, -0.5, 1.0, 3.0  # truth
    tau = (fd.t_days - t_mid_days(fd)) / DAYS_PER_YEAR
    log_rho = skewnorm.rvs(-lam, loc=b_mid + rate_y * tau, scale=omega, random_state=rng)
    fd.point_density = np.exp(log_rho + rng.normal(0, 0.1, fd.n_models))
    with build(spec, fd):
        idata = pm.sample(
            draws=500,
            tune=500,
            chains=2,
            random_seed=3,
            nuts_sampler="numpyro",
            progressbar=False,
            compute_convergence_checks=False,
            target_accept=0.95,
        )
    rate = quantities.interval(idata["posterior"]["growth_rate_per_year"])
    assert rate["hdi_low"] < rate_y < rate["hdi_high"]
    dens = quantities.intervals(idata["posterior"]["log_density"], "model")
    inside = np.mean([d["hdi_low"] <= t <= d["hdi_high"] for d, t in zip(dens, log_rho, strict=True)])
    assert inside > 0.85  # most model densities inside their 94% HDI
