"""The paper's recipe with uncertainty: running-maximum records, curve and score noise carried through.

Two stages (a "cut" posterior, so the records cannot bend the curves they are computed from):
1. the loss law and link are sampled on their own data (``build(..., curves_only=True)``);
2. for every posterior draw of the curves: draw each model's true score around its observed
   score (score error fixed in the spec), invert it to an effective size and a density, keep that
   draw's running-maximum records, and draw (A, B) from the exact posterior of the least-squares
   line through them (flat prior on A, B and log sigma: a Normal-scaled-inverse-chi-squared draw).
The result has the same variables as the joint models, so every summary and plot applies.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import laws
from ..inputs import D_UNIT, N_UNIT, FitData
from ..spec import ModelSpec


def score_sd_of(spec: ModelSpec, benchmark: str) -> float:
    p = spec.prior("score_sd", benchmark)
    if p.dist != "Fixed" or p.value is None:
        raise ValueError('the records frontier needs a fixed score error: score_sd = { dist = "Fixed", value = ... }')
    return float(p.value)


def trend_from_curves(spec: ModelSpec, fd: FitData, curves: xr.Dataset, *, seed: int) -> xr.Dataset:
    """Stage 2: posterior of densities, records and the trend line from curve draws."""
    if len(fd.benchmarks) != 1:
        raise ValueError("the records frontier works on one benchmark (e.g. AVERAGE); use a joint frontier otherwise")
    rng = np.random.default_rng(seed)
    c = curves.isel(benchmark=0)
    chains, draws = c.sizes["chain"], c.sizes["draw"]
    sd = score_sd_of(spec, fd.benchmarks[0])
    d0 = fd.d0_tokens / D_UNIT
    t = fd.t_days
    log_n = np.log(fd.params / N_UNIT)
    n = fd.n_models
    log_rho = np.full((chains, draws, n), np.nan)
    rate = np.full((chains, draws), np.nan)
    icpt = np.full((chains, draws), np.nan)
    n_rec = np.zeros((chains, draws), int)
    scores = fd.obs_score[np.argsort(fd.obs_model)]
    names = ("loss_a", "loss_alpha", "loss_b", "loss_beta", "link_c", "link_gamma", "link_l", "link_d")
    arrays = {k: np.asarray(c[k].values, float) for k in names}  # once, not per draw
    for ci in range(chains):
        for di in range(draws):
            p = {k: float(v[ci, di]) for k, v in arrays.items()}
            s = scores + rng.normal(0, sd, n)
            loss = laws.link_inverse(s, p["link_c"], p["link_gamma"], p["link_l"], p["link_d"])
            if "loss_e" in c:
                loss = loss - float(c["loss_e"].values[ci, di])
            n_eff = laws.n_from_loss(loss, d0, p["loss_a"], p["loss_alpha"], p["loss_b"], p["loss_beta"])
            with np.errstate(divide="ignore", invalid="ignore"):
                lr = np.log(n_eff) - log_n
            log_rho[ci, di] = lr
            if not np.all(np.isfinite(lr)):
                continue  # an out-of-domain score in this draw: no trend from it (counted below)
            rec = laws.running_max_records(t, lr)
            x, y = t[rec], lr[rec]
            k = int(rec.sum())
            n_rec[ci, di] = k
            if k < 3:
                continue
            X = np.column_stack([np.ones(k), x])
            xtx_inv = np.linalg.inv(X.T @ X)
            coef = xtx_inv @ X.T @ y
            rss = float(np.sum((y - X @ coef) ** 2))
            sigma2 = rss / rng.chisquare(k - 2)
            draw = rng.multivariate_normal(coef, sigma2 * xtx_inv)
            icpt[ci, di], rate[ci, di] = draw
    bad = int(np.sum(~np.isfinite(rate)))
    limit = spec.frontier.records_max_undefined
    if bad > limit * chains * draws:
        raise ValueError(
            f"{bad} of {chains * draws} draws had out-of-domain scores or < 3 records (more than "
            f"frontier.records_max_undefined = {limit:g} of them); the records trend is not defined for this data"
        )
    # replace the few undefined draws by resampling defined ones, whole draws (rate, intercept,
    # every density and record count together), reported in the attributes
    ok = np.isfinite(rate)
    if bad:
        idx = rng.choice(np.flatnonzero(ok.ravel()), size=bad)
        for arr in (rate, icpt, n_rec):
            arr.ravel()[~ok.ravel()] = arr.ravel()[idx]
        flat = log_rho.reshape(-1, n)
        flat[~ok.ravel()] = flat[idx]
    coords = {"chain": curves["chain"].values, "draw": curves["draw"].values, "model": [str(m) for m in fd.model]}
    ds = xr.Dataset(
        {
            "growth_rate_per_day": (("chain", "draw"), rate),
            "intercept": (("chain", "draw"), icpt),
            "log_density": (("chain", "draw", "model"), log_rho),
            "n_records": (("chain", "draw"), n_rec),
        },
        coords=coords,
        attrs={"records_undefined_draws": bad},
    )
    out = xr.merge([curves, ds], combine_attrs="override")
    out.attrs["records_undefined_draws"] = bad  # replaced by resampled draws (see above)
    return out
