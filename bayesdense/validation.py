"""Trust checks: time-forward validation and simulation-based calibration (SBC).

Both refit the model many times; fits are independent and run on local processes. Every number
printed comes from fits run by these functions; nothing is assumed.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from . import laws, parallel
from .data import TIME_ORIGIN
from .models.densing import DAYS_PER_YEAR
from .quantities import CI_PROB
from .spec import ModelSpec, parse_spec, spec_to_toml


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
    elif spec.frontier.kind == "quantile":
        q, sc = spec.frontier.quantile, post["quantile_scale"].values.ravel()[:, None]
        kappa = np.sqrt(q / (1 - q))
        left = rng.random(loc.shape) < q
        e = rng.exponential(size=loc.shape)
        pred = np.where(left, loc - e * sc * kappa, loc + e * sc / kappa)
        logpdf = laws.asymmetric_laplace_logpdf(np.log(fd.point_density[test])[None, :], loc, sc, q)
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


MIN_TRAIN_MODELS = 4  # a trend (and the paper's records + OLS) needs a few models before the cut-off


def check_cutoffs(spec: ModelSpec, cutoffs: list[str]) -> None:
    """ValueError naming the cut-off unless each is a date with at least ``MIN_TRAIN_MODELS`` of the
    spec's models released before it and at least one after it (checked before any fit)."""
    from .inputs import prepare

    fd = prepare(spec)
    for c in cutoffs:
        try:
            day = dt.date.fromisoformat(c)
        except ValueError as e:
            raise ValueError(f"cut-off '{c}' is not a date YYYY-MM-DD ({e})") from None
        t = (day - spec.data.time_origin).days
        before, after = int(np.sum(fd.t_days < t)), int(np.sum(fd.t_days >= t))
        if before < MIN_TRAIN_MODELS or after < 1:
            raise ValueError(
                f"cut-off {c}: of the {fd.n_models} models of spec '{spec.name}', {before} are released before "
                f"it and {after} on or after it; at least {MIN_TRAIN_MODELS} before (to fit) and 1 after (to "
                "predict) are needed"
            )


def time_forward(
    spec: ModelSpec,
    cutoffs: list[str],
    *,
    seed: int = 1,
    profile: str = "fast",
    workers: int = 2,
    scheduler: str | None = None,
) -> list[dict[str, Any]]:
    """Fit on models released before each cutoff; score the predictions for the later models.

    Coverage: the share of later models whose (point) log density lies inside the 94% posterior
    predictive interval of a new model at its date. Log predictive density: mean over later models.
    Beside it, the paper's recipe on the same training models (records + OLS) extrapolated: its mean
    absolute log error on the later records, against our frontier median's.
    """
    check_cutoffs(spec, cutoffs)
    text = spec_to_toml(spec) if spec.data.scores_file else spec.text  # the scores file as resolved here
    jobs = [(text, c, seed, profile) for c in cutoffs]
    return parallel.run_jobs(_forward_one, jobs, workers=workers, scheduler=scheduler)


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


OBSERVED = {"trend": ("log_density_obs",), "joint": ("ref_log_loss", "ref_loss", "link_score", "score")}
SBC_SEED = 20251126


