"""Fitting your own models: the ``own_scores`` table kind and ``data.targets = "own_scores"`` (no sampling)."""

from pathlib import Path

import numpy as np
import pytest

from bayesdense import classical, laws
from bayesdense.data import DataError, validate_file
from bayesdense.spec import SpecError, parse_spec

OWN = (
    "model,release_date,params,benchmark,score,source\n"
    "A-7B,2023-07-18,7000000000,MMLU,45.3,tech report\n"
    "A-7B,2023-07-18,7000000000,MATH,4.1,tech report\n"
    "B-8B,2024-04-18,8000000000,MMLU,66.6,model card\n"
    "C-3B,2024-09-25,3210000000,MMLU,58.0,\n"
    "D-9B,2024-06-27,9242164736,MMLU,71.3,model card\n"
)


def spec_for(path: Path, benchmarks: str = '["MMLU"]', extra: str = ""):
    return parse_spec(
        f'name = "own"\n[data]\ntargets = "own_scores"\nscores_file = "{path}"\nbenchmarks = {benchmarks}\n{extra}',
        "own.toml",
    )


@pytest.fixture
def own_csv(tmp_path: Path) -> Path:
    p = tmp_path / "own.csv"
    p.write_text(OWN)
    return p


def test_own_scores_table_validates(own_csv):
    df = validate_file(own_csv, "own_scores")
    assert len(df) == 5 and df["params"].dtype == np.int64 and df["source"].isna().sum() == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("3210000000", "3", r"row 4 \(line 5\), column 'params'.*looks like millions or billions"),
        ("B-8B,2024-04-18,8000000000,MMLU", "B-8B,2024-04-18,8000000000,mmlu", "did you mean 'MMLU'"),
        ("A-7B,2023-07-18,7000000000,MATH", "A-7B,2023-07-19,7000000000,MATH", "column 'release_date': 2023-07-19"),
        ("A-7B,2023-07-18,7000000000,MATH", "A-7B,2023-07-18,7000000000,MMLU", "duplicate of row 1"),
        ("release_date", "date", "column 'release_date' is missing"),
    ],
)
def test_bad_own_scores_name_row_and_column(tmp_path, old, new, expected):
    p = tmp_path / "bad.csv"
    p.write_text(OWN.replace(old, new, 1))
    with pytest.raises(DataError, match=expected):
        validate_file(p, "own_scores")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[data]\ntargets = "own_scores"\n', "scores_file goes with"),
        ('[data]\nscores_file = "x.csv"\n', "scores_file goes with"),
        ('[data]\ntargets = "own_scores"\nscores_file = "x.csv"\nbenchmarks = ["AVERAGE", "MMLU"]\n', "fit it alone"),
        ('[data]\ntargets = "own_scores"\nscores_file = "x.csv"\nparams_basis = "active"\n', "file's params"),
    ],
)
def test_own_scores_spec_errors(text, expected):
    with pytest.raises(SpecError, match=expected):
        parse_spec('name = "x"\n' + text, "x.toml")


def test_prepare_uses_the_file_for_targets_and_shipped_curves(own_csv):
    from bayesdense.inputs import prepare

    fd = prepare(spec_for(own_csv))
    assert list(fd.model) == ["A-7B", "B-8B", "C-3B", "D-9B"]
    assert fd.benchmarks == ["MMLU"] and np.all(fd.ref_bench == 0) and len(fd.ref_loss) > 0
    np.testing.assert_array_equal(fd.params, [7e9, 8e9, 3.21e9, 9242164736])
    assert fd.t_days[0] == 144  # 2023-07-18 is 144 days after 2023-02-24
    np.testing.assert_array_equal(fd.obs_model, [0, 1, 2, 3])
    np.testing.assert_array_equal(fd.obs_score, [45.3, 66.6, 58.0, 71.3])  # the MATH row is not an MMLU score
    mmlu = classical.published_curves()["MMLU"]
    expected = laws.effective_size(np.array([45.3, 66.6, 58.0, 71.3]), mmlu, 5e12) / fd.params
    np.testing.assert_allclose(fd.point_density, expected)  # the paper's recipe on the same scores


def test_prepare_with_two_benchmarks_and_geometric_mean_point_density(own_csv):
    from bayesdense.inputs import prepare

    fd = prepare(spec_for(own_csv, '["MMLU", "MATH"]'))
    assert int(np.sum(fd.obs_model == 0)) == 2  # A-7B has both scores
    c = classical.published_curves()
    rho = [laws.effective_size(s, c[b], 5e12) / 7e9 for b, s in (("MMLU", 45.3), ("MATH", 4.1))]
    assert fd.point_density[0] == pytest.approx(np.sqrt(rho[0] * rho[1]))


def test_no_score_for_the_spec_benchmarks_is_a_data_error(own_csv):
    from bayesdense.inputs import prepare

    with pytest.raises(DataError, match="no scores for the spec's benchmarks \\(BBH\\); the file has MATH, MMLU"):
        prepare(spec_for(own_csv, '["BBH"]'))


def test_own_scores_model_builds_with_finite_gradient(own_csv):
    from bayesdense.inputs import prepare
    from bayesdense.models import build

    spec = spec_for(own_csv)
    model = build(spec, prepare(spec))
    ip = model.initial_point()
    assert np.isfinite(model.compile_logp()(ip))
    assert np.all(np.isfinite(model.compile_dlogp()(ip)))


def test_data_hash_covers_the_own_scores_file(own_csv):
    from bayesdense.data import data_hash
    from bayesdense.fit import DATA_TABLES, data_hash_of
    from bayesdense.spec import load_spec

    # the default spec does not read the per-benchmark score table, so its hash leaves it out
    assert data_hash_of(load_spec("default")) == data_hash(tuple(t for t in DATA_TABLES if t != "scores"))
    assert data_hash_of(load_spec("multibench")) == data_hash(DATA_TABLES)
    before = data_hash_of(spec_for(own_csv))
    assert before != data_hash_of(load_spec("default"))
    own_csv.write_text(OWN.replace("45.3", "45.4"))
    assert data_hash_of(spec_for(own_csv)) != before
