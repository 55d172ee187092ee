from pathlib import Path

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
    assert r"\begin{longtable}" in tex and r"\endhead" in tex  # 47 rows: breaks across pages
    assert tex.count(r" \\") == len(df) + 2  # the rows and the header, repeated on later pages
    md = report.table(tree, "md")
    assert md.count("\n") == len(df) + 4  # header, rule, rows, a blank line and the caption
    csv = report.table(tree, "csv")
    assert csv.splitlines()[0].startswith("model,date,params_b,density")


def test_html_report_is_self_contained(tree):
    page = report.html_report(tree)
    assert page.count("<img") == 5 and "data:image/png;base64," in page  # 4 figures + trace/rank
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


# ----------------------------------------------------------------------------- paper-ready layout
def _render(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _texts(fig):
    """Every text drawn (tick labels only for ticks inside the view limits, as matplotlib draws)."""
    from matplotlib.text import Text

    tick_texts, shown = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.majorTicks + axis.minorTicks:
                tick_texts |= {id(tick.label1), id(tick.label2)}
                if tick.get_loc() is not None and lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(
                    hi - lo
                ):
                    shown |= {id(tick.label1), id(tick.label2)}
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (id(t) not in tick_texts or id(t) in shown)
    ]


def _assert_print_ready(fig, width):
    """Exactly the column width; every text at least 6 pt and inside the figure (nothing clipped)."""
    from matplotlib.text import Text

    assert fig.get_size_inches()[0] == plots.WIDTH[width]
    renderer = _render(fig)
    page = fig.bbox
    for t in _texts(fig):
        assert t.get_fontsize() >= 6, (t.get_text(), t.get_fontsize())
        bb = Text.get_window_extent(t, renderer)
        assert page.x0 - 1 <= bb.x0 and bb.x1 <= page.x1 + 1 and page.y0 - 1 <= bb.y0 and bb.y1 <= page.y1 + 1, (
            t.get_text(),
            bb,
        )


def _label_collisions(fig):
    """Model labels of density_vs_date (text extents from the renderer) that overlap another label,
    any model's marker or any error bar; and labels whose leader line is hidden under an error bar."""
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.text import Text

    renderer = _render(fig)
    ax = fig.axes[0]
    labels = [a for a in ax.texts if a.get_gid() == "model-label"]
    boxes = {a.get_text(): Text.get_window_extent(a, renderer) for a in labels}
    pts = next(c for c in ax.collections if isinstance(c, PathCollection))
    xy = ax.transData.transform(np.asarray(pts.get_offsets(), float))
    r = np.sqrt(np.broadcast_to(pts.get_sizes(), len(xy))) / 2 * fig.dpi / 72
    bars = next(c for c in ax.collections if isinstance(c, LineCollection))
    segs = [ax.transData.transform(np.asarray(s, float)) for s in bars.get_segments()]
    out = []
    for name, b in boxes.items():
        for k, ((cx, cy), rr) in enumerate(zip(xy, r, strict=True)):
            if b.x0 < cx + rr and cx - rr < b.x1 and b.y0 < cy + rr and cy - rr < b.y1:
                out.append((name, "marker", k))
        for k, s in enumerate(segs):
            if b.x0 < s[0, 0] < b.x1 and s[:, 1].min() < b.y1 and b.y0 < s[:, 1].max():
                out.append((name, "error bar", k))
        out += [(name, "label", other) for other, b2 in boxes.items() if other != name and b.overlaps(b2)]
    # an annotation draws its leader with itself: above the error bars when its zorder is
    assert all(a.get_zorder() > bars.get_zorder() for a in labels), "leader lines under the error bars"
    assert any(a.arrow_patch is not None for a in labels)
    return out


@pytest.fixture(scope="module")
def wide_tree():
    """The default spec's 51 models with realistic posterior spread (sd 0.5 in ln density), so error
    bars are as long as in a real fit and the Gemma3 cluster crowds as it does in the paper."""
    base = fake_result(np.random.default_rng(7).normal(RATE, 0.0004, size=(2, 300)), spec_name="default")
    post = base["posterior"].to_dataset()
    post["log_density"] = post["log_density"] + 0.5 * np.random.default_rng(8).normal(size=post["log_density"].shape)
    out = base.copy()
    out["posterior"] = xr.DataTree(post)
    return out


