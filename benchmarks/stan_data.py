"""The default spec's fit data as the data of benchmarks/stan/densing_default.stan, and the map
between that program's parameters and the PyMC model's (bayesdense.models.build).

    stan_data(spec, fd)          -> dict for stan.build(program, data=...)
    check_supported(spec, fd)    -> raises NotImplementedError for a spec the program does not write
    pymc_point_to_stan(point)    -> constrained Stan parameter dict from a PyMC value-variable point
    stan_unconstrained(point)    -> Stan's unconstrained vector (declaration order) from the same point
    build(data, seed)            -> stan.build of the program (pystan), retried on a stanc timeout

Imported by benchmarks/bench_peers.py and tests/test_stan_peer.py; needs bayesdense, and pystan for build() only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bayesdense.inputs import D_UNIT, N_UNIT, FitData, reference_priors
from bayesdense.models.densing import DAYS_PER_YEAR, t_mid_days
from bayesdense.spec import ModelSpec

STAN_FILE = Path(__file__).resolve().parent / "stan" / "densing_default.stan"

# (Stan parameter, PyMC value variable, positive: declared <lower=0> in Stan, log-transformed in
# PyMC) in the program's declaration order, which is Stan's unconstrained order
PARAMETERS: tuple[tuple[str, str, bool], ...] = (
    ("growth_rate_per_year", "growth_rate_per_year", False),
    ("frontier_log_density_mid", "frontier_log_density_mid", False),
    ("frontier_omega", "frontier_omega_log__", True),
    ("frontier_lambda", "frontier_lambda_log__", True),
    ("log_density", "log_density", False),
    ("loss_a", "loss_a_log__", True),
    ("loss_alpha", "loss_alpha_log__", True),
    ("loss_b", "loss_b_log__", True),
    ("loss_beta", "loss_beta_log__", True),
    ("loss_sd_log", "loss_sd_log_log__", True),
    ("link_gamma", "link_gamma_log__", True),
    ("link_l", "link_l", False),
    ("link_floor_offset", "link_floor_offset", False),
    ("link_sd", "link_sd_log__", True),
)
# per-benchmark parameters (a vector[B] in Stan, dims "benchmark" in PyMC); the rest are scalars
# except log_density (vector[M], dims "model")
PER_BENCHMARK = {
    "loss_a",
    "loss_alpha",
    "loss_b",
    "loss_beta",
    "loss_sd_log",
    "link_gamma",
    "link_l",
    "link_floor_offset",
    "link_sd",
}
# the prior family the program writes for each prior key
PRIOR_FAMILIES = {
    "growth_rate_per_year": "Normal",
    "frontier_log_density_mid": "Normal",
    "frontier_omega": "HalfNormal",
    "frontier_lambda": "Gamma",
    "loss_a": "LogNormal",
    "loss_alpha": "LogNormal",
    "loss_b": "LogNormal",
    "loss_beta": "LogNormal",
    "loss_sd_log": "HalfNormal",
    "link_gamma": "LogNormal",
    "link_l": "Normal",
    "link_floor_offset": "Normal",
    "link_sd": "HalfNormal",
    "link_ceiling_frac": "Fixed",
    "score_sd": "Fixed",
}
# half-normal priors: Stan's normal_lpdf on a <lower=0> parameter is PyMC's HalfNormal minus log 2
HALF_NORMAL_SCALAR = ("frontier_omega",)
HALF_NORMAL_PER_BENCHMARK = ("loss_sd_log", "link_sd")


def build(data: dict[str, Any], seed: int = 1, program_code: str | None = None) -> Any:
    """``stan.build(program, data=data, random_seed=seed)``, tried up to three times.

    httpstan runs stanc with a 1 s timeout, which a first (cold) stanc run can exceed on a loaded
    machine; the build then fails with an unhelpful error and succeeds when asked again. httpstan
    caches a built model by program text, httpstan version, platform and Python executable path:
    run with the same interpreter path (e.g. always /work/main/.venv-peers/bin/python) to reuse it."""
    import stan

    code = STAN_FILE.read_text() if program_code is None else program_code
    for attempt in range(3):
        try:
            return stan.build(code, data=data, random_seed=seed)
        except (RuntimeError, ValueError) as e:  # ValueError: also orjson's decode error of a 500 reply
            if attempt == 2 or "Syntax error" in str(e) or "Semantic error" in str(e):
                raise
    raise AssertionError("unreachable")


def check_supported(spec: ModelSpec, fd: FitData) -> None:
    """Raise NotImplementedError naming the first setting of ``spec`` the Stan program does not write."""
    lay, fr, dat = spec.layers, spec.frontier, spec.data
    settings = [
        ("layers.kind", lay.kind, "joint"),
        ("layers.hierarchical", lay.hierarchical, False),
        ("layers.loss_residuals", lay.loss_residuals, "log"),
        ("layers.irreducible_loss", lay.irreducible_loss, False),
        ("layers.latents", lay.latents, "sampled"),
        ("layers.score_error", lay.score_error, "sampled"),
        ("frontier.kind", fr.kind, "stochastic_frontier"),
        ("frontier.inefficiency", fr.inefficiency, "half_normal"),
        ("frontier.trend", fr.trend, "line"),
        ("frontier.by_benchmark", fr.by_benchmark, False),
        ("data.reference_family", dat.reference_family, "paper"),
    ]
    for key, got, want in settings:
        if got != want:
            raise NotImplementedError(f"the Stan program writes {key} = {want!r} only; spec {spec.name!r} has {got!r}")
    if dat.score_settings == "offset":
        raise NotImplementedError("the Stan program has no setting offsets (data.score_settings = 'offset')")
    if fd.score_based:
        raise NotImplementedError("the Stan program needs reference losses (a loss-based reference family)")
    spec = reference_priors(spec, fd)
    for key, family in PRIOR_FAMILIES.items():
        benches = fd.benchmarks if key in PER_BENCHMARK | {"link_ceiling_frac", "score_sd"} else [None]
        for b in benches:
            got = spec.prior(key, b).dist
            if got != family:
                where = f"{key} ({b})" if b else key
                raise NotImplementedError(f"the Stan program writes a {family} prior for {where}; the spec has {got}")


def stan_data(spec: ModelSpec, fd: FitData) -> dict[str, Any]:
    """The data dict of benchmarks/stan/densing_default.stan for ``spec`` on ``fd`` (inputs.prepare(spec)).

    Same units and transformations as bayesdense.models.densing.build: N / 1e9, D / 1e12, time in
    years from the data's mid-date, link points of role "fit" only, indices 1-based."""
    check_supported(spec, fd)
    spec = reference_priors(spec, fd)  # as build() does (unchanged for the paper's reference family)
    benches = list(fd.benchmarks)

    def per(key: str, field: str) -> list[float]:
        return [float(getattr(spec.prior(key, b), field)) for b in benches]

    fit = fd.link_role == "fit"
    t_mid = t_mid_days(fd)
    p = spec.prior
    return {
        "B": len(benches),
        "R": len(fd.ref_loss),
        "ref_bench": (np.asarray(fd.ref_bench, int) + 1).tolist(),
        "ref_n": (np.asarray(fd.ref_params, float) / N_UNIT).tolist(),
        "ref_d": (np.asarray(fd.ref_tokens, float) / D_UNIT).tolist(),
        "ref_loss": np.asarray(fd.ref_loss, float).tolist(),
        "K": int(fit.sum()),
        "link_bench": (np.asarray(fd.link_bench[fit], int) + 1).tolist(),
        "link_loss": np.asarray(fd.link_loss[fit], float).tolist(),
        "link_score": np.asarray(fd.link_score[fit], float).tolist(),
        "M": fd.n_models,
        "tau": ((np.asarray(fd.t_days, float) - t_mid) / DAYS_PER_YEAR).tolist(),
        "log_n": np.log(np.asarray(fd.params, float) / N_UNIT).tolist(),
        "O": len(fd.obs_score),
        "obs_model": (np.asarray(fd.obs_model, int) + 1).tolist(),
        "obs_bench": (np.asarray(fd.obs_bench, int) + 1).tolist(),
        "obs_score": np.asarray(fd.obs_score, float).tolist(),
        "d0": float(fd.d0_tokens) / D_UNIT,
        "t_mid_days": t_mid,
        "chance": [float(spec.layers.chance_score.get(b, 0.0)) for b in benches],
        "ceiling_frac": per("link_ceiling_frac", "value"),
        "score_sd": per("score_sd", "value"),
        "growth_rate_mu": float(p("growth_rate_per_year").mu),  # type: ignore[arg-type]
        "growth_rate_sigma": float(p("growth_rate_per_year").sigma),  # type: ignore[arg-type]
        "mid_mu": float(p("frontier_log_density_mid").mu),  # type: ignore[arg-type]
        "mid_sigma": float(p("frontier_log_density_mid").sigma),  # type: ignore[arg-type]
        "omega_sigma": float(p("frontier_omega").sigma),  # type: ignore[arg-type]
        "lambda_shape": float(p("frontier_lambda").alpha),  # type: ignore[arg-type]
        "lambda_rate": float(p("frontier_lambda").beta),  # type: ignore[arg-type]
        **{
            f"{k}_{f}": per(k, f)
            for k in ("loss_a", "loss_alpha", "loss_b", "loss_beta", "link_gamma", "link_l", "link_floor_offset")
            for f in ("mu", "sigma")
        },
        "loss_sd_log_sigma": per("loss_sd_log", "sigma"),
        "link_sd_sigma": per("link_sd", "sigma"),
    }


