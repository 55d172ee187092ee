"""One frontier per benchmark (frontier.by_benchmark): the spec's rules, the likelihood NUTS sees
against per-score adaptive quadrature on each benchmark's own line, and the summary block."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import passing_diagnostics
from scipy import integrate, stats

from bayesdense import inputs, laws, models
from bayesdense.spec import SpecError, load_spec, parse_spec


def test_by_benchmark_needs_integrated_latents_and_several_benchmarks():
    text = load_spec("benchmarks_hier").text
    for bad in (
        text.replace('latents = "integrated"\n', ""),
        text.replace('benchmarks = ["MMLU", "BBH", "MATH", "HumanEval", "MBPP"]', 'benchmarks = ["MMLU"]'),
        text.replace("by_benchmark = true", 'by_benchmark = true\ninefficiency = "exponential"'),
    ):
        with pytest.raises(SpecError, match="by_benchmark = true needs"):
            parse_spec(bad)


def _point(m, fd):
    """A point where the posterior lives: each benchmark's curves as published (NMI Extended Data
    Fig. 1, as recovered in data/), jittered; five different frontier rates and levels near the
    top of the published densities. The model's value variables and every named value there."""
    from bayesdense import classical
    from bayesdense.inputs import D_UNIT, N_UNIT

    rng = np.random.default_rng(7)
    j = lambda: float(np.exp(rng.normal(0, 0.03)))  # noqa: E731
    cvs = [classical.published_curves()[b] for b in fd.benchmarks]
    ab = [laws.rescale_loss_law(c.a, c.alpha, c.b, c.beta, N_UNIT, D_UNIT) for c in cvs]
    t_mid = 0.5 * (fd.t_days.min() + fd.t_days.max())
    top = np.quantile(np.log(fd.point_density) - 2.0 * (fd.t_days - t_mid) / 365.25, 0.9)
    free = {
        "growth_rate_per_year": 2.0,
        "growth_rate_sd_per_year": 0.6,
        "growth_rate_z": [-1.2, -0.4, 0.1, 0.7, 1.5],
        "frontier_log_density_mid": [top + o for o in (-0.3, 0.2, -0.5, 0.0, 0.3)],
        "frontier_omega": 1.4,
        "frontier_lambda": 2.6,
        "loss_a": [a * j() for a, _ in ab],
        "loss_alpha": [c.alpha * j() for c in cvs],
        "loss_b": [b * j() for _, b in ab],
        "loss_beta": [c.beta * j() for c in cvs],
        "loss_sd_log": [0.02] * 5,
        "link_gamma": [c.gamma * j() for c in cvs],
        "link_l": [c.l * j() for c in cvs],
        "link_floor_offset": [c.d - m_chance for c, m_chance in zip(cvs, [25.0, 25.0, 0.0, 0.0, 0.0], strict=True)],
        "link_sd": [1.0] * 5,
        "score_sd": [2.0] * 5,
    }
    p = {}
    for rv in m.free_RVs:
        vv = m.rvs_to_values[rv]
        val = np.asarray(free[rv.name], float)
        p[vv.name] = np.log(val) if vv.name.endswith("_log__") else val
    names = [v.name for v in m.free_RVs] + [v.name for v in m.deterministics]
    fn = m.compile_fn(m.replace_rvs_by_values([m[n] for n in names]), inputs=m.value_vars, on_unused_input="ignore")
    return p, dict(zip(names, fn(p), strict=True))


def test_marginal_is_the_sum_of_per_score_integrals_on_each_benchmarks_line():
    spec = load_spec("benchmarks_hier")
    fd = inputs.prepare(spec)
    m = models.build(spec, fd)
    p, v = _point(m, fd)
    (pot,) = m.replace_rvs_by_values([m["latent_marginal"]])
    got = float(m.compile_fn(pot, inputs=m.value_vars, on_unused_input="ignore")(p))
    rate_b = v["growth_rate_per_day_benchmark"]
    total = 0.0
    for k in range(len(fd.obs_score)):
        i, b = fd.obs_model[k], fd.obs_bench[k]
        line = float(v["intercept_benchmark"][b] + rate_b[b] * fd.t_days[i])
        prior = stats.skewnorm(-float(v["frontier_lambda"]), loc=line, scale=float(v["frontier_omega"]))
        sd = float(v["score_sd"][b])
        cv = [float(v[n][b]) for n in ("link_c", "link_gamma", "link_l", "link_d")]
        # a 40,001-point Simpson rule on [line - 40, line + 15] (spacing 0.0014 in log density):
        # independent of the model's 40-point adaptive grid, fine enough for the narrowest peak
        xs = np.linspace(line - 40, line + 15, 40001)
        loss = float(v["loss_a"][b]) * np.exp(-float(v["loss_alpha"][b]) * (np.log(fd.params[i] / 1e9) + xs))
        f = stats.norm.pdf(fd.obs_score[k], laws.link(loss + float(v["loss_floor_d0"][b]), *cv), sd) * prior.pdf(xs)
        total += np.log(integrate.simpson(f, x=xs))
    assert got == pytest.approx(total, abs=1e-3 * len(fd.obs_score))


