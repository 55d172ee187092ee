"""The densing-law PyMC model: spec + fit data -> ``pm.Model``. Pure: no sampling here.

Layers (``layers.kind = "joint"``):
1. loss law per benchmark on the reference runs, log loss ~ Normal(log L(N, D), loss_sd_log);
2. link per benchmark on the MiniCPM points, score ~ Normal(S(L), link_sd), ceiling c + d <= 100;
3. each target model's latent log density; its scores are observed through 1-2 at D0;
4. the trend on log density (stochastic frontier, mean trend, or the paper's records).
``layers.kind = "trend"`` keeps only layer 4 and observes published log densities with error.

Parameterisation (see benchmarks/RESULTS.md): N in billions, D in trillions, time in years
from the data's mid-date; positive parameters on the log scale through LogNormal priors; the
stochastic frontier marginalised in closed form (skew-normal with (omega, lambda), or an
exponentially modified Gaussian), so each model has one latent value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .. import laws
from ..inputs import D_UNIT, N_UNIT, FitData, reference_priors
from ..spec import PAPER_CURVE_KEYS, ModelSpec

DAYS_PER_YEAR = 365.25
CHANGE_WIDTH_DAYS = 5.0


def _prior(spec: ModelSpec, key: str, name: str, **kw: Any) -> Any:
    """A PyMC variable for prior ``key``; per-benchmark overrides when ``dims="benchmark"``."""
    if kw.get("dims") == "benchmark":
        benches = list(pm.modelcontext(None).coords["benchmark"])
        ps = [spec.prior(key, str(b)) for b in benches]
        if len({p.dist for p in ps}) > 1:
            raise ValueError(
                f"per-benchmark priors for '{key}' must share one distribution, got {sorted({p.dist for p in ps})}"
            )
        if ps[0].dist == "Fixed":
            value = pt.as_tensor_variable(np.array([float(p.value or 0.0) for p in ps]))
            if spec.layers.curves == "paper" and key in PAPER_CURVE_KEYS:  # the paper's curves: kept in the result
                return pm.Deterministic(name, value, dims="benchmark")
            return value
        params = {k: np.array([p.kwargs()[k] for p in ps]) for k in ps[0].kwargs()}
        return getattr(pm, ps[0].dist)(name, **params, **kw)
    p = spec.prior(key)
    if p.dist == "Fixed":
        assert p.value is not None
        return pt.as_tensor_variable(float(p.value))
    return getattr(pm, p.dist)(name, **p.kwargs(), **kw)


def _pooled(spec: ModelSpec, key: str, name: str) -> Any:
    """Per-benchmark positive parameter; partially pooled on the log scale when hierarchical."""
    if not spec.layers.hierarchical:
        return _prior(spec, key, name, dims="benchmark")
    p = spec.prior(key)
    if p.dist != "LogNormal":
        raise ValueError(f"hierarchical pooling needs a LogNormal prior for '{key}', got {p.dist}")
    mu = pm.Normal(f"{name}_log_mean", p.mu, p.sigma)
    tau = _prior(spec, "pool_sd", f"{name}_log_sd")
    log_v = pm.Normal(f"{name}_log", mu, tau, dims="benchmark")  # centred: data are strong per benchmark
    return pm.Deterministic(name, pt.exp(log_v), dims="benchmark")


def _unique(labels: list[str]) -> list[str]:
    """``labels`` with a repeated one numbered (two public models of equal N and D)."""
    seen: dict[str, int] = {}
    out = []
    for x in labels:
        seen[x] = seen.get(x, 0) + 1
        out.append(x if seen[x] == 1 else f"{x}#{seen[x]}")
    return out


def coords_of(fd: FitData) -> dict[str, Any]:
    """Named dimensions; coordinate values are strings."""
    fit = np.flatnonzero(fd.link_role == "fit")
    return {
        "benchmark": list(fd.benchmarks),
        "model": [str(m) for m in fd.model],
        "reference_run": _unique(
            [
                f"{fd.benchmarks[b]}:{n:.0f}:{d:.0f}"
                for b, n, d in zip(fd.ref_bench, fd.ref_params, fd.ref_tokens, strict=True)
            ]
        ),
        "link_point": [f"{fd.benchmarks[fd.link_bench[i]]}:{i}" for i in fit],
        **({"entry_type": list(fd.groups)} if fd.groups else {}),
        "observation": _unique(
            [f"{fd.model[m]}:{fd.benchmarks[b]}" for m, b in zip(fd.obs_model, fd.obs_bench, strict=True)]
        ),
    }


def t_mid_days(fd: FitData) -> float:
    return float(0.5 * (fd.t_days.min() + fd.t_days.max()))


def _frontier(spec: ModelSpec, fd: FitData, shared: bool = False) -> tuple[Any, int, Any]:
    """Hyper-parameters of the trend and the distribution of ``sign * log_density`` per model.

    Returns ``(dist, sign, line)``: an unregistered PyMC distribution over the models (dims
    "model"), +1/-1 (the exponential-inefficiency frontier is an ExGaussian on ``-log_density``)
    and the trend line at each model's date.
    """
    if spec.frontier.kind == "change_point":
        return _change_point(spec, fd)
    t_mid0 = t_mid_days(fd)
    t_mid = pm.Data("t_mid_days", t_mid0) if shared else t_mid0
    tau = pm.Data("t_years_from_mid", (fd.t_days - t_mid0) / DAYS_PER_YEAR, dims="model")
    rate_y = _prior(spec, "growth_rate_per_year", "growth_rate_per_year")
    b_mid = _prior(spec, "frontier_log_density_mid", "frontier_log_density_mid")
    pm.Deterministic("growth_rate_per_day", rate_y / DAYS_PER_YEAR)
    pm.Deterministic("intercept", b_mid - rate_y * t_mid / DAYS_PER_YEAR)  # ln(rho_max) at t = 0
    line = b_mid + rate_y * tau
    if spec.frontier.trend == "quadratic":
        curv = _prior(spec, "frontier_curvature", "frontier_curvature")
        line = line + curv * tau**2
        # the rate (slope of ln density) at the middle of the data's first and last 365 days
        t0, t1 = float(fd.t_days.min()), float(fd.t_days.max())
        for name, at in (("first_year", t0 + DAYS_PER_YEAR / 2), ("last_year", t1 - DAYS_PER_YEAR / 2)):
            tau_at = (at - t_mid0) / DAYS_PER_YEAR
            pm.Deterministic(f"growth_rate_per_day_{name}", (rate_y + 2 * curv * tau_at) / DAYS_PER_YEAR)
    kind = spec.frontier.kind
    if kind == "stochastic_frontier" and spec.frontier.inefficiency == "half_normal":
        omega = _prior(spec, "frontier_omega", "frontier_omega")
        lam = _prior(spec, "frontier_lambda", "frontier_lambda")
        noise = pm.Deterministic("noise_sd", omega / pt.sqrt(1 + lam**2))
        pm.Deterministic("inefficiency_scale", omega * lam / pt.sqrt(1 + lam**2))
        if fd.groups:  # frontier.inefficiency_by: lambda by group, partially pooled; one noise sd
            # centred: each type has hundreds to thousands of entries, so the data pin its lambda and
            # the non-centred form (lam * exp(sd * z)) put a funnel between sd and z (34-52 divergences)
            sd_log = _prior(spec, "frontier_lambda_sd_log", "frontier_lambda_sd_log")
            log_lam_g = pm.Normal("frontier_log_lambda_by_type", pt.log(lam), sd_log, dims="entry_type")
            lam_g = pm.Deterministic("frontier_lambda_by_type", pt.exp(log_lam_g), dims="entry_type")
            pm.Deterministic("inefficiency_scale_by_type", noise * lam_g, dims="entry_type")
            lam_m = lam_g[fd.model_group]
            return pm.SkewNormal.dist(mu=line, sigma=noise * pt.sqrt(1 + lam_m**2), alpha=-lam_m), 1, line
        return pm.SkewNormal.dist(mu=line, sigma=omega, alpha=-lam), 1, line
    if kind == "stochastic_frontier":  # exponential inefficiency: log rho = line + v - u
        s_v = _prior(spec, "exp_noise_sd", "noise_sd")
        mean_u = _prior(spec, "exp_inefficiency_mean", "inefficiency_scale")
        return pm.ExGaussian.dist(mu=-line, sigma=s_v, nu=mean_u), -1, line
    if kind == "quantile":  # Bayesian quantile regression: the line is the q-quantile of log density
        scale = _prior(spec, "quantile_scale", "quantile_scale")
        return pm.AsymmetricLaplace.dist(mu=line, b=1.0 / scale, q=spec.frontier.quantile), 1, line
    sd = _prior(spec, "trend_sd", "trend_sd")
    if kind == "mean_trend":
        return pm.Normal.dist(mu=line, sigma=sd), 1, line
    # records: the paper's running-max records follow the line; other models are free
    p = spec.prior("nonrecord_log_density")
    if p.dist != "Normal":
        raise ValueError("the 'nonrecord_log_density' prior must be Normal")
    rec = fd.paper_record
    return pm.Normal.dist(mu=pt.where(rec, line, p.mu), sigma=pt.where(rec, sd, p.sigma)), 1, line


def _change_point(spec: ModelSpec, fd: FitData) -> tuple[Any, int, Any]:
    """Two lines, before and after a break (known date or unknown), stochastic-frontier noise.

    Each era has its own growth rate and level (the paper fits the two eras separately). With an
    unknown break the switch is a logistic of width ``CHANGE_WIDTH_DAYS`` in time.
    """
    t = fd.t_days
    cd = spec.frontier.change_date
    if cd == "unknown":
        lo, hi = float(np.sort(t)[3]), float(np.sort(t)[-4])  # at least four models in each era
        t_c = pm.Uniform("change_day", lo, hi)
        w = pm.math.sigmoid((t - t_c) / CHANGE_WIDTH_DAYS)
    else:
        assert isinstance(cd, dt.date)
        t_c = float((cd - spec.data.time_origin).days)
        pm.Deterministic("change_day", pt.as_tensor_variable(t_c))
        w = pt.as_tensor_variable((t >= t_c).astype(float))
    rate_pre = _prior(spec, "growth_rate_per_year", "growth_rate_per_year_pre")
    rate_post = _prior(spec, "growth_rate_per_year", "growth_rate_per_year_post")
    lvl_pre = _prior(spec, "frontier_log_density_mid", "frontier_level_pre")  # ln rho_max at the break
    lvl_post = _prior(spec, "frontier_log_density_mid", "frontier_level_post")
    pm.Deterministic("growth_rate_per_day_pre", rate_pre / DAYS_PER_YEAR)
    pm.Deterministic("growth_rate_per_day", rate_post / DAYS_PER_YEAR)  # the current era's rate
    pm.Deterministic("rate_ratio_post_over_pre", rate_post / rate_pre)
    pm.Deterministic("intercept", lvl_post - rate_post * t_c / DAYS_PER_YEAR)
    yrs = (t - t_c) / DAYS_PER_YEAR
    line = (1 - w) * (lvl_pre + rate_pre * yrs) + w * (lvl_post + rate_post * yrs)
    omega = _prior(spec, "frontier_omega", "frontier_omega")
    lam = _prior(spec, "frontier_lambda", "frontier_lambda")
    return pm.SkewNormal.dist(mu=line, sigma=omega, alpha=-lam), 1, line


def _latent_log_density(spec: ModelSpec, fd: FitData, model: pm.Model, shared: bool = False) -> Any:
    """Each target model's latent log density, with the spec's frontier as its prior."""
    dist, sign, _ = _frontier(spec, fd, shared)
    if sign == 1:
        return model.register_rv(dist, "log_density", dims=("model",))
    neg = model.register_rv(dist, "neg_log_density", dims=("model",))
    return pm.Deterministic("log_density", -neg, dims="model")


def _weighted_data(name: str, observed: np.ndarray, dims: str, *, shared: bool) -> tuple[Any, Any]:
    """(weights, values) of an observed table: with ``shared`` the data containers ``{dims}_weight``
    (1 = in the data, 0 = left out) and ``{name}_observed`` that shared.py swaps per variant, else
    constants."""
    y = np.asarray(observed, float)
    if not shared:
        return np.ones(len(y)), y
    return pm.Data(f"{dims}_weight", np.ones(len(y)), dims=dims), pm.Data(f"{name}_observed", y, dims=dims)


def _observe(
    name: str, dist: Any, observed: np.ndarray, dims: str, *, shared: bool, wy: tuple[Any, Any] | None = None
) -> None:
    """An observed node; with ``shared`` a weighted log-likelihood whose weights select a subset and
    whose values can be replaced, both without rebuilding the model (:func:`_weighted_data`; ``wy``:
    its containers when the model made them already)."""
    if not shared:
        pm.modelcontext(None).register_rv(dist, name, observed=observed, dims=(dims,))
        return
    w, y = wy or _weighted_data(name, observed, dims, shared=True)
    pm.Potential(name, pt.sum(w * pm.logp(dist, y)))


# Offset latents (``build(..., offset_latents=True)``). Given the curves, each latent log density is
# pinned by its scores to a thin ridge that moves with the loss law's and the link's parameters
# (log rho = (ln a - ln(L* - floor)) / alpha - ln N, with L* the loss the link maps to the score):
# a curved 51-dimensional ridge that no mass matrix follows, so NUTS needs small steps. Sampling the
# offset from that curve-implied value instead, log rho = g(curves) + offset, is the same posterior
# (the map has unit Jacobian: g does not depend on the offset) and straightens the ridge: about half
# the leapfrog steps (README finding 15; benchmarks/results_parameterisation.jsonl).
# g only centres the latent, so it is kept finite and smooth where the inversion is not: scores
# clipped to 1-99% of the link's range, the excess loss over the D0 floor smoothly kept positive,
# g clipped to +-OFFSET_CLIP. A model without scores (weight 0) keeps g = 0.
OFFSET_FRAC = 0.01
OFFSET_SOFT = 0.02  # softness of the excess loss's lower bound, in units of the loss law's a
OFFSET_CLIP = 10.0
LOG_NDTR_SWITCH = -20.0


def _log_ndtr(u: Any) -> Any:
    """log Phi(u) with finite value and gradient for every u: log(erfc(-u / sqrt 2) / 2) above
    LOG_NDTR_SWITCH, the asymptotic series below (relative error < 2e-7 at the switch)."""
    hi = pt.maximum(u, LOG_NDTR_SWITCH)
    lo = pt.minimum(u, LOG_NDTR_SWITCH)
    series = -(lo**2) / 2 - pt.log(-lo) - 0.5 * np.log(2 * np.pi) + pt.log1p(-1 / lo**2 + 3 / lo**4)
    return pt.switch(u < LOG_NDTR_SWITCH, series, pt.log(0.5 * pt.erfc(-hi / np.sqrt(2))))


def _frontier_logp(dist: Any, x: Any) -> Any:
    """The frontier's log density at ``x``. The skew-normal's as PyMC writes it (log(1 + erf)) has a
    NaN gradient where the skew term underflows, which offset latents can start in (their log
    density starts at g, far from the line when the curves are): there it is computed stably."""
    from pymc.distributions.continuous import SkewNormalRV

    if not isinstance(dist.owner.op, SkewNormalRV):
        return pm.logp(dist, x)
    mu, sigma, alpha = dist.owner.inputs[-3:]
    z = (x - mu) / sigma
    return np.log(2.0) - 0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2 * np.pi) + _log_ndtr(alpha * z)


def _implied_per_score(curves: dict[str, Any], om: np.ndarray, ob: np.ndarray, log_n: Any, y: Any) -> tuple[Any, Any]:
    """Per score: the log density it implies under the curves (g, kept finite and smooth, see
    OFFSET_FRAC) and the score's slope in log density there (d score / d log rho > 0)."""
    a, alpha, floor = curves["a"][ob], curves["alpha"][ob], curves["floor"][ob]
    c, gamma, l_mid, d = curves["c"][ob], curves["gamma"][ob], curves["l"][ob], curves["d"][ob]
    frac = pt.clip((y - d) / c, OFFSET_FRAC, 1.0 - OFFSET_FRAC)
    loss = l_mid + pt.log(1.0 / frac - 1.0) / gamma
    k = OFFSET_SOFT * a
    z = (loss - floor) / k
    # log softplus(z), finite for z << 0 (where it is z) with a gradient that stays finite too
    log_excess = pt.log(k) + pt.switch(z < -20.0, z, pt.log(pt.softplus(pt.maximum(z, -20.0))))
    g_obs = pt.clip((pt.log(a) - log_excess) / alpha - log_n[om], -OFFSET_CLIP, OFFSET_CLIP)
    # d score / d loss = -c gamma frac (1 - frac); d loss / d log rho = -alpha (loss - floor)
    slope = c * gamma * frac * (1.0 - frac) * alpha * pt.exp(log_excess)
    return g_obs, slope