@pytest.mark.parametrize("width", ["single", "double"])
def test_density_vs_date_labels_clear_of_points_bars_and_each_other(wide_tree, width):
    names = ["Gemma2-9B", "Mistral-Small-3.1-24B", "Gemma3-27B", "Gemma3-4B", "Llama4-Scout-17B-16E"]
    fig = plots.density_vs_date(wide_tree, width=width, highlight=names)
    labelled = {a.get_text() for a in fig.axes[0].texts if a.get_gid() == "model-label"}
    assert set(names) <= labelled and len(labelled) >= 8
    assert _label_collisions(fig) == []
    _assert_print_ready(fig, width)
    ax = fig.axes[0]
    assert "$" in ax.get_ylabel() and r"\hat" in ax.get_ylabel()  # mathtext, not "N_hat"
    # the legend sits outside the axes (not over the data) and inside the figure
    renderer = _render(fig)
    leg = fig.legends[0].get_window_extent(renderer)
    assert leg.y0 >= ax.get_window_extent(renderer).y1 - 1
    assert fig.bbox.x0 <= leg.x0 and leg.x1 <= fig.bbox.x1
    # x tick labels do not overlap one another
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert len(ticks) >= 3 and all(a.x1 < b.x0 for a, b in zip(ticks, ticks[1:], strict=False))


def test_density_vs_date_size_key_and_highlight(tree):
    d = plots.density_vs_date_data(tree, label_top=3, highlight=["Llama-65B"])
    assert list(d["size_key"]) == ["1B", "10B", "100B"]
    assert d["size_key"]["1B"] < d["size_key"]["10B"] < d["size_key"]["100B"]
    np.testing.assert_allclose(d["marker_area"], plots.marker_area(d["params_billions"]))
    assert len(d["labelled"]) == 4 and d["labelled"][-1] == "Llama-65B"
    fig = plots.density_vs_date(tree, label_top=3, highlight=["Llama-65B"])
    texts = fig.legends[0].get_texts()
    assert [t.get_text() for t in texts if "parameters" in t.get_text()] == [f"{k} parameters" for k in d["size_key"]]
    with pytest.raises(ValueError, match="no model named"):
        plots.density_vs_date_data(tree, highlight=["GPT-9"])


@pytest.mark.parametrize("width", ["single", "double"])
def test_every_figure_is_exactly_the_column_width_with_readable_text(tree, width, tmp_path):
    import re

    assert plots.STYLE["savefig.bbox"] != "tight"  # a tight box changes the width

    for name, fn in plots.FIGURES.items():
        try:
            fig = fn(tree, width=width)
        except ValueError:
            continue
        _assert_print_ready(fig, width)
        pdf = plots.save(fig, tmp_path / f"{name}.pdf").read_bytes()
        box = re.search(rb"/MediaBox \[ *0 0 ([0-9.]+) ([0-9.]+) *\]", pdf)
        assert box is not None and float(box.group(1)) == pytest.approx(72 * plots.WIDTH[width]), name


def test_density_forest_ticks_at_least_6_pt(tree):
    fig = plots.density_forest(tree)
    assert min(t.get_fontsize() for t in fig.axes[0].get_yticklabels()) >= 6


@pytest.mark.parametrize(
    ("p", "n", "text"),
    [(1.0, 4000, "> 0.999"), (1.0, 600, "> 0.998"), (0.0, 4000, "< 0.001"), (0.9996, 4000, "> 0.999"),
     (0.25, 4000, "= 0.250"), (0.0004, 5000, "< 0.001")],
)  # fmt: skip
def test_probabilities_never_print_as_certain(p, n, text):
    assert plots.p_text(p, n) == text


def test_doubling_time_says_what_it_cuts_and_whose_numbers(tree):
    d = plots.doubling_time_data(tree)
    assert d["p_growth_positive_text"] == "P(growth > 0) > 0.998"  # all 600 draws positive: not 1.000
    months = d["doubling_days_draws"] / 30.44
    assert d["n_beyond_cut"] == int((months > d["cut_months"]).sum()) > 0 and d["n_unbounded"] == 0
    assert d["paper_sources"] == {3.3: "arXiv 2412.04315 v1", 3.5: "Nature Machine Intelligence 2025"}
    fig = plots.doubling_time(tree)
    ax1, ax2 = fig.axes
    assert ax1.get_title() == d["p_growth_positive_text"] and "1.000" not in ax1.get_title()
    assert f"{d['n_beyond_cut']} of 600 draws beyond" in ax2.get_xlabel() and "99.5% quantile" in ax2.get_xlabel()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("3.3 months (arXiv v1; records + OLS)" in t for t in legend)
    assert any("3.5 months (NMI 2025; records + OLS)" in t for t in legend)
    assert not ax1.get_legend() and not ax2.get_legend()  # the legend is below the panels, off the lines
    renderer = _render(fig)
    assert fig.legends[0].get_window_extent(renderer).y1 <= min(a.get_window_extent(renderer).y0 for a in fig.axes)
    # a rate posterior reaching 0: draws that never double are counted, not dropped silently
    t0 = fake_result(np.random.default_rng(9).normal(0.0005, 0.0004, size=(2, 300)))
    d0 = plots.doubling_time_data(t0)
    assert d0["n_unbounded"] == int((d0["rate_draws"] <= 0).sum()) > 0
    assert f"{d0['n_unbounded']} never double" in plots.doubling_time(t0).axes[1].get_xlabel()


