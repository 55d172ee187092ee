import json

import numpy as np
import pytest
from fakes import fake_result

from bayesdense import io, plots, quantities
from bayesdense.cli import main


def test_summary_of_a_known_posterior():
    rate = np.random.default_rng(1).normal(0.0065, 0.0005, size=(4, 500))
    s = quantities.summary(fake_result(rate))
    assert s["growth_rate_per_day"]["median"] == pytest.approx(0.0065, abs=0.0001)
    assert s["growth_rate_per_day"]["hdi_low"] == pytest.approx(0.0065 - 1.88 * 0.0005, abs=0.0002)
    assert s["doubling_time_days"]["median"] == pytest.approx(np.log(2) / 0.0065, rel=0.02)
    # the doubling time's interval is the HDI of its own draws: the narrowest window holding 94% of
    # them (by hand here), narrower than the rate's HDI mapped through ln 2 / rate
    d = np.sort(np.log(2) / rate.ravel())
    k = int(np.floor(0.94 * d.size))
    j = int(np.argmin(d[k:] - d[:-k]))
    dbl = s["doubling_time_days"]
    assert (dbl["hdi_low"], dbl["hdi_high"]) == pytest.approx((d[j], d[j + k]), rel=2e-3)
    mapped = np.log(2) / np.array([s["growth_rate_per_day"]["hdi_high"], s["growth_rate_per_day"]["hdi_low"]])
    assert dbl["hdi_high"] - dbl["hdi_low"] < mapped[1] - mapped[0]
    assert s["p_growth_positive"] == 1.0
    from bayesdense.summary import format_summary

    assert "P(growth > 0)   > 0.999" in format_summary(s)  # never 1.000 from 2,000 draws
    first = s["models"][0]
    assert first["density"]["median"] == pytest.approx(first["paper_density"], rel=0.01)


def test_a_rate_interval_reaching_zero_gives_an_unbounded_doubling_time():
    rate = np.random.default_rng(2).normal(0.001, 0.001, size=(2, 500))
    s = quantities.summary(fake_result(rate))
    assert s["doubling_time_days"]["unbounded"] is True and s["doubling_time_days"]["hdi_high"] is None
    assert 0.5 < s["p_growth_positive"] < 1.0


@pytest.mark.parametrize(("share_nonpositive", "unbounded"), [(0.03, False), (0.10, True)])
def test_the_doubling_hdi_is_unbounded_only_when_over_6_percent_never_double(share_nonpositive, unbounded):
    """The rate's own HDI reaches 0 in both cases; the doubling time's HDI is open above only when
    more than 1 - 0.94 of the draws never double, and P(growth <= 0) is printed in both."""
    from bayesdense.summary import format_summary

    rng = np.random.default_rng(4)
    n = 2000
    rate = rng.normal(0.006, 0.001, size=n)
    rate[: int(share_nonpositive * n)] = -rng.uniform(0, 0.001, int(share_nonpositive * n))
    s = quantities.summary(fake_result(rng.permutation(rate).reshape(2, -1)))
    d = s["doubling_time_days"]
    assert d["unbounded"] is unbounded and (d["hdi_high"] is None) is unbounded
    assert s["p_growth_nonpositive"] == pytest.approx(share_nonpositive)
    assert f"P(growth <= 0)  {share_nonpositive:.3f}" in format_summary(s)
    if not unbounded:
        assert d["hdi_high"] < np.log(2) / 0.003  # the 3% of draws that never double fall outside the HDI


