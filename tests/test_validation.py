"""The calibration machinery: it must pass a calibrated posterior and catch miscalibrated ones."""

import numpy as np
import pytest

from bayesdense.validation import RankStats, equal_width_bins, rank_of_truth, sbc_summary


def _ranks(shift: float, scale: float, sims: int = 300, draws: int = 99, seed: int = 0) -> np.ndarray:
    """theta ~ N(0, 1), y ~ N(theta, 1): the exact posterior is N(y / 2, 1 / 2); perturb it."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sims):
        theta = rng.normal()
        y = rng.normal(theta, 1.0)
        post = rng.normal(y / 2 + shift, scale * np.sqrt(0.5), draws)
        out.append(rank_of_truth(post, theta, rng))
    return np.array(out)


def test_a_calibrated_posterior_passes():
    rs = RankStats("theta", _ranks(0.0, 1.0), 99)
    assert rs.uniformity_pvalue() > 0.01
    assert rs.coverage(0.94) == pytest.approx(0.94, abs=0.04)
    assert rs.coverage(0.5) == pytest.approx(0.5, abs=0.08)


@pytest.mark.parametrize(("shift", "scale"), [(0.7, 1.0), (0.0, 0.4), (0.0, 2.5)])
def test_a_shifted_too_narrow_or_too_wide_posterior_is_caught(shift, scale):
    rs = RankStats("theta", _ranks(shift, scale), 99)
    assert rs.uniformity_pvalue() < 1e-4


def test_summary_rows():
    rows = sbc_summary({"a": _ranks(0, 1, sims=50), "b": _ranks(0, 0.3, sims=50)}, 99)
    assert [r["quantity"] for r in rows] == ["a", "b"]
    assert rows[1]["coverage_94"] < rows[0]["coverage_94"]


def _calibration(shift: float, scale: float, sims: int = 200) -> dict:
    return {"spec": "toy", "n_draws": 99, "ranks": {"theta": _ranks(shift, scale, sims=sims).tolist()}}


def test_ecdf_band_is_simultaneous_at_95_percent():
    from bayesdense.plots import _ecdf_band

    n, grid = 50, np.linspace(0, 1, 101)[1:-1]
    lo, hi = _ecdf_band(n, grid)
    rng = np.random.default_rng(99)  # fresh uniform samples, not the ones the band was tuned on
    counts = np.stack([np.searchsorted(np.sort(rng.random(n)), grid, side="right") for _ in range(1000)])
    inside = np.mean(np.all((counts >= lo) & (counts <= hi), axis=1))
    assert 0.92 <= inside <= 0.98


def test_rank_plot_data_flags_a_miscalibrated_posterior():
    from bayesdense import plots

    good = plots.sbc_ranks_data(_calibration(0.0, 1.0))["quantities"]["theta"]
    assert good["inside_band"] and good["hist"].sum() == 200
    for shift, scale in [(0.7, 1.0), (0.0, 0.4)]:
        assert not plots.sbc_ranks_data(_calibration(shift, scale))["quantities"]["theta"]["inside_band"]
    fig = plots.sbc_ranks({**_calibration(0.0, 1.0), "ranks": {"a": _ranks(0, 1).tolist(), "b": _ranks(0, 1).tolist()}})
    assert len(fig.axes) == 4


def test_rank_bins_have_equal_width():
    """L = 99 draws: 100 possible ranks, 10 per bin. Ranks spread exactly evenly over 0..99 must
    give equal counts (p = 1); unequal bins (e.g. 7 bins of 14 or 15 values) would not."""
    assert equal_width_bins(100) == 10 and equal_width_bins(100, 20) == 20 and equal_width_bins(101) == 10
    even = RankStats("x", np.tile(np.arange(100), 3), 99)
    assert even.uniformity_pvalue() == pytest.approx(1.0)
    assert even.uniformity_pvalue(bins=7) < 1.0


def test_summary_reports_hdi_coverage_and_mean_rank():
    r = _ranks(0, 1, sims=300)
    inside = np.arange(300) % 10 != 0  # truth inside the HDI in 270 of 300 simulations
    (row,) = sbc_summary({"a": r}, 99, {"a": inside})
    assert row["hdi_coverage_94"] == pytest.approx(0.9)
    assert row["bins"] == 10
    # calibrated ranks: mean fraction 0.5 within 4 standard errors of 1 / sqrt(12 * 300)
    assert abs(row["mean_rank_fraction"] - 0.5) < 4 * row["mean_rank_fraction_se"]


def _built(name: str):
    from bayesdense.inputs import prepare
    from bayesdense.models import build
    from bayesdense.spec import load_spec

    spec = load_spec(name)
    fd = prepare(spec)
    return spec, fd, build(spec, fd)


def test_every_free_parameter_not_per_model_is_ranked():
    from bayesdense.validation import _ranked

    _, fd, model = _built("default")
    labels = [q[0] for q in _ranked(model, fd)]
    expected = ["growth_rate_per_day", "intercept", "frontier_log_density_mid", "frontier_omega", "frontier_lambda"]
    expected += [f"{k}[AVERAGE]" for k in ("loss_a", "loss_alpha", "loss_b", "loss_beta", "loss_sd_log")]
    expected += [f"{k}[AVERAGE]" for k in ("link_gamma", "link_l", "link_floor_offset", "link_sd")]
    assert labels[: len(expected)] == expected
    assert sum(q.startswith("log_density[") for q in labels) == 3
    # Fixed priors (score_sd, link_ceiling_frac in the default spec) are not free: not ranked
    assert not any(q.startswith(("score_sd", "link_ceiling_frac", "growth_rate_per_year")) for q in labels)


def test_simulated_data_replace_every_observed_table():
    from bayesdense.models import build
    from bayesdense.validation import simulated_fit_data

    spec, fd, model = _built("default")
    rng = np.random.default_rng(3)
    fit = fd.link_role == "fit"
    data = {
        "ref_log_loss_observed": rng.normal(1, 0.1, len(fd.ref_loss)),
        "link_score_observed": rng.uniform(20, 60, int(fit.sum())),
        "score_observed": rng.uniform(20, 60, len(fd.obs_score)),
    }
    m = build(spec, simulated_fit_data(fd, data))
    for name, values in data.items():
        rv = m[name.removesuffix("_observed")]
        assert np.allclose(m.rvs_to_values[rv].data, values), name
    assert np.array_equal(simulated_fit_data(fd, data).link_score[~fit], fd.link_score[~fit])  # held out: kept


def test_log_likelihood_test_quantity_is_the_data_density():
    """log p(y | parameters), summed over the observations, at draws and at the truth: for the trend
    model that is sum_i Normal(ln rho_obs_i | log_density_i, 0.1); no prior terms, no Jacobian."""
    import xarray as xr
    from scipy import stats

    from bayesdense.validation import _log_lik

    _, fd, model = _built("trend_fig2")
    rng = np.random.default_rng(0)
    n = fd.n_models
    values = {
        "growth_rate_per_year": rng.normal(1.0, 0.1, (2, 3)),
        "frontier_log_density_mid": rng.normal(-2, 0.1, (2, 3)),
        "frontier_omega": rng.uniform(0.3, 0.6, (2, 3)),
        "frontier_lambda": rng.uniform(1, 3, (2, 3)),
        "log_density": np.log(fd.point_density) + rng.normal(0, 0.1, (2, 3, n)),
    }
    post = xr.Dataset(
        {k: (("chain", "draw", "model")[: v.ndim], v) for k, v in values.items()}, coords={"model": fd.model}
    )
    ll, ll_truth = _log_lik(model, post, {k: v[0, 0] for k, v in values.items()})
    expected = stats.norm.logpdf(np.log(fd.point_density), values["log_density"], 0.1).sum(axis=-1)
    assert np.allclose(ll, expected) and ll_truth == pytest.approx(expected[0, 0])


def _fake_result(**over):
    fits = [
        {
            "sim": 0,
            "max_rhat": 1.004,
            "min_ess_bulk": 812.0,
            "divergences": 0,
            "converged": True,
            "ess_at_least_kept_draws": True,
            "seconds": 31.0,
        },
        {
            "sim": 1,
            "max_rhat": 1.31,
            "min_ess_bulk": 12.0,
            "divergences": 3,
            "converged": False,
            "ess_at_least_kept_draws": False,
            "seconds": 40.0,
        },
        {"sim": 2, "error": "RuntimeError: boom", "converged": False, "seconds": 1.0},
    ]
    row = {
        "quantity": "growth_rate_per_day",
        "n_sims": 2,
        "uniformity_p": 0.5,
        "coverage_50": 0.5,
        "coverage_94": 1.0,
        "hdi_coverage_94": 1.0,
        "mean_rank_fraction": 0.4,
    }
    res = {
        "spec": "default",
        "fit_spec": "default",
        "sims": 3,
        "n_draws": 99,
        "bins": 10,
        "profile": "fast",
        "production_settings": False,
        "sampler": {"sampler": "numpyro", "chains": 2, "draws": 300, "tune": 300, "target_accept": 0.95},
        "converged_rule": "max R-hat <= 1.01 and no divergences",
        "n_converged": 1,
        "converged_share": 1 / 3,
        "n_failed": 1,
        "divergent_fits": 1,
        "fits_ess_below_kept_draws": 1,
        "fits": fits,
        "summary": [row],
        "summary_converged": [{**row, "n_sims": 1}],
    }
    return {**res, **over}


def test_calibration_report_shows_every_fit_and_the_converged_share():
    from bayesdense.validation import calibration_text

    text = calibration_text(_fake_result())
    assert "NOT the spec's production settings" in text
    assert "Converged (max R-hat <= 1.01 and no divergences): 1 of 3 fits (33%)" in text
    lines = text.splitlines()
    assert any(ln.split()[:5] == ["0", "1.004", "812", "0", "31"] and ln.endswith("yes") for ln in lines)
    assert any(ln.split()[:5] == ["1", "1.310", "12", "3", "40"] and "no (ESS < 99)" in ln for ln in lines)
    assert any(ln.split()[:4] == ["2", "fit", "failed:", "RuntimeError:"] for ln in lines)  # reported, not dropped
    assert "Ranks over converged fits only (n = 1)" in text
    prod = calibration_text(_fake_result(profile="default", production_settings=True))
    assert "with the spec's production settings" in prod


@pytest.mark.slow
def test_bounded_sbc_catches_a_planted_miscalibration():
    """The real pipeline (simulate, fit, rank): fitting with a growth prior pinned far from the one
    the data were simulated from must show up as non-uniform ranks and lost coverage. Fast profile
    (2 x 300), recorded as such in the result."""
    from bayesdense.spec import load_spec, parse_spec
    from bayesdense.validation import calibrate

    spec = load_spec("trend_fig2")
    wrong = parse_spec(
        spec.text + '\n[priors.growth_rate_per_year]\ndist = "Normal"\nmu = -1.0\nsigma = 0.02\n', "planted"
    )
    res = calibrate(spec, sims=8, profile="fast", workers=2, fit_spec=wrong)
    assert res["profile"] == "fast" and not res["production_settings"]
    row = next(r for r in res["summary"] if r["quantity"] == "growth_rate_per_day")
    assert row["uniformity_p"] < 0.01 and row["coverage_94"] <= 0.25 and row["hdi_coverage_94"] <= 0.25


@pytest.mark.slow
def test_bounded_calibrate_command_prints_per_fit_diagnostics(tmp_path, capsys):
    """`bayesdense calibrate default --sims 8` (fast profile to bound the time; the output says it
    is not the production setting): one diagnostics line per fit, the converged share, every
    ranked quantity (free parameters, three densities, the log likelihood) in the JSON record."""
    import json

    from bayesdense.cli import main

    out = tmp_path / "sbc.json"
    assert main(["calibrate", "default", "--sims", "8", "--profile", "fast", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["sampler"]["sampler"] == "numpyro" and res["sampler"]["chains"] == 2 and res["profile"] == "fast"
    assert "NOT the spec's production settings" in text
    fit_lines = [ln.split() for ln in text.splitlines() if ln.split()[:1] in ([str(i)] for i in range(8))]
    assert [int(f[0]) for f in fit_lines] == list(range(8))
    for f, rec in zip(fit_lines, res["fits"], strict=True):
        assert float(f[1]) == pytest.approx(rec["max_rhat"], abs=1e-3) and int(f[3]) == rec["divergences"]
        assert rec["converged"] == (rec["max_rhat"] <= 1.01 and rec["divergences"] == 0)
    n_conv = sum(r["converged"] for r in res["fits"])
    assert f"{n_conv} of 8 fits" in text and res["converged_share"] == n_conv / 8
    names = [r["quantity"] for r in res["summary"]]
    for q in ("frontier_omega", "frontier_lambda", "loss_beta[AVERAGE]", "link_floor_offset[AVERAGE]", "log_lik"):
        assert q in names
    assert res["n_draws"] == 99 and res["bins"] == 10
    for q, ranks in res["ranks"].items():
        assert len(ranks) == res["n_fitted"] and 0 <= min(ranks) and max(ranks) <= 99, q
    assert [r["n_sims"] for r in res["summary_converged"]] == [n_conv] * len(names)


def test_prior_check_sets_simulated_ranges_beside_the_real_ones():
    """The scores of the simulations `calibrate` fits, against the real scores: real ranges are the
    data's; a simulation counts as 'mostly near the floor' exactly when over half of its scores lie
    within 2 points of its link floor (recomputed here from the same draws)."""
    import pymc as pm

    from bayesdense import priorcheck
    from bayesdense.validation import SBC_SEED

    spec, fd, model = _built("default")
    d = priorcheck.prior_check_data(spec, sims=40)
    assert d["score"]["real_min_median_max"] == pytest.approx(
        [fd.obs_score.min(), np.median(fd.obs_score), fd.obs_score.max()]
    )
    with model:
        prior = pm.sample_prior_predictive(draws=40, random_seed=SBC_SEED, compile_kwargs={"mode": "FAST_COMPILE"})
    score = prior["prior_predictive"]["score"].values[0]
    floor = prior["prior"]["link_d"].values[0][:, fd.obs_bench]
    mostly = np.mean(score - floor < 2.0, axis=1) > 0.5
    assert d["score"]["share_of_sims_mostly_near_floor"] == pytest.approx(mostly.mean())
    assert 0 < mostly.mean() < 1  # the default prior puts some, not all, simulations at the floor
    per = d["score"]["per_sim"]
    assert np.all(per["min"] <= per["median"]) and np.all(per["median"] <= per["max"])
    assert "Scores (points): real min" in priorcheck.prior_check_text(d)
    assert "score" not in priorcheck.prior_check_data(_built("trend_fig2")[0], sims=5)


def test_measured_log_density_inverts_each_draws_curves():
    """Time-forward validation reads later models' densities through the training fit's curves, per
    draw: scores made from known log densities with two different draws' curves come back exactly;
    a score above what the law can reach is +inf, one at or below the link floor is left out."""
    import xarray as xr

    from bayesdense import laws
    from bayesdense.inputs import N_UNIT, prepare
    from bayesdense.spec import load_spec
    from bayesdense.validation import measured_log_density

    spec = load_spec("default")
    fd = prepare(spec).subset_models(np.arange(len(prepare(spec).model)) < 4)
    curves = {  # two draws, one benchmark
        "loss_a": [0.8, 1.1],
        "loss_alpha": [0.12, 0.3],
        "loss_floor_d0": [1.6, 1.9],
        "link_c": [70.0, 75.0],
        "link_gamma": [3.0, 4.0],
        "link_l": [2.3, 2.5],
        "link_d": [20.0, 22.0],
    }
    post = xr.Dataset({k: (("chain", "draw", "benchmark"), np.array(v)[None, :, None]) for k, v in curves.items()})
    truth = np.array([[-1.0, 0.2, 0.5, 1.3], [0.4, -0.7, 0.0, 2.0]])  # draws x models
    c = {k: np.array(v)[:, None] for k, v in curves.items()}
    loss = c["loss_a"] * np.exp(-c["loss_alpha"] * (np.log(fd.params / N_UNIT) + truth)) + c["loss_floor_d0"]
    scores = laws.link(loss, c["link_c"], c["link_gamma"], c["link_l"], c["link_d"])
    for draw in range(2):  # every score made with one draw's curves is read back in that draw
        fd.obs_score = scores[draw][fd.obs_model]
        got = measured_log_density(spec, fd, post)
        np.testing.assert_allclose(got[draw], truth[draw], rtol=1e-9, atol=1e-9)
        assert not np.allclose(got[1 - draw], truth[draw])
    fd.obs_score = np.array([89.9, 60.0, 21.0, 50.0])[fd.obs_model]  # beyond reach in draw 0; floor in draw 1
    got = measured_log_density(spec, fd, post)
    assert np.isposinf(got[0, 0]) and np.isfinite(got[1, 0])
    assert np.isnan(got[1, 2]) and np.isfinite(got[0, 2])


def _prior_as_posterior(sims: list, chains: int = 2) -> "object":
    """The simulations' true parameter values stacked as a (chain, draw) posterior."""
    import xarray as xr

    names = list(sims[0]["point"])
    per = len(sims) // chains
    return xr.Dataset(
        {
            n: (
                ("chain", "draw", *[f"{n}_dim_{k}" for k in range(np.ndim(sims[0]["point"][n]))]),
                np.stack([s["point"][n] for s in sims[: chains * per]]).reshape(
                    chains, per, *np.shape(sims[0]["point"][n])
                ),
            )
            for n in names
        }
    )


