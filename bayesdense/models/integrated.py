"""Latent log densities integrated out of the joint model (``layers.latents = "integrated"``).

Each target model's latent log density x_i enters only its own scores and the frontier, so

    p(scores_i | globals) = integral of p(scores_i | curves, x) p(x | frontier) dx

is a one-dimensional integral per model, computed by adaptive quadrature: a grid of
``layers.latent_grid`` points (default 40) spanning +-9 standard deviations of a Gaussian
approximation of the integrand, centred where it peaks. The approximation combines the frontier's
mean and variance at the model's date with each score's likelihood in x, linearised at the x that
reproduces the score exactly (the paper's inversion: score -> loss through the link, loss -> size
through the loss law), clipped so that a score at the floor or the ceiling gives a wide, weak term
instead of an infinite one. The grid moves and scales smoothly with the globals, so the integral is
a smooth function of them. The trapezoid rule on a smooth, fast-decaying integrand converges
geometrically once the spacing (0.46 approximate sd at 40 points) is below its width.
``integration_error`` measures the result on posterior draws against a fixed, non-adaptive grid of
640 points spanning 1.5x the frontier's whole range, so a badly placed grid cannot hide.

Placing the grid where each integrand lives (rather than across the frontier's whole range, 160
points before) is what makes many models cheap: the work per gradient is models x grid points.

NUTS then sees only the global parameters (loss law, link, trend, frontier spread): its cost per
gradient grows linearly with the number of models, and the mass matrix stays small. After sampling,
:func:`draw_latents` draws every model's log density from its exact conditional given each global
draw (a cell of the grid by its probability, then a point in the cell from a 16-point sub-grid).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..inputs import N_UNIT, FitData
from ..spec import ModelSpec

SUBGRID = 16
REFERENCE_GRID = 640  # points of the fixed reference grid of integration_error
HALF_WIDTH = 9.0  # the adaptive grid spans centre +- HALF_WIDTH approximate standard deviations
P_CLIP = 0.02  # scores within 2% of the link's range from its floor or ceiling are inverted there
DAYS_PER_YEAR = 365.25


def _offsets(spec: ModelSpec, par: Any) -> tuple[Any, Any]:
    """(lo, hi): the grid spans line + lo .. line + hi, from the frontier's spread parameters;
    ``par(name, prior_key)`` gives a parameter (a PyTensor variable, or a JAX array per draw)."""
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    if kind == "stochastic_frontier" and ineff == "half_normal":
        om = par("frontier_omega", "frontier_omega")
        return -7.5 * om, 4.5 * om
    if kind == "stochastic_frontier":
        s_v, m_u = par("noise_sd", "exp_noise_sd"), par("inefficiency_scale", "exp_inefficiency_mean")
        return -(6.0 * s_v + 12.0 * m_u), 6.0 * s_v
    sd = par("trend_sd", "trend_sd")
    return -7.0 * sd, 7.0 * sd


def log_ndtr(z: Any) -> Any:
    """log Phi(z) in PyTensor, finite with a finite gradient for every z: each branch is evaluated
    only where it is accurate (an erfcx form below -1), on a clipped input, so the branch a switch
    discards never produces the inf or NaN that its gradient would carry through (0 * NaN = NaN)."""
    lo = pt.minimum(z, -1.0)
    hi = pt.maximum(z, -1.0)
    left = pt.log(pt.erfcx(-lo / np.sqrt(2.0)) / 2.0) - lo**2 / 2.0
    right = pt.log1p(-pt.erfc(hi / np.sqrt(2.0)) / 2.0)
    return pt.switch(z < -1.0, left, right)


def _frontier_logp(spec: ModelSpec, par: Any, r: Any) -> Any:
    """log p(x | frontier) at r = x - line, with tails that stay finite far out on the grid (PyMC's
    skew-normal log1p(erf) is -inf beyond ~8 sd, and its gradient NaN, which a grid reaches)."""
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    half_log_2pi = 0.5 * np.log(2 * np.pi)
    if kind == "stochastic_frontier" and ineff == "half_normal":
        om, lam = par("frontier_omega", "frontier_omega"), par("frontier_lambda", "frontier_lambda")
        z = r / om
        return np.log(2.0) - pt.log(om) - 0.5 * z**2 - half_log_2pi + log_ndtr(-lam * z)
    if kind == "stochastic_frontier":  # log rho = line + v - u: ExGaussian on -x with mean -line
        s_v, m_u = par("noise_sd", "exp_noise_sd"), par("inefficiency_scale", "exp_inefficiency_mean")
        return -pt.log(m_u) + r / m_u + s_v**2 / (2 * m_u**2) + log_ndtr(-r / s_v - s_v / m_u)
    sd = par("trend_sd", "trend_sd")
    return -pt.log(sd) - 0.5 * (r / sd) ** 2 - half_log_2pi


def _frontier_moments(spec: ModelSpec, par: Any, xp: Any) -> tuple[Any, Any]:
    """(mean of x - line, variance of x) under the frontier's distribution at a date."""
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    if kind == "stochastic_frontier" and ineff == "half_normal":
        om, lam = par("frontier_omega", "frontier_omega"), par("frontier_lambda", "frontier_lambda")
        delta = lam / xp.sqrt(1.0 + lam**2)
        return -om * delta * np.sqrt(2.0 / np.pi), om**2 * (1.0 - 2.0 * delta**2 / np.pi)
    if kind == "stochastic_frontier":  # line + v - u, v ~ Normal(0, s_v), u ~ Exponential(mean m_u)
        s_v, m_u = par("noise_sd", "exp_noise_sd"), par("inefficiency_scale", "exp_inefficiency_mean")
        return -m_u, s_v**2 + m_u**2
    sd = par("trend_sd", "trend_sd")
    return 0.0 * sd, sd**2