def log2_offset(fd: FitData) -> float:
    """PyMC's log density minus Stan's log_prob (both with Jacobian) for this program: the log 2
    of each half-normal prior, which Stan's normal_lpdf on a <lower=0> parameter leaves out."""
    return float(np.log(2.0) * (len(HALF_NORMAL_SCALAR) + len(fd.benchmarks) * len(HALF_NORMAL_PER_BENCHMARK)))


def pymc_point_to_stan(point: dict[str, Any]) -> dict[str, Any]:
    """Constrained Stan parameters (name -> float or list) from a PyMC value-variable point
    (``model.initial_point()`` keys: ``loss_a_log__`` etc.)."""
    out: dict[str, Any] = {}
    for stan_name, pymc_name, positive in PARAMETERS:
        v = np.asarray(point[pymc_name], float)
        v = np.exp(v) if positive else v
        out[stan_name] = v.tolist() if (stan_name in PER_BENCHMARK or stan_name == "log_density") else float(v)
    return out


def stan_unconstrained(point: dict[str, Any]) -> np.ndarray:
    """Stan's unconstrained parameter vector (declaration order, lower=0 -> log) from a PyMC
    value-variable point: PyMC's log__ values are Stan's unconstrained values unchanged."""
    return np.concatenate([np.ravel(np.asarray(point[pymc_name], float)) for _, pymc_name, _ in PARAMETERS])
