import numpy as np
import pytest

from bayesdense.spec import SpecError, load_spec, parse_spec, shipped_specs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\n[frontier]\nkindd = "records"\n', r"frontier.kindd: unknown key \(did you mean 'kind'\?\)"),
        ('name = "x"\n[data]\nd0_tokens = "lots"\n', "data.d0_tokens"),
        ('name = "x"\n[data]\nd0_tokens = 0\n', r"data.d0_tokens: D0 must be a finite number of tokens"),
        ('name = "x"\n[priors]\nscore_sd = { dist = "HalfNormal", sigma = -1 }\n', "must be > 0"),
        ('name = "x"\n[priors]\nscore_sdd = { dist = "HalfNormal", sigma = 1 }\n', "did you mean 'score_sd'"),
        ('name = "x"\n[frontier]\nkind = "quantile_regression"\n', "frontier.kind"),
        ('name = "x"\nname2 = 3\n', "name2: unknown key"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_bad_specs_name_the_key(text, expected):
    with pytest.raises(SpecError, match=expected) as e:
        parse_spec(text, "bad.toml")
    assert "bad.toml" in str(e.value)


def test_unknown_spec_name_suggests_a_close_one():
    with pytest.raises(SpecError, match="did you mean 'records'"):
        load_spec("recods")


@pytest.mark.parametrize("name", sorted(shipped_specs()))
# the leaderboard specs drop its entries that score below chance, with a warning (data.below_chance)
@pytest.mark.filterwarnings("ignore:.*below their benchmark's chance level:UserWarning")
def test_every_shipped_spec_builds_with_finite_logp_and_gradient(name):
    from bayesdense.inputs import prepare
    from bayesdense.models import build

    spec = load_spec(name)
    fd = prepare(spec)
    model = build(spec, fd)
    ip = model.initial_point()
    assert np.isfinite(model.compile_logp()(ip))
    grad = model.compile_dlogp()(ip)
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_simulated_spec_carries_its_truth_and_missing_cells():
    from bayesdense.inputs import prepare

    fd = prepare(load_spec("multibench_simulated"))
    assert "log_density" in fd.truth and len(fd.truth["log_density"]) == fd.n_models
    per_model = np.bincount(fd.obs_model, minlength=fd.n_models)
    assert per_model.min() >= 1 and per_model.max() <= 5 and len(fd.obs_score) < 5 * fd.n_models


def test_subset_models_keeps_observations_aligned():
    from bayesdense.inputs import prepare

    fd = prepare(load_spec("multibench_simulated"))
    keep = np.arange(fd.n_models) % 3 == 0
    sub = fd.subset_models(keep)
    assert list(sub.model) == list(fd.model[keep])
    for k in range(len(sub.obs_score)):
        name = sub.model[sub.obs_model[k]]
        orig = np.flatnonzero((fd.model[fd.obs_model] == name) & (fd.obs_bench == sub.obs_bench[k]))
        assert fd.obs_score[orig[0]] == sub.obs_score[k]


def test_published_scores_spec_uses_every_sourced_score():
    from bayesdense.data import load_table
    from bayesdense.inputs import prepare

    fd = prepare(load_spec("multibench"))
    sc = load_table("scores")
    assert len(fd.obs_score) == len(sc)  # every Fig. 1 model with a score has a parameter count
    assert np.bincount(fd.obs_model, minlength=fd.n_models).min() >= 1


def test_params_basis_changes_only_the_moe_denominators():
    from bayesdense.inputs import prepare

    paper = prepare(load_spec("default"))
    active = prepare(
        parse_spec(load_spec("default").text.replace("d0_tokens = 5e12", 'd0_tokens = 5e12\nparams_basis = "active"'))
    )
    changed = paper.model[paper.params != active.params]
    assert set(changed) == {"Mixtral-8x7B", "DeepSeek-MoE-16B", "Mixtral-8x22B", "DeepSeek-V2-Lite"}
    assert np.all(active.params <= paper.params)
    np.testing.assert_array_equal(paper.obs_score, active.obs_score)  # the data do not change


def test_a_score_beyond_the_reference_laws_reach_keeps_the_model_finite():
    from bayesdense.inputs import prepare
    from bayesdense.models import build

    spec = load_spec("default")
    fd = prepare(spec)
    fd.obs_score = fd.obs_score.copy()
    fd.obs_score[0] = 99.5  # above every reachable score at D0
    model = build(spec, fd)
    ip = model.initial_point()
    assert np.isfinite(model.compile_logp()(ip)) and np.all(np.isfinite(model.compile_dlogp()(ip)))


def test_irreducible_loss_option_builds_and_moves_the_floor():
    from bayesdense.inputs import prepare
    from bayesdense.models import build

    text = load_spec("default").text.replace('kind = "joint"', 'kind = "joint"\nirreducible_loss = true')
    spec = parse_spec(text)
    model = build(spec, prepare(spec))
    assert "loss_e" in model.named_vars
    ip = model.initial_point()
    assert np.isfinite(model.compile_logp()(ip)) and np.all(np.isfinite(model.compile_dlogp()(ip)))
