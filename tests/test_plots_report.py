import numpy as np
import pytest
from fakes import fake_result
from matplotlib.figure import Figure

from bayesdense import plots, report

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
    assert "http://" not in page and "https://" not in page
    assert "Provenance" in page and "Diagnostics" in page