def _adaptive_grid(
    spec: ModelSpec,
    par: Any,
    xp: Any,
    scatter: Any,
    line: Any,
    cv: dict[str, Any],
    log_n: Any,
    score_sd: Any,
    fd: FitData,
    n_grid: int,
) -> tuple[Any, Any]:
    """Each model's grid, (grid, model), and the log of its spacing, (model,): centre +- HALF_WIDTH sd
    of a Gaussian approximation of the integrand (the frontier's moments times each score's
    likelihood linearised where the score is reproduced exactly). ``xp`` is pytensor.tensor or
    jax.numpy; ``scatter(values, index, n)`` sums per-observation values into per-model ones."""
    om, ob, score = fd.obs_model, fd.obs_bench, np.asarray(fd.obs_score, float)
    mean_off, var_f = _frontier_moments(spec, par, xp)
    sd_f = xp.sqrt(var_f)
    centre_f = line + mean_off  # (model,)
    c, gamma, alpha = cv["c"][ob], cv["gamma"][ob], cv["alpha"][ob]
    p = xp.clip((score - cv["d"][ob]) / c, P_CLIP, 1.0 - P_CLIP)
    loss = cv["l"][ob] - (xp.log(p) - xp.log1p(-p)) / gamma  # the link inverted
    excess = xp.maximum(loss - cv["floor"][ob], 1e-9 * cv["a"][ob])  # above the floor at D0
    x_obs = (xp.log(cv["a"][ob]) - xp.log(excess)) / alpha - log_n[om]  # the loss law inverted
    x_obs = xp.clip(x_obs, centre_f[om] - 12.0 * sd_f, centre_f[om] + 12.0 * sd_f)
    slope = c * gamma * p * (1.0 - p) * alpha * excess  # |d score / d x| there
    prec = (slope / score_sd[ob]) ** 2
    tau = 1.0 / var_f + scatter(prec, om, fd.n_models)
    centre = (centre_f / var_f + scatter(prec * x_obs, om, fd.n_models)) / tau
    half = HALF_WIDTH / xp.sqrt(tau)
    u = np.linspace(-1.0, 1.0, n_grid)[:, None]
    return centre[None, :] + half[None, :] * u, xp.log(2.0 * half / (n_grid - 1))