def _draw_simulations(spec: ModelSpec, sims: int) -> list[dict[str, Any]]:
    """``sims`` prior draws: each the true parameters that SBC ranks and a simulated data set of
    the shipped data's shape (every observed table of the model)."""
    import pymc as pm

    from .fit import quiet_pymc
    from .inputs import prepare
    from .models import build

    fd = prepare(spec)
    with build(spec, fd), quiet_pymc():
        prior = pm.sample_prior_predictive(draws=sims, random_seed=SBC_SEED, compile_kwargs={"mode": "FAST_COMPILE"})
    pr = prior["prior"].to_dataset().isel(chain=0)
    pp = prior["prior_predictive"].to_dataset().isel(chain=0)
    out = []
    for i in range(sims):
        truth = {k: float(pr[k].values[i]) for k in ("growth_rate_per_day", "intercept")}
        for k in ("loss_alpha", "loss_beta"):  # joint specs: the loss-law exponents, per benchmark
            if k in pr:
                for b in fd.benchmarks:
                    truth[f"{k}[{b}]"] = float(pr[k].sel(benchmark=b).values[i])
        rho = pr["log_density"].values[i]
        for j in (0, len(rho) // 2, len(rho) - 1):
            truth[f"log_density[{fd.model[j]}]"] = float(rho[j])
        data = {f"{k}_observed": pp[k].values[i] for k in OBSERVED[spec.layers.kind] if k in pp}
        out.append({"sim": i, "of": sims, "truth": truth, "data": data})
    return out


def _sbc_batch(job: tuple[str, list[dict[str, Any]], str, int, int | None]) -> list[dict[str, Any]]:
    """Fit a batch of simulated data sets on one compiled model; per simulation the ranks of the truth."""
    from .shared import SharedModel

    spec_text, simulations, profile, thin, cores = job
    spec = parse_spec(spec_text)
    model = SharedModel(spec)
    out = []
    for s in simulations:
        trace, _ = model.sample(spec, s["data"], seed=1000 + s["sim"], profile=profile, cores=cores)
        post = trace["posterior"].to_dataset()
        rng = np.random.default_rng(SBC_SEED + s["sim"])
        row: dict[str, Any] = {}
        for k, v in s["truth"].items():
            name, _, index = k.partition("[")
            da = post[name]
            if index:
                dim = "benchmark" if name.startswith("loss_") else "model"
                da = da.sel({dim: index.rstrip("]")})
            row[k] = rank_of_truth(da.values.ravel()[::thin], v, rng)
        row["n_draws"] = int(post.sizes["chain"] * post.sizes["draw"] // thin)
        row["divergences"] = int(trace["sample_stats"]["diverging"].sum())
        out.append(row)
        print(f"[calibrate] simulation {s['sim'] + 1} of {s['of']} fitted", file=sys.stderr, flush=True)
    return out


def calibrate(
    spec: ModelSpec,
    *,
    sims: int,
    profile: str = "fast",
    workers: int = 2,
    thin: int = 6,
    scheduler: str | None = None,
    fit_spec: ModelSpec | None = None,
) -> dict[str, Any]:
    """Simulation-based calibration (ranks of the truth, uniformity, coverage) of a trend or joint spec.

    Each simulation draws every parameter from the prior and simulates every observed table of the
    shipped data's shape (for a joint spec: reference losses, link points and scores), then fits.
    The fits of a batch share one compiled model (:mod:`bayesdense.shared`; nutpie), whose observed
    values are data containers; simulations are split into ``workers`` batches (local processes, or
    Dask tasks with ``scheduler``). The draws do not depend on the batching.

    ``fit_spec`` fits with another spec than the one simulated from: a planted miscalibration, to
    check that the check can fail.
    """
    import os

    if spec.frontier.kind == "records" and spec.layers.kind == "joint":
        raise ValueError("the records frontier is a cut posterior (two stages): SBC does not apply to it")
    if sims < 1:
        raise ValueError("--sims must be at least 1")
    simulations = _draw_simulations(spec, sims)
    k = max(1, min(workers, sims))
    cores = None if scheduler else max(1, (os.cpu_count() or 1) // k)
    fitted = fit_spec or spec
    jobs = [(fitted.text, simulations[c::k], profile, thin, cores) for c in range(k)]
    done = parallel.run_jobs(_sbc_batch, jobs, workers=workers, scheduler=scheduler)
    by_sim = {s["sim"]: r for job, rows in zip(jobs, done, strict=True) for s, r in zip(job[1], rows, strict=True)}
    results = [by_sim[i] for i in range(sims)]
    n_draws = min(r["n_draws"] for r in results)
    names = [k for k in results[0] if k not in ("n_draws", "divergences")]
    ranks = {k: np.array([r[k] for r in results]) for k in names}
    return {
        "spec": spec.name,
        "fit_spec": fitted.name,
        "sims": sims,
        "n_draws": n_draws,
        "profile": profile,
        "sampler": "nutpie (one compiled model per batch)",
        "divergent_fits": int(sum(r["divergences"] > 0 for r in results)),
        "summary": sbc_summary(ranks, n_draws),
        "ranks": {k: v.tolist() for k, v in ranks.items()},
        "time_origin": TIME_ORIGIN.isoformat(),
    }
