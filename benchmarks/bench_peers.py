"""Peer samplers on bayesdense's default model, side by side (issue 17): Stan with its diagonal and
its dense metric, PyMC's own NUTS, and bayesdense's default fit, on the same posterior.

    .venv-peers/bin/python benchmarks/bench_peers.py [--seeds 5] [--methods ...] [--cold]

Methods (--methods, comma-separated; default: stan_diag,stan_dense,pymc,bayesdense):

  stan_diag         Stan's NUTS, diagonal metric (Stan's default), through pystan 3 / httpstan, on
                    benchmarks/stan/densing_default.stan with CmdStan's defaults (adapt delta 0.8,
                    max tree depth 10, random inits in (-2, 2)).
  stan_dense        Stan's NUTS with metric = dense_e. pystan 3 has no dense metric and CmdStan
                    cannot be downloaded here, so this runs benchmarks/stan/nuts_driver.cpp: the same
                    service function CmdStan calls (stan::services::sample::hmc_nuts_dense_e_adapt),
                    CmdStan's defaults, compiled here against the Stan that httpstan ships (same
                    Stan version as stan_diag); its chains run in parallel on --threads threads.
  stan_diag_driver  (not in the default set) the driver with metric = diag_e: separates what the
                    metric does from what pystan's interface costs.
  pymc              pm.sample(nuts_sampler="pymc") with PyMC's defaults (jitter+adapt_diag, target
                    accept 0.8, C backend) on models.build(spec, fd), the model the Stan program
                    writes; chains are given (PyMC's own default here would be max(2, cores)).
  bayesdense        bayesdense.fit.fit(spec, seed=..., prior=False): the default fit as the
                    `bayesdense fit` command samples it (numpyro, dense mass matrix, target accept
                    0.95, offset latents: the same posterior, another parameterisation); its time
                    includes preparing the data, building the model and assembling the result.

Every method runs 4 chains x (1000 warm-up + 1000 draws) unless --chains/--tune/--draws say
otherwise (then for all of them: for smoke runs). With fewer than 150 warm-up iterations Stan 2.39
adapts only the step size, never the metric (windowed_adaptation::set_window_params shrinks the
windows but does not restart them), so stan_diag and stan_dense then draw the very same chains:
use --tune 200 or more for a smoke run that tells them apart. For each of --seeds seeds (seed0, seed0+1, ...;
methods interleaved within a seed, so a drift in machine load hits them alike):

  sample_s          wall time of one fit with compiled code at hand ("warm"). For Stan: the
                    sampling call only (the program is built once). For pymc and bayesdense each fit
                    builds and compiles its model again, from the PyTensor / JAX disk caches: that
                    is what each of their fits costs, so it is inside sample_s.
  compile_s         once per method: Stan, the build (stan.build; the driver's stanc + g++); pymc and
                    bayesdense, a first call with the same settings (seed WARMUP_SEED, not counted)
                    minus their median sample_s (JAX compiles numpyro's loop for the number of
                    iterations, so a shorter first call would leave compiling to the first seed).
                    With warm caches (the default) these are mostly cache hits; --cold gives every
                    method fresh caches (httpstan's, PyTensor's, JAX's, the driver's) in a temporary
                    directory.
  wall_incl_compile compile_s + median sample_s: one fit from scratch.
  min bulk ESS      over the shared parameters: growth_rate_per_day, intercept, the frontier
                    (frontier_log_density_mid, frontier_omega, frontier_lambda), the loss law
                    (loss_a, loss_alpha, loss_b, loss_beta, loss_sd_log), the link (link_gamma,
                    link_l, link_floor_offset, link_sd) and every model's log_density (arviz).
  ESS/s             min bulk ESS / sample_s (and / wall_incl_compile); divergences; max R-hat over
                    the shared parameters.
  agreement         per method, draws pooled over seeds: growth_rate_per_day mean and sd, and
                    max over the latent log densities (and over the globals) of
                    |mean - mean(bayesdense)| / pooled sd, pooled sd = sqrt((sd^2 + sd_bd^2) / 2).

Prints a table with the ratio bayesdense / stan_dense, and appends JSON lines (one per method and
seed, and one summary) to benchmarks/results_peers.jsonl (--out): date, command, spec hash, data
hash (bayesdense.fit.data_hash_of), git commit, seed, settings, versions (bayesdense.fit.versions()
plus pystan, httpstan, Stan, the C++ compiler).

Setup, once, in a virtual environment of its own so the project's pinned .venv stays as it is
(httpstan 4.17's wheel for CPython 3.13.0 does not load its models: undefined symbol
_PyThreadState_UncheckedGet; CPython 3.12, the project's other supported version, works):

    python3.12 -m venv .venv-peers
    .venv-peers/bin/pip install -c constraints.txt -e .
    .venv-peers/bin/pip install -c constraints.txt pystan pytest

Run it with a fixed interpreter path (httpstan's build cache is keyed on it). The check that the Stan
program is the PyMC model: .venv-peers/bin/python -m pytest -m slow tests/test_stan_peer.py.
A full run (5 seeds, 4 methods) takes roughly 10-30 minutes on 2 cores; run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from stan_data import PER_BENCHMARK  # noqa: E402  (the program's per-benchmark parameters)

METHODS = ("stan_diag", "stan_dense", "stan_diag_driver", "pymc", "bayesdense")
DEFAULT_METHODS = ("stan_diag", "stan_dense", "pymc", "bayesdense")
STAN_METHODS = {"stan_diag", "stan_dense", "stan_diag_driver"}
GLOBALS = (
    "growth_rate_per_day",
    "intercept",
    "frontier_log_density_mid",
    "frontier_omega",
    "frontier_lambda",
    "loss_a",
    "loss_alpha",
    "loss_b",
    "loss_beta",
    "loss_sd_log",
    "link_gamma",
    "link_l",
    "link_floor_offset",
    "link_sd",
)
SHARED = (*GLOBALS, "log_density")
STAN_DELTA, STAN_MAX_DEPTH = 0.8, 10  # CmdStan's defaults
WARMUP_SEED = 999  # the uncounted first call of pymc and bayesdense
CXX_FLAGS = [
    "-std=c++17",
    "-O3",
    "-Wno-sign-compare",
    "-DBOOST_DISABLE_ASSERTS",
    "-DBOOST_PHOENIX_NO_VARIADIC_EXPRESSION",
    "-DSTAN_THREADS",
    "-D_REENTRANT",
    "-D_GLIBCXX_USE_CXX11_ABI=0",  # as httpstan builds its models (its libraries are manylinux2014)
]


# ----------------------------------------------------------------------------- setup
def _cold_caches(tmp: Path) -> None:
    """Fresh caches for every method, set before anything that reads them is imported."""
    os.environ["XDG_CACHE_HOME"] = str(tmp / "xdg")  # httpstan (appdirs)
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={tmp / 'pytensor'}") if f)
    os.environ["BAYESDENSE_CACHE_DIR"] = str(tmp / "bayesdense")  # JAX's persistent cache lives under it
    os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)


def _stan_or_exit(methods: list[str]) -> dict[str, str]:
    """pystan / httpstan versions; a clear message and exit 2 when a Stan method is asked for and
    ``stan`` does not import."""
    wanted = [m for m in methods if m in STAN_METHODS]
    if not wanted:
        return {}
    try:
        import httpstan
        import stan  # noqa: F401
    except ImportError as e:
        print(
            f"bench_peers: `import stan` fails in {sys.executable} ({e}).\n"
            f"The methods {', '.join(wanted)} need pystan 3 (and the httpstan it installs); it is not a bayesdense\n"
            "dependency. Set up a separate environment (see --help), e.g.\n"
            "    python3.12 -m venv .venv-peers && .venv-peers/bin/pip install -c constraints.txt -e . \\\n"
            "        && .venv-peers/bin/pip install -c constraints.txt pystan\n"
            "and run .venv-peers/bin/python benchmarks/bench_peers.py, or leave the Stan methods out with\n"
            "--methods pymc,bayesdense.",
            file=sys.stderr,
        )
        sys.exit(2)
    import importlib.metadata as md

    header = Path(httpstan.__file__).parent / "include" / "stan" / "version.hpp"
    parts = {}
    for line in header.read_text().splitlines():
        for k in ("MAJOR", "MINOR", "PATCH"):
            if line.startswith(f"#define STAN_{k} "):
                parts[k] = line.split()[-1]
    cxx = os.environ.get("CXX", "g++")
    try:
        cxx_version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        cxx_version = "not found"
    return {
        "pystan": md.version("pystan"),
        "httpstan": md.version("httpstan"),
        "stan": ".".join(parts.get(k, "?") for k in ("MAJOR", "MINOR", "PATCH")),
        "cxx": cxx_version,
    }


@contextlib.contextmanager
def _quiet(verbose: bool):
    """pystan prints its build, stanc's warnings and its progress: hidden unless --verbose, and
    shown when the call fails."""
    if verbose:
        yield
        return
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            yield
    except BaseException:
        sys.stderr.write(buf.getvalue())
        raise


def _git() -> dict[str, Any]:
    def run(*a: str) -> str:
        p = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""

    dirty = run("status", "--porcelain", "--", "bayesdense", "models", "data", "benchmarks/stan")
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(dirty)}


# ----------------------------------------------------------------------------- draws -> xarray
def _dataset(arrays: dict[str, np.ndarray], fd: Any) -> Any:
    """An xarray Dataset of the shared parameters, (chain, draw[, benchmark | model])."""
    import xarray as xr

    out = {}
    for name, x in arrays.items():
        if name == "log_density":
            out[name] = (("chain", "draw", "model"), x)
        elif name in PER_BENCHMARK:
            out[name] = (("chain", "draw", "benchmark"), x)
        else:
            out[name] = (("chain", "draw"), x)
    return xr.Dataset(out, coords={"model": [str(m) for m in fd.model], "benchmark": list(fd.benchmarks)})


def _from_pystan(fit: Any, fd: Any) -> tuple[Any, int]:
    """Shared draws of a pystan Fit. fit[name] is (stan dims..., draws x chains), the chain index
    running fastest (stan/fit.py); returned as (chain, draw, dims...)."""
    chains, n = fit.num_chains, fit.num_samples
    arrays = {}
    for name in SHARED:
        x = np.asarray(fit[name])
        x = x.reshape(*x.shape[:-1], n, chains)  # last axis s * chains + c
        x = np.moveaxis(np.moveaxis(x, -1, 0), -1, 1)  # (chain, draw, dims...)
        arrays[name] = x.reshape(chains, n) if name not in PER_BENCHMARK and name != "log_density" else x
    div = int(np.asarray(fit["divergent__"]).sum())
    return _dataset(arrays, fd), div


def _from_csv(paths: list[Path], fd: Any) -> tuple[Any, int]:
    """Shared draws of the driver's CmdStan-format CSV files (one per chain)."""
    import pandas as pd

    frames = [pd.read_csv(p, comment="#") for p in paths]
    arrays = {}
    for name in SHARED:
        cols = [c for c in frames[0].columns if c == name or c.startswith(name + ".")]
        x = np.stack([f[cols].to_numpy(float) for f in frames])  # (chain, draw, k)
        arrays[name] = x[..., 0] if cols == [name] else x
    div = int(sum(f["divergent__"].sum() for f in frames))
    return _dataset(arrays, fd), div


