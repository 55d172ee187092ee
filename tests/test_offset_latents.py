"""Offset latents (``build(..., offset_latents=True)``): log rho = g(curves, scores) + offset is the
model as written, reparametrised with unit Jacobian, so its log density at (curves, offset) equals
the written model's at (curves, log rho) exactly, and log rho moves one for one with the offset."""

import numpy as np
import pytest

from bayesdense import inputs
from bayesdense.models import build
from bayesdense.spec import load_spec


def _spec(name: str):  # type: ignore[no-untyped-def]
    spec = load_spec("default")
    if name == "sf_exponential":  # exponential inefficiency: the latent sampled is -log rho
        spec = spec.model_copy(update={"frontier": spec.frontier.model_copy(update={"inefficiency": "exponential"})})
    return spec


def _fn(model, outs):  # type: ignore[no-untyped-def]
    outs = model.replace_rvs_by_values(outs if isinstance(outs, list) else [outs])
    return model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore", point_fn=True, mode="FAST_COMPILE")


def _pair(name: str, **kw):  # type: ignore[no-untyped-def]
    spec = _spec(name)
    fd = inputs.prepare(spec)
    return build(spec, fd, **kw), build(spec, fd, offset_latents=True, **kw)


def _points(model, n: int, seed: int) -> list[dict[str, np.ndarray]]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    ip = model.initial_point()
    return [{k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in ip.items()} for _ in range(n)]


@pytest.mark.parametrize("spec_name", ["default", "sf_exponential"])
def test_same_log_density_as_the_written_model(spec_name: str) -> None:
    """At matched points both parametrisations have the same log density (to rounding): no term
    lost or doubled, the frontier term on log rho with the right sign."""
    written, offset = _pair(spec_name)
    assert "log_density_offset" in offset.named_vars and "log_density_offset" not in written.named_vars
    lp_w, lp_o = (m.compile_logp(mode="FAST_COMPILE") for m in (written, offset))
    log_rho = _fn(offset, offset["log_density"])
    for pt in _points(offset, 5, seed=3):
        w_pt = {k: v for k, v in pt.items() if k != "log_density_offset"}
        rho = log_rho(pt)[0]
        if "log_density" in written.named_vars and written["log_density"] in written.free_RVs:
            w_pt["log_density"] = rho
        else:  # the exponential-inefficiency frontier samples -log rho
            w_pt["neg_log_density"] = -rho
        assert np.isfinite(lp_o(pt))
        # abs 1e-2: PyMC writes the skew term as log(1 + erf), which loses ~1e-4 nats a model where
        # erf is near -1 (these jittered points reach there); the offset model's term is exact
        assert lp_o(pt) == pytest.approx(lp_w(w_pt), rel=0, abs=1e-2)


def test_log_density_moves_one_for_one_with_the_offset() -> None:
    """d log rho / d offset is the identity (the unit Jacobian the equality above relies on)."""
    _, offset = _pair("default")
    log_rho = _fn(offset, offset["log_density"])
    pt = _points(offset, 1, seed=4)[0]
    base = log_rho(pt)[0]
    for j in (0, 7, len(base) - 1):
        moved = {**pt, "log_density_offset": pt["log_density_offset"].copy()}
        moved["log_density_offset"][j] += 0.25
        diff = log_rho(moved)[0] - base
        expect = np.zeros_like(base)
        expect[j] = 0.25
        np.testing.assert_allclose(diff, expect, atol=1e-12)


def test_offsets_centre_the_latents_on_the_scores() -> None:
    """With zero offsets each model sits where its score puts it under the curves: the predicted
    score equals the observed one (up to the clipping of g, which these points never reach)."""
    _, offset = _pair("default")
    ip = offset.initial_point()
    ip["log_density_offset"] = np.zeros_like(ip["log_density_offset"])
    spec = load_spec("default")
    fd = inputs.prepare(spec)
    from bayesdense import laws

    names = ("log_density", "loss_a", "loss_alpha", "loss_floor_d0", "link_c", "link_gamma", "link_l", "link_d")
    vals = _fn(offset, [offset[v] for v in names])(ip)
    rho, a, alpha, floor, c, gamma, l_mid, d = (np.asarray(v) for v in vals)
    log_n_eff = np.log(fd.params / inputs.N_UNIT) + rho
    ob, om = fd.obs_bench, fd.obs_model
    score = laws.link(a[ob] * np.exp(-alpha[ob] * log_n_eff[om]) + floor[ob], c[ob], gamma[ob], l_mid[ob], d[ob])
    inside = (fd.obs_score - d[ob]) / c[ob]
    ok = (inside > 0.02) & (inside < 0.98)
    assert ok.sum() > 10
    np.testing.assert_allclose(score[ok], fd.obs_score[ok], atol=0.05)


