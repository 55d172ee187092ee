import numpy as np
import pytest
import xarray as xr
from fakes import fake_result
from matplotlib.figure import Figure
from scipy import stats

from bayesdense import plots, report
from bayesdense.spec import parse_spec

RATE = 0.006


@pytest.fixture(scope="module")
def tree():
    return fake_result(np.random.default_rng(5).normal(RATE, 0.0004, size=(2, 300)))


def test_density_vs_date_data_are_the_posterior_numbers(tree):
    d = plots.density_vs_date_data(tree)
    np.testing.assert_allclose(d["density_median"], d["paper_density"], rtol=0.02)
    assert np.all(d["density_low"] <= d["density_median"]) and np.all(d["density_median"] <= d["density_high"])
    mid = d["frontier_quantiles"][50]
    slope = np.log(mid[-1] / mid[0]) / (d["frontier_t_days"][-1] - d["frontier_t_days"][0])
    assert slope == pytest.approx(RATE, rel=0.05)
    assert isinstance(plots.density_vs_date(tree), Figure)


def test_doubling_time_data(tree):
    d = plots.doubling_time_data(tree)
    assert np.median(d["doubling_days_draws"]) == pytest.approx(np.log(2) / RATE, rel=0.02)
    assert d["paper_months"] == (3.3, 3.5)
    assert isinstance(plots.doubling_time(tree), Figure)


def test_forest_is_sorted_and_trend_only_results_have_no_curve_figure(tree):
    d = plots.density_forest_data(tree)
    assert np.all(np.diff(d["median"]) >= 0)
    assert plots.curve_fits_data(tree) == {}
    with pytest.raises(ValueError, match="no curve layers"):
        plots.curve_fits(tree)
    with pytest.raises(ValueError, match="no change point"):
        plots.change_point(tree)


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_write_all_writes_every_supported_figure(tree, tmp_path, fmt):
    paths = plots.write_all(tree, tmp_path, fmt=fmt)
    assert {p.stem for p in paths} == {"density_vs_date", "doubling_time", "density_forest", "prior_posterior"}
    assert all(p.stat().st_size > 1000 for p in paths)
    assert not list(tmp_path.glob("*.part*"))
    if fmt == "pdf":
        assert b"/FontFile2" in paths[0].read_bytes()  # TrueType fonts embedded


def test_tables(tree):
    df = report.models_table(tree)
    assert list(df["density"]) == sorted(df["density"], reverse=True)
    tex = report.table(tree, "tex")
    assert r"\toprule" in tex and r"\bottomrule" in tex and "94\\% HDI" in tex
    assert tex.count(r" \\") == len(df) + 1
    md = report.table(tree, "md")
    assert md.count("\n") == len(df) + 2
    csv = report.table(tree, "csv")
    assert csv.splitlines()[0].startswith("model,date,params_b,density")


def test_html_report_is_self_contained(tree):
    page = report.html_report(tree)
    assert page.count("<img") == 4 and "data:image/png;base64," in page
    assert "alt='prior_posterior'" in page
    assert "http://" not in page and "https://" not in page
    assert "Provenance" in page and "Diagnostics" in page


# ----------------------------------------------------------------------------- prior vs posterior
def _cd(a):
    return (("chain", "draw"), np.asarray(a).reshape(1, -1))


def _with(tree, *, prior, posterior=None):
    """A copy of ``tree`` with a prior group and extra posterior variables."""
    out = tree.copy()
    post = out["posterior"].to_dataset()
    for k, v in (posterior or {}).items():
        post[k] = v
    out["posterior"] = xr.DataTree(post)
    out["prior"] = xr.DataTree(xr.Dataset(prior))
    return out


def _area(x, y):
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))


@pytest.fixture(scope="module")
def prior_draws():
    """Draws from the fake result's own priors (trend_fig2), 500 as a fit stores them."""
    rng = np.random.default_rng(11)
    return {
        "growth_rate_per_day": rng.normal(0, 2.5, 500) / 365.25,
        "intercept": rng.normal(0, 3.0, 500),
        "noise_sd": np.abs(rng.normal(0, 0.5, 500)),
        "frontier_omega": np.abs(rng.normal(0, 1.5, 500)),  # derives noise_sd: not shown beside it
    }