SENS = Path(__file__).resolve().parents[1] / "validation"


def test_sensitivity_forest_days_base_warnings_and_labels():
    d = plots.sensitivity_forest_data(SENS / "sensitivity_default_all.csv")
    lab = dict(zip(d["label"], d["display"], strict=True))
    assert lab["d0: d0=1e+12"] == "D0 = 1T tokens" and lab["d0: d0=2e+13"] == "D0 = 20T tokens"
    assert lab["frontier: stochastic_frontier(half_normal)"] == "stochastic frontier (half-normal)"
    base = {lbl for lbl, b in zip(d["label"], d["is_base"], strict=True) if b}
    assert base == {"d0: d0=5e+12", "frontier: stochastic_frontier(half_normal)", "models: all models",
                    "priors: base priors"}  # fmt: skip
    warn = dict(zip(d["label"], d["warning"], strict=True))
    assert warn["d0: d0=2e+12"] == "R-hat 1.011" and warn["models: MoE by activated params"] == "R-hat 1.013, 3 div."
    assert warn["d0: d0=1e+12"] == ""

    fig = plots.sensitivity_forest(SENS / "sensitivity_default_all.csv")
    _assert_print_ready(fig, "single")
    ax = fig.axes[0]
    assert "days" in ax.get_xlabel() and len(ax.get_xticks()) >= 5
    # warnings and the paper's lines in different colours
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_hex

    paper = {to_hex(ln.get_color()) for ln in ax.get_lines() if ln.get_linestyle() in (":", "--")}
    warn_cols = {to_hex(c) for c in next(c for c in ax.collections if isinstance(c, PathCollection) and
                                          c.get_paths() and len(c.get_offsets()) == 4).get_edgecolor()}  # fmt: skip
    assert paper and warn_cols and not paper & warn_cols
    bold = {t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"}
    assert "D0 = 5T tokens (base)" in bold and "D0 = 1T tokens" not in bold
    # long labels are wrapped, not squeezing the plot: the axes keep more than half the width
    assert ax.get_position().width > 0.5
    for csv in ("sensitivity_benchmarks.csv", "sensitivity_trend_fig2_benchmarks.csv"):
        for width in ("single", "double"):
            _assert_print_ready(plots.sensitivity_forest(SENS / csv, width=width), width)


def test_cli_plot_width_highlight_and_sensitivity_csv(tree, tmp_path, monkeypatch):
    from bayesdense import cli, io

    res = io.save(tree, tmp_path / "r.nc")
    assert cli.main(["plot", str(res), "--out", str(tmp_path / "f"), "--format", "pdf", "--width", "single",
                     "--highlight", "Llama-65B"]) == 0  # fmt: skip
    for p in (tmp_path / "f").glob("*.pdf"):
        assert b"/MediaBox [ 0 0 252 " in p.read_bytes(), p
    assert cli.main(["plot", str(res), "--out", str(tmp_path / "g"), "--highlight", "GPT-9"]) == 2
    csv = SENS / "sensitivity_default_all.csv"
    for fmt in ("pdf", "svg", "png"):
        assert cli.main(["plot", str(csv), "--out", str(tmp_path / "s"), "--format", fmt]) == 0
        assert (tmp_path / "s" / f"sensitivity_forest.{fmt}").stat().st_size > 1000


# ----------------------------------------------------------------------------- report as a document
def test_report_does_not_import_the_cli():
    """The summary text lives in summary.py: report (and anything but the CLI) never imports cli_fit."""
    import ast

    src = (Path(report.__file__)).read_text()
    imported = {
        (n.module or "") + ":" + ",".join(a.name for a in n.names)
        for n in ast.walk(ast.parse(src))
        if isinstance(n, ast.ImportFrom)
    }
    assert not any("cli" in m for m in imported), imported
    from bayesdense import cli_fit, summary

    assert cli_fit.format_summary is summary.format_summary  # still importable from the old place


def _page_sections(page):
    import re

    ids = set(re.findall(r"id='([^']+)'", page))
    links = set(re.findall(r"href='#([^']+)'", page))
    return ids, links


def test_report_is_a_document(tree):
    import re

    page = report.html_report(tree)
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert "trend_fig2" in title and ".nc" not in title and "/" not in title
    ids, links = _page_sections(page)
    assert {"headline", "before-citing", "figures", "diagnostics", "models", "provenance"} <= links
    assert links <= ids  # every contents link has its target
    # the headline as numbers, not CLI text: growth rate and doubling time with their intervals
    head = page[page.index("id='headline'") : page.index("id='before-citing'")]
    assert "<pre" not in head
    g = report.quantities.summary(tree)["growth_rate_per_day"]
    assert report.fmt_interval(g["median"], g["hdi_low"], g["hdi_high"]).split(" [")[1].rstrip("]") in head
    assert "P(growth rate &le; 0)" not in head  # every draw positive: not shown
    # captions say what a figure shows and how to read it
    caps = re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)
    assert len(caps) == 5 and all(len(c) > 150 and "Read:" in c for c in caps), caps
    # diagnostics: a table of every check with an explanation, numbers at a few significant figures
    diag = page[page.index("id='diagnostics'") : page.index("id='models'")]
    for check in ("R-hat", "Bulk ESS", "Tail ESS", "Divergences", "E-BFMI"):
        assert check in diag
    assert not re.search(r"\d\.\d{5,}", re.sub(r"base64,[^']*'", "", diag))
    # trend_fig2 fits digitized densities, default profile: no quick-look or reconstructed-data banner;
    # the convergence banner exactly when a check fails (this fake's R-hat sits near the limit)
    assert ("Not converged" in page) == bool(report.quantities.summary(tree)["diagnostics"]["failures"])
    assert "Quick-look" not in page and "Reconstructed data" not in page
    assert "Digitized data" in page
    assert "Finding 6." in page and "Finding 1." not in page  # no curve layers in a trend spec


