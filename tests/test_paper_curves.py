"""layers.curves = "paper": the reference curves held at the paper's published values (issue 17,
finding 16), in the model's units, and refused where they cannot apply."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdense import classical, laws, models
from bayesdense.inputs import prepare
from bayesdense.spec import SpecError, parse_spec

SPEC = 'name = "x"\n[data]\ntargets = "published_scores"\nbenchmarks = ["MMLU", "BBH"]\n[layers]\ncurves = "paper"\n'


def test_the_model_holds_the_published_curves_in_its_units():
    spec = parse_spec(SPEC, "x.toml")
    fd = prepare(spec)
    m = models.build(spec, fd, offset_latents=models.latent_form(spec, fd.n_models))
    curve_vars = {"loss_a", "loss_alpha", "loss_b", "loss_beta", "link_gamma", "link_l", "link_floor_offset"}
    assert not curve_vars & {v.name for v in m.free_RVs}  # nothing of the curves is sampled
    assert curve_vars <= {v.name for v in m.deterministics}  # but kept in the result, for summary and plots
    names = ["link_d", "link_c", "loss_floor_d0"]
    f = m.compile_fn(
        m.replace_rvs_by_values([m[n] for n in names]), inputs=m.value_vars, point_fn=False, on_unused_input="ignore"
    )
    point = m.initial_point()
    d, c, floor = f(*[point[v.name] for v in m.value_vars])
    pub = classical.published_curves()
    for j, b in enumerate(fd.benchmarks):
        p = pub[b]
        assert d[j] == pytest.approx(p.d) and c[j] == pytest.approx(p.c), b
        assert floor[j] == pytest.approx(laws.loss_floor(fd.d0_tokens, p.b, p.beta)), b


def test_the_published_loss_law_survives_the_unit_change():
    from bayesdense.inputs import D_UNIT, N_UNIT, paper_curves

    spec = paper_curves(parse_spec(SPEC, "x.toml"))
    p = classical.published_curves()["BBH"]
    v = {k: spec.prior(k, "BBH").value for k in ("loss_a", "loss_alpha", "loss_b", "loss_beta")}
    for n, d in ((1e9, 1e12), (7e9, 5e12), (70e9, 15e12)):
        want = laws.loss_law(n, d, p.a, p.alpha, p.b, p.beta)
        got = laws.loss_law(n / N_UNIT, d / D_UNIT, v["loss_a"], v["loss_alpha"], v["loss_b"], v["loss_beta"])
        assert np.isclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[benchmark_priors.MMLU]\nloss_alpha = { dist = "LogNormal", mu = -2.3, sigma = 0.1 }\n',
            "remove benchmark_priors.MMLU.loss_alpha",
        ),
        ('[priors]\nlink_ceiling_frac = { dist = "Fixed", value = 1.0 }\n', "remove priors.link_ceiling_frac"),
    ],
)
def test_a_curve_prior_beside_the_paper_curves_is_refused(extra, expected):
    with pytest.raises(SpecError, match=expected):
        parse_spec(SPEC + extra, "x.toml")


def test_the_paper_curves_need_the_papers_family():
    with pytest.raises(SpecError, match="layers.curves = 'paper' holds the paper's published curves"):
        parse_spec(SPEC.replace('curves = "paper"\n', 'curves = "paper"\nhierarchical = true\n'), "x.toml")


def test_spec_show_prints_the_held_curves_not_their_unused_priors(capsys):
    from bayesdense.cli import main

    assert main(["spec", "show", "leaderboard"]) == 0
    out = capsys.readouterr().out
    p = classical.published_curves()["MMLU"]
    assert f"MMLU: loss_a = {p.a * 1e9**-p.alpha:.6g}, loss_alpha = {p.alpha:.6g}" in out
    assert "#   loss_alpha =" not in out and "#   growth_rate_per_year =" in out
