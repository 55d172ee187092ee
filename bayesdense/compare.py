"""Model comparison of trend specifications by PSIS-LOO, with stacking weights.

Every model has its own latent density and one observation, so the usual pointwise likelihood
(observation given its latent) makes PSIS-LOO useless (most Pareto k > 0.7: leaving a point out
moves its own latent). We integrate the latent out in closed form instead: the observed log
density given the frontier's parameters is

* stochastic frontier (half-normal): skew-normal(mu, omega, -lambda) + Normal(0, s)
  = skew-normal(mu, sqrt(omega^2 + s^2), -lambda * omega / sqrt(omega^2 + s^2 (1 + lambda^2)));
* stochastic frontier (exponential): -(ExGaussian(-mu, sigma_v, nu)) + Normal(0, s)
  = -(ExGaussian(-mu, sqrt(sigma_v^2 + s^2), nu));
* mean trend: Normal(mu, sqrt(sd^2 + s^2)),

with s the measurement error of the published densities. LOO is then over models given the
trend, which is the question (which trend predicts a left-out model best).

For joint specs (scores observed through the curves) the latent is integrated numerically: per
draw, p(model i's scores | all parameters) = integral over log density of p(scores | curves, log
density) p(log density | frontier), on a grid spanning the latent's posterior (see
:func:`joint_marginal_loglik`). LOO is then over models with the curves as fitted on all data.
"""

from __future__ import annotations

import json
from typing import Any

import arviz as az
import numpy as np
import xarray as xr
from scipy import stats

from . import laws, quantities
from .models.densing import DAYS_PER_YEAR, t_mid_days
from .spec import parse_spec

K_BAD = 0.7


def skewnormal_plus_normal_logpdf(y: Any, mu: Any, omega: Any, alpha: Any, s: float) -> Any:
    """log density of SkewNormal(mu, omega, alpha) + Normal(0, s) (closed form, a skew-normal)."""
    om2 = np.sqrt(omega**2 + s**2)
    a2 = alpha * omega / np.sqrt(omega**2 + s**2 * (1 + alpha**2))
    return stats.skewnorm.logpdf(y, a2, loc=mu, scale=om2)


def ald_plus_normal_logpdf(y: Any, mu: Any, scale: Any, q: float, s: float) -> Any:
    """log density of AsymmetricLaplace (q-quantile ``mu``, ``scale``) + Normal(0, s), closed form.

    The ALD is a mixture: with weight q, ``mu - Exp(mean scale*kappa)``; with weight 1 - q,
    ``mu + Exp(mean scale/kappa)``, kappa = sqrt(q / (1 - q)); each side plus a Normal is an
    exponentially modified Gaussian."""
    kappa = np.sqrt(q / (1 - q))
    right = stats.exponnorm.logpdf(y, scale / kappa / s, loc=mu, scale=s)
    left = stats.exponnorm.logpdf(-y, scale * kappa / s, loc=-mu, scale=s)
    return np.logaddexp(np.log(q) + left, np.log1p(-q) + right)