def _per_model(v: Any, om: np.ndarray, n: int) -> Any:
    """Sum of the per-observation values ``v`` over each model's observations: a scatter-add,
    O(observations) in memory and work (a model x observation indicator matrix was O(models^2) on
    one-score-per-model leaderboards)."""
    return pt.inc_subtensor(pt.zeros(n)[np.asarray(om, dtype="int64")], v)


def _implied_log_density(
    curves: dict[str, Any], om: np.ndarray, ob: np.ndarray, log_n: Any, w: Any, y: Any, n: int
) -> Any:
    """g: each model's log density implied by its scores and the curves (mean over its weighted
    scores), smooth and finite everywhere (see OFFSET_FRAC)."""
    g_obs, _ = _implied_per_score(curves, om, ob, log_n, y)
    return _per_model(w * g_obs, om, n) / pt.maximum(_per_model(w * pt.ones_like(g_obs), om, n), 1.0)


def _frontier_moments(dist: Any, sign: int) -> tuple[Any, Any] | None:
    """Mean and variance of log rho under the frontier ``dist`` of ``sign * log rho`` (None: a
    frontier whose moments are not written here; the plain offset form is used then)."""
    from pymc.distributions.continuous import ExGaussianRV, SkewNormalRV
    from pytensor.tensor.random.basic import NormalRV

    op = dist.owner.op
    if isinstance(op, SkewNormalRV):
        mu, sigma, alpha = dist.owner.inputs[-3:]
        delta = alpha / pt.sqrt(1.0 + alpha**2)
        mean, var = mu + sigma * delta * np.sqrt(2.0 / np.pi), sigma**2 * (1.0 - 2.0 * delta**2 / np.pi)
    elif isinstance(op, NormalRV):
        mu, sigma = dist.owner.inputs[-2:]
        mean, var = mu, sigma**2
    elif isinstance(op, ExGaussianRV):
        mu, sigma, nu = dist.owner.inputs[-3:]
        mean, var = mu + nu, sigma**2 + nu**2
    else:
        return None
    return sign * mean, var


