"""Latents integrated out (layers.latents = "integrated"): the grid integral against adaptive
quadrature of the same integrand, the PyMC potential against it, and (slow) the posterior against
the fit that samples every latent."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from bayesdense import inputs, laws, models
from bayesdense.models import integrated
from bayesdense.spec import load_spec, parse_spec


def integrated_spec(name: str = "default", frontier: str = "") -> object:
    text = load_spec(name).text.replace('[layers]\nkind = "joint"', '[layers]\nkind = "joint"\nlatents = "integrated"')
    if frontier:
        text = text.replace('inefficiency = "half_normal"', frontier)
    return parse_spec(text.replace(f'name = "{name}"', f'name = "{name}_integrated"'))


def _point(spec, fd, seed):
    """A point of the globals where the posterior lives: the paper's AVERAGE curves (NMI Extended
    Data Fig. 1, as recovered in data/), a frontier near the README's default posterior (growth
    0.0054 per day, omega 1.4, lambda 2.65, the line at the top of the published densities), each
    jittered by ``seed``. Returned as the model's value variables and as named values."""
    from bayesdense import classical
    from bayesdense.inputs import D_UNIT, N_UNIT

    cv = classical.published_curves()["AVERAGE"]
    a, b = laws.rescale_loss_law(cv.a, cv.alpha, cv.b, cv.beta, N_UNIT, D_UNIT)
    rng = np.random.default_rng(seed)
    j = lambda: float(np.exp(rng.normal(0, 0.03)))  # noqa: E731
    t_mid = 0.5 * (fd.t_days.min() + fd.t_days.max())
    rate = 0.0054 * 365.25 * j()
    top = np.log(fd.point_density) - rate * (fd.t_days - t_mid) / 365.25
    free = {
        "growth_rate_per_year": rate,
        "frontier_log_density_mid": float(np.quantile(top, 0.9)),
        "frontier_omega": 1.4 * j(),
        "frontier_lambda": 2.65 * j(),
        "noise_sd": 0.4 * j(),
        "inefficiency_scale": 1.0 * j(),
        "loss_a": [a * j()],
        "loss_alpha": [cv.alpha * j()],
        "loss_b": [b * j()],
        "loss_beta": [cv.beta * j()],
        "loss_sd_log": [0.02],
        "link_gamma": [cv.gamma * j()],
        "link_l": [cv.l * j()],
        "link_floor_offset": [cv.d - spec.layers.chance_score["AVERAGE"]],
        "link_sd": [1.0],
    }
    m = models.build(spec, fd)
    p = {}
    for rv in m.free_RVs:
        val = np.asarray(free[rv.name], float)
        vv = m.rvs_to_values[rv]
        p[vv.name] = np.log(val) if vv.name.endswith("_log__") else val
    names = [v.name for v in m.free_RVs] + [v.name for v in m.deterministics]
    vals = m.compile_fn(m.replace_rvs_by_values([m[n] for n in names]), inputs=m.value_vars, on_unused_input="ignore")(
        p
    )
    return m, p, dict(zip(names, vals, strict=True))


def _as_posterior(v, n):
    """One point of the globals repeated as ``n`` draws of one chain (benchmark dim of length 1)."""
    import xarray as xr

    data = {}
    for k, val in v.items():
        val = np.asarray(val, float)
        if val.ndim == 0:
            data[k] = (("chain", "draw"), np.full((1, n), float(val)))
        elif val.shape == (1,):
            data[k] = (("chain", "draw", "benchmark"), np.full((1, n, 1), float(val[0])))
    return xr.Dataset(data, coords={"chain": [0], "draw": np.arange(n)})


def _quad_marginal(spec, fd, v, i):
    """log of the integral over x of p(scores_i | x) p(x | frontier), by adaptive quadrature."""
    tau = (fd.t_days[i] - 0.5 * (fd.t_days.min() + fd.t_days.max())) / 365.25
    line = float(v["frontier_log_density_mid"] + v["growth_rate_per_year"] * tau)
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    if kind == "stochastic_frontier" and ineff == "half_normal":
        prior = stats.skewnorm(-float(v["frontier_lambda"]), loc=line, scale=float(v["frontier_omega"]))
        pdf = prior.pdf
    else:
        s_v, m_u = float(v["noise_sd"]), float(v["inefficiency_scale"])

        def pdf(x):
            return stats.exponnorm.pdf(-x, m_u / s_v, loc=-line, scale=s_v)

    sd = float(spec.prior("score_sd").value)
    (k,) = np.flatnonzero(fd.obs_model == i)

    def f(x):
        loss = float(v["loss_a"][0]) * np.exp(-float(v["loss_alpha"][0]) * (np.log(fd.params[i] / 1e9) + x))
        mu = laws.link(
            loss + float(v["loss_floor_d0"][0]), *(float(v[n][0]) for n in ("link_c", "link_gamma", "link_l", "link_d"))
        )
        return stats.norm.pdf(fd.obs_score[k], mu, sd) * pdf(x)

    xs = np.linspace(line - 25, line + 10, 20001)
    peak = xs[np.argmax(f(xs))]
    val = integrate.quad(f, line - 40, line + 15, points=[peak], limit=500, epsabs=0, epsrel=1e-10)[0]
    return np.log(val)


