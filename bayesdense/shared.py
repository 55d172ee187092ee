"""Many variants, one compiled model.

Sensitivity variants that differ only in *which* models and scores enter (benchmark subsets,
excluded model variants, release-date windows), in D0 or in the parameter basis have the same
model structure. They are fitted on one model built for the union of their data
(``build(..., shared=True)``): observations carry 0/1 weights in a data container, D0 and the
parameter counts are data too, and nutpie samples every variant from one compiled model with
``CompiledModel.with_data`` (no recompilation). Each result is then cut down to the variant's own
models and benchmarks, so it reads like a standalone fit of the variant's spec.

Why the cut is exact: a left-out score contributes a zero log-likelihood term; a left-out model keeps
a latent density whose only factor is the frontier, which integrates to one given the trend; the
curves of a left-out benchmark are fitted on their own reference runs and link points and enter
nothing else (``layers.hierarchical = false`` is required for benchmark subsets).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np
import xarray as xr

from .inputs import D_UNIT, N_UNIT, FitData
from .models.densing import DAYS_PER_YEAR, t_mid_days
from .spec import ModelSpec, parse_spec, spec_to_toml

# spec fields a shared model takes as data (everything else must match for two specs to share)
DATA_FIELDS = (
    "benchmarks",
    "exclude_variants",
    "released_from",
    "released_to",
    "d0_tokens",
    "params_basis",
    "score_settings",
    "models_also_in",
)


# On these models nutpie's low-rank adaptation gets far fewer effective draws per draw than numpyro's
# dense mass matrix (default spec, 1000 + 1000 draws x 4 chains: min bulk ESS ~200 and R-hat up to
# 1.045 against ~2000 and 1.005; sampling itself takes 2-3 s). A variant on a shared model therefore
# runs 1.5x the spec's tuning steps and 2x its draws (on the 31 benchmark subsets: max R-hat 1.07 ->
# 1.02 with 3x draws, at 9 min 47 s for the axis; 2x keeps the axis well inside 10 minutes).
SHARED_TUNE_FACTOR = 1.5
SHARED_DRAWS_FACTOR = 2
STUCK_RETRIES = 2
STUCK_SEED_STEP = 7919


def stuck_chains(trace: xr.DataTree, share: float = 0.5) -> list[int]:
    """Chains with more than ``share`` of their draws divergent."""
    div = np.asarray(trace["sample_stats"]["diverging"].to_numpy(), float)
    return [int(c) for c in np.flatnonzero(div.mean(axis=1) > share)]


class NotShareable(ValueError):
    """The variant's data are not a weighted subset of the shared model's data."""


def is_cut(spec: ModelSpec) -> bool:
    """The records frontier of a joint spec: a cut posterior in two stages (models/records.py)."""
    return spec.frontier.kind == "records" and spec.layers.kind == "joint"


def structure_key(spec: ModelSpec) -> str | None:
    """Specs with equal keys can share one compiled model; None: this spec never shares.

    A records spec (:func:`is_cut`) shares its first stage, the curves-only model, which sees no
    target model: its variants differ only in the second stage, computed from each variant's own
    data (so only specs on the same benchmarks share)."""
    if spec.layers.latents == "integrated" and spec.layers.kind == "joint":
        return None  # latents integrated out (models/integrated.py): fitted on its own model
    if spec.frontier.inefficiency_by:
        return None  # groups of models are structure: fitted on its own model
    d = spec.model_dump(mode="json", exclude={"name", "description", "source_text", "benchmark_priors"})
    for k in DATA_FIELDS:
        d["data"].pop(k, None)
    if spec.data.score_settings == "offset":  # a setting offset is a parameter: another structure
        d["data"]["score_settings"] = "offset"
    d.pop("sampler", None)  # nutpie runs its own longer settings, numpyro each variant's (SharedModel.sample)
    if spec.layers.hierarchical and spec.layers.kind == "joint":
        d["data"]["benchmarks"] = spec.data.benchmarks  # pooling couples benchmarks: no subsets
    if is_cut(spec):
        d["data"]["benchmarks"] = spec.data.benchmarks
    d["sampler_target"] = spec.sampler.target_accept
    return json.dumps(d, sort_keys=True)


def superset(specs: list[ModelSpec]) -> ModelSpec:
    """The spec whose data contain every spec's data: union of benchmarks, fewest exclusions, no
    release window; per-benchmark priors merged (they must agree where they overlap)."""
    first = specs[0]
    order = list(dict.fromkeys(b for s in specs for b in s.data.benchmarks))
    excl = set(first.data.exclude_variants)
    bprior: dict[str, Any] = {}
    for s in specs:
        excl &= set(s.data.exclude_variants)
        for b, table in s.benchmark_priors.items():
            if b in bprior and bprior[b] != table:
                raise NotShareable(f"specs disagree on the priors of benchmark {b}")
            bprior[b] = table
    d = first.model_dump(exclude={"source_text"}, exclude_none=True)
    d["name"] = f"{first.name}__shared"
    d["data"].update(benchmarks=order, exclude_variants=sorted(excl))
    d["data"].pop("released_from", None)
    d["data"].pop("released_to", None)
    d["data"].pop("models_also_in", None)
    d["data"]["score_settings"] = "offset" if first.data.score_settings == "offset" else "any"
    d["benchmark_priors"] = {b: {k: p.model_dump(exclude_none=True) for k, p in t.items()} for b, t in bprior.items()}
    spec = ModelSpec(**d)
    return parse_spec(spec_to_toml(spec, header="shared model of several variants"), "shared model")


def _bench_priors(spec: ModelSpec) -> dict[str, Any]:
    return {b: {k: p.model_dump(exclude_none=True) for k, p in t.items()} for b, t in spec.benchmark_priors.items()}


def plan(specs: list[ModelSpec]) -> list[list[int]]:
    """Indices of ``specs`` grouped by shared structure (groups of one fit on their own).

    Specs join a group when their structure keys are equal and their per-benchmark priors agree on
    the benchmarks they have in common (first fit, in order)."""
    groups: list[tuple[str, dict[str, Any], list[int]]] = []
    solo: list[list[int]] = []
    for i, s in enumerate(specs):
        k = structure_key(s)
        if k is None:
            solo.append([i])
            continue
        bp = _bench_priors(s)
        for key, merged, idx in groups:
            if key == k and all(merged.get(b, t) == t for b, t in bp.items()):
                merged.update(bp)
                idx.append(i)
                break
        else:
            groups.append((k, dict(bp), [i]))
    return [idx for _, _, idx in groups] + solo


class NumpyroProgram:
    """numpyro's NUTS on a shared model, with the data containers as *arguments* of the compiled
    program. PyMC's own numpyro path (``pm.sample(nuts_sampler="numpyro")``) bakes every data
    container into the program as a constant, so each variant compiles anew (~10 s of XLA per
    stochastic-frontier model, plus ~100 small op-by-op compiles for the jittered start); here one
    compile per (tune, draws, dense mass) serves every variant of the model (the target acceptance
    is an argument too: a refit that raises it compiles nothing).

    The sampler is the same (numpyro's NUTS with its warm-up adaptation of step size and mass
    matrix, max tree depth 10), started like PyMC starts it (the model's initial point, uniform
    jitter in [-1, 1] on the unconstrained values, redrawn while the log density is not finite)."""

    JITTER_RETRIES = 10

    def __init__(self, model: Any) -> None:
        import jax
        from pymc.sampling.jax import get_jaxified_graph  # also turns on JAX's 64-bit mode
        from pymc.util import get_default_varnames
        from pytensor.graph.replace import clone_replace

        self.model = model
        self.data_vars = list(model.data_vars)
        slots = [v.type(name=v.name) for v in self.data_vars]
        swap = dict(zip(self.data_vars, slots, strict=True))
        inputs = list(model.value_vars) + slots
        kept = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
        self.names = [v.name for v in kept]
        self._logp_fn = get_jaxified_graph(inputs=inputs, outputs=clone_replace([model.logp()], swap))
        post_fn = get_jaxified_graph(inputs=inputs, outputs=clone_replace(kept, swap))
        self._logp = jax.jit(jax.value_and_grad(lambda z, data: self._logp_fn(*z, *data)[0]))
        self._post = jax.jit(jax.vmap(lambda z, data: tuple(post_fn(*z, *data)), in_axes=(0, None)))
        self._chains: dict[tuple[Any, ...], Any] = {}
        self.compile_seconds = 0.0

    def _chain(self, tune: int, draws: int, dense: bool, example: tuple[Any, ...]) -> Any:
        """The compiled chain (warm-up then draws) for these settings, compiled on first use."""
        key = (tune, draws, dense)
        if key not in self._chains:
            import jax
            from numpyro.infer.hmc import hmc

            logp = self._logp_fn
            init_kernel, sample_kernel = hmc(potential_fn_gen=lambda *data: lambda z: -logp(*z, *data)[0], algo="NUTS")

            def run(rng_key: Any, z0: Any, data: Any, target_accept: Any) -> Any:
                state = init_kernel(
                    z0, tune, dense_mass=dense, target_accept_prob=target_accept, model_args=data, rng_key=rng_key
                )

                def step(s: Any, _: Any) -> Any:
                    s = sample_kernel(s, model_args=data)
                    stats = (s.potential_energy, s.energy, s.diverging, s.num_steps, s.accept_prob)
                    return s, (s.z, stats, s.adapt_state.step_size)

                _, trace = jax.lax.scan(step, state, None, length=tune + draws)
                return jax.tree.map(lambda a: a[tune:], trace)

            t0 = time.time()
            self._chains[key] = jax.jit(run).lower(*example).compile()
            self.compile_seconds += time.time() - t0
        return self._chains[key]

    def _start(self, data: tuple[Any, ...], rng: np.random.Generator) -> list[Any]:
        import jax.numpy as jnp

        point = self.model.initial_point()
        names = [v.name for v in self.model.value_vars]
        for _ in range(self.JITTER_RETRIES + 1):
            z0 = [jnp.asarray(point[n] + rng.uniform(-1, 1, np.shape(point[n]))) for n in names]
            lp, grad = self._logp(z0, data)
            if np.isfinite(float(lp)) and all(np.all(np.isfinite(np.asarray(g))) for g in grad):
                return z0
        raise RuntimeError(f"no finite starting point in {self.JITTER_RETRIES + 1} jittered tries")

    def sample(
        self,
        data: dict[str, np.ndarray],
        *,
        seed: int,
        chains: int,
        tune: int,
        draws: int,
        target_accept: float,
        dense: bool,
    ) -> tuple[xr.Dataset, xr.Dataset]:
        """(posterior, sample_stats) of ``chains`` chains run one after another, with ``data`` in the
        containers it names (the others keep the built model's values)."""
        import jax
        import jax.numpy as jnp

        vals = tuple(jnp.asarray(data[v.name] if v.name in data else v.get_value()) for v in self.data_vars)
        rng = np.random.default_rng(seed)
        keys = jax.random.split(jax.random.PRNGKey(seed), chains)
        per_chain = []
        for c in range(chains):
            z0 = self._start(vals, rng)
            target = jnp.asarray(target_accept, float)
            run = self._chain(tune, draws, dense, (keys[c], z0, vals, target))
            z, stats, step_size = run(keys[c], z0, vals, target)
            values = [np.asarray(a) for a in self._post(z, vals)]
            per_chain.append((values, [np.asarray(a) for a in stats], np.asarray(step_size)))
        return self._posterior(per_chain), self._stats(per_chain)

    def _posterior(self, per_chain: list[Any]) -> xr.Dataset:
        dims_of = self.model.named_vars_to_dims
        coords = {k: list(v) for k, v in self.model.coords.items() if v is not None}
        out = {}
        for i, name in enumerate(self.names):
            arr = np.stack([c[0][i] for c in per_chain])
            dims = list(dims_of.get(name) or [f"{name}_dim_{j}" for j in range(arr.ndim - 2)])
            out[name] = (["chain", "draw", *dims], arr)
        ds = xr.Dataset(out)
        ds = ds.assign_coords({d: coords[d] for d in ds.dims if d in coords})
        return ds.assign_coords(chain=np.arange(ds.sizes["chain"]), draw=np.arange(ds.sizes["draw"]))

    @staticmethod
    def _stats(per_chain: list[Any]) -> xr.Dataset:
        pot, energy, div, steps, accept = (np.stack([c[1][k] for c in per_chain]) for k in range(5))
        step = np.stack([c[2] for c in per_chain])
        v = ["chain", "draw"]
        coords = {"chain": np.arange(step.shape[0]), "draw": np.arange(step.shape[1])}
        return xr.Dataset(
            {
                "lp": (v, -pot),
                "energy": (v, energy),
                "diverging": (v, div.astype(bool)),
                "n_steps": (v, steps.astype(int)),
                "tree_depth": (v, (np.floor(np.log2(np.maximum(steps, 1))) + 1).astype(int)),
                "acceptance_rate": (v, accept),
                "step_size": (v, step),
            },
            coords=coords,
        )


SAMPLERS = ("nutpie", "numpyro")


class SharedModel:
    """One model built and compiled for ``base`` (a superset spec); ``fit(variant)`` per variant.

    ``sampler``: ``nutpie`` (numba, low-rank mass matrix; variants run longer, see
    SHARED_TUNE_FACTOR) or ``numpyro`` (:class:`NumpyroProgram`: the spec's own sampler and
    settings, dense mass matrix as the spec says)."""

    def __init__(self, base: ModelSpec, sampler: str = "nutpie", latents: bool | str | None = None) -> None:
        from . import inputs
        from .models import build, latent_form

        if sampler not in SAMPLERS:
            raise ValueError(f"unknown shared-model sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")
        t0 = time.time()
        self.base = base
        self.sampler = sampler
        self.fd = inputs.prepare(base)
        self.cut = is_cut(base)
        self.model = (
            build(base, self.fd, curves_only=True)
            if self.cut
            else build(base, self.fd, shared=True, offset_latents=latent_form(base) if latents is None else latents)
        )
        self._curves: dict[tuple[Any, ...], Any] = {}  # a records model's first stage, per seed and settings
        if sampler == "nutpie":
            import nutpie

            self.compiled: Any = nutpie.compile_pymc_model(self.model, backend="numba", jitter_rvs=set())
        else:
            from .fit import _enable_jax_cache

            _enable_jax_cache()
            self.compiled = NumpyroProgram(self.model)
        self.build_seconds = time.time() - t0
        self._obs_key = {
            (str(self.fd.model[m]), self.fd.benchmarks[b]): i
            for i, (m, b) in enumerate(zip(self.fd.obs_model, self.fd.obs_bench, strict=True))
        }
        self._model_index = {str(m): i for i, m in enumerate(self.fd.model)}

    @property
    def compile_seconds(self) -> float:
        """Building and compiling the model (numpyro: its chains' programs, compiled on first use)."""
        extra = self.compiled.compile_seconds if self.sampler == "numpyro" else 0.0
        return self.build_seconds + extra

    def data_for(self, spec: ModelSpec, fd: FitData) -> dict[str, np.ndarray]:
        """The data-container values that turn the shared model into ``spec``'s model."""
        try:
            idx = np.array([self._model_index[str(m)] for m in fd.model], int)
        except KeyError as e:
            raise NotShareable(f"model {e} is not in the shared model's data") from None
        if not np.allclose(self.fd.t_days[idx], fd.t_days):
            raise NotShareable("release dates differ from the shared model's")
        if self.cut:
            return {}  # the curves-only model has no target data
        # the trend's level parameter sits at the variant's own mid-date (its prior is placed there)
        t_mid = t_mid_days(fd)
        clock = {
            "t_mid_days": np.asarray(t_mid),
            "t_years_from_mid": (self.fd.t_days - t_mid) / DAYS_PER_YEAR,
        }
        if self.base.frontier.kind == "change_point":
            clock = {}
        if self.base.layers.kind == "trend":
            if not np.allclose(self.fd.point_density[idx], fd.point_density):
                raise NotShareable("published densities differ from the shared model's")
            w = np.zeros(self.fd.n_models)
            w[idx] = 1.0
            return {"model_weight": w, **clock}
        w = np.zeros(len(self.fd.obs_score))
        for m, b, y in zip(fd.obs_model, fd.obs_bench, fd.obs_score, strict=True):
            i = self._obs_key.get((str(fd.model[m]), fd.benchmarks[b]))
            if i is None or not np.isclose(self.fd.obs_score[i], y):
                raise NotShareable(f"score of {fd.model[m]} on {fd.benchmarks[b]} is not in the shared model's data")
            w[i] = 1.0
        params = self.fd.params.copy()
        params[idx] = fd.params
        return {
            **clock,
            "observation_weight": w,
            "d0_trillions": np.asarray(fd.d0_tokens / D_UNIT),
            "log_params_billions": np.log(params / N_UNIT),
        }

    def fit(
        self,
        spec: ModelSpec,
        *,
        seed: int,
        profile: str | None = None,
        cores: int | None = None,
        prior: bool = True,
    ) -> xr.DataTree:
        """Sample ``spec`` on the compiled shared model; the result is cut to the spec's data.
        ``prior=False`` leaves out the prior group (as ``fit.fit``)."""
        from . import fit as fit_mod
        from . import inputs

        t0 = time.time()
        if structure_key(spec) != structure_key(self.base):
            raise NotShareable(f"'{spec.name}' has a different model structure")
        for b, table in spec.benchmark_priors.items():
            if self.base.benchmark_priors.get(b) != table:
                raise NotShareable(f"'{spec.name}' has other priors for benchmark {b}")
        fd = inputs.prepare(spec)
        data = self.data_for(spec, fd)
        # nutpie's low-rank adaptation now and then leaves one chain stuck in a far corner (every
        # draw divergent, e.g. frontier_lambda in the thousands); such a fit is redrawn with the
        # next seeds, at most STUCK_RETRIES times, and the retries are recorded in the result
        key = (seed, profile, json.dumps(fit_mod.sampler_settings(spec, profile), sort_keys=True))
        if self.cut and key in self._curves:  # the same first stage as an earlier variant's: reused
            post, stats, settings = self._curves[key]
            settings = {**settings, "first_stage_reused": True}
        else:
            for retry in range(STUCK_RETRIES + 1):
                post, stats, settings = self.sample(
                    spec, data, seed=seed + STUCK_SEED_STEP * retry, profile=profile, cores=cores, longer=True
                )
                if not stuck_chains(xr.DataTree.from_dict({"sample_stats": stats})):
                    break
            settings["stuck_chain_retries"] = retry
            if self.cut:
                self._curves[key] = (post, stats, settings)
        sel: dict[str, Any] = {"model": [str(m) for m in fd.model]}
        if "benchmark" in post.dims:
            sel["benchmark"] = list(fd.benchmarks)
        if self.cut:
            from .models.records import trend_from_curves

            post = trend_from_curves(spec, fd, post.sel(benchmark=sel["benchmark"]), seed=seed)
        else:
            post = post.sel(sel)
        groups = {}
        if prior:
            from .models import build

            # the variant's own priors (records: the curve parameters only)
            groups["prior"] = fit_mod.sample_prior(build(spec, fd, curves_only=self.cut), seed=seed)
        return fit_mod.assemble(spec, fd, post, stats, settings, seed=seed, wall=time.time() - t0, groups=groups)

    def sample(
        self,
        spec: ModelSpec,
        data: dict[str, np.ndarray],
        *,
        seed: int,
        profile: str | None = None,
        cores: int | None = None,
        longer: bool = False,
    ) -> tuple[xr.Dataset, xr.Dataset, dict[str, Any]]:
        """NUTS on the compiled model with ``data`` in its containers; ``spec`` gives the sampler
        settings (nutpie with ``longer``: scaled by SHARED_TUNE_FACTOR and SHARED_DRAWS_FACTOR; numpyro
        runs the spec's own). Returns the posterior, the sample stats and the settings used."""
        from . import fit as fit_mod

        settings = fit_mod.sampler_settings(spec, profile)
        if self.sampler == "numpyro":
            post, stats = self.compiled.sample(
                data,
                seed=seed,
                chains=settings["chains"],
                tune=settings["tune"],
                draws=settings["draws"],
                target_accept=settings["target_accept"],
                dense=bool(settings["dense_mass"]),
            )
            settings.update(
                sampler="numpyro",
                shared_model=self.base.name,
                shared_model_spec=self.base.text,
                compile_seconds=round(self.compile_seconds, 2),
            )
            return post, stats, settings
        import nutpie

        compiled = self.compiled.with_data(**data)
        if longer:
            settings["tune"] = int(round(settings["tune"] * SHARED_TUNE_FACTOR))
            settings["draws"] = int(settings["draws"] * SHARED_DRAWS_FACTOR)
        settings.update(
            sampler="nutpie",
            shared_model=self.base.name,
            shared_model_spec=self.base.text,  # what `bayesdense rerun` rebuilds
            compile_seconds=round(self.compile_seconds, 2),
        )
        trace = nutpie.sample(
            compiled,
            draws=settings["draws"],
            tune=settings["tune"],
            chains=settings["chains"],
            cores=cores or min(settings["chains"], os.cpu_count() or 1),
            seed=seed,
            target_accept=settings["target_accept"],
            adaptation="low_rank" if settings["dense_mass"] else "diag",
            progress_bar=False,
        )
        return trace["posterior"].to_dataset(), trace["sample_stats"].to_dataset(), settings