def test_report_banners_and_uncertain_growth():
    import json

    rate = np.random.default_rng(2).normal(0.0015, 0.0012, size=(2, 300))
    rate[1] += 0.0006  # chains disagree
    t = fake_result(rate, spec_name="default")
    t.attrs["sampler"] = json.dumps({"profile": "fast", "chains": 2, "draws": 300})
    page = report.html_report(t)
    top = page[: page.index("<nav")]
    assert "Not converged" in top and "Quick-look fit" in top and "Reconstructed data" in top
    assert "paper_implied" in top
    head = page[page.index("id='headline'") : page.index("id='before-citing'")]
    assert "P(growth rate &le; 0) = 0." in head and "unbounded above" in head


def test_report_renders_a_structural_interval(tree):
    s0 = report.quantities.summary(tree)
    # the shape of structural.headline(): equal-tailed intervals (eti_low / eti_high)
    st = {
        "growth_rate_per_day": {"median": 0.005, "eti_low": 0.002, "eti_high": 0.008},
        "doubling_time_days": {"median": 139.0, "eti_low": 87.0, "eti_high": 347.0},
        "interval": "94% equal-tailed",
        "record": "validation/structural_x.json",
    }
    page = report.html_report(tree, structural=st)
    head = page[page.index("id='headline'") : page.index("id='before-citing'")]
    assert "Structural interval" in head and "139 [87, 347]" in head and "validation/structural_x.json" in head
    assert "139 days" in head  # the card's headline value is the doubling time
    md = report.headline_table({**s0, "structural": st})
    assert list(md["Quantity"])[-2:] == [
        "Growth rate (per day) (structural, 94% ETI)",
        "Doubling time (days) (structural, 94% ETI)",
    ]