def _synthetic_rates_tree():
    import xarray as xr

    rng = np.random.default_rng(3)
    shape = (4, 1000)
    means = {"MMLU": 0.006, "BBH": 0.004, "MATH": 0.0005}  # MATH's rate reaches 0: no upper doubling time
    per = np.stack([rng.normal(mu, 0.0008, shape) for mu in means.values()], axis=-1)
    post = xr.Dataset(
        {
            "growth_rate_per_day": (("chain", "draw"), rng.normal(0.0035, 0.0005, shape)),
            "growth_rate_sd_per_day": (("chain", "draw"), np.abs(rng.normal(0.002, 0.0005, shape))),
            "growth_rate_per_day_new_benchmark": (("chain", "draw"), rng.normal(0.0035, 0.002, shape)),
            "growth_rate_per_day_benchmark": (("chain", "draw", "benchmark"), per),
        },
        coords={"benchmark": list(means)},
    )
    return xr.DataTree.from_dict({"posterior": post}), means, per


def test_summary_reports_each_benchmarks_rate_the_spread_and_a_new_benchmark():
    from bayesdense import quantities
    from bayesdense.summary import format_summary

    tree, means, per = _synthetic_rates_tree()
    br = quantities.benchmark_rates(tree)
    assert br is not None and list(br["benchmarks"]) == list(means)
    # medians within 4 Monte Carlo standard errors (1.25 sd / sqrt(n) for a median of a normal)
    mcse = 1.25 * 0.0008 / np.sqrt(per[..., 0].size)
    for name, mu in means.items():
        assert br["benchmarks"][name]["growth_rate_per_day"]["median"] == pytest.approx(mu, abs=4 * mcse)
    assert br["benchmarks"]["MATH"]["doubling_time_days"]["unbounded"]
    assert not br["benchmarks"]["MMLU"]["doubling_time_days"]["unbounded"]
    text = format_summary(
        {
            "spec": "benchmarks_hier",
            "d0_tokens": 5e12,
            **quantities.growth_and_doubling(tree),
            "benchmark_rates": br,
            "models": [],
            "diagnostics": passing_diagnostics(),
        }
    )
    block = text[text.index("One frontier per benchmark") :]
    mmlu = br["benchmarks"]["MMLU"]
    assert f"MMLU            {mmlu['growth_rate_per_day']['median']:.5f}" in block
    assert f"{mmlu['doubling_time_days']['median']:.0f} days" in block
    math_line = next(line for line in block.splitlines() if line.strip().startswith("MATH"))
    assert math_line.rstrip().endswith("unbounded]")  # the doubling time's interval is open above
    assert "a new benchmark" in block and "(predictive)" in block
    assert f"{br['growth_rate_sd_per_day']['median']:.5f} per day" in block


def test_benchmark_rates_figure_draws_each_benchmark_fitted_alone_from_a_sensitivity_table(tmp_path):
    import pandas as pd

    from bayesdense import plots

    tree, means, _ = _synthetic_rates_tree()
    table = pd.DataFrame(
        {
            "variant": ["MMLU", "BBH", "MATH", "MMLU+BBH"],
            "doubling_days_median": [100.0, 150.0, 60.0, 120.0],
            "doubling_days_hdi_low": [80.0, 110.0, 40.0, 90.0],
            "doubling_days_hdi_high": [130.0, 220.0, 90.0, 160.0],
        }
    )
    d = plots.benchmark_rates_data(tree, table)
    raw = dict(zip(d["label"], d["raw"].tolist(), strict=True))
    assert raw["MMLU"] == [100.0, 80.0, 130.0] and raw["MATH"] == [60.0, 40.0, 90.0]
    assert np.isnan(raw["all benchmarks (mean rate)"]).all() and np.isnan(raw["a new benchmark (predictive)"]).all()
    fig = plots.benchmark_rates(tree, raw=table)
    squares = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "s"]
    assert len(squares) == 3  # one per benchmark
    # a table without one of the result's benchmarks is refused before any figure is written
    short = table[table["variant"] != "BBH"]
    with pytest.raises(ValueError, match="no single-benchmark row for BBH"):
        plots.write_all(tree, tmp_path / "figs", raw_rates_table=short)
    assert not (tmp_path / "figs").exists() or not any((tmp_path / "figs").iterdir())