def test_the_compiled_program_scores_the_log_likelihood_as_the_model_built_per_simulation():
    """calibrate's one-program path (data swapped into containers) must compute the data's test
    quantity exactly as a model built on each simulated data set does, for every draw."""
    from bayesdense.models import build
    from bayesdense.validation import _draw_simulations, _log_lik, _Program, simulated_fit_data

    spec, fd, _ = _built("default")
    sims = _draw_simulations(spec, 6)
    post = _prior_as_posterior(sims)
    program = _Program(spec, fd)
    for s in (sims[0], sims[3]):  # two data sets through the same compiled function
        got, got_truth = program.log_lik(post, s["point"], s["data"])
        want, want_truth = _log_lik(build(spec, simulated_fit_data(fd, s["data"])), post, s["point"])
        np.testing.assert_allclose(got, want, rtol=1e-9)
        assert got_truth == pytest.approx(want_truth, rel=1e-9)
    assert not np.allclose(program.log_lik(post, sims[0]["point"], sims[0]["data"])[0], got)  # the data matter


@pytest.mark.slow
def test_the_compiled_program_gives_the_posterior_of_the_model_built_per_simulation():
    """The same simulated data fitted both ways (fast profile, 2 x 300 after 300): the growth rate's
    posterior mean agrees within 4 Monte Carlo standard errors of the difference."""
    import arviz as az

    from bayesdense.fit import sample_model
    from bayesdense.models import build
    from bayesdense.validation import _draw_simulations, _Program, simulated_fit_data

    spec, fd, _ = _built("default")
    s = _draw_simulations(spec, 2)[1]
    post, _stats = _Program(spec, fd).sample(s, "fast")
    sampled = build(spec, simulated_fit_data(fd, s["data"]), offset_latents=True)
    ref = sample_model(spec, sampled, seed=7, profile="fast", progress=False)["posterior"]
    means, ses = [], []
    for p in (post, ref):
        g = p["growth_rate_per_day"]
        means.append(float(g.mean()))
        ses.append(float(az.mcse(g.to_dataset(), method="mean")["growth_rate_per_day"]))
    assert abs(means[0] - means[1]) <= 4 * np.hypot(*ses)


