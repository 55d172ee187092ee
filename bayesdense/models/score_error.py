"""The per-benchmark score error integrated out in closed form (``layers.score_error = "marginalised"``).

With most models scored on one or two benchmarks, a benchmark's score error ``score_sd`` and the
latent densities of its models form a funnel: a small error pins every latent, a large one frees
them, and NUTS mixes slowly between the two (README, "What we found"). Under a conjugate prior on
the precision, 1 / score_sd_b^2 ~ Gamma(alpha_b, beta_b), the error integrates out exactly: with
n_b scores and residual sum of squares S_b = sum (y - mu)^2,

    log p(y_b | mu) = alpha log beta - lgamma(alpha) + lgamma(alpha + n_b / 2)
                      - (alpha + n_b / 2) log(beta + S_b / 2) - (n_b / 2) log(2 pi),

a multivariate Student-t in the residuals. NUTS then never sees ``score_sd``; after sampling each
draw's ``score_sd`` is drawn from its exact conditional, Gamma(alpha + n_b / 2, beta + S_b / 2) on
the precision, so the result holds the same variables as with a sampled error. With shared-model
weights (0/1 per score) n_b and S_b are weighted sums, so a left-out score drops out exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..spec import ModelSpec

SS_VAR, N_VAR = "score_ss", "score_n"  # per-draw residual sum of squares and score count per benchmark


def _gamma_params(spec: ModelSpec, benchmarks: list[str]) -> tuple[np.ndarray, np.ndarray]:
    ps = [spec.prior("score_precision", b) for b in benchmarks]
    return np.array([float(p.alpha or 0.0) for p in ps]), np.array([float(p.beta or 0.0) for p in ps])


def add_marginal(
    spec: ModelSpec, benchmarks: list[str], obs_bench: np.ndarray, mu: Any, observed: Any, weight: Any
) -> None:
    """Add log p(scores | mu), each benchmark's score error integrated out, as a Potential named
    ``score``; keep S_b and n_b as deterministics for :func:`draw_score_sd`."""
    alpha, beta = _gamma_params(spec, benchmarks)
    nb = len(benchmarks)
    n = pt.inc_subtensor(pt.zeros(nb)[obs_bench], weight)
    ss = pt.inc_subtensor(pt.zeros(nb)[obs_bench], weight * (observed - mu) ** 2)
    pm.Deterministic(SS_VAR, ss, dims="benchmark")
    pm.Deterministic(N_VAR, n, dims="benchmark")
    a_post = alpha + 0.5 * n
    logp = (
        alpha * np.log(beta)
        - pt.gammaln(alpha)
        + pt.gammaln(a_post)
        - a_post * pt.log(beta + 0.5 * ss)
        - 0.5 * n * np.log(2.0 * np.pi)
    )
    pm.Potential("score", pt.sum(logp))


def draw_score_sd(spec: ModelSpec, ds: xr.Dataset, *, seed: int, prior: bool = False) -> xr.Dataset:
    """``ds`` with ``score_sd`` (chain, draw, benchmark) drawn given each draw's S_b and n_b (from
    the prior alone when ``prior``), and S_b, n_b dropped. Unchanged when they are absent."""
    if SS_VAR not in ds:
        return ds
    benchmarks = [str(b) for b in ds[SS_VAR].coords["benchmark"].values]
    alpha, beta = _gamma_params(spec, benchmarks)
    ss, n = ds[SS_VAR], ds[N_VAR]
    shape_ = xr.DataArray(alpha, dims="benchmark") + (0.0 if prior else 0.5 * n)
    rate = xr.DataArray(beta, dims="benchmark") + (0.0 if prior else 0.5 * ss)
    shape_, rate, _ = xr.broadcast(shape_, rate, ss)
    rng = np.random.default_rng([seed, 0x5C0E])
    precision = rng.gamma(shape_.values, 1.0 / rate.values)
    sd = xr.DataArray(1.0 / np.sqrt(precision), dims=shape_.dims, coords=shape_.coords)
    return ds.drop_vars([SS_VAR, N_VAR]).assign(score_sd=sd.transpose(*ss.dims))
