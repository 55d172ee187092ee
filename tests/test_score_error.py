"""The marginalised score error (models/score_error.py): closed form against quadrature, the
after-sampling draws against their conditional, and the spec rules."""

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy import integrate, stats

from bayesdense.models.score_error import add_marginal, draw_score_sd
from bayesdense.spec import parse_spec

BASE = 'name = "x"\n[data]\ntargets = "published_scores"\nbenchmarks = ["MMLU", "MATH"]\n'
SPEC = parse_spec(
    BASE + '[layers]\nscore_error = "marginalised"\n[benchmark_priors.MATH]\n'
    'score_precision = { dist = "Gamma", alpha = 3.0, beta = 1.5 }\n',
    "x",
)


def _quadrature(y, mu, alpha, beta):
    """log of the integral over the precision of prod Normal(y | mu, 1/sqrt(p)) * Gamma(p | alpha, beta)."""

    def f(p):
        return np.exp(stats.norm.logpdf(y, mu, 1 / np.sqrt(p)).sum() + stats.gamma.logpdf(p, alpha, scale=1 / beta))

    return np.log(integrate.quad(f, 0, 50, limit=400, points=[0.01, 0.1, 1, 10])[0] + integrate.quad(f, 50, np.inf)[0])


def test_closed_form_equals_the_integral_over_the_precision():
    rng = np.random.default_rng(3)
    bench = np.array([0, 0, 0, 1, 1, 0, 1])
    y, mu = rng.normal(50, 10, 7), rng.normal(50, 10, 7) * 0 + 50 + rng.normal(0, 2, 7)
    w = np.array([1, 1, 1, 1, 1, 0, 1.0])  # the sixth score is left out (a shared model's weight)
    with pm.Model(coords={"benchmark": ["MMLU", "MATH"]}) as m:
        add_marginal(SPEC, ["MMLU", "MATH"], bench, mu, y, w)
    got = float(m.compile_fn(m.potentials[0], inputs=[], on_unused_input="ignore")({}))
    keep = w > 0
    want = sum(
        _quadrature(y[keep & (bench == b)], mu[keep & (bench == b)], a, r)
        for b, (a, r) in enumerate([(2.0, 4.0), (3.0, 1.5)])  # MMLU the default Gamma(2, 4), MATH its own
    )
    assert got == pytest.approx(want, abs=1e-6)


def test_score_sd_is_drawn_from_its_conditional_and_from_the_prior():
    ss = xr.DataArray(
        np.full((2, 2000, 2), [[40.0, 3.0]]),
        dims=("chain", "draw", "benchmark"),
        coords={"benchmark": ["MMLU", "MATH"]},
    )
    n = xr.full_like(ss, 0.0) + xr.DataArray([10.0, 4.0], dims="benchmark")
    ds = xr.Dataset({"score_ss": ss, "score_n": n})
    post = draw_score_sd(SPEC, ds, seed=1)
    prior = draw_score_sd(SPEC, ds, seed=1, prior=True)
    assert set(post.data_vars) == {"score_sd"} and post["score_sd"].dims == ("chain", "draw", "benchmark")
    for out, shape, rate in ((post, [7.0, 5.0], [24.0, 3.0]), (prior, [2.0, 3.0], [4.0, 1.5])):
        prec = 1 / out["score_sd"].values.reshape(-1, 2) ** 2
        mean, sd = np.array(shape) / rate, np.sqrt(shape) / rate
        # 4000 independent draws: the mean within 5 Monte Carlo standard errors
        assert np.all(np.abs(prec.mean(axis=0) - mean) < 5 * sd / np.sqrt(4000))


def test_spec_rules():
    with pytest.raises(ValueError, match="score_precision must be Gamma"):
        parse_spec(
            BASE + '[layers]\nscore_error = "marginalised"\n[priors]\n'
            'score_precision = { dist = "LogNormal", mu = 0.0, sigma = 1.0 }\n',
            "x",
        )
    with pytest.raises(ValueError, match="needs layers.kind = 'joint', sampled latents"):
        parse_spec(BASE + '[layers]\nscore_error = "marginalised"\nlatents = "integrated"\n', "x")