def _pt_scatter(values: Any, index: np.ndarray, n: int) -> Any:
    return pt.inc_subtensor(pt.zeros(n)[index], values)


def add_marginal(
    spec: ModelSpec, fd: FitData, model: pm.Model, frontier: Any, curves: dict[str, Any], score_sd: Any, log_n: Any
) -> None:
    """Add log p(scores | globals), the latents integrated out on the grid, as a Potential."""
    _, _, line = frontier

    def par(name: str, key: str) -> Any:
        if name in model.named_vars:
            return model.named_vars[name]
        p = spec.prior(key)
        assert p.dist == "Fixed" and p.value is not None
        return pt.as_tensor_variable(float(p.value))

    n_grid = spec.layers.latent_grid
    om, ob = fd.obs_model, fd.obs_bench
    x, log_h = _adaptive_grid(spec, par, pt, _pt_scatter, line, curves, log_n, score_sd, fd, n_grid)
    log_f = _frontier_logp(spec, par, x - line[None, :])
    xo = x[:, om]
    loss = curves["a"][ob] * pt.exp(-curves["alpha"][ob] * (log_n[om] + xo)) + curves["floor"][ob]
    from .. import laws

    mu = laws.link(loss, curves["c"][ob], curves["gamma"][ob], curves["l"][ob], curves["d"][ob], xp=pt)
    ll_obs = pm.logp(pm.Normal.dist(mu=mu, sigma=score_sd[ob]), fd.obs_score)  # (grid, observation)
    ll = pt.inc_subtensor(pt.zeros((n_grid, fd.n_models))[:, om], ll_obs)
    pm.Potential("latent_marginal", pt.sum(pt.logsumexp(log_f + ll, axis=0) + log_h))


# ----------------------------------------------------------------------------- after sampling
def _flat(
    spec: ModelSpec, fd: FitData, post: xr.Dataset, name: str, key: str | None = None, bench: bool = False
) -> np.ndarray:
    """A variable's draws flattened over (chain, draw), per benchmark with ``bench``; a variable the
    spec fixes (a Fixed prior, so not in the posterior) is its value in every draw."""
    n = post.sizes["chain"] * post.sizes["draw"]
    if name in post:
        v = post[name]
        v = v.transpose("chain", "draw", "benchmark") if bench else v.transpose("chain", "draw")
        return v.values.reshape(n, -1) if bench else v.values.reshape(n)
    vals = [spec.prior(key or name, b) for b in fd.benchmarks] if bench else [spec.prior(key or name)]
    if any(p.dist != "Fixed" for p in vals):
        raise ValueError(f"'{name}' is missing from the posterior")
    arr = np.array([float(p.value or 0.0) for p in vals])
    return np.broadcast_to(arr, (n, len(arr))).copy() if bench else np.full(n, arr[0])


CURVES = {"a": "loss_a", "alpha": "loss_alpha", "floor": "loss_floor_d0", "c": "link_c", "gamma": "link_gamma"}
CURVES |= {"l": "link_l", "d": "link_d"}


def curve_draws(spec: ModelSpec, fd: FitData, post: xr.Dataset) -> dict[str, np.ndarray]:
    """Every benchmark's loss-law and link parameters per draw, arrays (draws, benchmarks): a target
    model's expected score is link(a exp(-alpha (ln N/1B + ln rho)) + floor; c, gamma, l, d)."""
    return {k: _flat(spec, fd, post, name, bench=True) for k, name in CURVES.items()}


