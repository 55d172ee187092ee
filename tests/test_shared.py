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
    # and the AVERAGE base on its own; the paper's-settings variant selects scores: it shares
    assert sorted(len(g) for g in groups) == [1, 5, 27]
    singles = next(g for g in groups if len(g) == 5)
    assert {names[i] for i in singles} == {"MMLU", "BBH", "MATH", "HumanEval", "MBPP"}
    _, specs = _specs("default", "priors")
    assert sorted(len(g) for g in shared.plan(specs)) == [1, 1, 1, 1, 1, 1]  # other priors: other models
    names, specs = _specs("default", "frontier")
    assert all(len(g) == 1 for g in shared.plan(specs))


def test_records_frontier_never_shares():
    spec = load_spec("records")
    assert shared.structure_key(spec) is None


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
            self.base, self.fd, self.model = sup, sm_fd, big
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
