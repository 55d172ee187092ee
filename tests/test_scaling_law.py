"""`bayesdense scaling-law`: runs table -> posterior of the loss law, classical Huber fit, result file.

Default tier: no sampling (validation, the compute-optimal formula, the classical fit, the model's
log density, the JSON contract and the result file on a fake posterior with known draws).
Slow tier: the CLI end to end on a table written from a known law (recovery; outliers)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesdense import classical, io, jsonout, laws, scaling_law
from bayesdense.cli import main
from bayesdense.inputs import D_UNIT, N_UNIT
from bayesdense.models.scaling_law import build, default_priors

# the known law, N in billions and D in trillions
TRUTH = {"E": 1.8, "a": 0.35, "alpha": 0.34, "b": 0.45, "beta": 0.28}


def known_runs(n_runs: int = 36, noise: float = 0.01, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = np.round(np.exp(rng.uniform(np.log(2e7), np.log(3e9), n_runs)))
    d = np.round(n * np.exp(rng.uniform(np.log(5), np.log(200), n_runs)))
    t = TRUTH
    mean = t["E"] + laws.loss_law(n / N_UNIT, d / D_UNIT, t["a"], t["alpha"], t["b"], t["beta"])
    loss = mean * np.exp(rng.normal(0, noise, n_runs))
    return pd.DataFrame({"params": n.astype(np.int64), "tokens": d.astype(np.int64), "loss": np.round(loss, 5)})


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def with_outliers(df: pd.DataFrame) -> pd.DataFrame:
    """Five runs logged 25% too high (diverged or mis-logged), among the largest-compute runs."""
    out = df.copy()
    big = np.argsort(-(out["params"] * out["tokens"]).to_numpy())[:10:2]
    out.loc[big, "loss"] = np.round(out.loc[big, "loss"] * 1.25, 5)
    return out


# ----------------------------------------------------------------------------- bad input files
def _lines(df: pd.DataFrame) -> list[str]:
    return df.to_csv(index=False).splitlines()


@pytest.mark.parametrize(
    ("mutate", "located"),
    [
        # a parameter count in billions on data row 3 (file line 4)
        (
            lambda ls: ls.__setitem__(3, "7.5," + ls[3].split(",", 1)[1]),
            ["row 3 (line 4), column 'params'", "billions"],
        ),
        # a missing loss on row 5
        (lambda ls: ls.__setitem__(5, ls[5].rsplit(",", 1)[0] + ","), ["row 5 (line 6), column 'loss'", "empty"]),
        # a negative loss on row 2
        (lambda ls: ls.__setitem__(2, ls[2].rsplit(",", 1)[0] + ",-1"), ["row 2 (line 3), column 'loss'", "> 0"]),
        # tokens as text on row 1
        (
            lambda ls: ls.__setitem__(1, ls[1].split(",")[0] + ",lots," + ls[1].split(",")[2]),
            ["row 1 (line 2)", "'tokens'"],
        ),
        # a misspelt column
        (
            lambda ls: ls.__setitem__(0, "params,tokens,los"),
            ["column 'los' is not part of a 'reference_runs' table", "'loss'"],
        ),
    ],
)
def test_bad_runs_tables_give_located_errors_and_no_traceback(tmp_path, capsys, mutate, located):
    lines = _lines(known_runs(12))
    mutate(lines)
    f = tmp_path / "runs.csv"
    f.write_text("\n".join(lines) + "\n")
    code = main(["scaling-law", str(f), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(f) in err and "Traceback" not in err
    for piece in located:
        assert piece in err
    assert not (tmp_path / "out").exists()  # refused before any sampling or writing


def test_benchmark_column_needs_one_loss_or_a_choice(tmp_path, capsys):
    df = known_runs(12)
    two = pd.concat([df.assign(benchmark="MMLU"), df.assign(benchmark="BBH")], ignore_index=True)
    f = write(two, tmp_path / "runs.csv")
    assert main(["scaling-law", str(f), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "column 'benchmark'" in err and "MMLU, BBH" in err and "--benchmark" in err
    assert main(["scaling-law", str(f), "--benchmark", "MMLLU", "--out", str(tmp_path / "out")]) == 2
    assert "did you mean 'MMLU'" in capsys.readouterr().err
    assert len(scaling_law.load_runs(f, "BBH")) == 12


def test_tables_that_cannot_identify_the_law_are_refused(tmp_path):
    df = known_runs(12)
    same_ratio = df.assign(tokens=df["params"] * 20)
    with pytest.raises(Exception, match=r"D/N = 20.*cannot be told apart"):
        scaling_law.load_runs(write(same_ratio, tmp_path / "a.csv"))
    with pytest.raises(Exception, match="only 5 run"):
        scaling_law.load_runs(write(df.head(5), tmp_path / "b.csv"))


# ----------------------------------------------------------------------------- the math
def test_compute_optimal_split_minimises_the_law_at_fixed_compute():
    t = TRUTH
    c = 1e23
    n_opt, d_opt = laws.compute_optimal(c, t["a"], t["alpha"], t["b"], t["beta"], n_unit=N_UNIT, d_unit=D_UNIT)
    assert 6 * n_opt * d_opt == pytest.approx(c, rel=1e-12)
    n = np.geomspace(1e8, 1e13, 200_001)
    loss = laws.loss_law(n / N_UNIT, c / 6 / n / D_UNIT, t["a"], t["alpha"], t["b"], t["beta"])
    assert n_opt == pytest.approx(n[np.argmin(loss)], rel=1e-3)
    # units do not matter: the same law in raw counts gives the same split
    a_raw, b_raw = t["a"] * N_UNIT ** t["alpha"], t["b"] * D_UNIT ** t["beta"]
    n_raw, _ = laws.compute_optimal(c, a_raw, t["alpha"], b_raw, t["beta"])
    assert n_raw == pytest.approx(n_opt, rel=1e-9)


def test_classical_huber_fit_recovers_the_law_and_resists_outliers():
    df = known_runs(36, noise=0.003)
    n, d = df["params"].to_numpy(float), df["tokens"].to_numpy(float)
    fit = classical.fit_loss_law_huber(n, d, df["loss"].to_numpy(float), irreducible=True, n_starts=5)
    a, b = laws.rescale_loss_law(fit["a"], fit["alpha"], fit["b"], fit["beta"], N_UNIT, D_UNIT)
    assert fit["E"] == pytest.approx(TRUTH["E"], rel=0.05)
    assert fit["alpha"] == pytest.approx(TRUTH["alpha"], rel=0.1)
    assert fit["beta"] == pytest.approx(TRUTH["beta"], rel=0.05)
    bad = with_outliers(df)["loss"].to_numpy(float)
    huber = classical.fit_loss_law_huber(n, d, bad, irreducible=True, n_starts=5)
    squares = classical.fit_loss_law_huber(n, d, bad, irreducible=True, delta=None, n_starts=5)
    # the outliers drag least squares on log loss; the Huber objective caps their pull
    assert abs(huber["E"] - TRUTH["E"]) < 0.5 * abs(squares["E"] - TRUTH["E"])
    no_e = classical.fit_loss_law_huber(n, d, df["loss"].to_numpy(float), irreducible=False, n_starts=5)
    assert no_e["E"] == 0.0 and no_e["rmse_log_loss"] > fit["rmse_log_loss"]


@pytest.mark.parametrize(
    ("likelihood", "scale", "irreducible"),
    [("normal", "log", True), ("student_t", "loss", True), ("student_t", "log", False)],
)
def test_model_log_density_and_gradient_are_finite(likelihood, scale, irreducible):
    df = known_runs(12)
    y = df["loss"].to_numpy(float)
    priors = default_priors(y, irreducible=irreducible, scale=scale)
    m = build(
        df["params"].to_numpy(float) / N_UNIT,
        df["tokens"].to_numpy(float) / D_UNIT,
        y,
        priors,
        irreducible=irreducible,
        likelihood=likelihood,
        scale=scale,
    )
    ip = m.initial_point()
    fast = {"mode": "FAST_COMPILE"}  # the default (numba) compile takes ~40 s per model on a busy machine
    assert np.isfinite(m.compile_logp(**fast)(ip))
    assert np.all(np.isfinite(m.compile_dlogp(**fast)(ip)))
    names = {v.name for v in m.free_RVs}
    assert ("loss_e" in names) == irreducible and ("student_t_nu" in names) == (likelihood == "student_t")
    # priors are in data units: E's median is half the smallest loss, not a fixed number
    if irreducible:
        assert np.exp(priors["loss_e"]["mu"]) == pytest.approx(y.min() / 2)


# ----------------------------------------------------------------------------- result, JSON, figure (fake posterior)
@functools.cache
def fake_tree(irreducible: bool = True, sd: float = 0.01, draws: int = 250) -> xr.DataTree:
    """A result with known posterior draws (truth x lognormal noise) and a real classical fit."""
    df = known_runs(36)
    rng = np.random.default_rng(0)
    names = {"E": "loss_e", "a": "loss_a", "alpha": "loss_alpha", "b": "loss_b", "beta": "loss_beta"}
    post = xr.Dataset(
        {
            v: (("chain", "draw"), TRUTH[k] * np.exp(rng.normal(0, sd, (2, draws))))
            for k, v in names.items()
            if irreducible or k != "E"
        }
        | {"sigma_log_loss": (("chain", "draw"), 0.01 * np.exp(rng.normal(0, 0.1, (2, draws))))},
        coords={"chain": [0, 1], "draw": np.arange(draws)},
    )
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros((2, draws), bool)),
            "energy": (("chain", "draw"), rng.normal(0, 1, (2, draws))),
        },
        coords={"chain": [0, 1], "draw": np.arange(draws)},
    )
    n, d = df["params"].to_numpy(float), df["tokens"].to_numpy(float)
    classic = classical.fit_loss_law_huber(n, d, df["loss"].to_numpy(float), irreducible=irreducible, n_starts=4)
    return scaling_law.assemble(
        df,
        post,
        stats,
        sampler={"sampler": "numpyro", "chains": 2, "draws": draws, "tune": draws, "profile": "test"},
        priors=default_priors(df["loss"].to_numpy(float), irreducible=irreducible, scale="log"),
        classic=classic,
        irreducible=irreducible,
        likelihood="normal",
        scale="log",
        seed=1,
        source="runs.csv",
    )


def tree_losses(path: Path) -> np.ndarray:
    return np.asarray(io.load_scaling_law(path)["runs"]["loss"])


def test_result_file_round_trip_and_strict_json_contract(tmp_path, capsys):
    path = io.save(fake_tree(), tmp_path / "sl.nc")
    with pytest.raises(io.ResultError, match="scaling-law result"):
        io.load(path)  # `summary` and friends say what the file is
    code = main(["scaling-law", str(path), "--json", "--compute", "1e24", "--out", str(tmp_path / "figs")])
    assert code == 0
    out = capsys.readouterr().out
    s = jsonout.loads_strict(out)  # no NaN/Infinity anywhere
    for k in ("E", "a", "alpha", "b", "beta"):
        iv = s["parameters"][k]
        assert set(iv) == {"median", "hdi_low", "hdi_high"}
        assert iv["hdi_low"] < TRUTH[k] < iv["hdi_high"]
    assert s["interval"] == "94% HDI"
    diag = s["diagnostics"]
    assert {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "failures", "ok"} <= set(diag)
    assert diag["min_ess_bulk_var"] in ("loss_e", "loss_a", "loss_alpha", "loss_b", "loss_beta")
    co = s["compute_optimal"]
    n_true, d_true = laws.compute_optimal(
        1e24, TRUTH["a"], TRUTH["alpha"], TRUTH["b"], TRUTH["beta"], n_unit=N_UNIT, d_unit=D_UNIT
    )
    assert co["params_billions"]["hdi_low"] < n_true / N_UNIT < co["params_billions"]["hdi_high"]
    assert co["tokens_per_param"]["median"] == pytest.approx(d_true / n_true, rel=0.2)
    cl = s["classical"]
    raw = cl["parameters_raw_units"]  # the Huber fit in raw counts, shown in the posterior's units
    assert cl["parameters"]["a"] == pytest.approx(raw["a"] * N_UNIT ** -raw["alpha"], rel=1e-9)
    assert cl["parameters"]["b"] == pytest.approx(raw["b"] * D_UNIT ** -raw["beta"], rel=1e-9)
    assert 0 < cl["parameters"]["E"] < min(tree_losses(path))
    assert Path(s["figure"]).is_file()
    # a fit option with a result file is refused (the file records its own)
    assert main(["scaling-law", str(path), "--likelihood", "student_t", "--out", str(tmp_path)]) == 2
    assert "--likelihood" in capsys.readouterr().err


def test_no_irreducible_term_has_no_E_and_text_output_shows_both_answers(tmp_path, capsys):
    path = io.save(fake_tree(irreducible=False), tmp_path / "sl.nc")
    assert main(["scaling-law", str(path), "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "no irreducible term" in text and "classical (Huber on log loss)" in text and "N_opt" in text
    s = scaling_law.summary(io.load_scaling_law(path))
    assert "E" not in s["parameters"] and "E" not in s["classical"]["parameters"]
    json.loads(jsonout.dumps(s))


def test_figure_data_band_contains_the_true_law():
    tree = fake_tree()
    f = scaling_law.figure_data(tree, compute=1e23)
    lo, mid, hi = f["fitted_band"]
    t = TRUTH
    runs = tree["runs"]
    true = t["E"] + laws.loss_law(
        np.asarray(runs["params"]) / N_UNIT, np.asarray(runs["tokens"]) / D_UNIT, t["a"], t["alpha"], t["b"], t["beta"]
    )
    assert np.all((lo <= true) & (true <= hi))
    assert np.all(np.diff(f["frontier_band"][1]) < 0)  # more compute, lower optimal loss
    assert scaling_law.figure(tree).axes


# ----------------------------------------------------------------------------- end to end (samples)
def _fit_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, table: pd.DataFrame, *extra: str) -> dict:
    f = write(table, tmp_path / "runs.csv")
    args = ["scaling-law", str(f), "--irreducible", "--json", "--profile", "fast", "--out", str(tmp_path), *extra]
    code = main(args)
    assert code == 0
    return jsonout.loads_strict(capsys.readouterr().out)


def _sd_of(s: dict) -> dict[str, float]:
    tree = io.load_scaling_law(s["result_file"])
    return {k: float(tree["posterior"][v].std()) for k, v in scaling_law.PARAM_NAMES.items()}


@pytest.mark.slow
def test_cli_posterior_recovers_a_known_law(tmp_path, capsys):
    s = _fit_json(capsys, tmp_path, known_runs())
    sd = _sd_of(s)
    for k in ("E", "alpha", "beta"):
        assert abs(s["parameters"][k]["median"] - TRUTH[k]) < 3 * sd[k], (k, s["parameters"][k], sd[k])
    assert s["diagnostics"]["divergences"] == 0
    assert Path(s["result_file"]).is_file() and Path(s["figure"]).is_file()
    assert s["prior_check"]["runs_inside"] == s["prior_check"]["n_runs"] == 36  # priors in data units cover them
    assert not [r for r in s["power_scaling"]["rows"] if r["diagnosis"] == "prior-data conflict"]
    assert Path(s["prior_figure"]).is_file()


@pytest.mark.slow
def test_student_t_resists_outliers_that_bias_the_normal_fit(tmp_path, capsys):
    bad = with_outliers(known_runs())
    (tmp_path / "n").mkdir()
    (tmp_path / "t").mkdir()
    normal = _fit_json(capsys, tmp_path / "n", bad)
    robust = _fit_json(capsys, tmp_path / "t", bad, "--likelihood", "student_t")
    sd_t = _sd_of(robust)  # what the runs can resolve, once the outliers are discounted
    err_n = {k: abs(normal["parameters"][k]["median"] - TRUTH[k]) for k in ("E", "alpha", "beta")}
    err_t = {k: abs(robust["parameters"][k]["median"] - TRUTH[k]) for k in ("E", "alpha", "beta")}
    assert all(err_t[k] < 3 * sd_t[k] for k in err_t), (err_t, sd_t)  # Student-t recovers the law
    assert all(err_n[k] > err_t[k] for k in err_t), (err_n, err_t)
    assert max(err_n[k] / sd_t[k] for k in err_n) > 3, (err_n, sd_t)  # the outliers do bias the normal fit


def test_json_stays_strict_with_unbounded_draws(tmp_path, capsys):
    tree = fake_tree().copy(deep=True)
    tree["posterior"]["loss_b"].values[0, :5] = np.inf  # a D-term run off: no NaN/Infinity may reach the JSON
    assert np.isinf(tree["posterior"]["loss_b"].values).sum() == 5
    path = io.save(tree, tmp_path / "inf.nc")
    assert main(["scaling-law", str(path), "--json", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Infinity" not in out and "NaN" not in out
    s = jsonout.loads_strict(out)
    assert "loss_b" in s["diagnostics"]["infinite_draws_in"]


# ----------------------------------------------------------------------------- priors against the runs (#15 item 3)
def _with_centred_terms(tree: xr.DataTree, priors: dict | None = None) -> xr.DataTree:
    """The fake tree with the sampler's own parameters (terms at the runs' centre) and other priors."""
    from bayesdense.models.scaling_law import centre

    out = tree.copy(deep=True)
    runs = out["runs"]
    n_c, d_c = centre(np.asarray(runs["params"]) / N_UNIT, np.asarray(runs["tokens"]) / D_UNIT)
    post = out["posterior"].to_dataset()
    post["n_term_at_centre"] = post["loss_a"] * n_c ** -post["loss_alpha"]
    post["d_term_at_centre"] = post["loss_b"] * d_c ** -post["loss_beta"]
    out["posterior"] = xr.DataTree(post)
    if priors is not None:
        out.attrs["priors"] = json.dumps(priors)
    return out


def test_power_scaling_flags_a_prior_that_pulls_against_the_runs():
    tree = _with_centred_terms(fake_tree())
    ok = scaling_law.power_scaling(tree)
    assert [r["parameter"] for r in ok["rows"]] == ["E", "a", "alpha", "b", "beta"]
    assert not [r for r in ok["rows"] if r["diagnosis"]], ok
    priors = json.loads(str(tree.attrs["priors"]))
    priors["loss_alpha"] = {"dist": "LogNormal", "mu": float(np.log(0.2)), "sigma": 0.05}  # truth 0.34
    bad = scaling_law.power_scaling(_with_centred_terms(fake_tree(), priors))
    row = next(r for r in bad["rows"] if r["parameter"] == "alpha")
    assert row["diagnosis"] in ("prior-data conflict", "strong prior / weak likelihood"), bad
    assert row["prior"] > 10 * next(r for r in ok["rows"] if r["parameter"] == "alpha")["prior"]


def test_prior_check_counts_runs_outside_their_prior_predictive_interval():
    tree = fake_tree().copy(deep=True)
    y = np.asarray(tree["runs"]["loss"], float)
    rng = np.random.default_rng(1)
    draws = np.log(y) + rng.normal(0, 0.5, (1, 500, y.size))  # log scale, as the fit stores it
    tree["prior_predictive"] = xr.DataTree(xr.Dataset({"loss_obs": (("chain", "draw", "run"), draws)}))
    pc = scaling_law.prior_check(tree)
    assert (pc["runs_inside"], pc["n_runs"]) == (y.size, y.size)
    runs = tree["runs"].to_dataset()
    runs["loss"] = runs["loss"].copy(data=np.where(np.arange(y.size) == 3, y * 10, y))  # far above its band
    tree["runs"] = xr.DataTree(runs)
    pc = scaling_law.prior_check(tree)
    assert pc["runs_inside"] == y.size - 1 and pc["outside"] == [3]
    assert scaling_law.prior_figure(tree) is not None
    assert scaling_law.prior_check(fake_tree()) is None  # a result without prior draws: nothing claimed
