"""Shared fixtures: caches out of the way, fake posteriors with known answers (no sampling)."""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

os.environ.setdefault("MPLBACKEND", "Agg")


def fake_result(rate_draws: np.ndarray, *, spec_name: str = "trend_fig2") -> xr.DataTree:
    """A result tree whose posterior is given: growth-rate draws (chain, draw), densities from the
    published Fig. 2 values, so every summary number has a known answer."""
    from bayesdense.inputs import prepare
    from bayesdense.spec import load_spec

    spec = load_spec(spec_name)
    fd = prepare(spec)
    chains, draws = rate_draws.shape
    rng = np.random.default_rng(0)
    log_rho = np.log(fd.point_density)[None, None, :] + 0.01 * rng.normal(size=(chains, draws, fd.n_models))
    post = xr.Dataset(
        {
            "growth_rate_per_day": (("chain", "draw"), rate_draws),
            "intercept": (("chain", "draw"), np.full((chains, draws), -3.0) + 0.01 * rng.normal(size=(chains, draws))),
            "log_density": (("chain", "draw", "model"), log_rho),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "model": fd.model},
    )
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros((chains, draws), bool)),
            "energy": (("chain", "draw"), rng.normal(size=(chains, draws))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
    )
    tree = xr.DataTree.from_dict({"posterior": post, "sample_stats": stats, "fit_data": fd.to_dataset()})
    tree.attrs.update(
        format="bayesdense-result",
        format_version=1,
        spec_name=spec_name,
        seed=1,
        wall_seconds=1.0,
        paper_point_estimate="{}",
        sampler="{}",
        spec_text=spec.text,
    )
    return tree


def passing_diagnostics(**override) -> dict:
    """A summary's diagnostics block that passes every check (for formatting tests)."""
    return {
        "max_rhat": 1.0,
        "max_rhat_var": "x",
        "min_ess_bulk": 1000,
        "min_ess_bulk_var": "x",
        "min_ess_tail": 1000,
        "divergences": 0,
        "chains": 4,
        "n_draws": 1000,
        "wall_seconds": 1,
        "failures": [],
        **override,
    }


def load_tool(name: str):  # type: ignore[no-untyped-def]
    """A script of tools/ as a module (they are scripts, not a package): ``load_tool("make_own_family_example")``."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