def test_prior_posterior_data_from_the_prior_group(tree, prior_draws):
    rng = np.random.default_rng(12)
    post_noise = rng.lognormal(np.log(0.3), 0.2, size=(2, 300))
    t = _with(
        tree,
        prior={k: _cd(v) for k, v in prior_draws.items()} | {"trend_sd": _cd(np.full(500, 0.5))},
        posterior={
            "noise_sd": (("chain", "draw"), post_noise),
            "frontier_omega": (("chain", "draw"), post_noise),
            "inefficiency_scale": (("chain", "draw"), post_noise),  # no prior draws: skipped
            "trend_sd": (("chain", "draw"), post_noise),  # constant prior draws: skipped
        },
    )
    d = plots.prior_posterior_data(t)
    assert d["source"] == "prior group"
    assert list(d["panels"]) == ["growth_rate_per_day", "intercept", "noise_sd"]  # the table's order
    assert "no prior" in d["skipped"]["inefficiency_scale"] and "constant" in d["skipped"]["trend_sd"]
    for name, c in d["panels"].items():
        prior = prior_draws[name] * c["scale"]
        post = np.asarray(t["posterior"][name]).ravel() * c["scale"]
        assert _area(c["grid"], c["prior_density"]) == pytest.approx(1, abs=0.03)
        assert _area(c["grid"], c["posterior_density"]) == pytest.approx(1, abs=0.03)
        assert c["prior_median"] == pytest.approx(np.median(prior))
        assert c["posterior_median"] == pytest.approx(np.median(post))
        assert c["sd_ratio"] == pytest.approx(np.std(post) / np.std(prior))
        assert c["posterior_hdi"][0] < c["posterior_median"] < c["posterior_hdi"][1]
    g = d["panels"]["growth_rate_per_day"]
    assert g["posterior_median"] == pytest.approx(RATE * g["scale"], rel=0.02)
    # the grid's density peaks where the posterior is
    assert g["grid"][np.argmax(g["posterior_density"])] == pytest.approx(RATE * g["scale"], rel=0.1)
    # a positive parameter: its densities live on [0, inf), reflected at 0 rather than leaking below
    n = d["panels"]["noise_sd"]
    assert n["grid"][0] >= 0 and n["prior_density"][0] > 0.5 * n["prior_density"].max()

    fig = plots.prior_posterior(t)
    assert sum(ax.get_visible() for ax in fig.axes) == 3
    assert fig.get_size_inches()[0] == plots.WIDTH["double"]


def test_prior_posterior_per_benchmark_and_fixed_priors_are_left_out():
    """The default spec fixes the link ceiling, so link_c = 100 - d has no panel of its own."""
    base = fake_result(np.random.default_rng(6).normal(RATE, 0.0004, size=(1, 400)), spec_name="default")
    spec = parse_spec(str(base.attrs["spec_text"]), "result")
    assert spec.prior("link_ceiling_frac").dist == "Fixed"
    rng = np.random.default_rng(13)
    dims = ("chain", "draw", "benchmark")

    def per_bench(x, benches):
        return xr.DataArray(x.reshape(1, -1, len(benches)), dims=dims, coords={"benchmark": benches})

    one = ["AVERAGE"]
    t = _with(
        base,
        prior={
            "link_d": per_bench(rng.normal(10, 3, 500), one),
            "link_c": per_bench(rng.normal(90, 3, 500), one),
            "growth_rate_per_day": _cd(rng.normal(0, 0.007, 500)),
        },
        posterior={"link_d": per_bench(rng.normal(11, 1, 400), one), "link_c": per_bench(rng.normal(89, 1, 400), one)},
    )
    d = plots.prior_posterior_data(t)
    assert list(d["panels"]) == ["growth_rate_per_day", "link_d[AVERAGE]"]
    assert "Fixed" in d["skipped"]["link_c[AVERAGE]"]
    assert "AVERAGE" not in d["panels"]["link_d[AVERAGE]"]["title"]  # one benchmark: no need to say which
    assert d["panels"]["link_d[AVERAGE]"]["sd_ratio"] == pytest.approx(1 / 3, rel=0.15)
    assert plots.prior_posterior(t).get_size_inches()[0] == plots.WIDTH["single"]  # two panels: one column

    two = ["MMLU", "BBH"]
    t2 = _with(
        base,
        prior={"link_gamma": per_bench(rng.lognormal(3.2, 0.5, 1000), two)},
        posterior={"link_gamma": per_bench(rng.lognormal(3.2, 0.05, 800), two)},
    )
    d2 = plots.prior_posterior_data(t2)
    assert list(d2["panels"]) == ["link_gamma[MMLU]", "link_gamma[BBH]"]
    assert d2["panels"]["link_gamma[BBH]"]["title"].endswith("BBH")