def _fake_fit(spec, fd, chains: int = 2, draws: int = 30):
    """A stand-in for ``fit.fit``: prior draws of the model as written, shaped as a posterior."""
    import pymc as pm
    import xarray as xr

    from bayesdense.models import build

    with build(spec, fd):
        prior = pm.sample_prior_predictive(draws=chains * draws, random_seed=5, compile_kwargs={"mode": "FAST_COMPILE"})
    pr = prior["prior"].to_dataset().isel(chain=0)
    post = xr.Dataset(
        {k: (("chain", "draw", *v.dims[1:]), v.values.reshape(chains, draws, *v.shape[1:])) for k, v in pr.items()}
    ).assign_coords({d: pr[d].values for d in pr.dims if d != "draw"})
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((chains, draws), bool))})
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def _mean_and_sd(model, name: str):
    """A compiled function (free parameters -> (mu, sigma)) of the Normal observed node ``name``."""
    from pymc.model.transform.conditioning import remove_value_transforms

    model = remove_value_transforms(model)  # the values are the parameters themselves, not their logs
    mu, sigma = model[name].owner.inputs[-2:]
    values = [model.rvs_to_values[v] for v in model.free_RVs]
    out = model.replace_rvs_by_values([mu, sigma])
    fn = model.compile_fn(out, inputs=values, on_unused_input="ignore", point_fn=False)
    return lambda point: fn(*(point[v.name] for v in model.free_RVs))


