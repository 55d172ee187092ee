"""The bad-input catalogue: each case gets a message naming the place, exit status 2, no traceback."""

from pathlib import Path

import pytest

from bayesdense.cli import main

GOOD_DENSITIES = "model,plotted_date,density\nA-7B,2023-05-01,0.5\nB-8B,2024-01-01,1.2\n"
GOOD_MODELS = "model,architecture,variant,params_total\nA-7B,dense,base,7000000000\n"


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


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
        ('name = "x"\n[data]\nd0_tokens = -5e12\n', "greater than 0"),
        ('name = "x"\n[sampler]\nchains = "four"\n', "sampler.chains"),
        ('name = "x"\n[layers]\nhierarchical = true\n', "at least two benchmarks"),
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
