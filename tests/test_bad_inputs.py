"""The bad-input catalogue: each case gets a message naming the place, exit status 2, no traceback,
and leaves no file behind. None of them may compile or sample a model (the ``no_sampling`` fixture)."""

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from bayesdense.cli import main

GOOD_DENSITIES = "model,plotted_date,density\nA-7B,2023-05-01,0.5\nB-8B,2024-01-01,1.2\n"
GOOD_MODELS = "model,architecture,variant,params_total\nA-7B,dense,base,7000000000\n"


def run(args: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as e:  # argparse's usage errors (a bad option value): exit 2
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.fixture(autouse=True)
def no_sampling(monkeypatch):
    """Every bad input must be refused before a model is compiled or sampled."""
    import bayesdense.fit
    import bayesdense.models
    import bayesdense.parallel

    def refuse(*a, **k):
        pytest.fail("a bad input reached model building or sampling")

    monkeypatch.setattr(bayesdense.models, "build", refuse)
    monkeypatch.setattr(bayesdense.fit, "sample_model", refuse)
    monkeypatch.setattr(bayesdense.parallel, "run_jobs", refuse)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("densities", GOOD_DENSITIES.replace("2023-05-01", "yesterday"), r"row 1 \(line 2\), column 'plotted_date'"),
        ("densities", GOOD_DENSITIES.replace("2023-05-01", "1985-05-01"), "outside 1990-01-01"),
        ("densities", GOOD_DENSITIES.replace("2023-05-01", "2099-05-01"), "outside 1990-01-01"),
        ("densities", GOOD_DENSITIES.replace("0.5", "half"), "'half' is not a valid number"),
        ("densities", GOOD_DENSITIES.replace("0.5", "0"), "below the allowed range"),
        ("densities", GOOD_DENSITIES.replace("B-8B", "A-7B"), "duplicate of row 1"),
        ("densities", GOOD_DENSITIES.replace("density", "densty"), "did you mean 'density'"),
        ("densities", "model,plotted_date,density\n", "no data rows"),
        ("densities", "model,plotted_date\nA,2023-01-01\n", "column 'density' is missing"),
        ("models", GOOD_MODELS.replace("7000000000", "seven"), "'seven' is not a valid integer"),
        ("models", GOOD_MODELS.replace("7000000000", "-7"), "below the allowed range"),
        ("models", GOOD_MODELS.replace("7000000000", "0"), "below the allowed range"),
        ("models", GOOD_MODELS.replace("7000000000", "7"), "looks like millions or billions"),
        ("models", GOOD_MODELS.replace("7000000000", "3.21"), "looks like billions"),
        ("models", GOOD_MODELS.replace("dense,", "Dense,"), "did you mean 'dense'"),
        ("models", GOOD_MODELS.replace("base,", "chat,"), "allowed: base, instruct"),
        ("link_points", "benchmark,role,loss,score\nMMLUX,fit,0.2,40\n", "did you mean 'MMLU'"),
        ("link_points", "benchmark,role,loss,score\nMMLU,fit,0.2,-3\n", "column 'score'"),
        (
            "link_points",
            "benchmark,role,loss,score\nMMLU,fit,0.2,0.4\nMMLU,fit,0.3,0.3\nMMLU,fit,0.4,0.2\n",
            "not as fractions",
        ),
    ],
)
def test_bad_tables(tmp_path, capsys, kind, text, expected):
    f = tmp_path / "t.csv"
    f.write_text(text)
    code, err = run(["data", "check", "--file", str(f), "--kind", kind], capsys)
    assert code == 2
    assert str(f) in err
    assert expected.replace("\\", "") in err or __import__("re").search(expected, err), err


def test_binary_file_is_not_a_table(tmp_path, capsys):
    f = tmp_path / "t.csv"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    code, err = run(["data", "check", "--file", str(f), "--kind", "densities"], capsys)
    assert code == 2 and str(f) in err