def _from_idata(post: Any, stats: Any) -> tuple[Any, int]:
    return post[list(SHARED)], int(stats["diverging"].sum())


# ----------------------------------------------------------------------------- methods
def build_driver(cache_root: Path) -> tuple[Path, float, bool]:
    """The dense/diag NUTS driver for the Stan program: (executable, build seconds, was cached).
    Cached under ``cache_root`` by a hash of the program, the driver, httpstan and the flags."""
    import httpstan
    import stan_data

    pkg = Path(httpstan.__file__).parent
    src = ROOT / "benchmarks" / "stan" / "nuts_driver.cpp"
    cxx = os.environ.get("CXX", "g++")
    key = hashlib.sha256(
        "\n".join(
            [stan_data.STAN_FILE.read_text(), src.read_text(), httpstan.__version__, str(pkg), cxx, *CXX_FLAGS]
        ).encode()
    ).hexdigest()[:16]
    out = cache_root / key
    exe = out / "nuts_driver"
    if exe.exists():
        return exe, 0.0, True
    t = time.time()
    work = Path(tempfile.mkdtemp(prefix="nuts_driver_", dir=cache_root if cache_root.exists() else None))
    try:
        hpp = work / "model.hpp"
        subprocess.run(
            [str(pkg / "stanc"), "--name", "densing_default_model", "--o", str(hpp), str(stan_data.STAN_FILE)],
            check=True,
            capture_output=True,
            text=True,
        )
        cmd = [
            cxx,
            *CXX_FLAGS,
            f'-DMODEL_HPP="{hpp}"',
            f"-I{pkg / 'include'}",
            str(src),
            "-o",
            str(work / "nuts_driver"),
            f"-L{pkg / 'lib'}",
            "-lsundials_cvodes",
            "-lsundials_idas",
            "-lsundials_nvecserial",
            "-ltbb",
            f"-Wl,-rpath,{pkg / 'lib'}",
        ]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"building the NUTS driver failed:\n{' '.join(cmd)}\n{p.stderr[-4000:]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return exe, time.time() - t, False


