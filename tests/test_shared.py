"""One compiled model for many variants: grouping, and that the weighted model is exactly the variant's."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdense import inputs, sensitivity, shared
from bayesdense.models import build
from bayesdense.spec import load_spec, parse_spec


def _specs(base: str, axis: str) -> tuple[list[str], list]:
    vs = sensitivity.variants(load_spec(base), axis)
    return [n for _, n, _ in vs], [parse_spec(t, n) for _, n, t in vs]


def test_benchmark_subsets_share_two_models_and_other_axes_do_not():
    names, specs = _specs("default", "benchmarks")
    groups = shared.plan(specs)
    # single benchmarks fix their score error (binomial), so they cannot share with the subsets
    # and the AVERAGE base on its own; the paper's-settings variant selects scores: it shares; the
    # setting-offsets variant has a parameter more (setting_offset): on its own
    assert sorted(len(g) for g in groups) == [1, 1, 5, 27]
    alone = [names[g[0]] for g in groups if len(g) == 1]
    assert sorted(alone) == ["AVERAGE (paper-implied scores)", "all five, setting offsets"]
    singles = next(g for g in groups if len(g) == 5)
    assert {names[i] for i in singles} == {"MMLU", "BBH", "MATH", "HumanEval", "MBPP"}
    _, specs = _specs("default", "priors")
    assert sorted(len(g) for g in shared.plan(specs)) == [1, 1, 1, 1, 1, 1]  # other priors: other models
    names, specs = _specs("default", "frontier")
    assert all(len(g) == 1 for g in shared.plan(specs))


def test_records_variants_share_their_first_stage_on_the_same_benchmark_only():
    names, specs = _specs("records", "models")
    assert shared.structure_key(specs[0]) is not None
    assert max(len(g) for g in shared.plan(specs)) == len(specs)  # windows, exclusions: one curves model
    other = specs[0].model_copy(update={"data": specs[0].data.model_copy(update={"benchmarks": ["MMLU"]})})
    assert shared.structure_key(other) != shared.structure_key(specs[0])


def test_numpyro_program_swaps_data_without_recompiling():
    """One compiled chain serves two data sets: each posterior is its own data's (conjugate normal
    mean, exact), within 5 Monte Carlo standard errors (ESS taken as a conservative 200)."""
    import pymc as pm

    rng = np.random.default_rng(0)
    sets = [rng.normal(2.0, 1.0, 40), rng.normal(-1.0, 1.0, 40)]
    with pm.Model() as model:
        y = pm.Data("y_obs", sets[0])
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=y)
    prog = shared.NumpyroProgram(model)
    compiled = []
    for data in sets:
        post, stats = prog.sample({"y_obs": data}, seed=1, chains=2, tune=300, draws=300, target_accept=0.9, dense=True)
        compiled.append(len(prog._chains))
        prec = len(data) + 1 / 100  # posterior precision of mu
        exact_mean, exact_sd = data.sum() / prec, prec**-0.5
        draws = post["mu"].to_numpy()
        assert draws.shape == (2, 300) and stats["diverging"].shape == (2, 300)
        assert abs(draws.mean() - exact_mean) < 5 * exact_sd / np.sqrt(200)
        assert abs(draws.std() / exact_sd - 1) < 0.2
    assert compiled == [1, 1]


def test_superset_unions_benchmarks_and_rejects_conflicting_priors():
    _, specs = _specs("default", "benchmarks")
    multi = [s for s in specs if len(s.data.benchmarks) > 1]
    sup = shared.superset(multi)
    assert sup.data.benchmarks == ["MMLU", "BBH", "MATH", "HumanEval", "MBPP"]
    single = next(s for s in specs if s.data.benchmarks == ["MMLU"])
    with pytest.raises(shared.NotShareable, match="priors of benchmark MMLU"):
        shared.superset([multi[0], single])


def _point_for(small, big, small_point, big_point):
    """``big_point`` with every value of ``small_point`` written in at the matching coordinates."""
    out = {k: np.array(v, copy=True) for k, v in big_point.items()}
    for vv in small.value_vars:
        rv = small.values_to_rvs[vv]
        dims = small.named_vars_to_dims.get(rv.name)
        val = np.asarray(small_point[vv.name])
        if not dims:
            out[vv.name] = val
            continue
        (dim,) = dims
        pos = [list(big.coords[dim]).index(c) for c in small.coords[dim]]
        out[vv.name][pos] = val
    return out


@pytest.mark.parametrize(
    ("base", "axis", "variant"),
    [
        ("default", "benchmarks", "BBH+HumanEval"),
        ("default", "models", "released from 2023-09-01"),
        ("default", "d0", "d0=1e+12"),
        ("trend_fig2", "models", "without compressed"),
    ],
)
def test_weighted_shared_model_has_the_variants_posterior(base, axis, variant):
    """The shared model's log density at a point = the variant's + terms in its extra parameters only
    + the frontier density of each left-out model's latent (which integrates to one): so after taking
    those latents' frontier terms out, the difference is a constant in the variant's parameters."""
    names, specs = _specs(base, axis)
    group = next(g for g in shared.plan(specs) if names.index(variant) in g)
    sup = shared.superset([specs[i] for i in group])
    spec = specs[names.index(variant)]
    sm_fd = inputs.prepare(sup)
    big = build(sup, sm_fd, shared=True)
    fd = inputs.prepare(spec)
    small = build(spec, fd)

    class _Data(shared.SharedModel):  # the data mapping only, without compiling
        def __init__(self) -> None:
            self.base, self.fd, self.model, self.cut = sup, sm_fd, big, False
            self._obs_key = {
                (str(sm_fd.model[m]), sm_fd.benchmarks[b]): i
                for i, (m, b) in enumerate(zip(sm_fd.obs_model, sm_fd.obs_bench, strict=True))
            }
            self._model_index = {str(m): i for i, m in enumerate(sm_fd.model)}

    for name, value in _Data().data_for(spec, fd).items():
        big[name].set_value(value)
    logp_big, logp_small = big.compile_logp(), small.compile_logp()
    terms = big.logp(vars=[big["log_density"]], sum=False)[0]
    frontier_terms = big.compile_fn(terms, inputs=big.value_vars, on_unused_input="ignore")
    left_out = ~np.isin(sm_fd.model, fd.model)
    assert left_out.any() == (axis != "d0")
    rng = np.random.default_rng(3)
    base_big = big.initial_point()
    diffs = []
    for _ in range(4):
        p_small = {k: v + 0.1 * rng.normal(size=np.shape(v)) for k, v in small.initial_point().items()}
        p_big = _point_for(small, big, p_small, base_big)
        diffs.append(logp_big(p_big) - logp_small(p_small) - frontier_terms(p_big)[left_out].sum())
    assert np.isfinite(diffs).all()
    assert np.ptp(diffs) < 1e-8 * max(1.0, abs(diffs[0]))


def test_a_chain_divergent_on_most_draws_counts_as_stuck():
    import xarray as xr

    div = np.zeros((4, 100), bool)
    div[2, :90] = True
    div[1, :10] = True
    trace = xr.DataTree.from_dict({"sample_stats": xr.Dataset({"diverging": (("chain", "draw"), div)})})
    assert shared.stuck_chains(trace) == [2]


def test_records_variants_reuse_the_first_stage_and_keep_their_own_trend():
    """Release windows of a records spec: the curves are sampled once (same draws), and each
    variant's second stage is exactly `trend_from_curves` on its own models."""
    import json

    from bayesdense.models.records import trend_from_curves

    names, specs = _specs("records", "models")
    pick = [specs[0], specs[names.index("released from 2023-09-01")]]
    sm = shared.SharedModel(shared.superset(pick), sampler="numpyro")
    a = sm.fit(pick[0], seed=1, profile="fast", prior=False)
    b = sm.fit(pick[1], seed=1, profile="fast", prior=False)
    sa, sb = json.loads(a.attrs["sampler"]), json.loads(b.attrs["sampler"])
    assert "first_stage_reused" not in sa and sb["first_stage_reused"] and sb["sampler"] == "numpyro"
    post_a = a["posterior"].to_dataset()
    curves = post_a[["loss_a", "loss_alpha", "loss_b", "loss_beta", "link_c", "link_gamma", "link_l", "link_d"]]
    for k in curves.data_vars:
        np.testing.assert_array_equal(curves[k], b["posterior"][k])
    expect = trend_from_curves(pick[1], inputs.prepare(pick[1]), curves, seed=1)
    np.testing.assert_array_equal(b["posterior"]["growth_rate_per_day"], expect["growth_rate_per_day"])
    assert a["posterior"].sizes["model"] > b["posterior"].sizes["model"]