def test_prior_posterior_without_a_prior_group_uses_the_spec(tree):
    """Results written before fits stored prior draws: the growth rate only, its prior exact."""
    d = plots.prior_posterior_data(tree)
    assert d["source"] == "spec" and list(d["panels"]) == ["growth_rate_per_day"]
    c = d["panels"]["growth_rate_per_day"]
    p = parse_spec(str(tree.attrs["spec_text"]), "result").prior("growth_rate_per_year")
    exact = stats.norm(p.mu * c["scale"] / 365.25, p.sigma * c["scale"] / 365.25)
    np.testing.assert_allclose(c["prior_density"], exact.pdf(c["grid"]))
    assert c["grid"][0] <= exact.ppf(0.005) and c["grid"][-1] >= exact.ppf(0.995)
    assert _area(c["grid"], c["posterior_density"]) == pytest.approx(1, abs=0.03)


def test_prior_posterior_layout_has_no_more_empty_cells_than_needed(tree, prior_draws):
    rng = np.random.default_rng(14)
    prior = {k: _cd(v) for k, v in prior_draws.items() if k != "frontier_omega"}
    posterior = {"noise_sd": (("chain", "draw"), rng.lognormal(-1, 0.2, (2, 300)))}
    for var in ("loss_alpha", "loss_beta", "link_gamma", "link_l", "link_d", "link_c"):  # 3 + 6 = 9: 3 x 3
        prior[var] = _cd(rng.lognormal(-2, 0.3, 500))
        posterior[var] = (("chain", "draw"), rng.lognormal(-2, 0.05, (2, 300)))
    fig = plots.prior_posterior(_with(tree, prior=prior, posterior=posterior))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 9
    assert len({round(ax.get_position().x0, 3) for ax in visible}) == 3


# ----------------------------------------------------------------------------- prior draws in results
def test_sample_prior_draws_from_the_spec_priors_seeded():
    from bayesdense import fit, inputs, models
    from bayesdense.spec import load_spec

    spec = load_spec("trend_fig2")
    model = models.build(spec, inputs.prepare(spec))
    a, b, c = (fit.sample_prior(model, seed=s) for s in (3, 3, 4))
    assert a.sizes["draw"] == fit.PRIOR_DRAWS
    assert "log_density_obs" not in a  # parameters only, no simulated observations
    assert {"growth_rate_per_day", "intercept", "noise_sd", "log_density"} <= set(a.data_vars)
    xr.testing.assert_equal(a, b)
    assert not np.array_equal(a["growth_rate_per_day"], c["growth_rate_per_day"])
    p = spec.prior("growth_rate_per_year")
    assert stats.kstest(a["growth_rate_per_year"].values.ravel(), stats.norm(p.mu, p.sigma).cdf).pvalue > 1e-3


def test_fit_stores_the_prior_group_and_it_survives_the_file(monkeypatch, tmp_path):
    """fit() wiring without NUTS: a stand-in sampler returns draws from the prior as 'posterior'."""
    import json

    import pymc as pm

    from bayesdense import fit, io
    from bayesdense.spec import load_spec

    def stand_in(spec, model, *, seed, **kw):
        draws = pm.sample_prior_predictive(
            draws=100, model=model, random_seed=seed + 1, compile_kwargs={"mode": "FAST_COMPILE"}
        )
        out = xr.DataTree.from_dict(
            {
                "posterior": draws["prior"].to_dataset(),
                "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), np.zeros((1, 100), bool))}),
            }
        )
        out.attrs["bayesdense_sampler"] = json.dumps(fit.sampler_settings(spec))
        return out

    monkeypatch.setattr(fit, "sample_model", stand_in)
    tree = io.load(io.save(fit.fit(load_spec("trend_fig2"), seed=5, progress=False), tmp_path / "r.nc"))
    assert tree["prior"].sizes["draw"] == fit.PRIOR_DRAWS
    assert not np.array_equal(
        tree["prior"]["growth_rate_per_day"][0, :100], tree["posterior"]["growth_rate_per_day"][0]
    )
    d = plots.prior_posterior_data(tree)
    assert d["source"] == "prior group" and {"growth_rate_per_day", "intercept"} <= set(d["panels"])