class Runner:
    """One method: ``prepare()`` (compile, timed once), then ``run(seed)`` -> (draws, divergences)."""

    def __init__(self, name: str, spec: Any, fd: Any, cfg: dict[str, Any], a: argparse.Namespace, tmp: Path):
        self.name, self.spec, self.fd, self.cfg, self.a, self.tmp = name, spec, fd, cfg, a, tmp
        self.compile: dict[str, Any] = {}

    # -- Stan through pystan
    def _pystan(self, seed: int) -> Any:
        import stan_data

        return stan_data.build(self.data, seed=seed)

    def _forget_stan_fits(self, model_name: str) -> None:
        """httpstan caches a seeded fit and pystan would return it without sampling: remove them."""
        import httpstan.cache

        for f in httpstan.cache.model_directory(model_name).rglob("*.jsonlines.gz"):
            f.unlink()

    def prepare(self) -> None:
        import stan_data

        t = time.time()
        if self.name == "stan_diag":
            import httpstan.cache
            import httpstan.models

            self.data = stan_data.stan_data(self.spec, self.fd)
            code = stan_data.STAN_FILE.read_text()
            mdir = httpstan.cache.model_directory(httpstan.models.calculate_model_name(code))
            cached = mdir.exists() and any(p.suffix == ".so" for p in mdir.iterdir())
            with _quiet(self.a.verbose):
                self._pystan(self.a.seed0)
            self.compile = {"compile_s": time.time() - t, "cached": cached, "what": "stan.build (pystan)"}
        elif self.name in ("stan_dense", "stan_diag_driver"):
            root = self.a.driver_cache
            root.mkdir(parents=True, exist_ok=True)
            self.exe, secs, cached = build_driver(root)
            self.data_file = self.tmp / "stan_data.json"
            self.data_file.write_text(json.dumps(stan_data.stan_data(self.spec, self.fd)))
            self.compile = {"compile_s": secs, "cached": cached, "what": "stanc + g++ of the NUTS driver"}
        else:  # pymc, bayesdense: a first call, not counted; compile_s is set from it after the seeds
            self._sample_pymc_like(WARMUP_SEED)
            self.compile = {
                "first_call_s": time.time() - t,
                "cached": not self.a.cold,
                "what": "first call minus median warm call (same settings)",
            }

    def run(self, seed: int) -> tuple[Any, int, float]:
        if self.name == "stan_diag":
            t = time.time()
            with _quiet(self.a.verbose):
                post = self._pystan(seed)
                self._forget_stan_fits(post.model_name)
                fit = post.sample(
                    num_chains=self.cfg["chains"],
                    num_samples=self.cfg["draws"],
                    num_warmup=self.cfg["tune"],
                    delta=STAN_DELTA,
                    max_depth=STAN_MAX_DEPTH,
                )
            wall = time.time() - t
            self._forget_stan_fits(post.model_name)
            ds, div = _from_pystan(fit, self.fd)
            return ds, div, wall
        if self.name in ("stan_dense", "stan_diag_driver"):
            metric = "dense_e" if self.name == "stan_dense" else "diag_e"
            prefix = self.tmp / f"{self.name}-seed{seed}"
            cmd = [str(self.exe), metric, str(self.data_file), str(prefix), str(seed), str(self.cfg["chains"])]
            cmd += [str(self.cfg["tune"]), str(self.cfg["draws"]), str(STAN_DELTA), str(STAN_MAX_DEPTH)]
            cmd += [str(self.a.threads)]
            t = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            paths = [Path(f"{prefix}-{c + 1}.csv") for c in range(self.cfg["chains"])]
            if p.returncode:
                raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
            ds, div = _from_csv(paths, self.fd)
            wall = time.time() - t
            if self.a.verbose:
                print(p.stdout[-3000:], p.stderr[-3000:], sep="\n")
            return ds, div, wall
        t = time.time()
        ds, div = self._sample_pymc_like(seed)
        return ds, div, time.time() - t

    def _sample_pymc_like(self, seed: int) -> tuple[Any, int]:
        import warnings

        cfg = self.cfg
        if self.name == "bayesdense":
            from bayesdense import fit

            sampler = self.spec.sampler.model_copy(update={k: cfg[k] for k in ("chains", "draws", "tune")})
            spec = self.spec.model_copy(update={"sampler": sampler})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = fit.fit(spec, seed=seed, progress=self.a.verbose, prior=False)
            return _from_idata(tree["posterior"].to_dataset(), tree["sample_stats"].to_dataset())
        import pymc as pm

        from bayesdense import models
        from bayesdense.fit import quiet_pymc

        model = models.build(self.spec, self.fd)  # the plain model: the Stan program's parameterisation
        with model, quiet_pymc(not self.a.verbose), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(
                draws=cfg["draws"],
                tune=cfg["tune"],
                chains=cfg["chains"],
                random_seed=seed,
                nuts_sampler="pymc",
                progressbar=self.a.verbose,
                compute_convergence_checks=False,
            )
        return _from_idata(idata["posterior"].to_dataset(), idata["sample_stats"].to_dataset())


