"""Trust checks: time-forward validation and simulation-based calibration (SBC).

Both refit the model many times; fits are independent and run on local processes. Every number
printed comes from fits run by these functions; nothing is assumed.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from . import laws
from .data import TIME_ORIGIN
from .models.densing import DAYS_PER_YEAR
from .quantities import CI_PROB
from .spec import ModelSpec, parse_spec


# ----------------------------------------------------------------------------- time-forward
def _forward_one(args: tuple[str, str, int, str]) -> dict[str, Any]:
    spec_text, cutoff_iso, seed, profile = args
    from .fit import sample_model
    from .inputs import prepare
    from .models import build
    from .models.densing import t_mid_days

    spec = parse_spec(spec_text)
    fd = prepare(spec)
    cutoff_t = (dt.date.fromisoformat(cutoff_iso) - spec.data.time_origin).days
    train = fd.t_days < cutoff_t
    test = ~train
    sub = fd.subset_models(train)
    post = sample_model(spec, build(spec, sub), seed=seed, profile=profile, progress=False)["posterior"].to_dataset()
    t_mid = t_mid_days(sub)
    rate_y = post["growth_rate_per_year"].values.ravel()
    b_mid = post["frontier_log_density_mid"].values.ravel()
    rng = np.random.default_rng(seed)
    tau = (fd.t_days[test] - t_mid) / DAYS_PER_YEAR
    loc = b_mid[:, None] + rate_y[:, None] * tau[None, :]
    if spec.frontier.kind == "stochastic_frontier" and spec.frontier.inefficiency == "half_normal":
        om = post["frontier_omega"].values.ravel()[:, None]
        lam = post["frontier_lambda"].values.ravel()[:, None]
        pred = stats.skewnorm.rvs(-lam, loc=loc, scale=om, random_state=rng)
        logpdf = stats.skewnorm.logpdf(np.log(fd.point_density[test])[None, :], -lam, loc=loc, scale=om)
    else:
        sd_name = "trend_sd" if "trend_sd" in post else "noise_sd"
        sd = post[sd_name].values.ravel()[:, None]
        pred = loc + sd * rng.normal(size=loc.shape)
        logpdf = stats.norm.logpdf(np.log(fd.point_density[test])[None, :], loc, sd)
    lo, hi = np.quantile(pred, [(1 - CI_PROB) / 2, (1 + CI_PROB) / 2], axis=0)
    obs = np.log(fd.point_density[test])
    lpd = np.log(np.mean(np.exp(logpdf - logpdf.max(axis=0)), axis=0)) + logpdf.max(axis=0)
    # the paper's recipe on the same training models: records + OLS, extrapolated
    rec = laws.running_max_records(fd.t_days[train], np.log(fd.point_density[train]))
    a, b = np.polyfit(fd.t_days[train][rec], np.log(fd.point_density[train][rec]), 1)
    later_rec = laws.running_max_records(fd.t_days, np.log(fd.point_density))[test]
    frontier_med = np.median(loc, axis=0)
    return {
        "cutoff": cutoff_iso,
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
        "coverage_94": float(np.mean((obs >= lo) & (obs <= hi))),
        "mean_log_predictive_density": float(np.mean(lpd)),
        "growth_rate_per_day_median": float(np.median(rate_y) / DAYS_PER_YEAR),
        "paper_A_per_day": float(a),
        "n_later_records": int(later_rec.sum()),
        "later_records_log_error_ours": float(np.mean(np.abs(frontier_med[later_rec] - obs[later_rec])))
        if later_rec.any()
        else None,
        "later_records_log_error_paper": float(np.mean(np.abs(a * fd.t_days[test][later_rec] + b - obs[later_rec])))
        if later_rec.any()
        else None,
        "share_later_models_above_paper_line": float(np.mean(obs > a * fd.t_days[test] + b)),
    }


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started fresh ("spawn"): forking a process that has started JAX's or
    numba's threads can deadlock."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def time_forward(
    spec: ModelSpec, cutoffs: list[str], *, seed: int = 1, profile: str = "fast", workers: int = 2
) -> list[dict[str, Any]]:
    """Fit on models released before each cutoff; score the predictions for the later models.

    Coverage: the share of later models whose (point) log density lies inside the 94% posterior
    predictive interval of a new model at its date. Log predictive density: mean over later models.
    Beside it, the paper's recipe on the same training models (records + OLS) extrapolated: its mean
    absolute log error on the later records, against our frontier median's.
    """
    jobs = [(spec.text, c, seed, profile) for c in cutoffs]
    if workers <= 1:
        return [_forward_one(j) for j in jobs]
    with _pool(workers) as ex:
        return list(ex.map(_forward_one, jobs))


# ----------------------------------------------------------------------------- SBC
@dataclass
class RankStats:
    """Ranks of the truth among L posterior draws, for one quantity over N simulations."""

    name: str
    ranks: np.ndarray  # in 0..L
    n_draws: int

    def uniformity_pvalue(self, bins: int = 10) -> float:
        """Chi-squared test of uniform ranks (Talts et al. 2018)."""
        counts, _ = np.histogram(self.ranks, bins=bins, range=(0, self.n_draws + 1))
        return float(stats.chisquare(counts).pvalue)

    def coverage(self, prob: float) -> float:
        """Share of simulations whose truth lies inside the central ``prob`` interval."""
        u = (self.ranks + 0.5) / (self.n_draws + 1)
        return float(np.mean((u > (1 - prob) / 2) & (u < (1 + prob) / 2)))


def rank_of_truth(draws: np.ndarray, truth: float, rng: np.random.Generator) -> int:
    """Rank of ``truth`` among ``draws`` (ties broken at random)."""
    below = int(np.sum(draws < truth))
    ties = int(np.sum(draws == truth))
    return below + int(rng.integers(0, ties + 1))


def sbc_summary(ranks: dict[str, np.ndarray], n_draws: int) -> list[dict[str, Any]]:
    out = []
    for name, r in ranks.items():
        rs = RankStats(name, np.asarray(r), n_draws)
        out.append(
            {
                "quantity": name,
                "n_sims": len(r),
                "uniformity_p": rs.uniformity_pvalue(),
                "coverage_50": rs.coverage(0.5),
                "coverage_94": rs.coverage(0.94),
            }
        )
    return out


def _sbc_one(args: tuple[str, int, str, int]) -> dict[str, Any]:
    """One SBC simulation for a trend spec: truth from the prior, data of the shipped shape, fit."""
    spec_text, sim, profile, thin = args
    import pymc as pm

    from .fit import sample_model
    from .inputs import prepare
    from .models import build

    spec = parse_spec(spec_text)
    fd = prepare(spec)
    rng = np.random.default_rng(10_000 + sim)
    with build(spec, fd):
        prior = pm.sample_prior_predictive(draws=1, random_seed=10_000 + sim)
    truth = {k: np.asarray(prior["prior"][k].values).reshape(-1) for k in ("growth_rate_per_day", "intercept")}
    log_rho = np.asarray(prior["prior"]["log_density"].values).reshape(-1)
    obs = np.asarray(prior["prior_predictive"]["log_density_obs"].values).reshape(-1)
    fd.point_density = np.exp(obs)
    fitted = sample_model(spec, build(spec, fd), seed=sim, profile=profile, progress=False)
    post = fitted["posterior"].to_dataset()
    fit_stats = fitted["sample_stats"].to_dataset()
    out: dict[str, Any] = {}
    for k, v in truth.items():
        d = post[k].values.ravel()[::thin]
        out[k] = rank_of_truth(d, float(v[0]), rng)
    for i in (0, len(log_rho) // 2, len(log_rho) - 1):
        d = post["log_density"].isel(model=i).values.ravel()[::thin]
        out[f"log_density[{fd.model[i]}]"] = rank_of_truth(d, float(log_rho[i]), rng)
    out["n_draws"] = int(post.sizes["chain"] * post.sizes["draw"] // thin)
    out["divergences"] = int(fit_stats["diverging"].sum())
    return out


def calibrate(spec: ModelSpec, *, sims: int, profile: str = "fast", workers: int = 2, thin: int = 6) -> dict[str, Any]:
    """Simulation-based calibration of a trend spec (ranks of the truth, uniformity, coverage)."""
    if spec.layers.kind != "trend":
        raise ValueError("calibrate currently supports trend specs (layers.kind = 'trend'), e.g. trend_fig2")
    jobs = [(spec.text, s, profile, thin) for s in range(sims)]
    if workers <= 1:
        results = [_sbc_one(j) for j in jobs]
    else:
        with _pool(workers) as ex:
            results = list(ex.map(_sbc_one, jobs))
    n_draws = min(r["n_draws"] for r in results)
    names = [k for k in results[0] if k not in ("n_draws", "divergences")]
    ranks = {k: np.array([r[k] for r in results]) for k in names}
    return {
        "spec": spec.name,
        "sims": sims,
        "n_draws": n_draws,
        "summary": sbc_summary(ranks, n_draws),
        "ranks": {k: v.tolist() for k, v in ranks.items()},
        "time_origin": TIME_ORIGIN.isoformat(),
    }