def _globals(spec: ModelSpec, fd: FitData, post: xr.Dataset) -> dict[str, np.ndarray]:
    """Per draw (flattened chain x draw): the line at each model's date, the frontier's parameters
    and every benchmark's curve parameters."""
    t_mid = 0.5 * (fd.t_days.min() + fd.t_days.max())
    tau = (fd.t_days - t_mid) / DAYS_PER_YEAR

    def flat(name: str, key: str | None = None, bench: bool = False) -> np.ndarray:
        return _flat(spec, fd, post, name, key, bench)

    g = {
        "line": flat("frontier_log_density_mid")[:, None] + flat("growth_rate_per_year")[:, None] * tau[None, :],
        **curve_draws(spec, fd, post),
        "score_sd": flat("score_sd", bench=True),
    }
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    if kind == "stochastic_frontier" and ineff == "half_normal":
        g["omega"], g["lam"] = flat("frontier_omega"), flat("frontier_lambda")
    elif kind == "stochastic_frontier":
        g["s_v"], g["m_u"] = flat("noise_sd", "exp_noise_sd"), flat("inefficiency_scale", "exp_inefficiency_mean")
    else:
        g["sd"] = flat("trend_sd")
    return g


def _jax_functions(spec: ModelSpec, fd: FitData) -> tuple[Any, Any]:
    """jit-compiled (log integrand on a grid, one draw of the latents), vectorised over draws."""
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import log_ndtr

    jax.config.update("jax_enable_x64", True)
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    om, ob = np.asarray(fd.obs_model), np.asarray(fd.obs_bench)
    score = np.asarray(fd.obs_score, float)
    log_n = np.log(fd.params / N_UNIT)
    half_log_2pi = 0.5 * np.log(2 * np.pi)
    n_models = fd.n_models

    spread = {
        "frontier_omega": "omega",
        "frontier_lambda": "lam",
        "noise_sd": "s_v",
        "inefficiency_scale": "m_u",
        "trend_sd": "sd",
    }

    def scatter(values: Any, index: np.ndarray, n: int) -> Any:
        return jnp.zeros(n).at[index].add(values)

    def grid(g: dict[str, Any], n_grid: int, widen: float | None) -> tuple[Any, Any]:
        """(x (grid, model), log spacing): adaptive, or (``widen`` given) the fixed reference grid
        across the frontier's whole range, ``widen`` times wider."""

        def par(name: str, key: str) -> Any:
            return g[spread[name]]

        if widen is None:
            return _adaptive_grid(spec, par, jnp, scatter, g["line"], g, log_n, g["score_sd"], fd, n_grid)
        lo, hi = _offsets(spec, par)
        mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * widen
        u = jnp.linspace(-1.0, 1.0, n_grid)[:, None]
        x = g["line"][None, :] + mid + half * u
        return x, jnp.full(n_models, jnp.log(2 * half / (n_grid - 1)))

    def log_integrand(x: Any, g: dict[str, Any]) -> Any:
        """x: (k, model) -> log p(scores | x) + log p(x | frontier), (k, model)."""
        r = x - g["line"][None, :]
        if kind == "stochastic_frontier" and ineff == "half_normal":
            z = r / g["omega"]
            lf = np.log(2.0) - jnp.log(g["omega"]) - 0.5 * z**2 - half_log_2pi + log_ndtr(-g["lam"] * z)
        elif kind == "stochastic_frontier":  # ExGaussian on -x with mean -line
            s, nu = g["s_v"], g["m_u"]
            y = -r
            lf = -jnp.log(nu) + (-y) / nu + s**2 / (2 * nu**2) + log_ndtr(y / s - s / nu)
        else:
            z = r / g["sd"]
            lf = -jnp.log(g["sd"]) - 0.5 * z**2 - half_log_2pi
        xo = x[:, om]
        loss = g["a"][ob] * jnp.exp(-g["alpha"][ob] * (log_n[om] + xo)) + g["floor"][ob]
        mu = g["d"][ob] + g["c"][ob] * jax.nn.sigmoid(g["gamma"][ob] * (g["l"][ob] - loss))
        sd = g["score_sd"][ob]
        ll_obs = -0.5 * ((score - mu) / sd) ** 2 - jnp.log(sd) - half_log_2pi
        ll = jnp.zeros(lf.shape).at[:, om].add(ll_obs)
        return lf + ll

    def log_marginal(g: dict[str, Any], n_grid: int, widen: float | None) -> Any:
        x, log_h = grid(g, n_grid, widen)
        return jax.scipy.special.logsumexp(log_integrand(x, g), axis=0) + log_h

    def draw(g: dict[str, Any], key: Any, n_grid: int) -> Any:
        x, log_h = grid(g, n_grid, None)
        h = jnp.exp(log_h)
        k1, k2, k3 = jax.random.split(key, 3)
        cell = jax.random.categorical(k1, log_integrand(x, g), axis=0)  # (model,)
        centre = x[cell, jnp.arange(n_models)]
        sub = (jnp.arange(SUBGRID)[:, None] + 0.5) / SUBGRID - 0.5
        xs = centre[None, :] + h * sub
        pick = jax.random.categorical(k2, log_integrand(xs, g), axis=0)
        return xs[pick, jnp.arange(n_models)] + h / SUBGRID * (jax.random.uniform(k3, (n_models,)) - 0.5)

    marg = jax.jit(jax.vmap(log_marginal, in_axes=(0, None, None)), static_argnums=(1,))
    drw = jax.jit(jax.vmap(draw, in_axes=(0, 0, None)), static_argnums=(2,))
    return marg, drw