def test_trace_rank_data_flat_for_mixed_chains_and_not_for_stuck_ones(tree):
    d = plots.trace_rank_data(tree)
    p = d["panels"]["growth_rate_per_day"]
    assert p["rank_hist"].sum() == d["chains"] * d["draws"]
    assert np.abs(p["rank_hist"] - d["expected"]).max() < 0.8 * d["expected"]
    rate = np.random.default_rng(1).normal(RATE, 0.0004, size=(2, 300))
    rate[1] += 0.002  # chain 1 sits elsewhere: all its ranks at the top
    stuck = plots.trace_rank_data(fake_result(rate))["panels"]["growth_rate_per_day"]
    assert stuck["rank_hist"][1, : d["bins"] // 2].sum() < 10 and stuck["rhat"] > 1.1


@pytest.mark.parametrize(
    ("m", "lo", "hi", "text"),
    [(13.0, 4.2, 74.1, "13.0 [4.2, 74.1]"), (0.54, 0.13, 2.1, "0.540 [0.130, 2.100]"),
     (0.00537, 0.00382, 0.00678, "0.00537 [0.00382, 0.00678]"), (129.4, 101.6, None, "129 [102, unbounded]"),
     (1234.0, 800.0, 2000.0, "1,234 [800, 2,000]")],
)  # fmt: skip
def test_intervals_print_at_the_medians_decimals(m, lo, hi, text):
    assert report.fmt_interval(m, lo, hi) == text


def test_table_top_headline_and_captions(tree, tmp_path):
    md = report.table(tree, "md", top=5)
    assert md.count("\n|") == 6 and "the 5 densest of 47 models" in md
    assert "spec 'trend_fig2', D0 = 5e+12 tokens, seed 1." in md
    tex = report.table(tree, "tex", top=5)
    assert r"\begin{table}" in tex and "longtable" not in tex
    assert r"spec \texttt{trend\_fig2}, $D_0 = 5\times10^{12}$ tokens, seed 1." in tex
    head = report.table(tree, "md", headline=True)
    assert "| Doubling time (days) |" in head and "| P(growth rate <= 0) | < 0.002 |" in head
    assert r"P(growth rate $\leq$ 0) & $<$ 0.002" in report.table(tree, "tex", headline=True)
    from bayesdense import cli, io

    path = tmp_path / "r.nc"
    io.save(tree, path)
    out = tmp_path / "h.md"
    assert cli.main(["table", str(path), "--headline", "--out", str(out)]) == 0
    assert out.read_text() == head
    assert cli.main(["table", str(path), "--top", "3", "--out", str(out)]) == 0
    assert out.read_text().count("\n|") == 4


@pytest.mark.parametrize("width", ["single", "double"])
def test_sbc_and_trace_figures_are_print_ready_at_both_widths(tree, width, tmp_path):
    """The report's trace/rank figure and the recorded SBC figure, like every other figure: exactly
    the column width, no text below 6 pt or outside the page (long model names in panel titles)."""
    import json
    import re
    from pathlib import Path

    cal = json.loads((Path(__file__).resolve().parents[1] / "validation" / "sbc_default.json").read_text())
    for name, fig in (("sbc", plots.sbc_ranks(cal, width=width)), ("trace", plots.trace_rank(tree, width=width))):
        _assert_print_ready(fig, width)
        pdf = plots.save(fig, tmp_path / f"{name}.pdf").read_bytes()
        box = re.search(rb"/MediaBox \[ *0 0 ([0-9.]+) ([0-9.]+) *\]", pdf)
        assert box is not None and float(box.group(1)) == pytest.approx(72 * plots.WIDTH[width]), name


def test_plot_command_draws_a_calibration_record_and_refuses_other_json(tmp_path, capsys):
    from pathlib import Path

    from bayesdense.cli import main

    rec = Path(__file__).resolve().parents[1] / "validation" / "sbc_default.json"
    assert main(["plot", str(rec), "--out", str(tmp_path), "--format", "pdf"]) == 0
    assert (tmp_path / "sbc_default.pdf").stat().st_size > 0
    bad = tmp_path / "other.json"
    bad.write_text('{"spec": "default"}')
    assert main(["plot", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "other.json: not a calibration record" in err and "Traceback" not in err
    assert not (tmp_path / "sbc_default.png").exists()


def test_forest_of_many_models_shows_the_densest_and_says_so(tree, monkeypatch):
    d = plots.density_forest_data(tree)
    monkeypatch.setattr(plots, "FOREST_MAX", 10)
    fig = plots.density_forest(tree)
    ax = fig.axes[0]
    labels = [t.get_text().split("  (")[0] for t in ax.get_yticklabels()]
    assert labels == [m if len(m) <= 36 else m[:35] + "…" for m in d["model"][-10:]]  # the 10 densest
    assert f"The 10 densest of {len(d['model'])} models" in fig._suptitle.get_text()


def test_a_leaderboard_result_is_plotted_against_submission_dates(tree):
    from bayesdense.spec import load_spec

    board = tree.copy()
    board.attrs["spec_text"] = load_spec("leaderboard").text
    assert plots.density_vs_date(board).axes[0].get_xlabel() == "submission date to the leaderboard"
    assert plots.density_vs_date(tree).axes[0].get_xlabel() == "release date"