def test_posterior_simulations_keep_the_real_data_and_draw_a_copy_from_each_posterior_draw(monkeypatch):
    """Posterior SBC's simulations: the first half of every table is the shipped data, the truth is
    a posterior draw, and the second half is drawn from p(y | that draw): standardised residuals
    against the draw's own means and scales are N(0, 1) (margins: 4 Monte Carlo standard errors)."""
    import bayesdense.fit
    from bayesdense.validation import _observed_values, _posterior_simulations, augmented_fit_data

    spec, fd, model = _built("default")
    fake = _fake_fit(spec, fd)
    monkeypatch.setattr(bayesdense.fit, "fit", lambda *a, **k: fake)
    sims, record = _posterior_simulations(spec, 40, "default")
    assert record["draws"] == 60 and record["divergences"] == 0
    real = _observed_values(model, spec)
    post = fake["posterior"].to_dataset().stack(sample=("chain", "draw"))
    pick = np.linspace(0, 59, 40).round().astype(int)
    z = []
    for s, j in zip(sims, pick, strict=True):
        assert s["truth"]["growth_rate_per_day"] == pytest.approx(float(post["growth_rate_per_day"][j]))
        for key, y in s["data"].items():
            n = len(real[key])
            assert len(y) == 2 * n and np.array_equal(y[:n], real[key]), key
            mu, sd = _mean_and_sd(model, key.removesuffix("_observed"))(s["point"])
            z.append((y[n:] - mu) / sd)
    z = np.concatenate(z)
    assert abs(z.mean()) <= 4 / np.sqrt(z.size)
    assert abs(z.std() - 1) <= 4 / np.sqrt(2 * z.size)
    aug = augmented_fit_data(fd)
    assert len(aug.obs_score) == 2 * len(fd.obs_score) and len(aug.model) == len(fd.model)
    from bayesdense.models import build

    m = build(spec, aug)  # every observation its own coordinate, every model once
    assert len(set(m.coords["observation"])) == 2 * len(fd.obs_score)
    assert len(m.coords["model"]) == len(fd.model)


@pytest.mark.slow
def test_bounded_posterior_sbc_fits_each_copy_with_the_shipped_data(tmp_path, capsys):
    """`bayesdense calibrate default --around posterior` end to end (2 simulations, fast profile):
    the shipped data are fitted first (its diagnostics recorded), each simulation is fitted with the
    shipped data on the doubled tables, and the report says where the simulations come from."""
    import json

    from bayesdense.cli import main

    out = tmp_path / "psbc.json"
    args = ["calibrate", "default", "--sims", "2", "--around", "posterior", "--profile", "fast", "--workers", "1"]
    assert main([*args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["around"] == "posterior" and "posterior SBC" in text
    pf = res["posterior_fit"]
    assert pf["draws"] == 2 * 300 and pf["max_rhat"] < 1.1
    assert f"{pf['draws']} draws, max R-hat {pf['max_rhat']:.3f}" in text
    assert res["n_fitted"] == 2 and res["sampler"]["chains"] == 2 and res["sampler"]["draws"] == 300
    assert len(res["ranks"]["log_lik"]) == 2
