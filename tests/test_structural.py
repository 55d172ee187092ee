"""The structural interval: loss-law modes, their weights, the mixture and its bookkeeping."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from fakes import passing_diagnostics
from scipy import optimize, stats

from bayesdense import fit, jsonout, laws, modes, structural
from bayesdense.cli import main
from bayesdense.spec import load_spec


def test_mode_search_finds_both_modes_of_the_average_loss_law():
    n, d, y = modes.reference_runs("AVERAGE")
    found = modes.find_modes(n, d, y, residuals="log")
    alphas = sorted(m.alpha for m in found)
    assert len(found) == 2, alphas
    assert alphas[0] == pytest.approx(0.106, abs=0.01)  # the paper's (0.1153 with its unplotted points)
    assert alphas[1] == pytest.approx(0.385, abs=0.02)
    # the other mode fits the plotted points better on log residuals (RSS 0.00346 vs 0.00413)
    best = min(found, key=lambda m: m.rss)
    assert best.alpha > 0.3 and best.rss < 0.0036


def test_a_single_law_has_a_single_mode_and_is_recovered():
    n, d, _ = modes.reference_runs("AVERAGE")
    y = laws.loss_law(n, d, 0.2, 0.12, 0.05, 0.28)
    found = modes.find_modes(n, d, np.asarray(y), residuals="linear")
    assert len(found) == 1
    assert found[0].alpha == pytest.approx(0.12, rel=1e-4) and found[0].beta == pytest.approx(0.28, rel=1e-4)


def test_data_weights_favour_the_better_fitting_mode_under_vague_priors_and_paper_weights_pick_the_paper():
    spec = load_spec("default")
    data = modes.weighted_modes(spec, "AVERAGE", weights="data")
    assert sum(m.weight for m in data) == pytest.approx(1.0)
    other = max(data, key=lambda m: m.alpha)
    assert other.weight > 0.8  # README, What we found: 0.91 under VAGUE_PRIORS
    # the shipped priors on a and alpha sit near the paper's curve and reverse the weights
    spec_pri = modes.weighted_modes(spec, "AVERAGE", weights="data", priors="spec")
    assert max(spec_pri, key=lambda m: m.alpha).weight < 0.2
    paper = modes.weighted_modes(spec, "AVERAGE", weights="paper")
    assert [round(m.weight) for m in sorted(paper, key=lambda m: m.alpha)] == [1, 0]


def test_laplace_evidence_matches_numerical_integration_on_a_gaussian_problem():
    # a one-mode loss-law posterior is close to Gaussian in log parameters: the Laplace evidence must
    # agree with importance sampling from the Laplace Gaussian (to within its Monte Carlo error)
    n, d, _ = modes.reference_runs("AVERAGE")
    rng = np.random.default_rng(3)
    y = np.asarray(laws.loss_law(n, d, 0.2, 0.12, 0.05, 0.28)) * np.exp(rng.normal(0, 0.01, len(n)))
    spec = load_spec("default")
    pri = modes.curve_priors(spec, "AVERAGE")
    (m,) = modes.find_modes(n, d, y, residuals="log")
    z, v = modes.laplace_evidence(m, n, d, y, pri)
    f = lambda u: -modes._neg_log_post(u, n, d, y, "log", pri)  # noqa: E731
    cov = np.linalg.inv(modes._hessian(lambda u: -f(u), v))
    draws = rng.multivariate_normal(v, cov, size=20000)
    logw = np.array([f(u) for u in draws]) - stats.multivariate_normal(v, cov).logpdf(draws)
    est = float(np.log(np.mean(np.exp(logw - logw.max()))) + logw.max())
    se = float(np.std(np.exp(logw - logw.max())) / np.sqrt(len(draws)) / np.mean(np.exp(logw - logw.max())))
    assert abs(z - est) < max(4 * se, 0.05), (z, est, se)


def _mixture_quantile(q, comps):
    cdf = lambda x: sum(w * stats.norm.cdf(x, mu, sd) for w, mu, sd in comps)  # noqa: E731
    return optimize.brentq(lambda x: cdf(x) - q, -50, 50)


def test_mixture_intervals_and_variance_shares_follow_the_member_weights():
    rng = np.random.default_rng(0)
    k = 40000
    draws = [rng.normal(0.0, 1.0, k), rng.normal(4.0, 1.0, k)]
    levels = [{"mode": "a", "window": "all"}, {"mode": "b", "window": "all"}]
    out = structural.combine(draws, [0.75, 0.25], levels)
    comps = [(0.75, 0.0, 1.0), (0.25, 4.0, 1.0)]
    r = out["growth_rate_per_day"]
    for key, q in (("eti_low", 0.03), ("median", 0.5), ("eti_high", 0.97)):
        exact = _mixture_quantile(q, comps)
        # Monte Carlo error of a quantile: sqrt(q (1-q) / n_eff) / density at the quantile
        dens = sum(w * stats.norm.pdf(exact, mu, sd) for w, mu, sd in comps)
        mcse = math.sqrt(q * (1 - q) / (2 * k)) / dens
        assert r[key] == pytest.approx(exact, abs=5 * mcse), key
    # law of total variance: between = 0.75 * 0.25 * 16 = 3, within = 1, total = 4
    share = out["variance_share"]
    assert share["mode"] == pytest.approx(0.75, abs=0.02)
    assert share["within_members"] == pytest.approx(0.25, abs=0.02)
    assert share["window"] == pytest.approx(0.0, abs=1e-12)
    assert out["p_growth_rate_le_0"] == pytest.approx(0.75 * 0.5 + 0.25 * stats.norm.cdf(-4), abs=0.01)


def test_doubling_interval_is_the_rate_interval_mapped_and_unbounded_past_zero():
    d = structural.doubling_from_rate({"median": 0.005, "eti_low": 0.004, "eti_high": 0.0069})
    assert d["median"] == pytest.approx(math.log(2) / 0.005)
    assert d["eti_low"] == pytest.approx(math.log(2) / 0.0069) and d["eti_high"] == pytest.approx(math.log(2) / 0.004)
    d = structural.doubling_from_rate({"median": 0.005, "eti_low": -0.001, "eti_high": 0.0069})
    assert d["eti_high"] is None and "eti_high" in d["null_reasons"]
    json.loads(jsonout.dumps(d))


def test_members_cover_every_combination_with_weights_that_multiply():
    spec = load_spec("default")
    mem, found = structural.members(spec)
    assert len(mem) == 2 * 2 * 2 * 3  # modes x residual scales x frontiers x windows
    assert sum(m["weight"] for m in mem) == pytest.approx(1.0)
    by = {tuple(m["levels"].values()): m["weight"] for m in mem}
    w_mode = {m["alpha"]: m["weight"] for m in found["log"]}
    paper_w = next(w for a, w in w_mode.items() if a < 0.2)
    assert {m["levels"]["loss_law_mode"] for m in mem} == {"paper", "other"}
    # paper mode, log residuals, the spec's frontier, all models: 1/2 x 1/2 x 1/2 x its mode weight
    assert by[("paper", "log", "stochastic_frontier", "all")] == pytest.approx(paper_w * 0.5 * 0.5 * 0.5)
    texts = {m["spec_text"] for m in mem}
    assert len(texts) == len(mem)
    assert any('kind = "records"' in t for t in texts) and any("released_from = 2023-09-01" in t for t in texts)
    paper_only, _ = structural.members(spec, mode_weights="paper")
    assert len(paper_only) == 12 and all(m["levels"]["loss_law_mode"] == "paper" for m in paper_only)


def _record(spec, **over):
    rec = {
        "study": "structural",
        "study_version": structural.STUDY_VERSION,
        "spec": spec.name,
        "spec_hash": spec.hash,
        "data_hash": fit.data_hash_of(spec),
    }
    rec.update(over)
    return rec


def test_a_stale_record_is_refused_by_fit_before_sampling(tmp_path, capsys):
    spec = load_spec("default")
    stale = tmp_path / "structural_default.json"
    stale.write_text(json.dumps(_record(spec, spec_hash="0" * 16)))
    rec, why = structural.load_record(spec, stale)
    assert rec is None and "stale" in why and "spec hash" in why
    stale.write_text(json.dumps(_record(spec, data_hash="0" * 16)))
    assert "data changed" in structural.load_record(spec, stale)[1]
    assert structural.load_record(spec, _ok(tmp_path, spec))[0] is not None
    rc = main(["fit", "--structural", str(stale), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and "--structural" in err and "stale" in err
    assert not (tmp_path / "r").exists()  # nothing fitted, nothing written


def _ok(tmp_path, spec):
    p = tmp_path / "ok.json"
    p.write_text(json.dumps(_record(spec)))
    return p


def test_structural_refuses_specs_it_is_not_defined_for(capsys):
    rc = main(["structural", "multibench", "--out", "/nonexistent-dir-never-made"])
    err = capsys.readouterr().err
    assert rc == 2 and "one benchmark" in err


def test_a_quadratic_trend_reports_whether_growth_is_slowing():
    import xarray as xr

    from bayesdense import quantities
    from bayesdense.spec import parse_spec

    base = load_spec("trend_quadratic")
    assert base.frontier.trend == "quadratic"
    with pytest.raises(ValueError, match="quadratic"):
        parse_spec(base.text.replace('kind = "stochastic_frontier"', 'kind = "records"'), "records + quadratic")
    rng = np.random.default_rng(1)
    first = rng.normal(0.008, 0.001, (2, 500))
    last = first - rng.normal(0.003, 0.001, (2, 500))  # slower in the last year in ~99.9% of draws
    post = xr.Dataset(
        {
            "growth_rate_per_day_first_year": (("chain", "draw"), first),
            "growth_rate_per_day_last_year": (("chain", "draw"), last),
            "frontier_curvature": (("chain", "draw"), (last - first) * 365.25 / 2),
        }
    )
    cv = quantities.curvature(xr.DataTree.from_dict({"posterior": post}))
    assert cv["p_last_year_slower"] == pytest.approx(float((last < first).mean()))
    assert cv["p_last_year_slower"] > 0.99
    assert cv["growth_rate_per_day_last_year"]["median"] == pytest.approx(np.median(last), rel=1e-6)


def test_the_quadratic_model_exposes_first_and_last_year_rates():
    from bayesdense import inputs
    from bayesdense.models import build

    spec = load_spec("trend_quadratic")
    model = build(spec, inputs.prepare(spec))
    names = {v.name for v in model.deterministics}
    assert {"growth_rate_per_day_first_year", "growth_rate_per_day_last_year"} <= names
    assert "frontier_curvature" in {v.name for v in model.free_RVs}


@pytest.mark.parametrize(("spec_name", "same"), [("default", False), ("records", True), ("trend_fig2", False)])
def test_the_paper_line_says_whether_it_is_the_same_estimand(spec_name, same):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from fakes import fake_result

    from bayesdense import quantities
    from bayesdense.summary import format_summary

    tree = fake_result(
        np.full((2, 200), 0.005) + np.random.default_rng(0).normal(0, 1e-4, (2, 200)), spec_name=spec_name
    )
    tree.attrs["paper_point_estimate"] = json.dumps(
        {"A_per_day": 0.00653, "B": -3.0, "doubling_time_days": 106.1, "n_records": 9}
    )
    e = quantities.estimand(tree)
    assert e["same_as_paper"] is same
    assert ("records" in e["description"]) is same
    text = format_summary({**_summary_skeleton(tree), "estimand": e})
    assert ("the same estimand as the growth rate above" in text) is same
    assert ("a different estimand" in text) is (not same)


def _summary_skeleton(tree):
    from bayesdense import quantities

    g = quantities.growth_and_doubling(tree)
    return {
        "spec": tree.attrs["spec_name"],
        "d0_tokens": 5e12,
        **g,
        "paper_point_estimate": json.loads(tree.attrs["paper_point_estimate"]),
        "models": [],
        "diagnostics": passing_diagnostics(chains=2, n_draws=400),
    }


def test_the_frontier_of_a_bending_trend_includes_its_curvature():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from fakes import fake_result

    from bayesdense import quantities

    tree = fake_result(np.full((2, 50), 0.005), spec_name="default")
    straight = quantities.frontier_at(tree, np.array([0.0, 400.0]))
    post = tree["posterior"].to_dataset()
    post["frontier_curvature"] = (("chain", "draw"), np.full((2, 50), -0.5))
    tree["posterior"] = post
    fd = quantities.fit_data(tree)
    t_mid = 0.5 * (fd.t_days.min() + fd.t_days.max())
    bent = quantities.frontier_at(tree, np.array([t_mid, t_mid + 365.25]))
    lin = quantities.frontier_at(
        fake_result(np.full((2, 50), 0.005), spec_name="default"), np.array([t_mid, t_mid + 365.25])
    )
    np.testing.assert_allclose(bent.isel(t=0), lin.isel(t=0))
    np.testing.assert_allclose(bent.isel(t=1), lin.isel(t=1) - 0.5)
    assert straight.sizes["t"] == 2


def test_change_point_with_a_nonpositive_earlier_rate_reports_the_difference_not_the_ratio():
    import xarray as xr

    from bayesdense import quantities

    rng = np.random.default_rng(2)
    pre = rng.normal(0.001, 0.002, (2, 1000))  # <= 0 in ~30% of draws: a ratio means nothing
    after = rng.normal(0.006, 0.001, (2, 1000))
    post = xr.Dataset(
        {
            "growth_rate_per_day_pre": (("chain", "draw"), pre),
            "growth_rate_per_day": (("chain", "draw"), after),
            "rate_ratio_post_over_pre": (("chain", "draw"), after / pre),
            "change_day": (("chain", "draw"), np.full((2, 1000), -86.0)),
        }
    )
    cp = quantities.change_point(xr.DataTree.from_dict({"posterior": post}))
    assert cp["rate_ratio_after_over_before"] is None and "rate_ratio_after_over_before" in cp["null_reasons"]
    assert cp["p_before_nonpositive"] == pytest.approx(float((pre <= 0).mean()))
    assert cp["rate_difference_after_minus_before"]["median"] == pytest.approx(np.median(after - pre), rel=1e-6)
    # "at least 50% faster", from the rates themselves (the ratio of draws with pre < 0 is negative)
    assert cp["p_ratio_at_least_1_5"] == pytest.approx(float((after >= 1.5 * pre).mean()))
    assert cp["p_ratio_at_least_1_5"] > float((after / pre >= 1.5).mean()) + 0.2
    json.loads(jsonout.dumps(cp))


def test_one_wild_draw_does_not_move_the_variance_shares():
    """A records member's slope has t-like tails; one extreme draw among thousands must not swing
    the decomposition (it moved the raw shares by 10 points between two runs of the same seed)."""
    rng = np.random.default_rng(3)
    k = 4000
    draws = [rng.normal(0.0, 1.0, k), rng.normal(2.0, 1.0, k)]
    levels = [{"frontier": "a"}, {"frontier": "b"}]
    calm = structural.combine(draws, [0.5, 0.5], levels)["variance_share"]
    draws[1][0] = -150.0  # one draw of 8,000 far out in a tail
    wild = structural.combine(draws, [0.5, 0.5], levels)["variance_share"]
    assert calm["frontier"] == pytest.approx(0.5, abs=0.03)  # between 1, within 1
    assert wild["frontier"] == pytest.approx(calm["frontier"], abs=0.01)


@pytest.mark.parametrize(("alpha", "paper", "covered"), [(0.103, True, True), (0.35, False, False)])
def test_mode_table_says_whether_the_paper_and_the_spec_anchor_sit_on_a_mode(
    monkeypatch, capsys, alpha, paper, covered
):
    """multibench anchors MMLU's alpha on the paper's 0.103 (+-10%). Reference runs made from a law
    with that exponent have their mode there; runs made with alpha = 0.35 leave the anchor on no mode,
    and the table and the `modes` command must say so."""
    n, d, _ = modes.reference_runs("MMLU")
    y = np.asarray(laws.loss_law(n, d, 0.5, alpha, 0.2, 0.25)) * np.exp(
        np.random.default_rng(0).normal(0, 0.005, n.size)
    )
    monkeypatch.setattr(modes, "reference_runs", lambda bench, spec=None: (n, d, y))
    rows = modes.mode_table(load_spec("multibench"), "MMLU")
    best = min(rows, key=lambda r: r["rss"])
    assert best["alpha"] == pytest.approx(alpha, rel=0.1)
    assert best["is_paper"] is paper and best["in_spec_prior"] is covered
    assert not any(r["is_paper"] for r in rows if r is not best)
    assert main(["modes", "multibench", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    mmlu = min(out["modes"]["MMLU"], key=lambda r: r["rss"])
    assert mmlu["in_spec_prior"] is covered


def test_structural_members_are_fitted_without_prior_draws(tmp_path, monkeypatch):
    """Members are only mixed, so their fits skip the prior group (sample_prior is not called);
    every other variant keeps it."""
    from bayesdense import sensitivity

    calls = []
    monkeypatch.setattr(fit, "sample_prior", lambda model, seed: calls.append(1) or fit.xr.Dataset())
    text = load_spec("trend_fig2").text
    rows = sensitivity.run_variants(
        [("structural", "m", text), ("priors", "p", text)], tmp_path, profile="fast", workers=1, reuse=False
    ).attrs["rows"]
    assert [r["error"] for r in rows] == ["", ""]
    from bayesdense import io

    trees = [io.load(r["result_file"]) for r in rows]
    assert "prior" not in trees[0].children and "prior" in trees[1].children and len(calls) == 1


def test_fit_does_not_suggest_a_structural_study_that_cannot_apply():
    rec, why = structural.lookup(load_spec("multibench"))
    assert rec is None and why.startswith(structural.NOT_APPLICABLE) and "one benchmark" in why
    assert "Compute it with" not in structural.format_structural(rec, why)
    rec, why = structural.lookup(load_spec("mmlu_scores"))  # applies, but none recorded: say how to compute it
    assert "Compute it with: bayesdense structural" in structural.format_structural(rec, why)


def test_members_share_a_compiled_model_per_mode_residual_scale_and_frontier(tmp_path, monkeypatch):
    """The three release windows of each (mode, residual scale, frontier) share one numpyro model:
    8 batches of 3 on 2 workers, none split."""
    from bayesdense import sensitivity

    class _Stop(Exception):
        pass

    seen: dict = {}

    def capture(vlist, out, **kw):  # type: ignore[no-untyped-def]
        seen.update(kw, vlist=vlist)
        raise _Stop

    monkeypatch.setattr(sensitivity, "run_variants", capture)
    with pytest.raises(_Stop):
        structural.run(load_spec("default"), tmp_path)
    jobs = [(a, n, t, str(tmp_path), 1, None) for a, n, t in seen["vlist"]]
    got = sensitivity.batches(jobs, workers=2, reuse=seen.get("reuse", True), sampler=seen["sampler"])
    assert sorted(len(b[0]) for b in got) == [3] * 8 and {b[3] for b in got} == {"numpyro"}
    for b in got:
        assert len({structural.parse_spec(j[2], j[1]).data.released_from for j in b[0]}) == 2  # all, from, to


def test_a_member_that_does_not_converge_is_refitted_once(tmp_path, monkeypatch):
    """The worker refits a member that fails its checks (sensitivity._run_one with the study's
    refit); the study records the refit's chains and the first fit's checks, and mixes the refit."""
    from fakes import fake_result

    from bayesdense import io, sensitivity

    seen: dict = {}

    def fake_runs(vlist, out, **kw):  # type: ignore[no-untyped-def]
        seen.update(kw)
        rows = []
        for k, (_, name, _text) in enumerate(vlist):
            path = tmp_path / f"m{k}.nc"
            io.save(fake_result(np.full((2, 50), 0.005) + 1e-4 * k), path)
            row = {"variant": name, "result_file": str(path), "converged": True, "max_rhat": 1.0}
            row |= {"min_ess_bulk": 500.0, "divergences": 0, "error": ""}
            if k == 0:
                row["refit_of"] = {"max_rhat": 1.02, "max_rhat_var": "x", "min_ess_bulk": 90.0, "divergences": 3}
            rows.append(row)
        t = sensitivity.pd.DataFrame(rows)
        t.attrs["rows"] = rows
        return t

    monkeypatch.setattr(sensitivity, "run_variants", fake_runs)
    rec = structural.run(load_spec("default"), tmp_path)
    assert seen["refit"] is structural.refit_text
    first = rec["members"][0]
    assert first["refit"]["target_accept"] == structural.REFIT_TARGET_ACCEPT  # it diverged: smaller steps
    assert first["first_fit"]["divergences"] == 3 and first["converged"]
    refit = structural.refit_text(_member_text(0), {"divergences": 3})
    assert first["spec_hash"] == structural.parse_spec(refit, "m").hash
    assert all(m["refit"] is None and m["first_fit"] is None for m in rec["members"][1:])
    assert rec["converged_members"] == len(rec["members"])
    assert rec["members"][1]["growth_rate_per_day"]["median"] == pytest.approx(0.0051)  # read back from m1.nc


def _member_text(i: int) -> str:
    return structural.members(load_spec("default"))[0][i]["spec_text"]


def test_the_worker_refits_an_unconverged_fit_once_on_its_own_model(tmp_path, monkeypatch):
    from bayesdense import sensitivity

    calls: list[tuple[str, str]] = []

    def fake_fit_row(job, shared_model, cores):  # type: ignore[no-untyped-def]
        calls.append((job[1], job[2]))
        ok = len(calls) > 1
        return {"axis": job[0], "variant": job[1], "converged": ok, "doubling_days_median": 130.0, "error": ""} | {
            "max_rhat": 1.0 if ok else 1.03,
            "max_rhat_var": "g",
            "min_ess_bulk": 800.0,
            "divergences": 0 if ok else 2,
            "result_file": f"{job[1]}.nc",
        }

    monkeypatch.setattr(sensitivity, "_fit_row", fake_fit_row)
    text = _member_text(0)
    row = sensitivity._run_one(("structural", "m", text, str(tmp_path), 1, None), None, None, structural.refit_text)
    assert [c[0] for c in calls] == ["m", "m (refit)"]
    assert calls[1][1] == structural.refit_text(text, {"divergences": 2, "max_rhat": 1.03})
    assert row["variant"] == "m" and row["converged"] and row["refit_of"]["divergences"] == 2
    assert row["result_file"] == "m (refit).nc"
    calls.clear()
    row = sensitivity._run_one(("structural", "m", text, str(tmp_path), 1, None), None, None, None)
    assert len(calls) == 1 and not row["converged"]  # no refit unless asked

    def failing_refit(job, shared_model, cores):  # type: ignore[no-untyped-def]
        if job[1].endswith("(refit)"):
            return {"axis": job[0], "variant": job[1], "error": "RuntimeError: no finite starting point"}
        calls.append((job[1], job[2]))
        return fake_fit_row(job, shared_model, cores) | {"converged": False, "divergences": 2}

    monkeypatch.setattr(sensitivity, "_fit_row", failing_refit)
    calls.clear()
    row = sensitivity._run_one(("structural", "m", text, str(tmp_path), 1, None), None, None, structural.refit_text)
    assert row["result_file"] == "m.nc" and not row["converged"] and "no finite" in row["refit_error"]


def test_the_refit_follows_the_failure():
    """Divergences: the same chains with smaller steps; R-hat or ESS alone: twice the chains. The
    same tuning and draws a chain either way (the compiled program is reused)."""
    text = _member_text(0)
    base = structural.parse_spec(text, "m").sampler
    div = structural.parse_spec(structural.refit_text(text, {"divergences": 2, "max_rhat": 1.0}), "d").sampler
    rhat = structural.parse_spec(structural.refit_text(text, {"divergences": 0, "max_rhat": 1.02}), "r").sampler
    assert div.target_accept == structural.REFIT_TARGET_ACCEPT > base.target_accept and div.chains == base.chains
    assert rhat.chains == structural.REFIT_CHAINS_FACTOR * base.chains and rhat.target_accept == base.target_accept
    for sp in (div, rhat):
        assert (sp.tune, sp.draws) == (base.tune, base.draws)
