"""A reference family of your own: runs and link points through spec keys alone (issue #15 item 1).

The example under examples/own_family/ is simulated from a known truth by
tools/make_own_family_example.py (the law E = 1.8, alpha = 0.34, beta = 0.28; a link on a
four-choice benchmark "QA"; 16 target models whose frontier doubles every 150 days).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pymc as pm
import pytest

from bayesdense import laws
from bayesdense.inputs import family_curves, prepare, reference_priors, reference_tables
from bayesdense.models import build
from bayesdense.spec import SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "own_family"


def _generator():
    from fakes import load_tool

    return load_tool("make_own_family_example")


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "family"
    shutil.copytree(EXAMPLE, out)
    return out


def _cli(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bayesdense.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )


# ----------------------------------------------------------------------------- the example
def test_shipped_example_is_the_generators_output(tmp_path):
    gen = _generator()
    written = gen.write(tmp_path / "x")
    assert {p.name for p in written} == {p.name for p in EXAMPLE.iterdir()}
    for p in written:
        assert p.read_bytes() == (EXAMPLE / p.name).read_bytes(), f"{p.name} differs: rerun the generator"


def test_prepare_reads_your_runs_and_link_points_relative_to_the_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the spec's relative paths are its folder's, not the working directory's
    spec = load_spec(EXAMPLE / "spec.toml")
    fd = prepare(spec)
    gen = _generator().tables()
    assert fd.benchmarks == ["QA"]
    np.testing.assert_array_equal(fd.ref_loss, gen["runs"]["loss"].to_numpy())
    np.testing.assert_array_equal(fd.link_loss, gen["link"]["loss"].to_numpy())
    assert (fd.link_role == "heldout").sum() == 4
    assert list(fd.model) == list(gen["scores"]["model"])
    # the paper's recipe on your family: its least-squares curves, not the paper's
    truth = gen["truth"]["log_density"].to_numpy()
    assert np.median(np.abs(np.log(fd.point_density) - truth)) < 0.2


def test_a_runs_table_without_a_benchmark_column_is_the_specs_one_benchmark(tmp_path):
    d = _copy(tmp_path)
    runs = (d / "runs.csv").read_text().splitlines()
    (d / "runs.csv").write_text("\n".join(line.split(",", 1)[1] for line in runs) + "\n")
    ref, _ = reference_tables(load_spec(d / "spec.toml"))
    assert set(ref["benchmark"]) == {"QA"} and len(ref) == 36


def test_the_classical_curves_carry_the_irreducible_loss():
    curves = family_curves(load_spec(EXAMPLE / "spec.toml"))["QA"]
    assert curves.e == pytest.approx(1.8, rel=0.05)
    assert curves.alpha == pytest.approx(0.34, rel=0.15)


def test_effective_size_inverts_a_law_with_an_irreducible_loss():
    c = laws.Curves(a=350.0, alpha=0.34, b=450.0, beta=0.28, c=75.0, gamma=6.0, l=2.6, d=25.0, e=1.8)
    n = np.array([3e8, 3e9, 3e10])
    score = c.score_at(n, 5e12)
    np.testing.assert_allclose(laws.effective_size(score, c, 5e12), n, rtol=1e-8)
    assert c.max_score(5e12) == pytest.approx(float(c.score_from_loss(1.8 + 450.0 * 5e12**-0.28)))


# ----------------------------------------------------------------------------- priors in your units
def test_priors_scale_to_your_family_unless_the_spec_sets_them():
    spec = load_spec(EXAMPLE / "spec.toml")
    fd = prepare(spec)
    scaled = reference_priors(spec, fd)
    fit = fd.link_role == "fit"
    assert scaled.prior("link_l", "QA").mu == pytest.approx(np.median(fd.link_loss[fit]))
    assert scaled.prior("loss_a", "QA").mu == pytest.approx(np.log(np.median(fd.ref_loss) / 2))
    assert reference_priors(spec) == scaled  # from the files when no FitData is at hand
    text = spec.text + '\n[benchmark_priors.QA]\nlink_l = { dist = "Normal", mu = 3.0, sigma = 0.1 }\n'
    own = parse_spec(text, base_dir=EXAMPLE)
    assert reference_priors(own, fd).prior("link_l", "QA").mu == 3.0
    paper = load_spec("default")
    assert reference_priors(paper) is paper


def test_the_model_is_built_with_the_scaled_priors():
    spec = load_spec(EXAMPLE / "spec.toml")
    fd = prepare(spec)
    model = build(spec, fd)
    draws = pm.draw(model["link_l"], draws=4000, random_seed=1)
    fit = fd.link_role == "fit"
    centre, sd = np.median(fd.link_loss[fit]), np.ptp(fd.link_loss[fit])
    # the median of 4000 Normal draws has sd 1.25 sd / sqrt(4000); allow 5 of those
    assert abs(np.median(draws) - centre) < 5 * 1.25 * sd / np.sqrt(4000)


# ----------------------------------------------------------------------------- refused before sampling
BASE = 'name = "x"\n[data]\ntargets = "own_scores"\nscores_file = "scores.csv"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE + 'benchmarks = ["QA"]\n', "another benchmark needs reference runs of your own"),
        (BASE + 'reference_runs = "runs.csv"\nbenchmarks = ["QA"]\n', "go together"),
        (
            BASE + 'reference_runs = "runs.csv"\nlink_points = "link.csv"\nbenchmarks = ["QA"]\n',
            "declare the chance level (percent) of QA",
        ),
        (
            'name = "x"\n[data]\nreference_runs = "runs.csv"\nlink_points = "link.csv"\nbenchmarks = ["QA"]\n'
            "[layers]\nchance_score = { QA = 25.0 }\n",
            "needs data.targets = 'own_scores'",
        ),
        (
            BASE + 'reference_runs = "runs.csv"\nlink_points = "link.csv"\nbenchmarks = ["QA"]\n'
            "[layers]\nchance_score = { QA = 25.0 }\n"
            '[benchmark_priors.QAX]\nlink_l = { dist = "Normal", mu = 3.0, sigma = 0.1 }\n',
            "benchmark_priors: unknown benchmark 'QAX' (did you mean 'QA'?)",
        ),
        (
            BASE + 'reference_runs = "runs.csv"\nlink_points = "link.csv"\nbenchmarks = ["Q A"]\n',
            "benchmark name 'Q A'",
        ),
    ],
)
def test_spec_refuses(text, expected):
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert expected in str(e.value)


@pytest.mark.parametrize(
    ("file", "mutate", "expected"),
    [
        ("runs.csv", lambda t: t.replace("QA,", "QB,"), "column 'benchmark': no rows for 'QA'"),
        ("runs.csv", lambda t: "\n".join(t.splitlines()[:5]) + "\n", "only 4 run(s); the law and its residual"),
        (
            "runs.csv",  # every run at 20 tokens per parameter: N and D cannot be told apart
            lambda t: (
                "\n".join(
                    [t.splitlines()[0]]
                    + [
                        ",".join([r.split(",")[0], r.split(",")[1], str(20 * int(r.split(",")[1])), r.split(",")[3]])
                        for r in t.splitlines()[1:]
                    ]
                )
                + "\n"
            ),
            "every run has D/N = 20",
        ),
        (
            "link.csv",
            lambda t: "\n".join(t.splitlines()[:5]) + "\n",
            "3 link point(s) with role 'fit'; the link needs at least 4",
        ),
        ("runs.csv", lambda t: t.replace("loss", "los"), "column 'los' is not part of a 'reference_runs' table"),
    ],
)
def test_a_bad_family_file_is_refused_naming_it(tmp_path, file, mutate, expected):
    d = _copy(tmp_path)
    (d / file).write_text(mutate((d / file).read_text()))
    out = tmp_path / "results"
    r = _cli(["fit", str(d / "spec.toml"), "--profile", "fast", "--out", str(out)])
    assert r.returncode == 2, r.stderr
    assert str(d / file) in r.stderr and expected in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists() or not any(out.iterdir())


def test_data_check_accepts_your_family_tables():
    for f, kind in (("runs.csv", "reference_runs"), ("link.csv", "own_link_points")):
        r = _cli(["data", "check", "--file", str(EXAMPLE / f), "--kind", kind])
        assert f"rows of kind '{kind}'" in r.stdout, r.stdout + r.stderr
    r = _cli(["data", "check", "--file", str(EXAMPLE / "scores.csv"), "--kind", "own_scores"])
    assert r.returncode == 2 and "'QA' is not allowed" in r.stderr
    args = ["data", "check", "--file", str(EXAMPLE / "scores.csv"), "--kind", "own_scores"]
    r = _cli([*args, "--spec", str(EXAMPLE / "spec.toml")])
    assert "30 rows of kind 'own_scores'" in r.stdout, r.stdout + r.stderr


def test_the_mode_search_refuses_a_law_with_an_irreducible_loss_and_reads_your_runs(tmp_path):
    r = _cli(["modes", str(EXAMPLE / "spec.toml")])
    assert r.returncode == 2 and "irreducible_loss = true" in r.stderr, r.stderr
    from bayesdense import modes

    d = _copy(tmp_path)
    text = (d / "spec.toml").read_text()
    (d / "spec.toml").write_text(text.replace("irreducible_loss = true", "irreducible_loss = false"))
    spec = load_spec(d / "spec.toml")
    _, _, y = modes.reference_runs("QA", spec)
    np.testing.assert_array_equal(y, _generator().tables()["runs"]["loss"].to_numpy())


# ----------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_your_family_drives_a_full_fit_from_the_cli(tmp_path):
    out = tmp_path / "results"
    r = _cli(["fit", str(EXAMPLE / "spec.toml"), "--profile", "fast", "--seed", "1", "--out", str(out), "--json"])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    truth = np.log(2) / _generator().DOUBLING_DAYS
    g = s["growth_rate_per_day"]
    assert g["hdi_low"] < truth < g["hdi_high"], g
    assert "your reference runs" in s["point_density_source"]
    assert sum(p["inside"] for p in s["heldout_link_check"]) >= 3
