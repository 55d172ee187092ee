"""The only module that samples: ``fit(spec) -> xarray.DataTree`` with everything a result needs."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xarray as xr

from .data import data_hash, sha256_of
from .spec import ModelSpec

CACHE_DIR = Path(os.environ.get("BAYESDENSE_CACHE_DIR", Path.home() / ".cache" / "bayesdense"))
PROFILES: dict[str, dict[str, int]] = {
    # name: overrides of the spec's [sampler] table; BAYESDENSE_PROFILE=fast selects one globally
    "default": {},
    "fast": {"chains": 2, "draws": 300, "tune": 300},
    "thorough": {"chains": 4, "draws": 4000, "tune": 2000},
}
PRIOR_DRAWS = 500  # forward draws of every parameter from its prior, stored as the "prior" group
DATA_TABLES = (
    "reference_losses",
    "link_points",
    "curve_parameters",
    "fig1_density",
    "fig2_density",
    "fig3c_density",
    "models",
    "scores",
)


# result-file attribute holding each [data] file as resolved when fitted
FILE_ATTRS = {
    "scores_file": "scores_file",
    "extra_models": "extra_models_file",
    "reference_runs": "reference_runs_file",
    "link_points": "link_points_file",
}


def data_hash_of(spec: ModelSpec) -> str:
    """Hash of the data ``spec`` is fitted on: the shipped tables it reads (the per-benchmark score
    table only for ``data.targets = "published_scores"``, so that filling a score cell does not make
    every other spec's records stale), and a spec's own scores file."""
    tables = DATA_TABLES if spec.data.targets == "published_scores" else tuple(t for t in DATA_TABLES if t != "scores")
    if spec.data.reference_family == "public":
        tables = (*tables, "public_reference_scores")
    if spec.data.targets == "leaderboard":
        from .data import LEADERBOARD_TABLE

        tables = (*tables, LEADERBOARD_TABLE)
    h = data_hash(tables)
    for key, path in spec.data_files.items():
        tag = "own_scores" if key == "scores_file" else key
        h = hashlib.sha256(f"{h};{tag}:{sha256_of(Path(path).expanduser())}".encode()).hexdigest()
    return h


def _enable_jax_cache() -> None:
    parallel_jax_chains()
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(CACHE_DIR / "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


JAX_DEVICES = 4  # CPU devices JAX is asked for: numpyro runs up to this many chains in parallel


def parallel_jax_chains() -> None:
    """Let numpyro run the chains in parallel: it maps chains onto JAX devices and draws them one
    after another when there are fewer devices than chains, and JAX on a CPU has one device unless
    asked for more before it starts. Asked here for JAX_DEVICES (the cores are shared by the OS
    threads; 1.8x faster on 2 cores, benchmarks/RESULTS.md). No effect once JAX is running, or when
    XLA_FLAGS already sets a device count."""
    import sys

    flags = os.environ.get("XLA_FLAGS", "")
    if "jax" in sys.modules or "xla_force_host_platform_device_count" in flags:
        return
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={JAX_DEVICES}".strip()


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("bayesdense", "pymc", "pytensor", "arviz", "numpy", "scipy", "xarray", "jax", "numpyro", "nutpie"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def sampler_settings(spec: ModelSpec, profile: str | None = None) -> dict[str, Any]:
    profile = profile or os.environ.get("BAYESDENSE_PROFILE", "default")
    if profile not in PROFILES:
        raise ValueError(f"unknown sampler profile '{profile}'; choose one of {', '.join(PROFILES)}")
    s = spec.sampler.model_dump()
    s.update(PROFILES[profile])
    s["profile"] = profile
    return s


def sample_model(
    spec: ModelSpec,
    model: Any,
    *,
    seed: int,
    profile: str | None = None,
    progress: bool = True,
    sampler: str | None = None,
    diagonal_latents: bool = False,
) -> xr.DataTree:
    """Run NUTS on ``model`` with the spec's sampler settings (the sampler is always named).

    ``diagonal_latents`` (numpyro with ``dense_mass``): the mass matrix is dense over the global
    parameters and diagonal over the latent densities (``log_density_offset``), not dense over all:
    a dense matrix over thousands of latents cannot be estimated from one warm-up, and NUTS then
    runs to its maximum tree depth (benchmarks/RESULTS.md, "Many models"). ``fit`` asks for it
    above LARGE_FIT models, with Laplace latents, which leave the latents nearly uncorrelated."""
    _enable_jax_cache()
    import pymc as pm

    settings = sampler_settings(spec, profile)
    if sampler:
        settings["sampler"] = sampler
    kw: dict[str, Any] = dict(
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        random_seed=seed,
        target_accept=settings["target_accept"],
        progressbar=progress,
        compute_convergence_checks=False,
        nuts_sampler=settings["sampler"],  # always explicit: PyMC 6 would silently pick nutpie if installed
    )
    if settings["sampler"] == "numpyro":
        # a dense mass matrix: every model's density moves with the shared loss-law exponent
        kw["nuts"] = {"dense_mass": bool(settings["dense_mass"])}
    if settings["sampler"] == "pymc":
        kw.update(backend="numba", cores=min(settings["chains"], os.cpu_count() or 1))
    elif settings["sampler"] == "nutpie":
        kw.update(cores=min(settings["chains"], os.cpu_count() or 1))
        # nutpie's answer to the same correlation: a low-rank modified mass matrix
        kw["nuts"] = {"low_rank_modified_mass_matrix": bool(settings["dense_mass"])}
    block = diagonal_latents and settings["sampler"] == "numpyro" and bool(settings["dense_mass"])
    if block:
        settings["mass_matrix"] = "dense over the globals, diagonal over the latents"
    with model, quiet_pymc(not progress), _dense_globals(model) if block else contextlib.nullcontext():
        idata = pm.sample(**kw)
    idata.attrs["bayesdense_sampler"] = json.dumps(settings)
    return idata


LATENTS = ("log_density_offset",)  # the latent densities' sampled coordinates (offset and Laplace forms)


@contextlib.contextmanager
def _dense_globals(model: Any) -> Iterator[None]:
    """numpyro with a block mass matrix: dense over the model's global parameters, diagonal over
    LATENTS. numpyro builds such a matrix when its parameters are a dict keyed by site (``dense_mass``
    as a list of site-name tuples); PyMC passes them as a list, so its numpyro call is wrapped
    for the duration: the same logp, the parameters keyed by value-variable name."""
    import pymc.sampling.jax as pj

    names = [v.name for v in model.value_vars]
    dense = tuple(n for n in names if n not in LATENTS)
    original = pj._sample_numpyro_nuts

    def keyed(*, initial_points: Any, logp_fn: Any, nuts_kwargs: dict[str, Any], **kw: Any) -> Any:
        raw, stats, lib = original(
            initial_points=dict(zip(names, initial_points, strict=True)),
            logp_fn=lambda d: logp_fn([d[n] for n in names]),
            nuts_kwargs={**nuts_kwargs, "dense_mass": [dense]},
            **kw,
        )
        return [raw[n] for n in names], stats, lib

    pj._sample_numpyro_nuts = keyed
    try:
        yield
    finally:
        pj._sample_numpyro_nuts = original


@contextlib.contextmanager
def quiet_pymc(quiet: bool = True) -> Iterator[None]:
    """PyMC logs every sampling call at INFO ("Sampling: [...]", "NUTS[numpyro]: [...]"); hush it."""
    log = logging.getLogger("pymc")
    old = log.level
    if quiet:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(old)


def sample_prior(model: Any, *, seed: int, draws: int = PRIOR_DRAWS) -> xr.Dataset:
    """Draws of every parameter and derived quantity from the prior alone (no data), seeded.

    Forward sampling of the free variables and deterministics only (no observations). Compiled in
    FAST_COMPILE mode: on the default spec 500 draws take under 1 s, where PyMC's default (numba)
    compile takes 3-7 s and falls back to object mode for the skew-normal.
    """
    import warnings

    import pymc as pm

    names = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    with quiet_pymc(), warnings.catch_warnings():
        # with latents integrated out the likelihood is a Potential, which a draw from the priors
        # alone must ignore: that is the point of this group, not a problem
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        idata = pm.sample_prior_predictive(
            draws=draws,
            model=model,
            random_seed=seed,
            var_names=names,
            compile_kwargs={"mode": "FAST_COMPILE"},
        )
    return idata["prior"].to_dataset()


def paper_data_difference(spec: ModelSpec) -> str | None:
    """Why a spec's fit data are not the paper's figure data (None when they are).

    Only a fit of the figure's own data may show the paper's point estimate beside it: on other
    data (your scores, published per-benchmark scores, simulated scores, a subset of the models)
    the figure's line is not the paper's answer for those data and would be misquoted as one."""
    d = spec.data
    if d.targets not in ("paper_implied", "published_densities"):
        return f"the fit's data are not the paper's figure data (data.targets = {d.targets!r})"
    subset = [
        k
        for k, changed in (
            ("exclude_variants", bool(d.exclude_variants)),
            ("models_also_in", d.models_also_in is not None),
            ("released_from", d.released_from is not None),
            ("released_to", d.released_to is not None),
            ("params_basis", d.targets == "paper_implied" and d.params_basis != "paper"),
            ("era", d.figure != "fig3c" and d.era != "all"),
        )
        if changed
    ]
    if subset:
        return f"the fit uses a subset or rescaling of the paper's {d.figure} data (data.{', data.'.join(subset)})"
    return None


def paper_point_estimate(spec: ModelSpec) -> dict[str, Any]:
    """The paper's recipe on the spec's figure (and era), for printing beside the posterior; for a
    fit of other data only ``{"not_shown": reason}`` (:func:`paper_data_difference`)."""
    from . import classical

    why = paper_data_difference(spec)
    if why is not None:
        return {"not_shown": why}
    r = classical.reproduce(spec.data.figure)
    if spec.data.figure == "fig3c":
        r = r["post_chatgpt" if spec.data.era != "pre_chatgpt" else "pre_chatgpt"]
    keys = ("A_per_day", "B", "r2", "n_records", "records", "doubling_time_days", "doubling_time_months")
    return {k: r[k] for k in keys}


def fit(
    spec: ModelSpec,
    *,
    seed: int = 1,
    profile: str | None = None,
    progress: bool = True,
    sampler: str | None = None,
    prior: bool = True,
) -> xr.DataTree:
    """Fit ``spec`` on the shipped data; returns a self-describing DataTree (not yet saved).

    Besides the posterior it holds a ``prior`` group (``PRIOR_DRAWS`` draws from the priors alone)
    for prior-vs-posterior plots; ``prior=False`` leaves it out (members of a study that only mixes
    posteriors: a few seconds each)."""
    t0 = time.time()
    from . import inputs, models

    fd = inputs.prepare(spec)
    placed = inputs.prepare_placed(spec, fd)  # checked now: a bad file is refused before sampling
    cut = spec.frontier.kind == "records" and spec.layers.kind == "joint"
    form = models.latent_form(spec, fd.n_models)
    model = models.build(spec, fd, curves_only=cut, offset_latents=form)
    idata = sample_model(
        spec,
        model,
        seed=seed,
        profile=profile,
        progress=progress,
        sampler=sampler,
        diagonal_latents=form == "laplace" and fd.n_models >= models.LARGE_FIT,
    )
    settings = json.loads(idata.attrs["bayesdense_sampler"])
    posterior = idata["posterior"].to_dataset()
    if cut:
        from .models.records import trend_from_curves

        posterior = trend_from_curves(spec, fd, posterior, seed=seed)
    extra_attrs = {}
    if spec.frontier.by_benchmark:
        from .models.benchmark_rates import after_sampling

        posterior, err = after_sampling(spec, fd, posterior, seed=seed)
        extra_attrs["latent_integration_error_nats"] = err
    elif spec.layers.latents == "integrated" and spec.layers.kind == "joint":
        from .models.integrated import draw_latents, integration_error

        posterior = posterior.assign(log_density=draw_latents(spec, fd, posterior, seed=seed))
        extra_attrs["latent_integration_error_nats"] = integration_error(spec, fd, posterior, seed=seed)
    groups = {}
    if placed is not None:  # after the fit, given each draw: they cannot move it (models/placed.py)
        from .models.placed import draw_placed

        posterior = posterior.assign(placed_log_density=draw_placed(spec, placed, posterior, seed=seed))
        groups["placed_data"] = placed.to_dataset()
    if prior:  # the cut `records` trend has no prior: curve parameters only
        # from the model as written: with offset latents the sampled one's frontier term is a Potential
        written = model if "log_density_offset" not in model.named_vars else models.build(spec, fd, curves_only=cut)
        groups = {"prior": sample_prior(written, seed=seed), **groups}
    stats = idata["sample_stats"].to_dataset()
    tree = assemble(spec, fd, posterior, stats, settings, seed=seed, wall=time.time() - t0, groups=groups)
    tree.attrs.update(extra_attrs)
    return tree


def assemble(
    spec: ModelSpec,
    fd: Any,
    posterior: xr.Dataset,
    sample_stats: xr.Dataset,
    settings: dict[str, Any],
    *,
    seed: int,
    wall: float,
    groups: dict[str, xr.Dataset] | None = None,
) -> xr.DataTree:
    """A result: posterior, sample stats and fit data with the attributes a rerun needs.

    The posterior gains the per-draw doubling time and densities (``quantities.DERIVED_VARS``)."""
    from .models.score_error import draw_score_sd
    from .quantities import derived_draws

    # the offsets are how the latents were sampled (models/densing.py), not a quantity: log_density is kept
    posterior = posterior.drop_vars("log_density_offset", errors="ignore")
    posterior = draw_score_sd(spec, posterior, seed=seed)  # layers.score_error = "marginalised"
    if groups and "prior" in groups:
        groups = {**groups, "prior": draw_score_sd(spec, groups["prior"], seed=seed, prior=True)}
    posterior = posterior.assign(derived_draws(posterior))
    meta = {
        "format": "bayesdense-result",
        "format_version": 1,
        "spec_name": spec.name,
        "spec_text": spec.text,
        "spec_hash": spec.hash,
        "data_hash": data_hash_of(spec),
        "seed": seed,
        "sampler": json.dumps(settings),
        "versions": json.dumps(versions()),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 2),
        "paper_point_estimate": json.dumps(paper_point_estimate(spec)),
    }
    for key, path in spec.data_files.items():  # as found when fitting (the spec text may give a relative path)
        meta[FILE_ATTRS[key]] = str(Path(path).expanduser().resolve())
    tree = xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": sample_stats, "fit_data": fd.to_dataset(), **(groups or {})}
    )
    tree.attrs.update(meta)
    return tree
