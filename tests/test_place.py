"""Placed models (``data.extra_models``), ``bayesdense place`` and ``bayesdense forecast``.

The fast tests run on a small posterior built by hand, whose answers are computed here by hand;
the slow ones fit the default spec (fast profile) with a model imported from an lm-eval file.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_import import lm_eval_results, write_json

from bayesdense import place
from bayesdense.cli import main
from bayesdense.data import DataError
from bayesdense.inputs import FitData, prepare, prepare_placed
from bayesdense.jsonout import loads_strict
from bayesdense.spec import SpecError, load_spec, parse_spec

ORIGIN = dt.date(2023, 2, 24)
SPEC_DIR = Path(__file__).resolve().parents[1] / "models"

# --------------------------------------------------------------------------- a posterior built by hand
# Curves (AVERAGE, N in billions): loss = a * N_eff^-alpha + floor, score = d + c * sigmoid(gamma * (l - loss))
A, ALPHA, FLOOR, C, GAMMA, L, D = 1.0, 0.5, 0.5, 90.0, 10.0, 1.0, 10.0
RATE, B0 = 0.004, -1.0  # frontier: ln rho_max(t) = B0 + RATE * t (t in days since 2023-02-24)


def _fd(names: list[str], t_days: list[float], params: list[float], scores: list[float]) -> FitData:
    n = len(names)
    return FitData(
        benchmarks=["AVERAGE"],
        d0_tokens=5e12,
        ref_bench=np.zeros(2, int),
        ref_params=np.array([1e8, 1e9]),
        ref_tokens=np.array([1e11, 1e11]),
        ref_loss=np.array([3.0, 2.5]),
        link_bench=np.zeros(1, int),
        link_role=np.array(["fit"]),
        link_loss=np.array([2.0]),
        link_score=np.array([30.0]),
        model=np.array(names),
        t_days=np.array(t_days, float),
        params=np.array(params, float),
        params_basis=np.array(["paper"] * n),
        paper_record=np.zeros(n, bool),
        point_density=np.ones(n),
        obs_model=np.arange(n),
        obs_bench=np.zeros(n, int),
        obs_score=np.array(scores, float),
    )


def hand_tree(rate: np.ndarray | None = None, placed_offsets: np.ndarray | None = None) -> xr.DataTree:
    """2 chains x 5 draws; three fitted models and one placed model ('Mine-7B', day 400, 7e9)."""
    chains, n = 2, 5
    shape = (chains, n)
    rate = np.full(shape, RATE) if rate is None else rate.reshape(shape)
    intercept = np.full(shape, B0)
    fitted = _fd(["Old-1B", "Near-8B", "Far-70B"], [0.0, 380.0, 700.0], [1e9, 8e9, 7e10], [20, 40, 60])
    placed = _fd(["Mine-7B"], [400.0], [7e9], [45.0])
    line = intercept + rate * 400.0
    # fitted log densities: constant per model (Near-8B sits 0.2 above the line at day 400)
    log_rho = np.stack([np.full(shape, -2.0), line + 0.2, np.full(shape, 3.0)], axis=-1)
    off = np.linspace(-0.5, 0.5, chains * n).reshape(shape) if placed_offsets is None else placed_offsets
    bench = lambda v: (("chain", "draw", "benchmark"), np.full((*shape, 1), v))  # noqa: E731
    post = xr.Dataset(
        {
            "growth_rate_per_day": (("chain", "draw"), rate),
            "intercept": (("chain", "draw"), intercept),
            "log_density": (("chain", "draw", "model"), log_rho),
            "placed_log_density": (("chain", "draw", "placed_model"), (line + off)[..., None]),
            "loss_a": bench(A),
            "loss_alpha": bench(ALPHA),
            "loss_floor_d0": bench(FLOOR),
            "link_c": bench(C),
            "link_gamma": bench(GAMMA),
            "link_l": bench(L),
            "link_d": bench(D),
            "max_score": bench(D + C / (1 + math.exp(-GAMMA * (L - FLOOR)))),
        },
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(n),
            "model": fitted.model,
            "placed_model": ["Mine-7B"],
            "benchmark": ["AVERAGE"],
        },
    )
    tree = xr.DataTree.from_dict(
        {"posterior": post, "fit_data": fitted.to_dataset(), "placed_data": placed.to_dataset()}
    )
    tree.attrs.update(spec_name="hand", spec_text=load_spec("default").text, seed=1, sampler="{}")
    return tree


def test_place_on_a_hand_posterior():
    r = place.place(hand_tree(), "Mine-7B")
    line = B0 + RATE * 400.0
    off = np.linspace(-0.5, 0.5, 10)
    assert r["placed"] and r["release_date"] == (ORIGIN + dt.timedelta(days=400)).isoformat() == "2024-03-30"
    assert r["frontier_density_at_release"] == {"median": pytest.approx(math.exp(line))} | {
        k: pytest.approx(math.exp(line)) for k in ("hdi_low", "hdi_high")
    }
    assert r["density"]["median"] == pytest.approx(np.median(np.exp(line + off)))
    assert r["ratio_to_frontier"]["median"] == pytest.approx(np.median(np.exp(off)))
    assert r["ratio_to_frontier"]["hdi_low"] >= math.exp(-0.5) - 1e-12
    assert r["effective_params"]["median"] == pytest.approx(7.0 * np.median(np.exp(line + off)))
    assert r["p_above_frontier"] == pytest.approx(0.5)  # 5 of the 10 offsets are > 0
    # rank within +-3 months (day 400 +- 91.3): only Near-8B (day 380), which is 0.2 above the line
    assert r["rank"]["n_compared"] == 1 and r["rank"]["by_median"] == 2
    assert r["rank"]["neighbours"][0]["model"] == "Near-8B"
    assert r["scores"] == [{"benchmark": "AVERAGE", "score": 45.0}]


def test_place_a_fitted_model_and_refuse_an_unknown_one():
    r = place.place(hand_tree(), "Near-8B")
    assert not r["placed"] and r["ratio_to_frontier"]["median"] == pytest.approx(math.exp(0.2 + RATE * 20))
    assert r["p_above_frontier"] == 1.0 and r["rank"]["n_compared"] == 0 and "no fitted model" in r["rank"]["note"]
    with pytest.raises(ValueError, match=r"--model 'mine-7b'.*close names: Mine-7B.*placed models: Mine-7B"):
        place.place(hand_tree(), "mine-7b")


def test_forecast_by_hand():
    r = place.forecast(hand_tree(), date="2026-06-01", params=7e9)
    t = (dt.date(2026, 6, 1) - ORIGIN).days
    assert r["t_days"] == t == 1193
    rho = math.exp(B0 + RATE * t)
    assert r["frontier_density"]["median"] == pytest.approx(rho)
    assert r["effective_params_at_frontier"]["median"] == pytest.approx(7.0 * rho)
    assert r["last_fitted_release"] == "2025-01-24" and "Extrapolation" in r["caveat"]
    assert r["months_beyond_data"] == pytest.approx((t - 700) / 30.44)


def test_forecast_interval_follows_the_rate_draws():
    rate = np.linspace(0.003, 0.005, 10)
    r = place.forecast(hand_tree(rate), date="2025-02-24")
    t = (dt.date(2025, 2, 24) - ORIGIN).days
    assert r["frontier_density"]["median"] == pytest.approx(np.median(np.exp(B0 + rate * t)))
    assert r["frontier_density"]["hdi_low"] >= math.exp(B0 + 0.003 * t) - 1e-9
    assert r["frontier_density"]["hdi_high"] <= math.exp(B0 + 0.005 * t) + 1e-9


def _date_by_hand(score: float, params: float, rate: float) -> float:
    loss = L + math.log(C / (score - D) - 1) / GAMMA  # link inverted
    n_req = ((loss - FLOOR) / A) ** (-1 / ALPHA)  # billions
    return (math.log(n_req * 1e9 / params) - B0) / rate


def test_target_date_by_hand():
    r = place.target_date(hand_tree(), score=60.0, params=7e9)
    t = _date_by_hand(60.0, 7e9, RATE)
    assert r["t_days"]["median"] == pytest.approx(t)
    assert r["date"]["median"] == (ORIGIN + dt.timedelta(days=round(t))).isoformat()
    assert r["p_never"] == 0.0 and r["benchmark"] == "AVERAGE" and "Extrapolation" in r["caveat"]


def test_target_date_with_draws_that_never_get_there():
    rate = np.r_[np.full(8, RATE), -0.001, 0.0]  # 2 of 10 draws: no growth, never
    r = place.target_date(hand_tree(rate), score=60.0, params=7e9)
    assert r["p_never"] == pytest.approx(0.2)
    assert r["date"]["hdi_high"] is None and "unbounded" in r["date"]["null_reasons"]["hdi_high"]
    assert r["t_days"]["median"] == pytest.approx(_date_by_hand(60.0, 7e9, RATE))
    unreachable = place.target_date(hand_tree(), score=99.6, params=7e9)  # above the law's max score, 99.39
    assert unreachable["p_never"] == 1.0 and unreachable["date"]["median"] is None
    with pytest.raises(ValueError, match="--benchmark 'MMLU'.*AVERAGE"):
        place.target_date(hand_tree(), score=60.0, params=7e9, benchmark="MMLU")


def test_with_placed_merges_the_models_for_the_figure():
    merged = place.with_placed(hand_tree())
    assert list(merged["posterior"]["model"].values) == ["Old-1B", "Near-8B", "Far-70B", "Mine-7B"]
    from bayesdense.plots import density_vs_date_data

    d = density_vs_date_data(merged, highlight=["Mine-7B"])
    assert d["highlight"] == ["Mine-7B"] and d["t_days"][-1] == 400.0


def test_cli_place_and_forecast_on_a_saved_hand_posterior(tmp_path, capsys):
    from bayesdense import io

    tree = hand_tree()
    tree["sample_stats"] = xr.DataTree(
        xr.Dataset(
            {"diverging": (("chain", "draw"), np.zeros((2, 5), bool))}, coords={"chain": [0, 1], "draw": range(5)}
        )
    )
    tree.attrs.update(format="bayesdense-result", format_version=1)
    res = io.save(tree, tmp_path / "hand.nc")
    assert main(["place", str(res), "--model", "Mine-7B", "--json"]) == 0
    out = loads_strict(capsys.readouterr().out)
    for key in ("density", "effective_params", "ratio_to_frontier", "frontier_density_at_release"):
        assert set(out[key]) == {"median", "hdi_low", "hdi_high"}
    assert 0 <= out["p_above_frontier"] <= 1
    assert main(["place", str(res), "--model", "Mine"]) == 2
    err = capsys.readouterr().err
    assert "error: --model 'Mine'" in err and "Mine-7B" in err and "Traceback" not in err
    assert main(["forecast", str(res), "--date", "2026-06-01", "--params", "7B"]) == 0
    text = capsys.readouterr().out
    assert "Frontier on 2026-06-01" in text and "94% HDI" in text and "Caveat: Extrapolation" in text
    assert main(["forecast", str(res), "--target-score", "60"]) == 2
    assert "--target-score needs --params" in capsys.readouterr().err


def test_help_teaches_with_examples(capsys):
    for cmd in ("place", "forecast"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "examples:" in capsys.readouterr().out


# --------------------------------------------------------------------------- the spec key and the file
ONE = "model,release_date,params,benchmark,score\n" + "".join(
    f"My-7B,2024-06-01,7200000000,{b},{s}\n"
    for b, s in (("MMLU", 65.2), ("BBH", 48.2), ("MATH", 14.2), ("HumanEval", 30.5), ("MBPP", 42.4))
)


def default_with_extra(tmp_path: Path, csv_text: str | None, name: str = "mine") -> Path:
    """The default spec's text with another name and ``[data] extra_models = "scores.csv"``."""
    text = (SPEC_DIR / "default.toml").read_text()
    text = text.replace('name = "default"', f'name = "{name}"').replace(
        'targets = "paper_implied"\n', 'targets = "paper_implied"\nextra_models = "scores.csv"\n'
    )
    if csv_text is not None:
        (tmp_path / "scores.csv").write_text(csv_text)
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def test_one_placed_model_with_its_average_from_the_five(tmp_path):
    spec = load_spec(default_with_extra(tmp_path, ONE))
    assert spec.data.extra_models == str((tmp_path / "scores.csv").resolve())  # relative to the spec file
    placed = prepare_placed(spec, prepare(spec))
    assert placed is not None and list(placed.model) == ["My-7B"] and placed.params[0] == 7.2e9
    assert placed.obs_score == pytest.approx([np.mean([65.2, 48.2, 14.2, 30.5, 42.4])])
    assert placed.t_days[0] == (dt.date(2024, 6, 1) - ORIGIN).days


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("", r"(?s)scores\.csv.*the file is empty \(spec data.extra_models\)"),  # an empty file
        ("model,release_date,params,benchmark,score\n", r"(?s)scores\.csv.*no data rows"),  # a header alone
        (ONE.replace("My-7B", "MiniCPM3-4B"), r"(?s)scores\.csv.*row 1 \(line 2\), column 'model'.*MiniCPM3-4B"),
        (ONE.replace("My-7B,2024-06-01,7200000000,MBPP,42.4\n", ""), r"My-7B.*no MBPP score to average"),
    ],
)
def test_bad_extra_models_are_refused_before_sampling(tmp_path, monkeypatch, csv_text, expected):
    from bayesdense import fit

    def no_sampling(*a, **k):
        raise AssertionError("sampled")

    monkeypatch.setattr(fit, "sample_model", no_sampling)
    spec = load_spec(default_with_extra(tmp_path, csv_text))
    with pytest.raises(DataError, match=expected):
        fit.fit(spec, profile="fast", progress=False)


