"""Many models (issue: leaderboard scale): from ``LARGE_FIT`` target models on, ``fit`` samples the
latents in the Laplace form with a mass matrix dense over the globals and diagonal over the latents.
The posterior must be the one the default computation gives (checked on the 51 shipped models, where
both run), and the per-model sums must not build anything of size models x observations."""

import numpy as np
import pytest

from bayesdense import fit, inputs, models, quantities
from bayesdense.models.densing import _per_model
from bayesdense.spec import load_spec


def test_per_model_sum_is_a_scatter_add() -> None:
    """Each model's sum over its own observations, repeated and unsorted model indices included."""
    rng = np.random.default_rng(0)
    om = rng.integers(0, 7, 40)
    om[:7] = np.arange(7)  # every model has at least one observation
    v = rng.normal(size=40)
    got = _per_model(v, om, 7).eval()
    want = np.array([v[om == i].sum() for i in range(7)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_large_fits_switch_to_laplace_latents() -> None:
    spec = load_spec("default")
    assert models.latent_form(spec, 51) is True  # the computation the recorded calibration checked
    assert models.latent_form(spec, models.LARGE_FIT) == "laplace"
    quantile = spec.model_copy(update={"frontier": spec.frontier.model_copy(update={"kind": "quantile"})})
    assert models.latent_form(quantile, 10 * models.LARGE_FIT) is True  # no frontier moments written


def _summary(tree) -> tuple[dict[str, float], dict[str, float]]:  # type: ignore[no-untyped-def]
    """Posterior mean and Monte Carlo standard error of the growth rate and each latent density."""
    import arviz as az

    post = tree["posterior"].to_dataset()[["growth_rate_per_day", "log_density"]]
    mean = post.mean(("chain", "draw"))
    mcse = az.mcse(post, method="mean")
    flat_m = {"rate": float(mean["growth_rate_per_day"])}
    flat_e = {"rate": float(mcse["growth_rate_per_day"])}
    for i, m in enumerate(mean["log_density"].values):
        flat_m[f"rho{i}"], flat_e[f"rho{i}"] = float(m), float(mcse["log_density"].values[i])
    return flat_m, flat_e


@pytest.mark.slow
def test_large_fit_computation_gives_the_default_posterior(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the 51 shipped models, the large-fit computation (Laplace latents, block mass matrix) and
    the default (offset latents, dense mass matrix) agree on the growth rate and every latent
    density's posterior mean within Monte Carlo error: |difference| < 4.2 combined MCSE, the
    two-sided 0.05 family-wise bound over the 52 comparisons (Bonferroni, normal MCSE)."""
    spec = load_spec("default")
    default = fit.fit(spec, seed=3, progress=False, prior=False)
    monkeypatch.setattr(models, "LARGE_FIT", 10)
    monkeypatch.setattr(models.densing, "LARGE_FIT", 10)
    large = fit.fit(spec, seed=4, progress=False, prior=False)
    assert "mass_matrix" in large.attrs["sampler"] and "mass_matrix" not in default.attrs["sampler"]
    for tree in (default, large):
        assert quantities.diagnostics(tree)["ok"]
    (m0, e0), (m1, e1) = _summary(default), _summary(large)
    z = {k: abs(m0[k] - m1[k]) / np.hypot(e0[k], e1[k]) for k in m0}
    worst = max(z, key=z.get)  # type: ignore[arg-type]
    assert z[worst] < 4.2, f"{worst}: {z[worst]:.1f} combined MCSE apart"
    assert len(inputs.prepare(spec).params) == 51
