"""Trust checks: time-forward validation and simulation-based calibration (SBC).

Both refit the model many times; fits are independent and run on local processes. Every number
printed comes from fits run by these functions; nothing is assumed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import warnings
from collections.abc import Iterator
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
def measured_log_density(spec: ModelSpec, fd: Any, post: Any) -> np.ndarray:
    """Log density of each model of ``fd`` read from its scores through every posterior draw's loss
    law and link (draws x models; no frontier prior): the scale a joint fit's frontier is on.

    A model with several scores gets the mean of their log densities. A score beyond the reference
    law's reach in a draw gives +inf there; one outside the link's range (at or below its floor)
    gives NaN, and such draws are left out of that model's scores."""
    from .inputs import N_UNIT
    from .models.integrated import curve_draws

    cv = curve_draws(spec, fd, post)
    n_draws = cv["a"].shape[0]
    total = np.zeros((n_draws, fd.n_models))
    count = np.zeros((n_draws, fd.n_models))
    for m, b, score in zip(fd.obs_model, fd.obs_bench, fd.obs_score, strict=True):
        loss = laws.link_inverse(score, cv["c"][:, b], cv["gamma"][:, b], cv["l"][:, b], cv["d"][:, b])
        excess = loss - cv["floor"][:, b]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_n_eff = np.where(excess > 0, -np.log(excess / cv["a"][:, b]) / cv["alpha"][:, b], np.inf)
        log_rho = np.where(np.isnan(excess), np.nan, log_n_eff - np.log(fd.params[m] / N_UNIT))
        ok = ~np.isnan(log_rho)
        total[ok, m] += log_rho[ok]
        count[ok, m] += 1
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


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
    published = np.log(fd.point_density[test])
    if spec.layers.kind == "joint":
        # the held-out models measured on the fit's own scale, draw by draw (the frontier's scale is
        # the curves', not the published densities': comparing with those mixes two scales)
        obs = measured_log_density(spec, fd.subset_models(test), post)
        scale = "read from their scores through the training fit's curves, draw by draw"
    else:
        obs = np.broadcast_to(published, loc.shape)
        scale = "the published densities the trend spec is fitted to"
    if spec.frontier.kind == "stochastic_frontier" and spec.frontier.inefficiency == "half_normal":
        om = post["frontier_omega"].values.ravel()[:, None]
        lam = post["frontier_lambda"].values.ravel()[:, None]
        pred = stats.skewnorm.rvs(-lam, loc=loc, scale=om, random_state=rng)
        logpdf = stats.skewnorm.logpdf(obs, -lam, loc=loc, scale=om)
    elif spec.frontier.kind == "quantile":
        q, sc = spec.frontier.quantile, post["quantile_scale"].values.ravel()[:, None]
        kappa = np.sqrt(q / (1 - q))
        left = rng.random(loc.shape) < q
        e = rng.exponential(size=loc.shape)
        pred = np.where(left, loc - e * sc * kappa, loc + e * sc / kappa)
        logpdf = laws.asymmetric_laplace_logpdf(obs, loc, sc, q)
    else:
        sd_name = "trend_sd" if "trend_sd" in post else "noise_sd"
        sd = post[sd_name].values.ravel()[:, None]
        pred = loc + sd * rng.normal(size=loc.shape)
        logpdf = stats.norm.logpdf(obs, loc, sd)
    # coverage of the central 94% predictive interval: the probability integral transform of each
    # later model (the share of draws predicting below its measured density; +inf counts as above)
    # inside [0.03, 0.97]; draws where a model's density is undefined (NaN) are left out
    seen = ~np.isnan(obs)
    n_seen = seen.sum(axis=0)
    scored = n_seen >= 0.5 * obs.shape[0]
    pit = np.sum((pred < obs) & seen, axis=0) / np.maximum(n_seen, 1)
    tail = (1 - CI_PROB) / 2
    lp = np.where(seen, logpdf, -np.inf)
    top = np.max(lp, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lpd = np.log(np.sum(np.exp(lp - np.where(np.isfinite(top), top, 0)), axis=0) / np.maximum(n_seen, 1)) + top
    with warnings.catch_warnings():  # a model never scored gives NaN (All-NaN slice)
        warnings.simplefilter("ignore", RuntimeWarning)
        obs_med = np.nanmedian(np.where(seen, obs, np.nan), axis=0)
    # the paper's recipe on the same training models: records + OLS, extrapolated (on the published
    # densities, its own scale), and its records
    rec = laws.running_max_records(fd.t_days[train], np.log(fd.point_density[train]))
    a, b = np.polyfit(fd.t_days[train][rec], np.log(fd.point_density[train][rec]), 1)
    later_rec = laws.running_max_records(fd.t_days, np.log(fd.point_density))[test] & scored
    frontier_med = np.median(loc, axis=0)
    ratio = obs_med[scored] - published[scored]
    return {
        "cutoff": cutoff_iso,
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
        "n_test_scored": int(scored.sum()),
        "density_scale": scale,
        "coverage_94": float(np.mean((pit[scored] >= tail) & (pit[scored] <= 1 - tail))) if scored.any() else None,
        "mean_log_predictive_density": float(np.mean(lpd[scored])) if scored.any() else None,
        "median_log_ratio_to_published": float(np.median(ratio)) if ratio.size else None,
        "growth_rate_per_day_median": float(np.median(rate_y) / DAYS_PER_YEAR),
        "paper_A_per_day": float(a),
        "n_later_records": int(later_rec.sum()),
        "later_records_log_error_ours": float(np.mean(np.abs(frontier_med[later_rec] - obs_med[later_rec])))
        if later_rec.any()
        else None,
        "later_records_log_error_paper": float(
            np.mean(np.abs(a * fd.t_days[test][later_rec] + b - published[later_rec]))
        )
        if later_rec.any()
        else None,
        "share_later_models_above_paper_line": float(np.mean(published > a * fd.t_days[test] + b)),
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
    text = spec_to_toml(spec) if spec.data_files else spec.text  # your files as resolved here
    jobs = [(text, c, seed, profile) for c in cutoffs]
    return parallel.run_jobs(_forward_one, jobs, workers=workers, scheduler=scheduler)


# ----------------------------------------------------------------------------- SBC
SBC_SEED = 20251126
# Draws kept per fit: L = 99, so the rank of the truth takes L + 1 = 100 values, split evenly by
# 10 (or 20) equal-width bins. They are spread evenly over all chains (thin = chains x draws / L,
# ~40 at 4 x 1000), so the kept draws are no more than the fit's bulk ESS whenever that ESS is at
# least L; a fit whose smallest bulk ESS of a ranked quantity is below L is flagged.
SBC_DRAWS = 99
SBC_BINS = 10
RHAT_CONVERGED = 1.01  # a fit is converged with max R-hat <= this and no divergences
LOG_LIK = "log_lik"  # test quantity of the data: log p(simulated data | parameters), Modrak et al. 2023
AROUND = {
    "prior": "parameters drawn from the prior, data of the shipped data's shape simulated from them",
    "posterior": "posterior SBC: parameters drawn from the posterior of the shipped data, data of the shipped "
    "data's shape simulated from them, each simulation fitted together with the shipped data",
}
OBSERVED = {"trend": ("log_density_obs",), "joint": ("ref_log_loss", "ref_loss", "link_score", "score")}


def equal_width_bins(n_values: int, target: int = SBC_BINS) -> int:
    """The number of rank bins closest to ``target`` that splits ``n_values`` possible rank values
    evenly (each bin the same number of values); ``target`` when ``n_values`` has no divisor
    between 2 and ``n_values / 2`` (a prime: bins nearly, not exactly, equal)."""
    divisors = [b for b in range(2, n_values // 2 + 1) if n_values % b == 0]
    if not divisors:
        return target
    return min(divisors, key=lambda b: (abs(b - target), -b))


@dataclass
class RankStats:
    """Ranks of the truth among L posterior draws, for one quantity over N simulations."""

    name: str
    ranks: np.ndarray  # in 0..L
    n_draws: int

    def uniformity_pvalue(self, bins: int | None = None) -> float:
        """Chi-squared test of uniform ranks (Talts et al. 2018) on equal-width bins: by default
        each bin holds the same number of the L + 1 possible ranks (:func:`equal_width_bins`)."""
        bins = bins or equal_width_bins(self.n_draws + 1)
        counts, _ = np.histogram(self.ranks, bins=bins, range=(0, self.n_draws + 1))
        return float(stats.chisquare(counts).pvalue)

    def coverage(self, prob: float) -> float:
        """Share of simulations whose truth lies inside the central ``prob`` interval."""
        u = (self.ranks + 0.5) / (self.n_draws + 1)
        return float(np.mean((u > (1 - prob) / 2) & (u < (1 + prob) / 2)))

    def mean_fraction(self) -> float:
        """Mean of rank / L: 0.5 when calibrated (standard error ~ 1 / sqrt(12 N))."""
        return float(np.mean(self.ranks) / self.n_draws)


def rank_of_truth(draws: np.ndarray, truth: float, rng: np.random.Generator) -> int:
    """Rank of ``truth`` among ``draws`` (ties broken at random)."""
    below = int(np.sum(draws < truth))
    ties = int(np.sum(draws == truth))
    return below + int(rng.integers(0, ties + 1))


def sbc_summary(
    ranks: dict[str, np.ndarray], n_draws: int, in_hdi: dict[str, np.ndarray] | None = None
) -> list[dict[str, Any]]:
    """One row per quantity: uniformity p (equal-width bins), coverage of the central 50% and 94%
    intervals (from the ranks), of the 94% HDI (``in_hdi``: per simulation, truth inside the fit's
    HDI) and the mean fractional rank."""
    out = []
    for name, r in ranks.items():
        rs = RankStats(name, np.asarray(r), n_draws)
        n = len(rs.ranks)
        row: dict[str, Any] = {"quantity": name, "n_sims": n}
        if n == 0:
            out.append(row)
            continue
        row.update(
            {
                "uniformity_p": rs.uniformity_pvalue(),
                "bins": equal_width_bins(n_draws + 1),
                "coverage_50": rs.coverage(0.5),
                "coverage_94": rs.coverage(0.94),
            }
        )
        if in_hdi is not None:
            row["hdi_coverage_94"] = float(np.mean(in_hdi[name]))
        row["mean_rank_fraction"] = rs.mean_fraction()
        row["mean_rank_fraction_se"] = float(1 / np.sqrt(12 * n))
        out.append(row)
    return out


def _ranked(model: Any, fd: Any) -> list[tuple[str, str, str | None, str | None]]:
    """``(label, variable, dim, coordinate)`` of every quantity SBC ranks: the growth rate, the
    intercept, every free parameter that is not per model (per benchmark where it has that dim;
    Fixed priors are not free and are skipped) and three latent densities (first, middle, last model).
    The growth rate is ranked per day (``growth_rate_per_year`` has the same ranks)."""
    out: list[tuple[str, str, str | None, str | None]] = []
    names = {v.name for v in model.deterministics} | {v.name for v in model.free_RVs}
    for k in ("growth_rate_per_day", "intercept"):
        if k in names:
            out.append((k, k, None, None))
    for v in model.free_RVs:
        dims = model.named_vars_to_dims.get(v.name) or ()
        if v.name == "growth_rate_per_year" or "model" in dims:
            continue
        if not dims:
            out.append((v.name, v.name, None, None))
        elif len(dims) == 1:
            for c in model.coords[dims[0]]:
                out.append((f"{v.name}[{c}]", v.name, dims[0], str(c)))
    n = len(fd.model)
    for j in (0, n // 2, n - 1):
        out.append((f"log_density[{fd.model[j]}]", "log_density", "model", str(fd.model[j])))
    return out


def _draw_simulations(spec: ModelSpec, sims: int) -> list[dict[str, Any]]:
    """``sims`` prior draws: each the true values of the ranked quantities, every free parameter
    (for the log likelihood at the truth) and a simulated data set of the shipped data's shape
    (every observed table of the model)."""
    import pymc as pm

    from .fit import quiet_pymc
    from .inputs import prepare
    from .models import build

    fd = prepare(spec)
    model = build(spec, fd)
    with model, quiet_pymc():
        prior = pm.sample_prior_predictive(draws=sims, random_seed=SBC_SEED, compile_kwargs={"mode": "FAST_COMPILE"})
    pr = prior["prior"].to_dataset().isel(chain=0)
    pp = prior["prior_predictive"].to_dataset().isel(chain=0)
    ranked = _ranked(model, fd)
    out = []
    for i in range(sims):
        truth = {}
        for label, var, dim, coord in ranked:
            da = pr[var].isel(draw=i)
            truth[label] = float(da.sel({dim: coord}) if dim else da)
        point = {v.name: np.asarray(pr[v.name].values[i]) for v in model.free_RVs}
        data = {f"{k}_observed": pp[k].values[i] for k in OBSERVED[spec.layers.kind] if k in pp}
        out.append({"sim": i, "of": sims, "truth": truth, "point": point, "ranked": ranked, "data": data})
    return out


AUGMENTED_TABLES = (
    "ref_bench",
    "ref_params",
    "ref_tokens",
    "ref_loss",
    "ref_score",
    "link_bench",
    "link_role",
    "link_loss",
    "link_score",
    "obs_model",
    "obs_bench",
    "obs_score",
)


def augmented_fit_data(fd: Any) -> Any:
    """``fd`` with every observed table twice (reference runs, link points, scores), the target
    models once: the data of posterior SBC, the shipped data y and a simulated copy y~ of the same
    shape, which :func:`_posterior_simulations` writes into the second half."""
    import dataclasses

    tables = (*AUGMENTED_TABLES, "obs_other_setting") if fd.obs_other_setting.size else AUGMENTED_TABLES
    return dataclasses.replace(fd, **{k: np.concatenate([getattr(fd, k)] * 2) for k in tables})


def _observed_values(model: Any, spec: ModelSpec) -> dict[str, np.ndarray]:
    """``{name}_observed``: the observed values of a model built as written (not shared)."""
    out = {}
    for k in OBSERVED[spec.layers.kind]:
        if k in model.named_vars:
            out[f"{k}_observed"] = np.asarray(model.rvs_to_values[model[k]].data, float)
    return out


def _posterior_simulations(spec: ModelSpec, sims: int, profile: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Posterior SBC (Saeilynoja et al. 2025; Modrak et al. 2023 sect. 5): the shipped data y fitted
    as ``bayesdense fit`` fits them; ``sims`` draws theta~ spread evenly over that posterior; for each,
    data y~ ~ p(y | theta~) of the shipped data's shape. Each simulation's data are y and y~ together
    (:func:`augmented_fit_data`); the ranks of theta~ among draws of p(theta | y, y~) are uniform when
    the computation is right. The simulations lie where the real posterior is, so they check the
    sampler where users run it (prior draws of this model mostly do not look like the data).
    Returns the simulations and a record of the real-data fit."""
    import time

    import pymc as pm

    from .fit import fit as fit_spec
    from .fit import quiet_pymc
    from .inputs import prepare
    from .models import build

    t0 = time.time()
    fd = prepare(spec)
    tree = fit_spec(spec, seed=SBC_SEED, profile=profile, progress=False, prior=False)
    post = tree["posterior"].to_dataset()
    div = int(tree["sample_stats"]["diverging"].sum())
    model = build(spec, fd)  # as written: y~ is drawn from its observed nodes
    free = [v.name for v in model.free_RVs]
    n = post.sizes["chain"] * post.sizes["draw"]
    pick = np.linspace(0, n - 1, sims).round().astype(int)
    ranked = _ranked(model, fd)
    keep = sorted(set(free) | {var for _, var, _, _ in ranked})
    flat = post[keep].stack(sample=("chain", "draw")).isel(sample=pick)
    subset = (
        flat.drop_vars(["sample", "chain", "draw"])
        .rename(sample="draw")
        .assign_coords(draw=np.arange(sims))
        .expand_dims(chain=[0])
        .transpose("chain", "draw", ...)
    )
    names = [k for k in OBSERVED[spec.layers.kind] if k in model.named_vars]
    with model, quiet_pymc():
        pp = pm.sample_posterior_predictive(
            subset[free],
            var_names=names,
            freeze_vars=free,  # theta~ as drawn: only the data are simulated
            random_seed=SBC_SEED,
            progressbar=False,
            compile_kwargs={"mode": "FAST_COMPILE"},
        )
    pp = pp["posterior_predictive"].to_dataset().isel(chain=0)
    real = _observed_values(model, spec)
    rhat = _max_rhat(post[free])
    out = []
    for i in range(sims):
        truth = {}
        for label, var, dim, coord in ranked:
            da = subset[var].isel(chain=0, draw=i)
            truth[label] = float(da.sel({dim: coord}) if dim else da)
        point = {k: np.asarray(subset[k].values[0, i]) for k in free}
        data = {f"{k}_observed": np.concatenate([real[f"{k}_observed"], pp[k].values[i]]) for k in names}
        out.append({"sim": i, "of": sims, "truth": truth, "point": point, "ranked": ranked, "data": data})
    record = {
        "seed": SBC_SEED,
        "draws": int(n),
        "max_rhat": rhat,
        "divergences": div,
        "seconds": round(time.time() - t0, 1),
        "theta_draws": "spread evenly over all chains' draws",
    }
    return out, record


def _max_rhat(ds: Any) -> float:
    """The largest R-hat of any element of ``ds``."""
    import arviz as az

    r = az.rhat(ds)
    return float(max(np.nanmax(np.asarray(r[v].values, float)) for v in r.data_vars))


def simulated_fit_data(fd: Any, data: dict[str, np.ndarray]) -> Any:
    """``fd`` with its observed tables replaced by a simulated data set (``{name}_observed`` values
    of the model's observed variables): the model built on it is the one ``bayesdense fit`` would
    build on those data."""
    import dataclasses

    repl: dict[str, np.ndarray] = {}
    for key, v in data.items():
        name = key.removesuffix("_observed")
        v = np.asarray(v, float)
        if name == "log_density_obs":
            repl["point_density"] = np.exp(v)
        elif name == "ref_log_loss":
            repl["ref_loss"] = np.exp(v)
        elif name == "ref_loss":
            repl["ref_loss"] = v
        elif name == "link_score":
            score = np.asarray(fd.link_score, float).copy()
            score[fd.link_role == "fit"] = v
            repl["link_score"] = score
        elif name == "score":
            repl["obs_score"] = v
        else:
            raise ValueError(f"no fit-data table for the observed variable '{name}'")
    return dataclasses.replace(fd, **repl)


def _log_lik(model: Any, post: Any, point: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    """log p(data | parameters) summed over every observed table, at each posterior draw
    (chain, draw) and at the true parameters ``point``."""
    from pymc.model.transform.conditioning import remove_value_transforms

    m = remove_value_transforms(model)
    fn = m.compile_logp(vars=m.observed_RVs, jacobian=False, sum=True)
    names = [v.name for v in m.free_RVs]
    arrays = {k: post[k].values for k in names}
    n_chain, n_draw = arrays[names[0]].shape[:2]
    ll = np.empty((n_chain, n_draw))
    for c in range(n_chain):
        for d in range(n_draw):
            ll[c, d] = fn({k: a[c, d] for k, a in arrays.items()})
    return ll, float(fn(point))


class _Program:
    """Every simulation of one worker fitted on one compiled program: the spec's model built once
    on ``fd`` with its observed tables as data containers (``build(..., shared=True,
    offset_latents=True)``, as the structural study's members), sampled by
    :class:`bayesdense.shared.NumpyroProgram` (numpyro's NUTS with the spec's settings: chains,
    tuning, draws, target acceptance, dense mass) with each simulated data set swapped into the
    containers. The log likelihood (the data's test quantity) is one compiled PyTensor function of
    the model as written, its data containers set per simulation. ``fd`` is the shipped data
    (simulations from the prior) or the shipped data twice (from the posterior, see
    :func:`augmented_fit_data`)."""

    def __init__(self, spec: ModelSpec, fd: Any) -> None:
        from pymc.model.transform.conditioning import remove_value_transforms

        from .fit import _enable_jax_cache
        from .models import build, latent_form
        from .shared import NumpyroProgram

        self.spec, self.fd = spec, fd
        _enable_jax_cache()  # the data are arguments of the program: its compiled form can be cached
        self.program = NumpyroProgram(build(spec, fd, shared=True, offset_latents=latent_form(spec)))
        written = build(spec, fd)  # as written: the parameters' names, the free RVs for R-hat
        self.free = [v.name for v in written.free_RVs]
        ll_model = remove_value_transforms(build(spec, fd, shared=True))
        observed = [ll_model[k] for k in OBSERVED[spec.layers.kind] if k in ll_model.named_vars]
        self.containers = {v.name: v for v in ll_model.data_vars}
        inputs = [ll_model.rvs_to_values[ll_model[n]] for n in self.free]
        # a Potential's graph holds the random variables themselves: put their value variables in
        (total,) = ll_model.replace_rvs_by_values([sum(observed)])
        self._ll = ll_model.compile_fn(total, inputs=inputs, on_unused_input="ignore", point_fn=False)

    def log_lik(self, post: Any, point: dict[str, np.ndarray], data: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
        """log p(data | parameters) over every observed table, per draw and at the truth ``point``."""
        for k, v in data.items():
            self.containers[k].set_value(np.asarray(v, float))
        arrays = [post[n].values for n in self.free]
        n_chain, n_draw = arrays[0].shape[:2]
        ll = np.empty((n_chain, n_draw))
        for c in range(n_chain):
            for d in range(n_draw):
                ll[c, d] = self._ll(*(a[c, d] for a in arrays))
        return ll, float(self._ll(*(point[n] for n in self.free)))

    def sample(self, s: dict[str, Any], profile: str) -> tuple[Any, Any]:
        from .fit import sampler_settings

        st = sampler_settings(self.spec, profile)
        return self.program.sample(
            s["data"],
            seed=1000 + s["sim"],
            chains=st["chains"],
            tune=st["tune"],
            draws=st["draws"],
            target_accept=st["target_accept"],
            dense=bool(st["dense_mass"]),
        )


def _sbc_fit(
    spec: ModelSpec, fd: Any, s: dict[str, Any], profile: str, program: _Program | None = None
) -> dict[str, Any]:
    """Fit one simulated data set as ``bayesdense fit`` fits the shipped data (the spec's sampler
    and settings, offset latents): on ``program`` (a joint spec's compiled program, see
    :class:`_Program`) or, without one, on a model built for this data set and sampled by
    :func:`bayesdense.fit.sample_model`. Returns the ranks of the truth among SBC_DRAWS draws,
    whether the truth is inside each 94% HDI, and the fit's diagnostics."""
    import arviz as az
    import xarray as xr

    if program is not None:
        post, stats = program.sample(s, profile)
        ll, ll_truth = program.log_lik(post, s["point"], s["data"])
        free = program.free
    else:
        from .fit import sample_model
        from .models import build, latent_form

        sim_fd = simulated_fit_data(fd, s["data"])
        model = build(spec, sim_fd)  # as written: the log likelihood and the parameters' names
        # sampled as `fit` samples it (offset latents: the same posterior in other coordinates)
        sampled = build(spec, sim_fd, offset_latents=latent_form(spec))
        idata = sample_model(spec, sampled, seed=1000 + s["sim"], profile=profile, progress=False)
        post, stats = idata["posterior"].to_dataset(), idata["sample_stats"].to_dataset()
        ll, ll_truth = _log_lik(model, post, s["point"])
        free = [v.name for v in model.free_RVs]
    series: dict[str, np.ndarray] = {}
    truth: dict[str, float] = {}
    for label, var, dim, coord in s["ranked"]:
        da = post[var]
        series[label] = np.asarray((da.sel({dim: coord}) if dim else da).values, float)
        truth[label] = s["truth"][label]
    series[LOG_LIK], truth[LOG_LIK] = ll, ll_truth
    labels = list(series)
    ds = xr.Dataset({f"q{i}": (("chain", "draw"), series[k]) for i, k in enumerate(labels)})
    ess = az.ess(ds, method="bulk")
    hdi = az.hdi(ds, prob=CI_PROB)
    rhat = az.rhat(post[free].assign({LOG_LIK: (("chain", "draw"), ll)}))
    rhat_by = {str(v): float(np.max(np.asarray(rhat[v].values, float))) for v in rhat.data_vars}
    rhat_var = max(rhat_by, key=lambda v: (np.isnan(rhat_by[v]), rhat_by[v]))
    ess_by = {k: float(ess[f"q{i}"]) for i, k in enumerate(labels)}
    ess_var = min(ess_by, key=lambda k: (not np.isnan(ess_by[k]), ess_by[k]))
    n_total = series[LOG_LIK].size
    keep = np.linspace(0, n_total - 1, SBC_DRAWS).round().astype(int)
    rng = np.random.default_rng(SBC_SEED + s["sim"])
    ranks, in_hdi = {}, {}
    for i, k in enumerate(labels):
        ranks[k] = rank_of_truth(series[k].reshape(-1)[keep], truth[k], rng)
        h = hdi[f"q{i}"]
        in_hdi[k] = bool(float(h.sel(ci_bound="lower")) <= truth[k] <= float(h.sel(ci_bound="upper")))
    divergences = int(stats["diverging"].sum())
    max_rhat = rhat_by[rhat_var]
    return {
        "sim": s["sim"],
        "ranks": ranks,
        "in_hdi": in_hdi,
        "max_rhat": max_rhat,
        "max_rhat_var": rhat_var,
        "min_ess_bulk": ess_by[ess_var],
        "min_ess_bulk_var": ess_var,
        "divergences": divergences,
        "converged": bool(max_rhat <= RHAT_CONVERGED and divergences == 0),
        "ess_at_least_kept_draws": bool(ess_by[ess_var] >= SBC_DRAWS),
        "draws_total": int(n_total),
    }


def _sbc_batch(job: tuple[str, list[dict[str, Any]], str, str]) -> list[dict[str, Any]]:
    """Fit a batch of simulated data sets one after another; a fit that raises is recorded with its
    error (and counted as not converged), never dropped. ``around``: "posterior" fits each
    simulation together with the shipped data (:func:`_posterior_simulations`)."""
    from .inputs import prepare

    spec_text, simulations, profile, around = job
    spec = parse_spec(spec_text)
    fd = prepare(spec)
    if spec.layers.kind == "joint":  # one compiled program, the simulated data as its arguments
        program = _Program(spec, augmented_fit_data(fd) if around == "posterior" else fd)
        return [_sbc_one(spec, fd, s, profile, program) for s in simulations]
    out = []
    with _no_jax_cache():
        for s in simulations:
            out.append(_sbc_one(spec, fd, s, profile))
    return out


@contextlib.contextmanager
def _no_jax_cache() -> Iterator[None]:
    """Each simulation's data are compiled into its JAX program as constants, so the persistent
    compilation cache (:func:`bayesdense.fit.sample_model`) would only fill the disk: off here."""
    try:
        import jax
    except ImportError:
        yield
        return
    old = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", old)


def _sbc_one(
    spec: ModelSpec, fd: Any, s: dict[str, Any], profile: str, program: _Program | None = None
) -> dict[str, Any]:
    """One simulation fitted; a fit that raises is recorded with its error (not converged)."""
    import time

    t0, c0 = time.time(), time.process_time()
    try:
        row = _sbc_fit(spec, fd, s, profile, program)
    except Exception as e:  # noqa: BLE001 - a failed fit is a finding, reported in the table
        row = {"sim": s["sim"], "error": f"{type(e).__name__}: {e}", "converged": False}
    row["seconds"] = round(time.time() - t0, 2)
    row["cpu_seconds"] = round(time.process_time() - c0, 2)  # all threads of this process: load-independent
    note = row.get("error") or (
        f"max R-hat {row['max_rhat']:.3f}, min bulk ESS {row['min_ess_bulk']:.0f}, {row['divergences']} divergences"
    )
    print(
        f"[calibrate] simulation {s['sim'] + 1} of {s['of']} fitted in {row['seconds']:.0f} s: {note}",
        file=sys.stderr,
        flush=True,
    )
    return row


FIT_KEYS = (
    "sim",
    "max_rhat",
    "max_rhat_var",
    "min_ess_bulk",
    "min_ess_bulk_var",
    "divergences",
    "converged",
    "ess_at_least_kept_draws",
    "seconds",
    "cpu_seconds",
    "error",
)


def calibrate(
    spec: ModelSpec,
    *,
    sims: int,
    profile: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    fit_spec: ModelSpec | None = None,
    around: str = "prior",
) -> dict[str, Any]:
    """Simulation-based calibration of the production computation of a trend or joint spec.

    ``around="posterior"`` (joint specs): posterior SBC, the simulations drawn around the shipped
    data's posterior and fitted together with the shipped data (:func:`_posterior_simulations`).

    Each simulation draws every parameter from the prior and simulates every observed table of the
    shipped data's shape (for a joint spec: reference losses, link points and scores); each is then
    fitted as ``bayesdense fit`` fits the spec (same model builder, same sampler and settings;
    ``profile`` None or "default" is the spec's own [sampler] table, "fast"/"thorough" override it
    and the output says so). Ranked: the growth rate, the intercept, every free parameter that is
    not per model, three latent densities and the log likelihood of the simulated data, each among
    ``SBC_DRAWS`` draws spread evenly over the chains. Per fit: max R-hat (every free parameter and
    the log likelihood), min bulk ESS (ranked quantities) and divergences. Summaries over all fits
    and over converged fits (R-hat <= 1.01, no divergences). Simulations are split into ``workers``
    batches (local processes, or Dask tasks with ``scheduler``); the draws do not depend on it.

    ``fit_spec`` fits with another spec than the one simulated from: a planted miscalibration, to
    check that the check can fail.
    """
    import time

    from .fit import PROFILES, data_hash_of, sampler_settings, versions

    t0 = time.time()

    if spec.frontier.kind == "records" and spec.layers.kind == "joint":
        raise ValueError("the records frontier is a cut posterior (two stages): SBC does not apply to it")
    if spec.layers.latents == "integrated" and spec.layers.kind == "joint":
        raise ValueError(
            "calibrate does not support integrated latents yet (their latent densities are drawn after the fit)"
        )
    if spec.layers.score_error == "marginalised":
        raise ValueError(
            "calibrate simulates scores with a score error drawn from its prior: use layers.score_error = 'sampled'"
        )
    if sims < 1:
        raise ValueError("--sims must be at least 1")
    if around not in AROUND:
        raise ValueError(f"unknown --around '{around}'; choose one of {', '.join(AROUND)}")
    if around == "posterior" and spec.layers.kind != "joint":
        raise ValueError(
            f"--around posterior needs a joint spec (layers.kind = 'joint': its simulations are fitted with the "
            f"shipped data); '{spec.name}' is a {spec.layers.kind} spec: use --around prior"
        )
    if around == "posterior" and fit_spec is not None:
        raise ValueError("a planted fit_spec is checked from the prior only (around='prior')")
    profile = profile or "default"
    if profile not in PROFILES:
        raise ValueError(f"unknown sampler profile '{profile}'; choose one of {', '.join(PROFILES)}")
    fitted = fit_spec or spec
    settings = sampler_settings(fitted, profile)
    posterior_fit = None
    if around == "posterior":
        simulations, posterior_fit = _posterior_simulations(spec, sims, profile)
    else:
        simulations = _draw_simulations(spec, sims)
    k = max(1, min(workers, sims))
    text = spec_to_toml(fitted) if fitted.data_files else fitted.text
    jobs = [(text, simulations[c::k], profile, around) for c in range(k)]
    done = parallel.run_jobs(_sbc_batch, jobs, workers=workers, scheduler=scheduler)
    by_sim = {r["sim"]: r for rows in done for r in rows}
    results = [by_sim[i] for i in range(sims)]
    fitted_ok = [r for r in results if "error" not in r]
    converged = [r for r in fitted_ok if r["converged"]]
    names = [label for label, *_ in simulations[0]["ranked"]] + [LOG_LIK]

    def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ranks = {q: np.array([r["ranks"][q] for r in rows], int) for q in names}
        in_hdi = {q: np.array([r["in_hdi"][q] for r in rows], bool) for q in names}
        return sbc_summary(ranks, SBC_DRAWS, in_hdi)

    return {
        "spec": spec.name,
        "fit_spec": fitted.name,
        "spec_hash": spec.hash,
        "data_hash": data_hash_of(spec),
        "seed": SBC_SEED,
        "sims": sims,
        "around": around,
        "simulations": AROUND[around],
        **({"posterior_fit": posterior_fit} if posterior_fit else {}),
        "n_draws": SBC_DRAWS,
        "bins": equal_width_bins(SBC_DRAWS + 1),
        "thinning": f"{SBC_DRAWS} draws kept per fit, spread evenly over all chains; a fit whose smallest bulk "
        f"ESS of a ranked quantity is below {SBC_DRAWS} is flagged (ess_at_least_kept_draws = false)",
        "profile": profile,
        "production_settings": profile == "default",
        "sampler": settings,
        "converged_rule": f"max R-hat <= {RHAT_CONVERGED} and no divergences",
        "n_fitted": len(fitted_ok),
        "n_failed": sims - len(fitted_ok),
        "n_converged": len(converged),
        "converged_share": len(converged) / sims,
        "divergent_fits": int(sum(r["divergences"] > 0 for r in fitted_ok)),
        "fits_ess_below_kept_draws": int(sum(not r["ess_at_least_kept_draws"] for r in fitted_ok)),
        "fits": [{key: r[key] for key in FIT_KEYS if key in r} for r in results],
        "summary": summary(fitted_ok),
        "summary_converged": summary(converged),
        "ranks": {q: [r["ranks"][q] for r in fitted_ok] for q in names},
        "in_hdi": {q: [r["in_hdi"][q] for r in fitted_ok] for q in names},
        "ranked_sims": [r["sim"] for r in fitted_ok],
        "time_origin": TIME_ORIGIN.isoformat(),
        "wall_seconds": round(time.time() - t0, 1),
        "workers": k,
        "versions": versions(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _fmt(x: Any, spec: str) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def calibration_text(res: dict[str, Any]) -> str:
    """The printed report of :func:`calibrate`: settings, one line per fit (max R-hat, min bulk ESS,
    divergences), the converged share, and the rank summaries over all fits and converged fits."""
    s = res["sampler"]
    how = (
        "the spec's production settings"
        if res["production_settings"]
        else f"profile '{res['profile']}', NOT the spec's production settings"
    )
    lines = [
        f"Simulation-based calibration of '{res['spec']}'"
        + (f" (fitted with '{res['fit_spec']}')" if res["fit_spec"] != res["spec"] else "")
        + f": {res['sims']} simulations",
        f"Each fitted as `bayesdense fit` does, with {how}: {s['sampler']}, {s['chains']} chains x {s['draws']} "
        f"draws + {s['tune']} tuning, target_accept {s['target_accept']}; ranks among {res['n_draws']} draws "
        f"spread over the chains, {res['bins']} equal-width rank bins.",
        f"Simulations: {res.get('simulations', AROUND['prior'])}.",
    ]
    pf = res.get("posterior_fit")
    if pf:
        lines.append(
            f"The shipped data's fit (seed {pf['seed']}): {pf['draws']} draws, max R-hat {pf['max_rhat']:.3f}, "
            f"{pf['divergences']} divergences, {pf['seconds']:.0f} s; the simulations' parameters are "
            f"{pf['theta_draws']}."
        )
    lines += [
        "",
        f"{'sim':>4s} {'max R-hat':>9s} {'min ESS':>8s} {'diverg.':>7s} {'seconds':>7s}  converged",
    ]
    for f in res["fits"]:
        if "error" in f:
            lines.append(f"{f['sim']:4d}  fit failed: {f['error']}")
            continue
        flag = "yes" if f["converged"] else "no"
        if not f["ess_at_least_kept_draws"]:
            flag += f" (ESS < {res['n_draws']})"
        lines.append(
            f"{f['sim']:4d} {_fmt(f['max_rhat'], '9.3f')} {_fmt(f['min_ess_bulk'], '8.0f')} {f['divergences']:7d} "
            f"{f['seconds']:7.0f}  {flag}"
        )
    lines.append(
        f"Converged ({res['converged_rule']}): {res['n_converged']} of {res['sims']} fits "
        f"({res['converged_share']:.0%}); failed fits: {res['n_failed']}; fits with divergences: "
        f"{res['divergent_fits']}; with min bulk ESS below {res['n_draws']}: {res['fits_ess_below_kept_draws']}."
    )
    head = f"{'quantity':38s} {'unif. p':>8s} {'cov50':>6s} {'cov94':>6s} {'HDI94':>6s} {'mean rank':>9s}"
    for key, title in (("summary", "all fitted simulations"), ("summary_converged", "converged fits only")):
        rows = res[key]
        n = rows[0]["n_sims"] if rows else 0
        lines += ["", f"Ranks over {title} (n = {n}); cov: central intervals, HDI94: the reported 94% HDI", head]
        if n == 0:
            lines.append("  (none)")
            continue
        for r in rows:
            lines.append(
                f"{r['quantity']:38s} {r['uniformity_p']:8.3f} {r['coverage_50']:6.2f} {r['coverage_94']:6.2f} "
                f"{r['hdi_coverage_94']:6.2f} {r['mean_rank_fraction']:9.3f}"
            )
    if "wall_seconds" in res:
        lines.append(f"Wall time {res['wall_seconds']:.0f} s with {res['workers']} worker(s).")
    lines.append(
        "Calibrated: uniformity p not small, coverage near 0.50 and 0.94, mean rank near 0.5 (standard error "
        "1 / sqrt(12 n)); with few simulations these are rough."
    )
    return "\n".join(lines)