def test_missing_table_file(tmp_path, capsys):
    code, err = run(["data", "check", "--file", str(tmp_path / "nope.csv"), "--kind", "densities"], capsys)
    assert code == 2 and "file not found" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\n[data]\nbenchmarks = ["MMLUX"]\n', "data.benchmarks"),
        ('name = "x"\n[data]\nd0_tokens = -5e12\n', "from 1e+09 to 1e+15"),
        ('name = "x"\n[sampler]\nchains = "four"\n', "sampler.chains"),
        ('name = "x"\n[layers]\nhierarchical = true\n', "at least two benchmarks"),
        (
            'name = "x"\n[data]\ntargets = "simulated"\nbenchmarks = ["MMLU", "BBH"]\n[layers]\nhierarchical = true\n'
            '[benchmark_priors.MMLU]\nloss_alpha = { dist = "LogNormal", mu = -2, sigma = 0.1 }\n',
            "benchmark_priors.MMLU.loss_alpha",
        ),
        ('name = "x"\n[data]\nbenchmarks = ["MMLU"]\n', "AVERAGE only"),
        ('name = "x"\n[priors]\nscore_sd = { dist = "Normal", sigma = 1 }\n', "exactly"),
        (
            'name = "x"\n[benchmark_priors.MMLU]\nloss_alpha = { dist = "LogNormal", mu = 0, sigma = 1 }\n',
            "data.benchmarks does not include",
        ),
    ],
)
def test_bad_specs_via_the_cli(tmp_path, capsys, text, expected):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    code, err = run(["fit", str(f)], capsys)
    assert code == 2 and str(f) in err and expected in err


def test_output_directory_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = run(["fit", "trend_fig2", "--out", str(blocker / "sub")], capsys)
    assert code == 2 and "file" in err


def test_interrupted_fit_writes_nothing(tmp_path, capsys, monkeypatch):
    import bayesdense.fit

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(bayesdense.fit, "fit", interrupted)
    code = main(["fit", "trend_fig2", "--out", str(tmp_path / "out")])
    assert code == 130 and "nothing was written" in capsys.readouterr().err
    assert not any(Path(tmp_path / "out").glob("*"))


def test_a_netcdf_file_that_is_not_ours(tmp_path, capsys):
    import xarray as xr

    f = tmp_path / "other.nc"
    xr.Dataset({"x": ("a", [1, 2])}).to_netcdf(f, engine="h5netcdf")
    code, err = run(["summary", str(f)], capsys)
    assert code == 2 and "not a bayesdense result file" in err


# ----------------------------------------------------------------------------- specs: checked before fitting
def _prior(name: str, table: str) -> str:
    return f'name = "x"\n[priors]\n{name} = {{ {table} }}\n'


