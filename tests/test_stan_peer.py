"""Slow tier: the Stan program of the default model (benchmarks/stan/densing_default.stan, used by
benchmarks/bench_peers.py to compare samplers) is the PyMC model bayesdense builds.

Stan's log density with the Jacobian of its constraint transforms and PyMC's ``compile_logp()``
(value variables, Jacobian included) must differ by one constant at every point: the log 2 of each
half-normal prior, which Stan's normal_lpdf on a <lower=0> parameter does not add. Needs pystan
(``import stan``), which is not a bayesdense dependency: skipped without it. To run it:

    .venv-peers/bin/python -m pytest -m slow tests/test_stan_peer.py

(.venv-peers: see ``benchmarks/bench_peers.py --help``). The first run compiles the program
(~1-2 min); httpstan caches the build, so later runs and other data take seconds.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow
stan = pytest.importorskip("stan", reason="pystan is not installed (see benchmarks/bench_peers.py --help)")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import stan_data  # noqa: E402

N_POINTS = 5


@pytest.fixture(scope="module")
def setup():
    return _setup()


def _setup(jitter: float = 0.03):
    from bayesdense import inputs, laws, models
    from bayesdense.spec import load_spec

    spec = load_spec("default")
    fd = inputs.prepare(spec)
    model = models.build(spec, fd)
    logp = model.compile_logp(jacobian=True)
    data = stan_data.stan_data(spec, fd)
    posterior = stan_data.build(data)

    # points near the posterior: the paper's curves (in the model's units), the densities they
    # imply (fd.point_density), a frontier line through them; then small random moves of everything
    (bench,) = fd.benchmarks
    c = inputs.family_curves(spec)[bench]
    a, b = laws.rescale_loss_law(c.a, c.alpha, c.b, c.beta, inputs.N_UNIT, inputs.D_UNIT)
    log_rho = np.log(fd.point_density)
    tau = np.asarray(data["tau"])
    slope, mid = np.polyfit(tau, log_rho, 1)
    one = np.ones(1)
    base = {
        "growth_rate_per_year": np.array(slope),
        "frontier_log_density_mid": np.array(mid + 0.3),
        "frontier_omega_log__": np.array(np.log(0.5)),
        "frontier_lambda_log__": np.array(np.log(1.5)),
        "log_density": log_rho,
        "loss_a_log__": np.log(a) * one,
        "loss_alpha_log__": np.log(c.alpha) * one,
        "loss_b_log__": np.log(b) * one,
        "loss_beta_log__": np.log(c.beta) * one,
        "loss_sd_log_log__": np.log(0.02) * one,
        "link_gamma_log__": np.log(c.gamma) * one,
        "link_l": c.l * one,
        "link_floor_offset": (c.d - spec.layers.chance_score[bench]) * one,
        "link_sd_log__": np.log(1.5) * one,
    }
    assert set(base) == {v.name for v in model.value_vars}
    rng = np.random.default_rng(17)
    points = [base]
    for _ in range(N_POINTS - 1):
        points.append(
            {k: v + rng.normal(0, jitter / 5 if k == "log_density" else jitter, np.shape(v)) for k, v in base.items()}
        )
    return {"fd": fd, "logp": logp, "data": data, "posterior": posterior, "points": points}


def _tolerance(pymc):
    """Rounding of two log densities summed in different orders: ~1e-11 of their size here."""
    return 1e-9 * (1 + np.max(np.abs(pymc)))


def _differences(posterior, logp, points):
    pymc = np.array([float(logp(p)) for p in points])
    stan_lp = np.array([posterior.log_prob(stan_data.stan_unconstrained(p).tolist()) for p in points])
    return pymc, pymc - stan_lp


def test_parameters_map_onto_stans_unconstrained_vector(setup):
    """PyMC's value variables (log__ for positive parameters) are Stan's unconstrained parameters,
    in the program's declaration order: checked against Stan's own transform of the constrained values."""
    post = setup["posterior"]
    for p in setup["points"]:
        ours = stan_data.stan_unconstrained(p)
        theirs = np.asarray(post.unconstrain_pars(stan_data.pymc_point_to_stan(p)))
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_log_density_equals_pymcs_up_to_the_half_normal_constant(setup):
    pymc, diff = _differences(setup["posterior"], setup["logp"], setup["points"])
    assert np.all(np.isfinite(pymc)) and np.ptp(pymc) > 10, pymc  # the points differ in log density
    tol = _tolerance(pymc)
    assert np.ptp(diff) < tol, diff
    np.testing.assert_allclose(diff, stan_data.log2_offset(setup["fd"]), rtol=0, atol=tol)


@pytest.mark.parametrize(
    "key, value",
    [("loss_alpha_sigma", [0.11]), ("omega_sigma", 2.0), ("score_sd", [1.0]), ("chance", [10.5])],
)
def test_a_changed_prior_or_likelihood_is_caught(setup, key, value):
    """The check has power: the same program on data with one prior scale, the score error or the
    link's floor changed (no recompile: these are data) no longer differs by a constant."""
    data = {**setup["data"], key: value}
    post = stan_data.build(data)
    pymc, diff = _differences(post, setup["logp"], setup["points"])
    assert np.ptp(diff) > 10 * _tolerance(pymc), diff


def test_the_dense_metric_driver_is_stan_as_pystan_runs_it(setup, tmp_path):
    """benchmarks/stan/nuts_driver.cpp (Stan's dense-metric NUTS for bench_peers, which pystan lacks),
    run with the diagonal metric, draws what pystan draws with the same seed: the same Stan, service
    function, defaults and seeding; only the CSV's 12 printed digits differ. The first run compiles
    the driver (~1-2 min; cached by bench_peers.build_driver)."""
    import json
    import subprocess

    import bench_peers
    import httpstan.cache

    from bayesdense.fit import CACHE_DIR

    exe, _, _ = bench_peers.build_driver(CACHE_DIR / "stan_nuts_driver")
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(setup["data"]))
    seed, chains, warmup, draws = 3, 2, 100, 100
    cmd = [str(exe), "diag_e", str(data_file), str(tmp_path / "d"), str(seed), str(chains), str(warmup), str(draws)]
    subprocess.run(
        [*cmd, str(bench_peers.STAN_DELTA), str(bench_peers.STAN_MAX_DEPTH), "2"], check=True, capture_output=True
    )
    driver, _ = bench_peers._from_csv([tmp_path / f"d-{c + 1}.csv" for c in range(chains)], setup["fd"])

    post = stan_data.build(setup["data"], seed=seed)
    for f in httpstan.cache.model_directory(post.model_name).rglob("*.jsonlines.gz"):
        f.unlink()  # a cached fit of the same seed would be returned without sampling
    fit = post.sample(num_chains=chains, num_samples=draws, num_warmup=warmup)
    pystan_draws, _ = bench_peers._from_pystan(fit, setup["fd"])
    assert float(pystan_draws["growth_rate_per_day"].std()) > 0  # the chains moved
    for v in bench_peers.SHARED:
        np.testing.assert_allclose(driver[v].values, pystan_draws[v].values, rtol=1e-9, atol=1e-12, err_msg=v)
