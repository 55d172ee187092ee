"""Saving and loading result files: the only module that knows the file format.

A result is a netCDF4/HDF5 file (h5netcdf engine) holding an ``xarray.DataTree`` with groups
``posterior``, ``sample_stats`` and ``fit_data``; the root attributes carry the spec text and
hash, data hash, seed, sampler settings, package versions and wall time. Files are written to
a temporary name and renamed, so an interrupted or failed write never leaves a partial file.
Reading uses xarray only (no pickle, no code execution).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import xarray as xr

FORMAT = "bayesdense-result"
FORMAT_VERSION = 1
# what every reader relies on: checked by load, so a damaged file is refused by name, not deep inside
REQUIRED_ATTRS = ("spec_text", "seed", "sampler")
JSON_ATTRS = ("sampler", "paper_point_estimate", "versions")  # attributes holding JSON text
REQUIRED_VARS = {
    "posterior": ("growth_rate_per_day", "intercept", "log_density"),
    "fit_data": ("t_days", "params", "point_density", "paper_record", "obs_model", "obs_bench", "obs_score"),
}


# `bayesdense scaling-law`: a loss law fitted on a runs table (groups posterior, sample_stats, runs)
SCALING_LAW_FORMAT = "bayesdense-scaling-law"
SCALING_LAW_VARS = {"posterior": ("loss_a", "loss_alpha", "loss_b", "loss_beta"), "runs": ("params", "tokens", "loss")}
SCALING_LAW_ATTRS = ("seed", "sampler", "likelihood", "scale", "irreducible", "priors", "classical")


class ResultError(ValueError):
    """A file that is not a readable bayesdense result."""


def save(tree: xr.DataTree, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix != ".nc":
        raise ResultError(f"{path}: result files end in .nc")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK):
        raise PermissionError(f"{path.parent}: directory is not writable")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".nc.part", dir=path.parent)
    os.close(fd)
    try:
        tree.to_netcdf(tmp, engine="h5netcdf")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; a result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _open(path: Path) -> xr.DataTree:
    """The NetCDF file at ``path``, read whole; a located ResultError when it cannot be read."""
    if not path.exists():
        raise ResultError(f"{path}: no such result file")
    try:
        return xr.open_datatree(path, engine="h5netcdf").load()
    except Exception as e:  # noqa: BLE001 - any reader failure means "not a readable result"
        raise ResultError(f"{path}: not a readable result file ({type(e).__name__}: {str(e)[:120]})") from None


def load(path: str | Path) -> xr.DataTree:
    path = Path(path)
    tree = _open(path)
    if tree.attrs.get("format") == SCALING_LAW_FORMAT:
        raise ResultError(f"{path}: a scaling-law result; read it with `bayesdense scaling-law {path}`")
    if tree.attrs.get("format") != FORMAT:
        raise ResultError(f"{path}: not a bayesdense result file (no '{FORMAT}' marker)")
    version = int(tree.attrs.get("format_version", -1))
    if version > FORMAT_VERSION:
        raise ResultError(
            f"{path}: written by a newer bayesdense (format {version}; this one reads up to "
            f"{FORMAT_VERSION}); upgrade bayesdense"
        )
    for group in ("posterior", "sample_stats", "fit_data"):
        if group not in tree.children:
            raise ResultError(f"{path}: the '{group}' group is missing; the file is incomplete")
    for group, names in REQUIRED_VARS.items():
        missing = [v for v in names if v not in tree[group].data_vars]
        if missing:
            raise ResultError(f"{path}: variable(s) {', '.join(missing)} missing from the '{group}' group")
    _check_attrs(tree, path)
    return tree


def _check_attrs(tree: xr.DataTree, path: Path) -> None:
    attrs = tree.attrs
    missing = [a for a in REQUIRED_ATTRS if a not in attrs]
    if missing:
        raise ResultError(f"{path}: attribute(s) {', '.join(missing)} missing; the file is incomplete")
    try:
        seed = int(attrs["seed"])
    except (TypeError, ValueError):
        seed = -1
    if str(attrs["seed"]).strip() != str(seed) or seed < 0:
        raise ResultError(f"{path}: attribute 'seed' is {str(attrs['seed'])[:40]!r}, not a whole number >= 0")
    for a in JSON_ATTRS:
        if a in attrs:
            try:
                value = json.loads(str(attrs[a]))
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise ResultError(f"{path}: attribute '{a}' is not a JSON object: {str(attrs[a])[:60]!r}")


def read_draws(path: str | Path, var: str, group: str = "posterior") -> tuple[Any, dict[str, Any]]:
    """One variable of a result (as a numpy array) and the root and group attributes, read without
    building the whole tree: ~100x faster than :func:`load` (h5py reads one dataset; a study that
    mixes many results needs only their growth rates). A located ResultError when it cannot."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as h:
            attrs = {k: _attr(v) for k, v in {**dict(h.attrs), **dict(h[group].attrs)}.items()}
            if str(attrs.get("format", "")) != FORMAT:
                raise ResultError(f"{path}: not a bayesdense result file (no '{FORMAT}' marker)")
            values = h[group][var][()]
    except ResultError:
        raise
    except (OSError, KeyError) as e:
        raise ResultError(f"{path}: no readable '{group}/{var}' ({type(e).__name__}: {str(e)[:120]})") from None
    return values, attrs


def _attr(v: Any) -> Any:
    """An HDF5 attribute as xarray reads it: text as str, a one-element array as its scalar."""
    import numpy as np

    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.size == 1:
        return v.reshape(()).item()
    return v


def load_scaling_law(path: str | Path) -> xr.DataTree:
    """A result written by ``bayesdense scaling-law``, checked like :func:`load` checks a fit."""
    path = Path(path)
    tree = _open(path)
    if tree.attrs.get("format") != SCALING_LAW_FORMAT:
        raise ResultError(f"{path}: not a scaling-law result (no '{SCALING_LAW_FORMAT}' marker)")
    if int(tree.attrs.get("format_version", -1)) > FORMAT_VERSION:
        raise ResultError(f"{path}: written by a newer bayesdense; upgrade bayesdense")
    for group, names in SCALING_LAW_VARS.items():
        if group not in tree.children:
            raise ResultError(f"{path}: the '{group}' group is missing; the file is incomplete")
        missing = [v for v in names if v not in tree[group].data_vars]
        if missing:
            raise ResultError(f"{path}: variable(s) {', '.join(missing)} missing from the '{group}' group")
    missing = [a for a in SCALING_LAW_ATTRS if a not in tree.attrs]
    if missing:
        raise ResultError(f"{path}: attribute(s) {', '.join(missing)} missing; the file is incomplete")
    for a in ("sampler", "priors", "classical"):
        try:
            value = json.loads(str(tree.attrs[a]))
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ResultError(f"{path}: attribute '{a}' is not a JSON object: {str(tree.attrs[a])[:60]!r}")
    return tree