def _laplace_latents(
    curves: dict[str, Any],
    om: np.ndarray,
    ob: np.ndarray,
    log_n: Any,
    w: Any,
    y: Any,
    n: int,
    score_sd: Any,
    moments: tuple[Any, Any],
) -> tuple[Any, Any]:
    """(centre, scale) of each latent log density's conditional posterior given the globals, in the
    Gaussian approximation that linearises each score at the density it implies and moment-matches
    the frontier: precision = sum over scores of (slope / score_sd)^2 + 1 / frontier variance, centre
    = the precision-weighted mean of the scores' implied densities and the frontier's mean."""
    g_obs, slope = _implied_per_score(curves, om, ob, log_n, y)
    prec_obs = w * (slope / score_sd[ob]) ** 2
    lik_prec = _per_model(prec_obs, om, n)
    f_mean, f_var = moments
    prec = lik_prec + 1.0 / f_var
    centre = (_per_model(prec_obs * g_obs, om, n) + f_mean / f_var) / prec
    return centre, 1.0 / pt.sqrt(prec)


LARGE_FIT = 200  # from this many target models on, fits use Laplace latents and a block mass matrix


def latent_form(spec: ModelSpec, n_models: int = 0) -> bool | str:
    """How ``fit`` and the shared models sample the latent densities (``build``'s ``offset_latents``):
    ``"laplace"`` when some benchmark's score error is sampled or there are LARGE_FIT target models
    or more, the offset form otherwise.

    Many models (leaderboards): the Laplace form leaves each latent nearly independent of the globals
    and of the others, so ``fit`` gives them a diagonal mass matrix and keeps the dense one for the
    globals (:func:`bayesdense.fit.sample_model`); cost then grows about linearly with the models.

    With a sampled score error a model pinned by one or two scores has a latent whose spread scales
    with that error: a funnel, and through all the latents at once a slow direction trading the
    frontier's spread against the score error (README, finding 11). The Laplace form samples each
    latent in units of its conditional posterior given the globals (centre and scale move with the
    score error), which removes it. With every score error fixed it gains nothing measurable, and
    the offset form is the one the recorded calibration (validation/) checked."""
    joint_sampled = spec.layers.kind == "joint" and spec.layers.latents == "sampled"
    sampled = joint_sampled and spec.layers.score_error == "sampled"
    if sampled and n_models >= LARGE_FIT and spec.frontier.kind != "quantile":  # quantile: no moments written
        return "laplace"
    sampled = sampled and any(spec.prior("score_sd", b).dist != "Fixed" for b in spec.data.benchmarks)
    return "laplace" if sampled else True