def frontier_logpdf(spec: Any, post: xr.Dataset, x: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """log p(log density = x | frontier parameters) for each draw; ``mu`` the line at each model's date.
    ``x`` and ``mu`` broadcast against the draws' (chain, draw, 1[, 1]) shape."""
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    if spec.frontier.inefficiency_by:
        raise ValueError("comparing fits whose frontier's inefficiency differs by entry type is not written yet")

    def par(name: str) -> np.ndarray:
        v = post[name].values
        return v.reshape(v.shape + (1,) * (mu.ndim - v.ndim))

    if kind == "stochastic_frontier" and ineff == "half_normal":
        return stats.skewnorm.logpdf(x, -par("frontier_lambda"), loc=mu, scale=par("frontier_omega"))
    if kind == "stochastic_frontier":
        sv, nu = par("noise_sd"), par("inefficiency_scale")
        return stats.exponnorm.logpdf(-x, nu / sv, loc=-mu, scale=sv)
    if kind == "mean_trend":
        return stats.norm.logpdf(x, mu, par("trend_sd"))
    if kind == "quantile":
        return laws.asymmetric_laplace_logpdf(x, mu, par("quantile_scale"), spec.frontier.quantile)
    raise ValueError(f"frontier kind '{kind}' is not compared by LOO (records and change points are not)")


def joint_marginal_loglik(tree: xr.DataTree, *, grid: int = 400) -> xr.DataArray:
    """Pointwise log p(model i's scores | curve and trend parameters), its latent log density
    integrated out numerically on a grid over the latent's posterior range (+- 4 posterior sd)."""
    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    fd = quantities.fit_data(tree)
    post = tree["posterior"].to_dataset()
    tau = (fd.t_days - t_mid_days(fd)) / DAYS_PER_YEAR
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]

    def per_bench(name: str, key: str) -> np.ndarray:  # (chain, draw, benchmark)
        if name in post:
            return post[name].transpose("chain", "draw", "benchmark").values
        vals = [spec.prior(key, b) for b in fd.benchmarks]
        if any(v.dist != "Fixed" for v in vals):
            raise ValueError(f"'{name}' is missing from the posterior")
        return np.broadcast_to(np.array([float(v.value or 0.0) for v in vals]), (n_chain, n_draw, len(vals)))

    a, alpha = per_bench("loss_a", "loss_a"), per_bench("loss_alpha", "loss_alpha")
    floor = per_bench("loss_floor_d0", "loss_floor_d0")
    c, gamma = per_bench("link_c", "link_c"), per_bench("link_gamma", "link_gamma")
    l_mid, d = per_bench("link_l", "link_l"), per_bench("link_d", "link_d")
    score_sd = per_bench("score_sd", "score_sd")
    # data.score_settings = "offset": a score not on the paper's settings, less its benchmark's offset
    other = fd.obs_other_setting if fd.obs_other_setting.size else np.zeros(len(fd.obs_score), bool)
    setting = per_bench("setting_offset", "setting_offset") if other.any() else None
    line = post["frontier_log_density_mid"].values[..., None] + post["growth_rate_per_year"].values[..., None] * tau
    rho_post = post["log_density"].transpose("chain", "draw", "model").values
    log_n = np.log(fd.params / 1e9)
    out = np.empty((n_chain, n_draw, fd.n_models))
    for i in range(fd.n_models):
        lo = rho_post[..., i].min() - 4 * rho_post[..., i].std()
        hi = rho_post[..., i].max() + 4 * rho_post[..., i].std()
        x = np.linspace(lo, hi, grid)  # (grid,)
        logf = frontier_logpdf(spec, post, x[None, None, :], line[..., i : i + 1])
        for k in np.flatnonzero(fd.obs_model == i):
            b = int(fd.obs_bench[k])
            loss = a[..., b, None] * np.exp(-alpha[..., b, None] * (log_n[i] + x)) + floor[..., b, None]
            mu = laws.link(loss, c[..., b, None], gamma[..., b, None], l_mid[..., b, None], d[..., b, None])
            y = fd.obs_score[k] - (setting[..., b, None] if setting is not None and other[k] else 0.0)
            logf = logf + stats.norm.logpdf(y, mu, score_sd[..., b, None])
        m = logf.max(axis=-1, keepdims=True)
        out[..., i] = (m[..., 0] + np.log(np.exp(logf - m).sum(axis=-1))) + np.log(x[1] - x[0])
    return xr.DataArray(out, dims=("chain", "draw", "model"), coords={"model": fd.model})


