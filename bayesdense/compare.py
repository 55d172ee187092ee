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


def marginal_loglik(tree: xr.DataTree) -> xr.DataArray:
    """Pointwise log p(observed log density_i | trend parameters), latent integrated out."""
    spec = parse_spec(str(tree.attrs["spec_text"]), "result")
    if spec.layers.kind != "trend":
        raise ValueError(f"'{spec.name}': comparison by integrated LOO is implemented for trend specs only")
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
    models = {name: tuple(quantities.fit_data(t).model) for name, t in trees.items()}
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
    r = quantities.interval(rate)
    averaged = {
        "growth_rate_per_day": r,
        "doubling_time_days": {
            "median": float(laws.doubling_time(r["median"])),
            "hdi_low": float(laws.doubling_time(r["hdi_high"])),
            "hdi_high": float(laws.doubling_time(r["hdi_low"])) if r["hdi_low"] > 0 else None,
        },
    }
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