# ----------------------------------------------------------------------------- summaries
def _diagnostics(ds: Any) -> dict[str, Any]:
    import arviz as az

    ess = az.ess(ds, method="bulk")
    rhat = az.rhat(ds)
    mins = {v: float(ess[v].min()) for v in ess.data_vars}
    worst = min(mins, key=lambda v: mins[v])
    return {
        "min_ess_bulk": mins[worst],
        "min_ess_var": worst,
        "max_rhat": max(float(rhat[v].max()) for v in rhat.data_vars),
    }


def _moments(runs: list[Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per shared variable: (mean, sd) over the draws of every chain of every seed."""
    out = {}
    for v in SHARED:
        x = np.concatenate([np.asarray(ds[v]).reshape(-1, *np.shape(ds[v])[2:]) for ds in runs])
        out[v] = (x.mean(0), x.std(0, ddof=1))
    return out


def _agreement(mine: dict, ref: dict) -> dict[str, float]:
    def z(v: str) -> float:
        (m1, s1), (m2, s2) = mine[v], ref[v]
        return float(np.max(np.abs(m1 - m2) / np.sqrt((s1**2 + s2**2) / 2)))

    return {"latent_max_z_vs_bayesdense": z("log_density"), "globals_max_z_vs_bayesdense": max(z(v) for v in GLOBALS)}


def _fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    ap.add_argument("--seed0", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma-separated, of {', '.join(METHODS)}")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--tune", type=int, default=1000, help="warm-up iterations per chain")
    ap.add_argument("--draws", type=int, default=1000, help="kept draws per chain")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of the Stan driver")
    ap.add_argument("--cold", action="store_true", help="fresh compile caches for every method (compile from scratch)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results_peers.jsonl", help="JSON lines file")
    ap.add_argument("--no-record", action="store_true", help="do not append to --out")
    ap.add_argument("--verbose", action="store_true", help="show the samplers' own output")
    a = ap.parse_args()
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        ap.error(f"unknown method(s) {', '.join(bad) or '(none)'}; choose from {', '.join(METHODS)}")
    if a.seeds < 1 or a.chains < 2 or a.draws < 10 or a.tune < 10:
        ap.error("--seeds >= 1, --chains >= 2, --draws >= 10 and --tune >= 10")

    tmp = Path(tempfile.mkdtemp(prefix="bench_peers_"))
    if a.cold:
        _cold_caches(tmp)
    try:
        stan_versions = _stan_or_exit(methods)
    except SystemExit:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    from bayesdense import fit as bfit
    from bayesdense import inputs
    from bayesdense.spec import load_spec

    a.driver_cache = (tmp if a.cold else bfit.CACHE_DIR) / "stan_nuts_driver"
    if hasattr(bfit, "parallel_jax_chains"):
        bfit.parallel_jax_chains()  # before JAX starts, as `bayesdense fit` does
    spec = load_spec("default")
    fd = inputs.prepare(spec)
    cfg = {"chains": a.chains, "tune": a.tune, "draws": a.draws}
    seeds = list(range(a.seed0, a.seed0 + a.seeds))
    base = {
        "bench": "peers",
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "spec": spec.name,
        "spec_hash": spec.hash,
        "data_hash": bfit.data_hash_of(spec),
        "git": _git(),
        "cpus": os.cpu_count(),
        "settings": {**cfg, "stan_delta": STAN_DELTA, "stan_max_depth": STAN_MAX_DEPTH, "stan_threads": a.threads},
        "cold_caches": a.cold,
        "versions": {**bfit.versions(), **stan_versions},
    }
    print(f"bench_peers: {', '.join(methods)}; seeds {seeds}; {a.chains} chains x ({a.tune} + {a.draws})", flush=True)
    if a.tune < 150 and STAN_METHODS & set(methods):
        print(f"  note: with --tune {a.tune} < 150 Stan adapts no metric: its diag and dense runs are the same chains")

    runners = {m: Runner(m, spec, fd, cfg, a, tmp) for m in methods}
    try:
        for m, r in runners.items():
            r.prepare()
            secs = r.compile.get("compile_s", r.compile.get("first_call_s"))
            what = "first call" if "first_call_s" in r.compile else r.compile["what"]
            print(f"  {m}: {what} {secs:.1f} s (from cache: {r.compile['cached']})", flush=True)
        results: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
        draws: dict[str, list[Any]] = {m: [] for m in methods}
        for seed in seeds:
            for m, r in runners.items():
                ds, div, wall = r.run(seed)
                row = {"seed": seed, "sample_s": wall, "divergences": div, **_diagnostics(ds)}
                row["ess_per_s"] = row["min_ess_bulk"] / wall
                gr = np.asarray(ds["growth_rate_per_day"])
                row["growth_rate_per_day_mean"], row["growth_rate_per_day_sd"] = float(gr.mean()), float(gr.std())
                results[m].append(row)
                draws[m].append(ds)
                print(
                    f"  seed {seed} {m}: {wall:.1f} s, min bulk ESS {row['min_ess_bulk']:.0f} ({row['min_ess_var']}), "
                    f"{div} divergences, max R-hat {row['max_rhat']:.3f}",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    moments = {m: _moments(d) for m, d in draws.items()}
    summary = []
    for m in methods:
        rows, comp = results[m], runners[m].compile
        sample_s = statistics.median(r["sample_s"] for r in rows)
        if "first_call_s" in comp:
            comp["compile_s"] = max(0.0, comp["first_call_s"] - sample_s)
        ess = statistics.median(r["min_ess_bulk"] for r in rows)
        wall = comp["compile_s"] + sample_s
        gr_mean, gr_sd = moments[m]["growth_rate_per_day"]
        s = {
            "method": m,
            "compile_s": round(comp["compile_s"], 2),
            "compile_cached": comp["cached"],
            "compile_what": comp["what"],
            "sample_s_median": round(sample_s, 2),
            "wall_incl_compile_s": round(wall, 2),
            "min_ess_bulk_median": round(ess, 1),
            "ess_per_s_median": round(statistics.median(r["ess_per_s"] for r in rows), 3),
            "ess_per_s_incl_compile": round(ess / wall, 3),
            "divergences": [r["divergences"] for r in rows],
            "max_rhat": round(max(r["max_rhat"] for r in rows), 4),
            "growth_rate_per_day_mean": float(gr_mean),
            "growth_rate_per_day_sd": float(gr_sd),
        }
        if "bayesdense" in moments and m != "bayesdense":
            s.update({k: round(v, 3) for k, v in _agreement(moments[m], moments["bayesdense"]).items()})
        summary.append(s)
    by = {s["method"]: s for s in summary}
    ratio = None
    if "bayesdense" in by and "stan_dense" in by:
        bd, sd = by["bayesdense"], by["stan_dense"]
        ratio = {
            "ess_per_s": round(bd["ess_per_s_median"] / sd["ess_per_s_median"], 3) if sd["ess_per_s_median"] else None,
            "ess_per_s_incl_compile": round(bd["ess_per_s_incl_compile"] / sd["ess_per_s_incl_compile"], 3)
            if sd["ess_per_s_incl_compile"]
            else None,
            "sample_s": round(bd["sample_s_median"] / sd["sample_s_median"], 3),
            "wall_incl_compile_s": round(bd["wall_incl_compile_s"] / sd["wall_incl_compile_s"], 3),
            "min_ess_bulk": round(bd["min_ess_bulk_median"] / sd["min_ess_bulk_median"], 3),
        }

    print(
        "\n| method | compile s | sample s (median) | wall incl. compile s | min bulk ESS (median) | ESS/s | "
        "ESS/s incl. compile | divergences | max R-hat | growth/day mean (sd) | latent max z vs bayesdense |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        print(
            f"| {s['method']} | {_fmt(s['compile_s'])}{' (cached)' if s['compile_cached'] else ''} | "
            f"{_fmt(s['sample_s_median'])} | {_fmt(s['wall_incl_compile_s'])} | {_fmt(s['min_ess_bulk_median'], 0)} | "
            f"{_fmt(s['ess_per_s_median'], 2)} | {_fmt(s['ess_per_s_incl_compile'], 2)} | {s['divergences']} | "
            f"{_fmt(s['max_rhat'], 3)} | {s['growth_rate_per_day_mean']:.5f} ({s['growth_rate_per_day_sd']:.5f}) | "
            f"{_fmt(s.get('latent_max_z_vs_bayesdense'), 2)} |"
        )
    if ratio:
        print(
            f"\nbayesdense / stan_dense: ESS/s x{ratio['ess_per_s']}, "
            f"ESS/s incl. compile x{ratio['ess_per_s_incl_compile']}, "
            f"sample time x{ratio['sample_s']}, wall incl. compile x{ratio['wall_incl_compile_s']}, "
            f"min bulk ESS x{ratio['min_ess_bulk']}"
        )
    if not a.no_record:
        with open(a.out, "a") as f:
            for m in methods:
                for r in results[m]:
                    f.write(json.dumps({**base, "kind": "run", "method": m, "compile": runners[m].compile, **r}) + "\n")
            f.write(
                json.dumps(
                    {**base, "kind": "summary", "seeds": seeds, "methods": summary, "ratio_bd_over_stan_dense": ratio}
                )
                + "\n"
            )
        print(f"appended {sum(len(v) for v in results.values()) + 1} lines to {a.out}")


if __name__ == "__main__":
    main()