def test_extra_models_need_a_frontier_distribution():
    with pytest.raises(SpecError, match="extra_models.*needs layers.kind = 'joint'.*got 'joint', 'records'"):
        parse_spec('name = "x"\n[data]\nextra_models = "s.csv"\n[frontier]\nkind = "records"\n', "x.toml")


# --------------------------------------------------------------------------- end to end (samples)
@pytest.mark.slow
def test_lm_eval_import_fit_place_end_to_end_and_the_frontier_does_not_move(tmp_path, capsys):
    """lm-eval results JSON -> import -> spec with extra_models -> fit (fast) -> place --json; and a
    second fit whose placed model is absurdly dense gives the same growth-rate draws, exactly."""
    from bayesdense import io

    results = write_json(tmp_path / "results_2025-01-01T12-00-00.json", lm_eval_results())
    assert (
        main(
            ["import", "lm-eval", str(results), "--model", "My-7B", "--release-date", "2024-06-01"]
            + ["--params", "7.2e9", "--out", str(tmp_path / "scores.csv")]
        )
        == 0
    )
    spec = default_with_extra(tmp_path, None)
    argv = ["--out", str(tmp_path / "res"), "--profile", "fast", "--no-progress", "--json"]
    assert main(["fit", str(spec), *argv]) == 0
    capsys.readouterr()
    result = tmp_path / "res" / "mine-seed1.nc"
    assert main(["place", str(result), "--model", "My-7B", "--json"]) == 0
    out = loads_strict(capsys.readouterr().out)
    for key in ("density", "effective_params", "ratio_to_frontier", "frontier_density_at_release"):
        assert out[key]["hdi_low"] <= out[key]["median"] <= out[key]["hdi_high"]
    assert 0 <= out["p_above_frontier"] <= 1 and out["placed"] and out["rank"]["n_compared"] > 0
    assert out["release_date"] == "2024-06-01" and out["params"] == 7.2e9

    # an absurdly dense placed model (AVERAGE 70 from 0.5B parameters) ...
    absurd = tmp_path / "absurd"
    absurd.mkdir()
    default_with_extra(
        absurd, "model,release_date,params,benchmark,score\nDense-0.5B,2024-06-01,500000000,AVERAGE,70\n"
    )
    assert main(["fit", str(absurd / "mine.toml"), "--out", str(absurd / "res"), *argv[2:]]) == 0
    capsys.readouterr()
    other = absurd / "res" / "mine-seed1.nc"
    assert main(["place", str(other), "--model", "Dense-0.5B", "--json"]) == 0
    dense = loads_strict(capsys.readouterr().out)
    assert dense["p_above_frontier"] > 0.9  # it really is far above the frontier ...
    a, b = io.load(result)["posterior"], io.load(other)["posterior"]
    for var in ("growth_rate_per_day", "intercept", "loss_alpha", "log_density"):  # ... and moves nothing
        np.testing.assert_array_equal(a[var].values, b[var].values)