BAD_SPECS = [
    # priors: finite numbers, no booleans or text, physically possible Fixed values
    ("fixed-score-sd-0", _prior("score_sd", 'dist = "Fixed", value = 0'), "'score_sd' must be positive"),
    ("fixed-score-sd-neg", _prior("score_sd", 'dist = "Fixed", value = -1'), "'score_sd' must be positive"),
    (
        "fixed-score-sd-nan",
        _prior("score_sd", 'dist = "Fixed", value = nan'),
        "priors.score_sd.value: Input should be a finite number",
    ),
    ("fixed-loss-sd-inf", _prior("loss_sd_log", 'dist = "Fixed", value = inf'), "priors.loss_sd_log.value"),
    ("fixed-omega-0", _prior("frontier_omega", 'dist = "Fixed", value = 0'), "'frontier_omega' must be positive"),
    ("fixed-lambda-neg", _prior("frontier_lambda", 'dist = "Fixed", value = -2'), "'frontier_lambda' must be positive"),
    ("fixed-link-sd-0", _prior("link_sd", 'dist = "Fixed", value = 0.0'), "'link_sd' must be positive"),
    (
        "mu-nan",
        _prior("growth_rate_per_year", 'dist = "Normal", mu = nan, sigma = 1'),
        "priors.growth_rate_per_year.mu: Input should be a finite number",
    ),
    (
        "sigma-inf",
        _prior("growth_rate_per_year", 'dist = "Normal", mu = 0, sigma = inf'),
        "priors.growth_rate_per_year.sigma",
    ),
    ("sigma-minus-inf", _prior("score_sd", 'dist = "LogNormal", mu = 0, sigma = -inf'), "priors.score_sd.sigma"),
    (
        "sigma-true",
        _prior("growth_rate_per_year", 'dist = "Normal", mu = 0, sigma = true'),
        "sigma: expected a number, got true",
    ),
    (
        "sigma-text",
        _prior("growth_rate_per_year", 'dist = "Normal", mu = 0, sigma = "1"'),
        "expected a number, got the text '1'",
    ),
    ("value-false", _prior("score_sd", 'dist = "Fixed", value = false'), "value: expected a number, got false"),
    (
        "ceiling-frac-2",
        _prior("link_ceiling_frac", 'dist = "Fixed", value = 2'),
        "c + d <= 100%): a Fixed value must be in (0, 1], got 2",
    ),
    ("ceiling-frac-0", _prior("link_ceiling_frac", 'dist = "Fixed", value = 0'), "must be in (0, 1]"),
    (
        "ceiling-frac-lognormal",
        _prior("link_ceiling_frac", 'dist = "LogNormal", mu = 0, sigma = 1'),
        "its prior must be Beta or Fixed",
    ),
    (
        "sd-normal-prior",
        _prior("link_sd", 'dist = "Normal", mu = 0, sigma = 1'),
        "'link_sd' must be positive: its prior must be one of",
    ),
    (
        "benchmark-prior-fixed-0",
        'name = "x"\n[benchmark_priors.AVERAGE]\nloss_sd_log = { dist = "Fixed", value = 0 }\n',
        "benchmark_priors: AVERAGE: 'loss_sd_log' must be positive",
    ),
    # layers.chance_score: known benchmarks, percent in [0, 100)
    (
        "chance-120",
        'name = "x"\n[layers]\nchance_score = { MMLU = 120 }\n',
        "layers.chance_score: MMLU = 120.0: a chance score is in percent, 0 <= score < 100",
    ),
    ("chance-100", 'name = "x"\n[layers]\nchance_score = { MMLU = 100 }\n', "0 <= score < 100"),
    ("chance-negative", 'name = "x"\n[layers]\nchance_score = { BBH = -1 }\n', "0 <= score < 100"),
    (
        "chance-nan",
        'name = "x"\n[layers]\nchance_score = { MMLU = nan }\n',
        "layers.chance_score.MMLU: Input should be a finite number",
    ),
    (
        "chance-unknown-bench",
        'name = "x"\n[layers]\nchance_score = { MMLUU = 25 }\n',
        "unknown benchmark 'MMLUU' (did you mean 'MMLU'?)",
    ),
    # data.d0_tokens: finite, 1e9 .. 1e15
    ("d0-inf", 'name = "x"\n[data]\nd0_tokens = inf\n', "data.d0_tokens: Input should be a finite number"),
    ("d0-nan", 'name = "x"\n[data]\nd0_tokens = nan\n', "data.d0_tokens: Input should be a finite number"),
    (
        "d0-1e308",
        'name = "x"\n[data]\nd0_tokens = 1e308\n',
        "data.d0_tokens: D0 must be a finite number of tokens from 1e+09 to 1e+15",
    ),
    ("d0-tiny", 'name = "x"\n[data]\nd0_tokens = 1e5\n', "from 1e+09 to 1e+15 (the paper uses 1e12 to 5e12)"),
    ("d0-zero", 'name = "x"\n[data]\nd0_tokens = 0\n', "from 1e+09 to 1e+15"),
    ("d0-true", 'name = "x"\n[data]\nd0_tokens = true\n', "data.d0_tokens: expected a number, got true"),
    # sampler
    ("chains-1", 'name = "x"\n[sampler]\nchains = 1\n', "sampler.chains: got 1; at least 2 chains are needed"),
    ("chains-0", 'name = "x"\n[sampler]\nchains = 0\n', "R-hat"),
    ("chains-true", 'name = "x"\n[sampler]\nchains = true\n', "sampler.chains: expected a number, got true"),
    ("draws-fraction", 'name = "x"\n[sampler]\ndraws = 500.5\n', "sampler.draws"),
    ("target-accept-nan", 'name = "x"\n[sampler]\ntarget_accept = nan\n', "sampler.target_accept"),
    ("quantile-inf", 'name = "x"\n[frontier]\nkind = "quantile"\nquantile = inf\n', "frontier.quantile"),
    ("simulation-sd-0", 'name = "x"\n[data]\nsimulation_score_sd = 0\n', "data.simulation_score_sd"),
    ("below-chance-bad-choice", 'name = "x"\n[data]\nbelow_chance = "ignore"\n', "data.below_chance"),
    ("chance-margin-negative", 'name = "x"\n[data]\nchance_margin = -1\n', "data.chance_margin"),
    ("chance-margin-50", 'name = "x"\n[data]\nchance_margin = 50\n', "data.chance_margin"),
    # name: it becomes a file name
    ("name-empty", 'name = ""\n', "name: '' is not a usable name"),
    ("name-path-escape", 'name = "../../outside"\n', "name: '../../outside' is not a usable name"),
    ("name-absolute", 'name = "/tmp/abs"\n', "no spaces or path separators"),
    ("name-backslash", 'name = "a\\\\b"\n', "is not a usable name"),
    ("name-hidden", 'name = ".hidden"\n', "not starting with '.' or '-'"),
    ("name-dash", 'name = "-x"\n', "not starting with '.' or '-'"),
    ("name-space", 'name = "my spec"\n', "is not a usable name"),
    ("name-newline", 'name = "a\\nb"\n', "is not a usable name"),
    ("name-too-long", 'name = "' + "x" * 201 + '"\n', "1-200 characters"),
    # keys a spec file may not give
    (
        "source-text-key",
        'name = "x"\nsource_text = "hi"\n',
        "source_text: unknown key; allowed here: name, description",
    ),
    ("unknown-top-key", 'name = "x"\nseed = 3\n', "seed: unknown key"),
    (
        "setting-offset-integrated",
        'name = "x"\n[data]\ntargets = "published_scores"\nscore_settings = "offset"\n'
        'benchmarks = ["MMLU", "BBH"]\n[layers]\nlatents = "integrated"\n',
        "data.score_settings = 'offset' needs layers.kind = 'joint', sampled latents",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_is_refused_before_fitting(tmp_path, capsys, text, expected):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    out = tmp_path / "out"
    code, err = run(["fit", str(f), "--out", str(out)], capsys)
    assert code == 2, err
    assert str(f) in err and expected in err, err
    assert not out.exists()
    assert not list(tmp_path.parent.glob("outside*"))  # nothing escaped --out either


def test_spec_check_refuses_what_fit_refuses(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(_prior("score_sd", 'dist = "Fixed", value = 0'))
    code, err = run(["spec", "check", str(f)], capsys)
    assert code == 2 and str(f) in err and "'score_sd' must be positive" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a text file (UTF-8 TOML expected)"),
        (b'name = "caf\xe9"\n', "not a text file (UTF-8 TOML expected)"),  # Latin-1, not UTF-8
        (b"name = \n", "not valid TOML"),
        (b"", "name: Field required"),
    ],
    ids=["binary", "latin-1", "not-toml", "empty"],
)
def test_spec_file_that_is_not_a_spec(tmp_path, capsys, content, expected):
    f = tmp_path / "bad.toml"
    f.write_bytes(content)
    code, err = run(["fit", str(f), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and str(f) in err and expected in err, err
    assert not (tmp_path / "out").exists()


def test_spec_path_that_is_a_directory(tmp_path, capsys):
    d = tmp_path / "dir.toml"
    d.mkdir()
    code, err = run(["fit", str(d), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and str(d) in err and "cannot read" in err


# ----------------------------------------------------------------------------- option values (argparse)
BAD_OPTIONS = [
    (
        "seed-2**70",
        ["fit", "trend_fig2", "--seed", str(2**70)],
        "argument --seed: 1180591620717411303424 is outside 0 .. 4294967295",
    ),
    ("seed-negative", ["fit", "trend_fig2", "--seed", "-1"], "argument --seed"),
    ("seed-text", ["fit", "trend_fig2", "--seed", "abc"], "argument --seed: 'abc' is not a whole number"),
    ("sensitivity-seed", ["sensitivity", "--axis", "d0", "--seed", str(2**32)], "argument --seed"),
    ("forward-seed", ["validate-forward", "--seed", "-5"], "argument --seed"),
    ("top-negative", ["summary", "R.nc", "--top", "-3"], "argument --top: -3 must be at least 1"),
    ("top-zero", ["fit", "trend_fig2", "--top", "0"], "argument --top: 0 must be at least 1"),
    ("d0-zero", ["data", "implied-scores", "--d0", "0"], "argument --d0: D0 must be a finite number of tokens"),
    ("d0-negative", ["data", "implied-scores", "--d0", "-5"], "argument --d0: D0 must be"),
    ("d0-inf", ["data", "implied-scores", "--d0", "inf"], "argument --d0: D0 must be"),
    ("d0-nan", ["data", "implied-scores", "--d0", "nan"], "argument --d0: D0 must be"),
    ("d0-huge", ["data", "implied-scores", "--d0", "1e308"], "argument --d0: D0 must be"),
    ("d0-text", ["data", "implied-scores", "--d0", "lots"], "argument --d0: 'lots' is not a number of tokens"),
    (
        "cutoff-month-13",
        ["validate-forward", "--cutoff", "2024-13-01"],
        "argument --cutoff: '2024-13-01' is not a date YYYY-MM-DD",
    ),
    ("cutoff-word", ["validate-forward", "--cutoff", "yesterday"], "argument --cutoff: 'yesterday' is not a date"),
    ("sims-zero", ["calibrate", "--sims", "0"], "argument --sims: 0 must be at least 1"),
    ("around-unknown", ["calibrate", "--around", "sideways"], "argument --around: invalid choice: 'sideways'"),
    (
        "around-posterior-trend-spec",
        ["calibrate", "trend_fig2", "--around", "posterior"],
        "--around posterior needs a joint spec (layers.kind = 'joint'",
    ),
    ("workers-zero", ["sensitivity", "--axis", "d0", "--workers", "0"], "argument --workers: 0 must be at least 1"),
]


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in BAD_OPTIONS], ids=[c[0] for c in BAD_OPTIONS])
def test_bad_option_value_is_a_usage_error(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    code, err = run(args, capsys)
    assert code == 2 and expected in err, err
    assert not list(tmp_path.iterdir())


def test_validate_forward_cutoff_with_too_few_models(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run(["validate-forward", "--cutoff", "1990-01-01"], capsys)
    assert code == 2 and "--cutoff: cut-off 1990-01-01: of the 47 models of spec 'trend_fig2', 0 are released" in err
    assert "at least 4 before (to fit) and 1 after" in err
    code, err = run(["validate-forward", "--cutoff", "2024-01-01", "--cutoff", "2099-01-01"], capsys)
    assert code == 2 and "cut-off 2099-01-01" in err and "0 on or after it" in err
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- output paths
def _result(tmp_path: Path, *, draws: int = 100, name: str = "R.nc", **attrs) -> Path:
    from fakes import fake_result

    from bayesdense import io

    tree = fake_result(np.random.default_rng(1).normal(0.008, 0.001, size=(2, draws)))
    for k, v in attrs.items():
        if v is None:
            del tree.attrs[k]
        else:
            tree.attrs[k] = v
    return io.save(tree, tmp_path / name)


@pytest.fixture
def result(tmp_path) -> Path:
    return _result(tmp_path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["table", "{R}", "--out", "{R}"], "--out {R}: is the input file {R}"),
        (["table", "{R}", "--format", "csv", "--out", "{D}/../{D_NAME}/R.nc"], "is the input file"),
        (["report", "{R}", "--html", "{R}"], "--html {R}: is the input file"),
        (
            ["report", "{R}", "--html", "{D}/report.txt"],
            "--html {D}/report.txt: the file name must end in .html or .htm",
        ),
        (["report", "{R}", "--html", "{D}"], "the file name must end in .html"),
        (["plot", "{R}", "--out", "{R}"], "--out {R}: exists and is not a directory"),
        (["table", "{R}", "--out", "{R}/sub/t.md"], "is a file, not a directory"),
        (["calibrate", "--out", "{D}/ranks.txt"], "--out {D}/ranks.txt: the file name must end in .json"),
        (["calibrate", "--plot", "{D}/sbc.gif"], "--plot {D}/sbc.gif: the file name must end in .png or .pdf or .svg"),
        (["calibrate", "{S}", "--out", "{S}"], "is the input file"),
        (["fit", "trend_fig2", "--out", "{R}"], "--out {R}: exists and is not a directory"),
        (["sensitivity", "--axis", "d0", "--out", "{R}/x"], "is a file, not a directory"),
    ],
    ids=[
        "table-over-result",
        "table-over-result-other-spelling",
        "report-over-result",
        "report-not-html",
        "report-dir",
        "plot-into-file",
        "table-under-file",
        "calibrate-out-not-json",
        "calibrate-plot-format",
        "calibrate-over-spec",
        "fit-out-is-file",
        "sensitivity-out-under-file",
    ],
)
def test_output_that_would_overwrite_an_input_or_cannot_be_written(tmp_path, capsys, result, args, expected):
    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\n[data]\ntargets = "published_densities"\nfigure = "fig2"\n[layers]\nkind = "trend"\n')
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    fill = {"R": str(result), "D": str(tmp_path), "D_NAME": tmp_path.name, "S": str(spec)}
    code, err = run([a.format(**fill) for a in args], capsys)
    assert code == 2 and expected.format(**fill) in err, err
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written or overwritten


READ_ONLY = Path("/proc/bayesdense-cannot-write-here")  # not writable even for root


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
@pytest.mark.parametrize(
    "args",
    [
        ["fit", "trend_fig2", "--out", str(READ_ONLY)],
        ["sensitivity", "--axis", "d0", "--out", str(READ_ONLY)],
        ["table", "{R}", "--out", str(READ_ONLY / "t.md")],
        ["calibrate", "--out", str(READ_ONLY / "sbc.json")],
    ],
    ids=["fit", "sensitivity", "table", "calibrate"],
)
def test_unwritable_output_is_refused_before_fitting(tmp_path, capsys, result, args):
    code, err = run([a.format(R=result) for a in args], capsys)
    assert code == 2 and f"{READ_ONLY}: cannot write in /proc" in err, err


def test_unwritable_output_directory_by_permissions(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, err = run(["fit", "trend_fig2", "--out", str(ro / "out")], capsys)
    finally:
        ro.chmod(0o755)
    assert code == 2 and f"cannot write in {ro}" in err


def test_result_file_name_stays_inside_out(tmp_path):
    from bayesdense.cliargs import ArgumentError, inside

    out = tmp_path / "out"
    assert inside(out / "default-seed1.nc", out, "the result file") == out / "default-seed1.nc"
    with pytest.raises(ArgumentError, match="would be written outside"):
        inside(out / ".." / ".." / "outside-seed1.nc", out, "the result file")


# ----------------------------------------------------------------------------- damaged result files
@pytest.mark.parametrize(
    ("attrs", "command", "expected"),
    [
        ({"sampler": "not json{"}, "rerun", "attribute 'sampler' is not a JSON object: 'not json{'"),
        ({"sampler": "[1, 2]"}, "summary", "attribute 'sampler' is not a JSON object"),
        ({"paper_point_estimate": "nan nan"}, "summary", "attribute 'paper_point_estimate' is not a JSON object"),
        ({"seed": None}, "rerun", "attribute(s) seed missing"),
        ({"spec_text": None}, "rerun", "attribute(s) spec_text missing"),
        ({"seed": "one"}, "rerun", "attribute 'seed' is 'one', not a whole number >= 0"),
        ({"seed": -4}, "rerun", "attribute 'seed' is '-4'"),
    ],
    ids=[
        "sampler-not-json",
        "sampler-not-object",
        "paper-not-json",
        "no-seed",
        "no-spec-text",
        "seed-text",
        "seed-negative",
    ],
)
def test_damaged_result_attribute_is_named(tmp_path, capsys, attrs, command, expected):
    r = _result(tmp_path, **attrs)
    code, err = run([command, str(r)], capsys)
    assert code == 2 and str(r) in err and expected in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R.nc"]


@pytest.mark.parametrize(
    ("group", "var"), [("posterior", "growth_rate_per_day"), ("posterior", "log_density"), ("fit_data", "t_days")]
)
def test_missing_variable_is_named(tmp_path, capsys, group, var):
    from fakes import fake_result

    from bayesdense import io

    tree = fake_result(np.random.default_rng(1).normal(0.008, 0.001, size=(2, 100)))
    tree[group] = tree[group].to_dataset().drop_vars(var)
    r = io.save(tree, tmp_path / "R.nc")
    for command in ("summary", "table", "power-scaling"):
        code, err = run([command, str(r)], capsys)
        assert code == 2 and f"{r}: variable(s) {var} missing from the '{group}' group" in err, err


def test_too_few_draws_for_power_scaling_names_the_file(tmp_path, capsys):
    r = _result(tmp_path, draws=10)
    code, err = run(["power-scaling", str(r)], capsys)
    assert code == 2 and f"{r}: power-scaling" in err and "at least 100 posterior draws" in err and "has 20" in err


def test_missing_result_file(tmp_path, capsys):
    code, err = run(["summary", str(tmp_path / "nope.nc")], capsys)
    assert code == 2 and "no such result file" in err


# ----------------------------------------------------------------------------- own data
OWN = (
    "model,release_date,params,benchmark,score\n"
    "A-7B,2023-07-18,7000000000,MMLU,45.3\n"
    "B-8B,2024-04-18,8000000000,MMLU,66.6\n"
    "C-3B,2024-09-25,3210000000,MMLU,58.0\n"
)


def _own(tmp_path: Path, csv: str, extra: str = "") -> Path:
    (tmp_path / "own.csv").write_text(csv)
    spec = tmp_path / "own.toml"
    spec.write_text(
        f'name = "own"\n[data]\ntargets = "own_scores"\nscores_file = "own.csv"\nbenchmarks = ["MMLU"]\n{extra}'
    )
    return spec


@pytest.mark.parametrize(
    ("csv", "extra", "expected"),
    [
        (
            OWN.replace("58.0", "3"),
            "",
            "row 3 (line 4), column 'score': C-3B scores 3 on MMLU, below the benchmark's chance level 25",
        ),
        (OWN.replace("45.3", "24.9").replace("66.6", "10"), "", "2 problem(s)"),
        (
            OWN.replace("58.0", "30"),
            "[layers]\nchance_score = { MMLU = 40.0 }\n",
            "C-3B scores 30 on MMLU, below the benchmark's chance level 40",
        ),
        (
            OWN.replace("45.3", "1").replace("66.6", "2").replace("58.0", "3"),
            'below_chance = "drop"\n',
            "no scores left",
        ),
        (
            "model,release_date,params,benchmark,score\nA-7B,2023-07-18,7000000000,MMLU,45.3\n",
            "",
            "1 model(s) with 1 release date(s)",
        ),
        (
            OWN.replace("2024-04-18", "2023-07-18").replace("2024-09-25", "2023-07-18"),
            "",
            "3 model(s) with 1 release date(s)",
        ),
        (
            OWN.replace("45.3", "20").replace("66.6", "1"),
            'below_chance = "drop"\n',
            "a trend in time needs at least two models",
        ),
        (
            'model,release_date,params,benchmark,score\n"A\nB",2023-07-18,7000000000,MMLU,45.3\n',
            "",
            "row 1 (line 2), column 'model': contains a control character",
        ),
        (OWN, 'era = "pre_chatgpt"\n', "0 model(s)"),
        (
            OWN.replace("58.0", "28"),
            "chance_margin = 5.0\n",
            "C-3B scores 28 on MMLU, below the benchmark's chance level 25 (spec layers.chance_score) + 5 points "
            "(data.chance_margin)",
        ),
    ],
    ids=[
        "below-chance",
        "two-below-chance",
        "below-own-chance-level",
        "all-dropped",
        "one-model",
        "one-date",
        "one-left-after-drop",
        "newline-in-name",
        "era-leaves-none",
        "within-chance-margin",
    ],
)
def test_bad_own_data_is_refused_before_fitting(tmp_path, capsys, monkeypatch, csv, extra, expected):
    import warnings

    spec = _own(tmp_path, csv, extra)
    monkeypatch.chdir(tmp_path.parent)  # the scores file is found next to the spec, not in the working directory
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the 'drop' cases warn about the dropped rows
        code, err = run(["fit", str(spec), "--out", str(out)], capsys)
    assert code == 2 and expected in err, err
    assert str(tmp_path / "own.csv") in err
    assert not out.exists()


def test_below_chance_rows_can_be_dropped_with_a_warning(tmp_path):
    from bayesdense.inputs import prepare
    from bayesdense.spec import load_spec

    spec = load_spec(_own(tmp_path, OWN.replace("58.0", "3"), 'below_chance = "drop"\n'))
    with pytest.warns(UserWarning, match=r"left out 1 score\(s\) below their benchmark's chance level.*row\(s\) 3"):
        fd = prepare(spec)
    assert list(fd.model) == ["A-7B", "B-8B"]


def test_scores_within_the_chance_margin_are_dropped_and_others_kept(tmp_path):
    from bayesdense.inputs import prepare
    from bayesdense.spec import load_spec

    csv = OWN.replace("58.0", "29.9").replace("45.3", "30.0")  # 29.9 < 25 + 5 <= 30.0
    spec = load_spec(_own(tmp_path, csv, 'below_chance = "drop"\nchance_margin = 5.0\n'))
    with pytest.warns(UserWarning, match=r"left out 1 score\(s\) below their benchmark's chance level \+ 5 points"):
        fd = prepare(spec)
    assert list(fd.model) == ["A-7B", "B-8B"]


def test_newline_in_a_model_name_is_refused_by_data_check(tmp_path, capsys):
    f = tmp_path / "own.csv"
    f.write_text('model,release_date,params,benchmark,score\n"A\nB",2023-07-18,7000000000,MMLU,45.3\n')
    code, err = run(["data", "check", "--file", str(f), "--kind", "own_scores"], capsys)
    assert code == 2 and str(f) in err and "row 1 (line 2), column 'model': contains a control character" in err


def test_markdown_table_keeps_one_line_per_row():
    import pandas as pd

    from bayesdense.report import _markdown

    text = _markdown(pd.DataFrame({"Model": ["A\nB", "C|D"], "x": ["1", "2"]}))
    assert text.splitlines()[2:] == ["| A B | 1 |", "| C\\|D | 2 |"]


def test_relative_scores_file_is_taken_from_the_spec_directory(tmp_path, monkeypatch):
    from bayesdense.spec import load_spec, parse_spec

    spec_file = _own(tmp_path, OWN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_spec(spec_file)
    assert spec.data.scores_file == str((tmp_path / "own.csv").resolve())
    assert 'scores_file = "own.csv"' in spec.text  # the recorded text stays as written
    # a spec given as text keeps the working directory
    assert parse_spec(spec.text).data.scores_file == "own.csv"


def test_result_records_the_resolved_scores_file_and_rerun_uses_it(tmp_path, capsys, monkeypatch):
    import bayesdense.fit
    from bayesdense import io
    from bayesdense.inputs import prepare
    from bayesdense.spec import load_spec

    spec = load_spec(_own(tmp_path, OWN))
    fd = prepare(spec)
    post = __import__("xarray").Dataset(
        {
            "growth_rate_per_day": (("chain", "draw"), np.full((2, 50), 0.008)),
            "intercept": (("chain", "draw"), np.zeros((2, 50))),
            "log_density": (("chain", "draw", "model"), np.zeros((2, 50, fd.n_models))),
        },
        coords={"model": fd.model},
    )
    stats = __import__("xarray").Dataset({"diverging": (("chain", "draw"), np.zeros((2, 50), bool))})
    tree = bayesdense.fit.assemble(spec, fd, post, stats, {"profile": "fast"}, seed=1, wall=0.0)
    assert tree.attrs["scores_file"] == str((tmp_path / "own.csv").resolve())
    r = io.save(tree, tmp_path / "own-seed1.nc")

    seen = {}

    def capture(spec, **kw):
        seen["scores_file"] = spec.data.scores_file
        raise KeyboardInterrupt

    monkeypatch.setattr(bayesdense.fit, "fit", capture)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _ = run(["rerun", str(r)], capsys)
    assert code == 130 and seen["scores_file"] == str((tmp_path / "own.csv").resolve())

    (tmp_path / "own.csv").unlink()
    code, err = run(["rerun", str(r)], capsys)
    assert code == 2 and str(r) in err and f"{tmp_path / 'own.csv'} (attribute 'scores_file'), no longer exists" in err


# ----------------------------------------------------------------------------- SIGTERM
def test_sigterm_while_writing_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    """A real SIGTERM during the final write: the handler main installs unwinds, io.save removes its
    temporary file, and the command says nothing was written (exit 143)."""
    import xarray as xr
    from fakes import fake_result

    import bayesdense.fit

    tree = fake_result(np.random.default_rng(1).normal(0.008, 0.001, size=(2, 100)))
    monkeypatch.setattr(bayesdense.fit, "fit", lambda *a, **k: tree)
    real = xr.DataTree.to_netcdf

    def write_then_get_killed(self, path, *a, **k):
        real(self, path, *a, **k)
        assert Path(path).name.endswith(".nc.part")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this
        pytest.fail("SIGTERM did not stop the write")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", write_then_get_killed)
    out = tmp_path / "out"
    before = signal.getsignal(signal.SIGTERM)
    code = main(["fit", "trend_fig2", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 143 and "terminated: nothing was written" in err and "Traceback" not in err
    assert not [p for p in out.rglob("*") if p.is_file()]  # no .part file, no result
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is removed again


def test_sigterm_handler_raises_system_exit_143():
    from bayesdense.cli import _terminated

    with pytest.raises(SystemExit) as e:
        _terminated(signal.SIGTERM, None)
    assert e.value.code == 143


def test_json_of_a_bad_input_is_not_printed(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('name = ""\n')
    code = main(["fit", str(f), "--json", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and json.dumps(str(f))[1:-1] in captured.err
