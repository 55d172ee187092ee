"""One frontier per benchmark, growth rates partially pooled (``frontier.by_benchmark = true``).

"How much does the doubling time depend on which benchmarks you pick?" answered by one model
instead of many subset fits. Benchmark b has its own frontier line in time,

    ln rho_max,b(t) = mid_b + rate_b * (t - t_mid),   rate_b = mean_rate + rate_sd * z_b,  z_b ~ Normal(0, 1)

(non-centred: with five benchmarks the spread ``rate_sd`` is weakly identified), and every
published score s_ib is read through its own benchmark's loss law and link with its own latent log
density x_ib ~ SkewNormal(line_b(t_i), omega, -lambda): a model's capability density measured on
MMLU need not equal the one measured on MATH. The frontier's spread (omega, lambda) is shared.

Each x_ib enters only its own score and its benchmark's frontier, so it is integrated out exactly
as in :mod:`bayesdense.models.integrated`, with every score as a unit of integration; NUTS sees
only the global parameters. After sampling each x_ib is drawn from its conditional given every
global draw; a model's ``log_density`` is the mean of its per-benchmark log densities (the
per-score values are kept as ``log_density_by_score``).

Read from the posterior: ``growth_rate_per_day`` is the mean rate across benchmarks (the
population), ``growth_rate_per_day_benchmark`` each benchmark's rate after partial pooling,
``growth_rate_sd_per_day`` how much benchmark choice moves the rate, and
``growth_rate_per_day_new_benchmark`` the rate of a benchmark not in the data (mean + sd * z, one
fresh z per draw): the predictive answer to "what if I had picked another benchmark".
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..inputs import N_UNIT, FitData
from ..spec import ModelSpec
from . import integrated

DAYS_PER_YEAR = 365.25


def unit_data(fd: FitData) -> FitData:
    """``fd`` with every observed score as its own "model" (the unit of integration)."""
    om = np.asarray(fd.obs_model)
    names = np.array([f"{fd.model[m]}:{fd.benchmarks[b]}" for m, b in zip(om, fd.obs_bench, strict=True)])
    return dataclasses.replace(
        fd,
        model=names,
        t_days=fd.t_days[om],
        params=fd.params[om],
        params_basis=fd.params_basis[om],
        paper_record=fd.paper_record[om],
        point_density=fd.point_density[om],
        obs_model=np.arange(len(om)),
    )


def add_frontier_and_marginal(
    spec: ModelSpec, fd: FitData, model: pm.Model, curves: dict[str, Any], score_sd: Any, prior: Any
) -> None:
    """The per-benchmark frontiers and the scores' likelihood with their latents integrated out.
    ``prior(key, name, **kw)`` makes a parameter from the spec's priors (densing._prior)."""
    t_mid = 0.5 * (fd.t_days.min() + fd.t_days.max())
    mean_rate = prior("growth_rate_per_year", "growth_rate_per_year")
    rate_sd = prior("growth_rate_sd_per_year", "growth_rate_sd_per_year")
    z = pm.Normal("growth_rate_z", 0.0, 1.0, dims="benchmark")
    rate_b = mean_rate + rate_sd * z
    mid_b = prior("frontier_log_density_mid", "frontier_log_density_mid", dims="benchmark")
    pm.Deterministic("growth_rate_per_day", mean_rate / DAYS_PER_YEAR)
    pm.Deterministic("growth_rate_sd_per_day", rate_sd / DAYS_PER_YEAR)
    pm.Deterministic("growth_rate_per_day_benchmark", rate_b / DAYS_PER_YEAR, dims="benchmark")
    pm.Deterministic("intercept_benchmark", mid_b - rate_b * t_mid / DAYS_PER_YEAR, dims="benchmark")
    # the population line: the benchmarks' mean level, growing at the mean rate
    pm.Deterministic("intercept", pt.mean(mid_b) - mean_rate * t_mid / DAYS_PER_YEAR)
    omega = prior("frontier_omega", "frontier_omega")
    lam = prior("frontier_lambda", "frontier_lambda")
    pm.Deterministic("noise_sd", omega / pt.sqrt(1 + lam**2))
    pm.Deterministic("inefficiency_scale", omega * lam / pt.sqrt(1 + lam**2))
    units = unit_data(fd)
    ob = np.asarray(fd.obs_bench)
    tau = (units.t_days - t_mid) / DAYS_PER_YEAR
    line = mid_b[ob] + rate_b[ob] * tau
    log_n = pt.as_tensor_variable(np.log(units.params / N_UNIT))
    integrated.add_marginal(spec, units, model, (None, None, line), curves, score_sd, log_n)


def _unit_lines(fd: FitData, post: xr.Dataset) -> np.ndarray:
    """Each benchmark's frontier line at each score's date, per draw: (draw, unit)."""
    n = post.sizes["chain"] * post.sizes["draw"]
    b0 = post["intercept_benchmark"].transpose("chain", "draw", "benchmark").values.reshape(n, -1)
    rate = post["growth_rate_per_day_benchmark"].transpose("chain", "draw", "benchmark").values.reshape(n, -1)
    ob, om = np.asarray(fd.obs_bench), np.asarray(fd.obs_model)
    return b0[:, ob] + rate[:, ob] * np.asarray(fd.t_days, float)[om][None, :]


def after_sampling(spec: ModelSpec, fd: FitData, post: xr.Dataset, *, seed: int) -> tuple[xr.Dataset, float]:
    """The posterior with every score's latent drawn (``log_density_by_score``), each model's
    ``log_density`` (the mean over its scores) and a new benchmark's rate; and the integration
    error (nats) of the grid on the posterior draws."""
    units = unit_data(fd)
    line = _unit_lines(fd, post)
    # integrated._globals reads a scalar frontier line; the per-benchmark line replaces it
    flat = post.assign(
        frontier_log_density_mid=xr.zeros_like(post["growth_rate_per_day"]),
        growth_rate_per_year=xr.zeros_like(post["growth_rate_per_day"]),
    )
    x = integrated.draw_latents(spec, units, flat, seed=seed, line=line)
    err = integrated.integration_error(spec, units, flat, seed=seed, line=line)
    by_score = x.rename(model="observation").assign_coords(observation=[str(u) for u in units.model])
    om = np.asarray(fd.obs_model)
    counts = np.bincount(om, minlength=fd.n_models)
    sums = np.zeros((*x.shape[:2], fd.n_models))
    for k, m in enumerate(om):
        sums[:, :, m] += x.values[:, :, k]
    log_density = xr.DataArray(
        sums / counts,
        dims=("chain", "draw", "model"),
        coords={"chain": post["chain"].values, "draw": post["draw"].values, "model": [str(m) for m in fd.model]},
    )
    rng = np.random.default_rng(seed)
    z = xr.DataArray(rng.standard_normal((post.sizes["chain"], post.sizes["draw"])), dims=("chain", "draw"))
    new = post["growth_rate_per_day"] + post["growth_rate_sd_per_day"] * z
    post = post.assign(log_density_by_score=by_score, log_density=log_density, growth_rate_per_day_new_benchmark=new)
    post["log_density"].attrs["long_name"] = "mean over the model's benchmarks of its per-benchmark log density"
    return post, err