@pytest.mark.parametrize(
    ("frontier", "seed"),
    [("", 1), ("", 2), ('inefficiency = "exponential"', 3)],
)
def test_grid_marginal_matches_adaptive_quadrature(frontier, seed):
    spec = integrated_spec(frontier=frontier)
    fd = inputs.prepare(spec)
    m, p, v = _point(spec, fd, seed)
    # the PyMC potential (what NUTS sees) against the sum of per-model adaptive quadratures
    (pot_graph,) = m.replace_rvs_by_values([m["latent_marginal"]])
    pot = float(m.compile_fn(pot_graph, inputs=m.value_vars, on_unused_input="ignore")(p))
    quad = [_quad_marginal(spec, fd, v, i) for i in range(fd.n_models)]
    assert pot == pytest.approx(sum(quad), abs=1e-3 * fd.n_models)
    # and per model, the numpy/JAX grid used after sampling
    g = integrated._globals(spec, fd, _as_posterior(v, 1))
    marg, _ = integrated._jax_functions(spec, fd)
    grid = np.asarray(marg(g, spec.layers.latent_grid, None))[0]
    assert np.max(np.abs(grid - np.array(quad))) < 1e-3


def test_latent_draws_follow_the_conditional():
    """Given one global draw, the drawn latents of a model have the mean and sd of its exact
    conditional (computed by quadrature), within Monte Carlo error."""
    spec = integrated_spec()
    fd = inputs.prepare(spec)
    _, _, v = _point(spec, fd, 4)
    n = 4000
    x = integrated.draw_latents(spec, fd, _as_posterior(v, n), seed=5).values[0]  # (draw, model)
    for i in (0, 25, fd.n_models - 1):
        tau = (fd.t_days[i] - 0.5 * (fd.t_days.min() + fd.t_days.max())) / 365.25
        line = float(v["frontier_log_density_mid"] + v["growth_rate_per_year"] * tau)
        grid = np.linspace(line - 25, line + 10, 200001)
        prior = stats.skewnorm.logpdf(grid, -float(v["frontier_lambda"]), loc=line, scale=float(v["frontier_omega"]))
        loss = float(v["loss_a"][0]) * np.exp(-float(v["loss_alpha"][0]) * (np.log(fd.params[i] / 1e9) + grid))
        mu = laws.link(
            loss + float(v["loss_floor_d0"][0]), *(float(v[k][0]) for k in ("link_c", "link_gamma", "link_l", "link_d"))
        )
        lw = prior + stats.norm.logpdf(fd.obs_score[np.flatnonzero(fd.obs_model == i)[0]], mu, 0.9)
        w = np.exp(lw - lw.max())
        w /= w.sum()
        mean = float(np.sum(w * grid))
        sd = float(np.sqrt(np.sum(w * (grid - mean) ** 2)))
        assert abs(x[:, i].mean() - mean) < 4.5 * sd / np.sqrt(n)
        assert x[:, i].std() == pytest.approx(sd, rel=4.5 * np.sqrt(2 / n) + 0.01)


def test_integrated_latents_need_a_smooth_exchangeable_frontier():
    from bayesdense.spec import SpecError

    text = integrated_spec().text
    for kind in ("quantile", "mean_trend"):
        bad = text.replace('kind = "stochastic_frontier"', f'kind = "{kind}"')
        if kind == "quantile":
            with pytest.raises(SpecError, match="latents = 'integrated' needs"):
                parse_spec(bad)
        else:
            assert parse_spec(bad).layers.latents == "integrated"


@pytest.mark.slow
def test_integrated_fit_matches_the_fit_that_samples_every_latent():
    """Same posterior as today's fit on the 51 models: growth rate and densities agree within
    Monte Carlo error (4.5 combined MCSEs for each of 8 quantities)."""
    import arviz as az

    from bayesdense import fit

    base = load_spec("default")
    a = fit.fit(base, seed=1, profile="fast", progress=False)
    b = fit.fit(integrated_spec(), seed=1, profile="fast", progress=False)
    assert b.attrs["latent_integration_error_nats"] < 0.01
    names = list(a["posterior"]["model"].values)
    for var, sel in [("growth_rate_per_day", {}), ("intercept", {})] + [
        ("log_density", {"model": names[i]}) for i in (0, 10, 20, 30, 40, len(names) - 1)
    ]:
        xa, xb = a["posterior"][var].sel(sel), b["posterior"][var].sel(sel)
        se = np.hypot(float(az.mcse(xa.to_dataset(name="x"))["x"]), float(az.mcse(xb.to_dataset(name="x"))["x"]))
        assert abs(float(xa.mean()) - float(xb.mean())) < 4.5 * se, (var, sel)
        assert float(xb.std()) == pytest.approx(float(xa.std()), rel=0.25), (var, sel)