def build(
    spec: ModelSpec,
    fd: FitData,
    *,
    curves_only: bool = False,
    shared: bool = False,
    offset_latents: bool | str = False,
) -> pm.Model:
    """The PyMC model for ``spec`` on ``fd`` (no sampling).

    ``curves_only=True`` keeps layers 1-2 (loss law and link on their own data): the first stage
    of the ``records`` frontier, whose trend is computed from these draws without feedback
    (see :mod:`bayesdense.models.records`).

    ``shared=True`` builds the same model with the target observations weighted by data containers
    (``model_weight`` for trend specs, ``observation_weight`` for joint specs) and D0 and the
    parameter counts as data (``d0_trillions``, ``log_params_billions``): variants that select
    subsets of these models and scores, or change D0 or the parameter basis, then reuse one compiled
    model (:mod:`bayesdense.shared`). A left-out model keeps a latent density drawn from the frontier
    alone, which integrates to one and so tells the trend nothing.

    ``offset_latents=True`` (for sampling; joint models with sampled latents) samples each latent log
    density as an offset from the value its scores imply (see OFFSET_FRAC): the same posterior, about
    half the leapfrog steps. The frontier is then a Potential, so draw priors from the default build.
    ``offset_latents="laplace"``: log rho = centre + scale * z, centre and scale those of each
    latent's Gaussian-approximated conditional posterior given the globals (:func:`_laplace_latents`),
    with the log Jacobian sum(log scale) as the Potential ``log_density_jacobian``; the same posterior
    again. Needs a sampled score error and a frontier whose moments are written
    (:func:`_frontier_moments`); otherwise it is the offset form. :func:`latent_form` chooses.
    """
    spec = reference_priors(spec, fd)  # unchanged unless the reference family is your own
    with pm.Model(coords=coords_of(fd)) as model:
        integrated = spec.layers.latents == "integrated" and spec.layers.kind == "joint" and not curves_only
        if integrated:
            if shared:
                raise ValueError("integrated latents are not built as a shared model")
            frontier = None if spec.frontier.by_benchmark else _frontier(spec, fd)
        joint_sampled = spec.layers.kind == "joint" and not curves_only and not integrated
        offset = offset_latents if joint_sampled else False
        if not curves_only and not integrated and not offset:
            log_density = _latent_log_density(spec, fd, model, shared)
        if spec.layers.kind == "trend":
            meas = _prior(spec, "density_meas_sd", "density_meas_sd")
            obs = np.log(fd.point_density)
            _observe("log_density_obs", pm.Normal.dist(mu=log_density, sigma=meas), obs, "model", shared=shared)
            return model

        a = _pooled(spec, "loss_a", "loss_a")
        alpha = _pooled(spec, "loss_alpha", "loss_alpha")
        b = _pooled(spec, "loss_b", "loss_b")
        beta = _pooled(spec, "loss_beta", "loss_beta")
        e = _pooled(spec, "loss_e", "loss_e") if spec.layers.irreducible_loss else pt.zeros(len(fd.benchmarks))
        rb = fd.ref_bench
        ref_pred = e[rb] + laws.loss_law(
            fd.ref_params / N_UNIT, fd.ref_tokens / D_UNIT, a[rb], alpha[rb], b[rb], beta[rb]
        )
        if fd.score_based:  # the public family: scores, no losses (observed through the link below)
            pass
        elif spec.layers.loss_residuals == "log":
            loss_sd = _prior(spec, "loss_sd_log", "loss_sd_log", dims="benchmark")
            dist = pm.Normal.dist(mu=pt.log(ref_pred), sigma=loss_sd[rb])
            _observe("ref_log_loss", dist, np.log(fd.ref_loss), "reference_run", shared=shared)
        else:
            loss_sd = _prior(spec, "loss_sd", "loss_sd", dims="benchmark")
            dist = pm.Normal.dist(mu=ref_pred, sigma=loss_sd[rb])
            _observe("ref_loss", dist, fd.ref_loss, "reference_run", shared=shared)

        gamma = _prior(spec, "link_gamma", "link_gamma", dims="benchmark")
        l_mid = _prior(spec, "link_l", "link_l", dims="benchmark")
        chance = np.array([spec.layers.chance_score.get(bn, 0.0) for bn in fd.benchmarks])
        floor_off = _prior(spec, "link_floor_offset", "link_floor_offset", dims="benchmark")
        d = pm.Deterministic("link_d", chance + floor_off, dims="benchmark")
        frac = _prior(spec, "link_ceiling_frac", "link_ceiling_frac", dims="benchmark")
        c = pm.Deterministic("link_c", (100.0 - d) * frac, dims="benchmark")
        link_sd = _prior(spec, "link_sd", "link_sd", dims="benchmark")
        fit = fd.link_role == "fit"
        lb = fd.link_bench[fit]
        if fit.any():
            dist = pm.Normal.dist(
                mu=laws.link(fd.link_loss[fit], c[lb], gamma[lb], l_mid[lb], d[lb], xp=pt), sigma=link_sd[lb]
            )
            _observe("link_score", dist, fd.link_score[fit], "link_point", shared=shared)
        if fd.score_based:  # score = link(loss law(N, D)): the composition, on the family's scores
            mu = laws.link(ref_pred, c[rb], gamma[rb], l_mid[rb], d[rb], xp=pt)
            dist = pm.Normal.dist(mu=mu, sigma=link_sd[rb])
            _observe("ref_score", dist, fd.ref_score, "reference_run", shared=shared)

        d0 = pm.Data("d0_trillions", fd.d0_tokens / D_UNIT) if shared else fd.d0_tokens / D_UNIT
        floor = pm.Deterministic("loss_floor_d0", e + laws.loss_floor(d0, b, beta), dims="benchmark")
        pm.Deterministic("max_score", laws.link(floor, c, gamma, l_mid, d, xp=pt), dims="benchmark")
        if curves_only:
            return model
        marginal = spec.layers.score_error == "marginalised"
        score_sd = None if marginal else _prior(spec, "score_sd", "score_sd", dims="benchmark")
        log_n = pm.Data("log_params_billions", np.log(fd.params / N_UNIT), dims="model")
        if integrated:
            from .integrated import add_marginal

            curves = {"a": a, "alpha": alpha, "floor": floor, "c": c, "gamma": gamma, "l": l_mid, "d": d}
            if frontier is None:  # frontier.by_benchmark
                from .benchmark_rates import add_frontier_and_marginal

                add_frontier_and_marginal(spec, fd, model, curves, score_sd, lambda *a, **k: _prior(spec, *a, **k))
            else:
                add_marginal(spec, fd, model, frontier, curves, score_sd, log_n)
            return model
        om, ob = fd.obs_model, fd.obs_bench
        w, y = _weighted_data("score", fd.obs_score, "observation", shared=shared)
        shift = 0.0
        if spec.data.score_settings == "offset":  # scores not evaluated as the paper's
            setting = _prior(spec, "setting_offset", "setting_offset", dims="benchmark")
            shift = setting[ob] * np.asarray(fd.obs_other_setting, float)
        y_paper = y - shift  # the scores on the paper's settings: what the latents are centred on
        if offset:
            dist, sign, _ = _frontier(spec, fd, shared)
            curves = {"a": a, "alpha": alpha, "floor": floor, "c": c, "gamma": gamma, "l": l_mid, "d": d}
            moments = _frontier_moments(dist, sign) if offset == "laplace" and score_sd is not None else None
            off = pm.Flat("log_density_offset", dims="model")
            if moments is None:
                g = _implied_log_density(curves, om, ob, log_n, w, y_paper, fd.n_models)
                log_density = pm.Deterministic("log_density", g + off, dims="model")
            else:  # log rho = centre + scale * z: Jacobian sum(log scale), scale depends on the globals only
                centre, scale = _laplace_latents(curves, om, ob, log_n, w, y_paper, fd.n_models, score_sd, moments)
                log_density = pm.Deterministic("log_density", centre + scale * off, dims="model")
                pm.Potential("log_density_jacobian", pt.sum(pt.log(scale)))
            pm.Potential("log_density_frontier", pt.sum(_frontier_logp(dist, sign * log_density)))
        log_n_eff = log_n + log_density
        loss_t = a[ob] * pt.exp(-alpha[ob] * log_n_eff[om]) + floor[ob]
        mu_score = laws.link(loss_t, c[ob], gamma[ob], l_mid[ob], d[ob], xp=pt) + shift
        if marginal:
            from .score_error import add_marginal as add_score_marginal

            add_score_marginal(spec, list(fd.benchmarks), ob, mu_score, y, w)
        else:
            assert score_sd is not None
            dist = pm.Normal.dist(mu=mu_score, sigma=score_sd[ob])
            _observe("score", dist, fd.obs_score, "observation", shared=shared, wy=(w, y))
    return model