def _chunks(n: int, n_models: int, n_grid: int) -> list[slice]:
    per = max(1, int(2e7 // (n_models * n_grid)))  # ~160 MB of float64 per chunk
    return [slice(i, min(i + per, n)) for i in range(0, n, per)]


def draw_latents(
    spec: ModelSpec, fd: FitData, post: xr.Dataset, *, seed: int, line: np.ndarray | None = None
) -> xr.DataArray:
    """Every model's log density drawn from its conditional posterior given each global draw
    (``line``, (draw, model), replaces the single frontier line: models/benchmark_rates.py)."""
    import jax

    g = _globals(spec, fd, post)
    if line is not None:
        g["line"] = line
    _, drw = _jax_functions(spec, fd)
    n = post.sizes["chain"] * post.sizes["draw"]
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    out = np.empty((n, fd.n_models))
    for sl in _chunks(n, fd.n_models, spec.layers.latent_grid):
        out[sl] = np.asarray(drw({k: v[sl] for k, v in g.items()}, keys[sl], spec.layers.latent_grid))
    return xr.DataArray(
        out.reshape(post.sizes["chain"], post.sizes["draw"], fd.n_models),
        dims=("chain", "draw", "model"),
        coords={"chain": post["chain"].values, "draw": post["draw"].values, "model": [str(m) for m in fd.model]},
    )


def integration_error(
    spec: ModelSpec, fd: FitData, post: xr.Dataset, *, draws: int = 200, seed: int = 0, line: np.ndarray | None = None
) -> float:
    """Largest |log p(scores_i | globals)| difference between the adaptive grid and a fixed grid of
    REFERENCE_GRID points spanning 1.5x the frontier's whole range, over ``draws`` posterior draws
    and every model (nats)."""
    g = _globals(spec, fd, post)
    if line is not None:
        g["line"] = line
    n = post.sizes["chain"] * post.sizes["draw"]
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(draws, n), replace=False))
    g = {k: v[idx] for k, v in g.items()}
    marg, _ = _jax_functions(spec, fd)
    worst = 0.0
    for sl in _chunks(len(idx), fd.n_models, REFERENCE_GRID):
        sub = {k: v[sl] for k, v in g.items()}
        coarse = np.asarray(marg(sub, spec.layers.latent_grid, None))
        fine = np.asarray(marg(sub, REFERENCE_GRID, 1.5))
        worst = max(worst, float(np.max(np.abs(coarse - fine))))
    return worst
