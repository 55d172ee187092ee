"""Placed models (``data.extra_models``): densities for your models, judged against a trend they do not move.

A placed model must not pull on the frontier it is compared with, nor on the loss-law and link
curves its density is read through. In one joint model it would: its latent log density x has the
frontier as its prior, so its scores would pull the trend (and the curves) towards it. The cut used
here keeps the two apart by computing the placed models after sampling, from the fit alone:

    globals  ~ p(globals | the fitted models' data)              (the ordinary fit, unchanged)
    x_new    ~ p(x_new | globals, scores_new)
             ∝ p(scores_new | curves, x_new) · p(x_new | frontier at the model's release date)

for every posterior draw of the globals. This is the exact conditional of the joint model for
x_new with the feedback from x_new to the globals removed (a "cut" distribution, Plummer 2015): the
frontier still acts as the prior of the placed model's density (as for every fitted model), but the
fitted posterior is exactly the posterior without the placed models, whatever they score. Each
one-dimensional conditional is drawn on the grid of :mod:`bayesdense.models.integrated` (a cell by
its probability, then a point in it), so nothing is sampled by NUTS and nothing is refitted.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..inputs import FitData
from ..spec import ModelSpec
from . import integrated


def draw_placed(spec: ModelSpec, placed: FitData, post: xr.Dataset, *, seed: int) -> xr.DataArray:
    """Each placed model's log density drawn given each posterior draw (dims chain, draw, placed_model).

    ``post`` is the fitted posterior: it must hold the frontier (``intercept``,
    ``growth_rate_per_day`` and the spread parameters) and the curves (``loss_a``, ``loss_alpha``,
    ``loss_floor_d0``, ``link_*``), as every joint fit does."""
    import jax

    if "intercept" not in post or "growth_rate_per_day" not in post:
        raise ValueError("placed models need a frontier line (intercept, growth_rate_per_day) in the posterior")
    g = integrated._globals(spec, placed, post)
    n = post.sizes["chain"] * post.sizes["draw"]
    # the frontier line at each placed model's release date, from the fitted line (not re-centred
    # on the placed models' own dates): ln rho_max(t) = intercept + rate * t
    b0 = post["intercept"].transpose("chain", "draw").values.reshape(n)
    rate = post["growth_rate_per_day"].transpose("chain", "draw").values.reshape(n)
    g["line"] = b0[:, None] + rate[:, None] * np.asarray(placed.t_days, float)[None, :]
    _, drw = integrated._jax_functions(spec, placed)
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    out = np.empty((n, placed.n_models))
    for sl in integrated._chunks(n, placed.n_models, spec.layers.latent_grid):
        out[sl] = np.asarray(drw({k: v[sl] for k, v in g.items()}, keys[sl], spec.layers.latent_grid))
    return xr.DataArray(
        out.reshape(post.sizes["chain"], post.sizes["draw"], placed.n_models),
        dims=("chain", "draw", "placed_model"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "placed_model": [str(m) for m in placed.model],
        },
    )