def test_gradient_finite_far_from_the_frontier() -> None:
    """Offset latents can start far from the frontier line (where the curves put them): the log
    density and its gradient stay finite there (PyMC's skew-normal log(1 + erf) gives NaN)."""
    _, offset = _pair("default")
    pt = offset.initial_point()
    pt["log_density_offset"] = pt["log_density_offset"] + 40.0
    pt["frontier_lambda_log__"] = np.asarray(3.0)
    lp = offset.compile_logp(mode="FAST_COMPILE")(pt)
    grad = offset.compile_dlogp(mode="FAST_COMPILE")(pt)
    assert np.isfinite(lp) and lp < -1e3
    assert np.all(np.isfinite(grad))


def test_log_ndtr_matches_scipy() -> None:
    """The skew term's log Phi, on both sides of its switch to the asymptotic series."""
    import pytensor.tensor as pt
    from scipy.special import log_ndtr

    from bayesdense.models.densing import _log_ndtr

    u = np.concatenate([np.linspace(-60, -20.5, 40), np.linspace(-19.5, 6, 60)])
    x = pt.dvector("x")
    got = _log_ndtr(x).eval({x: u})
    np.testing.assert_allclose(got, log_ndtr(u), rtol=0, atol=1e-6)


def _subset_spec(name: str):  # type: ignore[no-untyped-def]
    from bayesdense import sensitivity
    from bayesdense.spec import parse_spec

    texts = {n: t for _, n, t in sensitivity.variants(load_spec("default"), "benchmarks")}
    return parse_spec(texts[name], name)


@pytest.mark.parametrize("shared", [False, True])
def test_laplace_latents_are_the_written_model_plus_their_jacobian(shared: bool) -> None:
    """``offset_latents="laplace"``: log rho = centre(globals) + scale(globals) * z. At matched points
    its log density is the written model's plus sum(log scale) (the Jacobian, a Potential of its
    own), on a subset whose score error is sampled, with several scores for some models."""
    spec = _subset_spec("MMLU+BBH+HumanEval")
    fd = inputs.prepare(spec)
    written = build(spec, fd, shared=shared)
    laplace = build(spec, fd, shared=shared, offset_latents="laplace")
    jac = next(p for p in laplace.potentials if p.name == "log_density_jacobian")
    lp_w, lp_l = (m.compile_logp(mode="FAST_COMPILE") for m in (written, laplace))
    rho_and_jac = _fn(laplace, [laplace["log_density"], jac])
    checked = 0
    for pt in _points(laplace, 6, seed=5):
        rho, log_jac = rho_and_jac(pt)
        w_pt = {k: v for k, v in pt.items() if k != "log_density_offset"}
        w_pt["log_density"] = rho
        if not np.isfinite(lp_w(w_pt)):  # PyMC's log(1 + erf) underflows far below the frontier
            continue
        assert abs(float(log_jac)) > 1.0  # the Jacobian is not trivially zero here
        assert lp_l(pt) - log_jac == pytest.approx(lp_w(w_pt), rel=0, abs=1e-2)
        # and the Potential is the true log Jacobian: log rho is linear in z, d rho_j / d z_j = scale_j
        moved = {**pt, "log_density_offset": pt["log_density_offset"] + 1.0}
        slopes = rho_and_jac(moved)[0] - rho
        assert np.all(slopes > 0)
        assert float(np.sum(np.log(slopes))) == pytest.approx(float(log_jac), rel=1e-9, abs=1e-9)
        checked += 1
    assert checked >= 3


def test_laplace_scale_shrinks_with_the_score_error() -> None:
    """The scale of each latent follows its conditional posterior: a model pinned by its scores has
    a scale proportional to the score error when that is small (the funnel the form removes)."""
    spec = _subset_spec("MATH+MBPP")
    fd = inputs.prepare(spec)
    laplace = build(spec, fd, offset_latents="laplace")
    scale = _fn(laplace, laplace["log_density_jacobian"])
    pt = laplace.initial_point()
    small = {**pt, "score_sd_log__": pt["score_sd_log__"] + np.log(0.01)}
    smaller = {**pt, "score_sd_log__": pt["score_sd_log__"] + np.log(0.001)}
    n_models = fd.n_models
    # sum(log scale) falls by ln(10) per model when every score error falls tenfold
    drop = float(scale(small)[0] - scale(smaller)[0])
    assert drop == pytest.approx(n_models * np.log(10.0), rel=0.02)