def test_save_load_round_trip_and_summary_command(tmp_path, capsys):
    tree = fake_result(np.full((2, 50), 0.006) + np.random.default_rng(3).normal(0, 1e-4, (2, 50)))
    path = io.save(tree, tmp_path / "r.nc")
    assert not list(tmp_path.glob("*.part"))
    assert main(["summary", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "doubling_time_days",
        "growth_rate_per_day",
        "p_growth_positive",
        "paper_point_estimate",
        "models",
        "diagnostics",
        "result_file",
    ):
        assert key in out
    assert set(out["diagnostics"]) >= {"max_rhat", "min_ess_bulk", "divergences", "wall_seconds"}


def test_bad_result_files_are_refused_without_traceback(tmp_path, capsys):
    tree = fake_result(np.full((2, 20), 0.006))
    good = io.save(tree, tmp_path / "good.nc")
    trunc = tmp_path / "trunc.nc"
    trunc.write_bytes(good.read_bytes()[:2000])
    assert main(["summary", str(trunc)]) == 2
    assert "not a readable result file" in capsys.readouterr().err
    newer = fake_result(np.full((2, 20), 0.006))
    newer.attrs["format_version"] = 99
    io.save(newer, tmp_path / "newer.nc")
    with pytest.raises(io.ResultError, match="newer bayesdense"):
        io.load(tmp_path / "newer.nc")
    (tmp_path / "other.nc").write_text("hello")
    assert main(["summary", str(tmp_path / "other.nc")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_reproduce_json_contract(capsys):
    assert main(["reproduce", "--figure", "fig1", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert {"A_per_day", "B", "r2", "n_records", "records", "doubling_time_days", "doubling_time_months"} <= set(r)
    assert main(["reproduce", "--figure", "fig3c", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert {"A_per_day", "n_records", "records"} <= set(r["pre_chatgpt"]) and "post_chatgpt" in r


def test_help_teaches(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "94% highest-density" in text
    for cmd in ("fit", "summary", "reproduce", "data", "spec"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert len(capsys.readouterr().out) > 200


def test_strict_turns_failed_diagnostics_into_an_error(tmp_path, capsys):
    tree = fake_result(np.random.default_rng(4).normal(0.006, 0.0005, size=(2, 200)))
    stats = tree["sample_stats"].to_dataset()
    stats["diverging"][0, :5] = True
    tree["sample_stats"] = stats
    path = io.save(tree, tmp_path / "r.nc")
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "WARNING: convergence checks failed" in out and "5 divergent transitions" in out
    assert main(["summary", str(path), "--strict"]) == 4
    assert "--strict" in capsys.readouterr().err


def test_saved_results_are_ordinary_files(tmp_path):
    import os
    import stat

    path = io.save(fake_result(np.full((2, 50), 0.005)), tmp_path / "r.nc")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_markdown_table_escapes_pipes():
    import pandas as pd

    from bayesdense.report import to_markdown

    cols = ["density", "density_hdi_low", "density_hdi_high", "n_eff_b", "n_eff_b_hdi_low", "n_eff_b_hdi_high"]
    row = {"model": ["a|b"], "date": ["2024-01-01"], "params_b": [7.0], "paper_density": [0.5]}
    md = to_markdown(pd.DataFrame({**row, **{c: [1.0] for c in cols}}))
    assert "a\\|b" in md and md.splitlines()[2].count(" | ") == md.splitlines()[0].count(" | ")


def _as_fit(tree):
    """A fake result put together as `bayesdense fit` does (fit.assemble), from its own draws."""
    from bayesdense.fit import assemble
    from bayesdense.inputs import prepare
    from bayesdense.spec import load_spec

    spec = load_spec(str(tree.attrs["spec_name"]))
    return assemble(
        spec,
        prepare(spec),
        tree["posterior"].to_dataset(),
        tree["sample_stats"].to_dataset(),
        {},
        seed=1,
        wall=float(tree.attrs["wall_seconds"]),
    )


def test_fit_results_store_the_doubling_time_and_density_per_draw(tmp_path):
    z = np.random.default_rng(6).normal(size=(2, 300))
    z[1] = np.where(z[1] < 0, 1.8 * z[1], z[1])  # chain 1 reaches further down: worse mixing of ln 2 / rate
    rate = 0.003 + 0.0005 * z
    rate[0, :3] = [0.0, -0.001, 0.004]
    old = fake_result(rate)
    new = io.load(io.save(_as_fit(old), tmp_path / "r.nc"))
    post = new["posterior"]
    dbl, dens = post["doubling_time_days"], post["density"]
    assert dbl.dims == ("chain", "draw") and dens.dims == ("chain", "draw", "model")
    np.testing.assert_array_equal(dbl.values[rate > 0], np.log(2) / rate[rate > 0])
    assert np.isposinf(dbl.values[rate <= 0]).all() and (rate <= 0).sum() == 2
    np.testing.assert_allclose(dens.values, np.exp(post["log_density"].values), rtol=1e-15)
    assert dbl.attrs["units"] == "days" and "+inf" in dbl.attrs["long_name"] and dens.attrs["units"] == "1"
    # an older result without them summarises the same, diagnostics included (the transforms are not checked)
    assert "density" not in old["posterior"]
    a, b = quantities.summary(old), quantities.summary(new)
    for key in ("growth_rate_per_day", "doubling_time_days", "doubling_time_months", "models", "diagnostics"):
        assert json.dumps(a[key], sort_keys=True) == json.dumps(b[key], sort_keys=True), key
    # nor picked as the worst-mixing trace (here ln 2 / rate has a higher R-hat than the rate itself)
    assert list(plots.trace_rank_data(new)["panels"]) == list(plots.trace_rank_data(old)["panels"])


def readme_arviz_block() -> str:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```python\n")[1:]]
    (block,) = [b for b in blocks if "az.summary(" in b]
    return block


def test_readme_arviz_lines_give_the_summary_numbers(tmp_path):
    """The README's ArviZ 1.x lines, run on a saved fit, give bayesdense's growth rate, doubling time
    and densities: the same medians and 94% HDIs, not ArviZ's default 89% equal-tailed interval."""
    rate = np.random.default_rng(7).normal(0.004, 0.0015, size=(2, 400))  # a few draws <= 0: no doubling
    assert (rate <= 0).any()
    path = io.save(_as_fit(fake_result(rate)), tmp_path / "r.nc")
    block = readme_arviz_block()
    assert '"results/default-seed1.nc"' in block
    ns: dict = {}
    exec(block.replace('"results/default-seed1.nc"', repr(str(path))), ns)
    s = quantities.summary(io.load(path))
    r, d = s["growth_rate_per_day"], s["doubling_time_days"]
    assert (ns["rate_median"], *ns["rate_hdi"]) == (r["median"], r["hdi_low"], r["hdi_high"])
    row = ns["table"].loc["growth_rate_per_day"]
    assert (row["hdi94_lb"], row["hdi94_ub"]) == (r["hdi_low"], r["hdi_high"])
    assert d["hdi_high"] is not None
    assert (ns["doubling_median"], *ns["doubling_hdi"]) == (d["median"], d["hdi_low"], d["hdi_high"])
    for m in s["models"]:
        row = ns["table"].loc[f"density[{m['name']}]"]
        got = (float(ns["density_median"].sel(model=m["name"])), row["hdi94_lb"], row["hdi94_ub"])
        assert got == (m["density"]["median"], m["density"]["hdi_low"], m["density"]["hdi_high"]), m["name"]