def marginal_loglik(tree: xr.DataTree) -> xr.DataArray:
    """Pointwise log p(observations of model i | trend (and curve) parameters), latent integrated out."""
    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    if spec.layers.kind == "joint":
        return joint_marginal_loglik(tree)
    fd = quantities.fit_data(tree)
    post = tree["posterior"].to_dataset()
    meas = spec.prior("density_meas_sd")
    if meas.dist != "Fixed":
        raise ValueError("comparison needs a fixed density_meas_sd (it is a property of the data, not the model)")
    s = float(meas.value or 0.0)
    y = np.log(fd.point_density)[None, None, :]
    tau = ((fd.t_days - t_mid_days(fd)) / DAYS_PER_YEAR)[None, None, :]
    mu = post["frontier_log_density_mid"].values[..., None] + post["growth_rate_per_year"].values[..., None] * tau
    kind, ineff = spec.frontier.kind, spec.frontier.inefficiency
    if kind == "stochastic_frontier" and ineff == "half_normal":
        om = post["frontier_omega"].values[..., None]
        lam = post["frontier_lambda"].values[..., None]
        ll = skewnormal_plus_normal_logpdf(y, mu, om, -lam, s)
    elif kind == "stochastic_frontier":
        sv = np.sqrt(post["noise_sd"].values[..., None] ** 2 + s**2)
        nu = post["inefficiency_scale"].values[..., None]
        ll = stats.exponnorm.logpdf(-y, nu / sv, loc=-mu, scale=sv)
    elif kind == "mean_trend":
        ll = stats.norm.logpdf(y, mu, np.sqrt(post["trend_sd"].values[..., None] ** 2 + s**2))
    elif kind == "quantile":
        scale = post["quantile_scale"].values[..., None]
        ll = ald_plus_normal_logpdf(y, mu, scale, spec.frontier.quantile, s)
    else:
        raise ValueError(f"frontier kind '{kind}' has no closed-form marginal here")
    return xr.DataArray(ll, dims=("chain", "draw", "model"), coords={"model": fd.model})


def compare(trees: dict[str, xr.DataTree], *, seed: int = 0) -> dict[str, Any]:
    """PSIS-LOO of each result (integrated over its latents), stacking weights, and the doubling
    time averaged over specifications by those weights."""
    if len(trees) < 2:
        raise ValueError("give at least two results to compare")
    models = {
        name: (tuple(fd.model), tuple(np.round(fd.obs_score, 6)), tuple(np.nan_to_num(fd.point_density).round(9)))
        for name, t in trees.items()
        for fd in [quantities.fit_data(t)]
    }
    if len(set(models.values())) != 1:
        raise ValueError("the results were fitted on different models/data; LOO needs the same observations")
    prepared = {}
    loo_rows = []
    for name, t in trees.items():
        ll = marginal_loglik(t)
        dt = xr.DataTree.from_dict(
            {"posterior": t["posterior"].to_dataset(), "log_likelihood": xr.Dataset({"density": ll})}
        )
        prepared[name] = dt
        loo = az.loo(dt)
        k = np.asarray(loo.pareto_k)
        loo_rows.append(
            {
                "spec": name,
                "elpd_loo": float(loo.elpd),
                "se": float(loo.se),
                "p_loo": float(loo.p),
                "n_pareto_k_above_0.7": int(np.sum(k > K_BAD)),
                "max_pareto_k": float(np.max(k)),
            }
        )
    table = az.compare(prepared, method="stacking")
    weights = {str(i): float(w) for i, w in table["weight"].items()}
    rng = np.random.default_rng(seed)
    pooled = []
    n = 4000
    for name, t in trees.items():
        draws = quantities.draws(t, "growth_rate_per_day").values.ravel()
        pooled.append(rng.choice(draws, size=int(round(weights[name] * n))))
    mix = np.concatenate(pooled) if pooled else np.array([])
    rate = xr.DataArray(mix[None, :], dims=("chain", "draw"))
    g = quantities.rate_and_doubling(rate)
    averaged = {k: g[k] for k in ("growth_rate_per_day", "p_growth_nonpositive", "doubling_time_days")}
    warnings = [
        f"{row['spec']}: {row['n_pareto_k_above_0.7']} Pareto k > {K_BAD} (max {row['max_pareto_k']:.2f}); "
        "its LOO estimate is unreliable"
        for row in loo_rows
        if row["n_pareto_k_above_0.7"]
    ]
    return {
        "loo": loo_rows,
        "weights": weights,
        "model_averaged": averaged,
        "warnings": warnings,
        "compare_table": json.loads(
            table.drop(columns=[c for c in table.columns if c == "warning"], errors="ignore").to_json(orient="index")
        ),
    }
