"""``bayesdense import lm-eval|opencompass``: other tools' result files -> an ``own_scores`` CSV.

The fixtures are written here in the formats the two projects document (lm-evaluation-harness:
the results JSON of ``lm_eval --output_path``; OpenCompass: the summary CSV with ``dataset,
version, metric, mode`` and one column per model); the numbers are made up.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bayesdense import importers
from bayesdense.cli import main
from bayesdense.data import DataError, validate_file

SUBJECTS = ("mmlu_abstract_algebra", "mmlu_formal_logic")
BBH_SUBTASKS = ("bbh_cot_fewshot_boolean_expressions", "bbh_cot_fewshot_navigate")
MATH_SUBTASKS = ("minerva_math_algebra", "minerva_math_geometry")


def lm_eval_results(**over: Any) -> dict[str, Any]:
    """A results file as lm-evaluation-harness 0.4 writes it (values are fractions)."""
    doc: dict[str, Any] = {
        "results": {
            "mmlu": {"acc,none": 0.6523, "acc_stderr,none": 0.0038, "alias": "mmlu"},
            "mmlu_humanities": {"acc,none": 0.60, "acc_stderr,none": 0.007, "alias": " - humanities"},
            "mmlu_formal_logic": {"acc,none": 0.41, "acc_stderr,none": 0.04, "alias": "  - formal_logic"},
            "mmlu_stem": {"acc,none": 0.55, "acc_stderr,none": 0.008, "alias": " - stem"},
            "mmlu_abstract_algebra": {"acc,none": 0.33, "acc_stderr,none": 0.047, "alias": "  - abstract_algebra"},
            "bbh_cot_fewshot": {
                "exact_match,get-answer": 0.4817,
                "exact_match_stderr,get-answer": 0.0055,
                "alias": "bbh_cot_fewshot",
            },
            "bbh_cot_fewshot_boolean_expressions": {
                "exact_match,get-answer": 0.72,
                "exact_match_stderr,get-answer": 0.028,
                "alias": " - bbh_cot_fewshot_boolean_expressions",
            },
            "bbh_cot_fewshot_navigate": {
                "exact_match,get-answer": 0.60,
                "exact_match_stderr,get-answer": 0.031,
                "alias": " - bbh_cot_fewshot_navigate",
            },
            "minerva_math": {
                "exact_match,none": 0.1422,
                "exact_match_stderr,none": 0.0049,
                "math_verify,none": 0.1530,
                "math_verify_stderr,none": 0.0050,
                "alias": "minerva_math",
            },
            "minerva_math_algebra": {"exact_match,none": 0.20, "math_verify,none": 0.21, "alias": " - algebra"},
            "minerva_math_geometry": {"exact_match,none": 0.09, "math_verify,none": 0.10, "alias": " - geometry"},
            "humaneval": {
                "pass@1,create_test": 0.3049,
                "pass@1_stderr,create_test": "N/A",
                "pass@10,create_test": 0.51,
                "pass@10_stderr,create_test": "N/A",
                "alias": "humaneval",
            },
            "mbpp": {"pass_at_1,extract_code": 0.424, "pass_at_1_stderr,extract_code": 0.0221, "alias": "mbpp"},
            "gsm8k": {
                "exact_match,strict-match": 0.52,
                "exact_match_stderr,strict-match": 0.014,
                "exact_match,flexible-extract": 0.53,
                "exact_match_stderr,flexible-extract": 0.014,
                "alias": "gsm8k",
            },
            "arc_easy": {"acc,none": 0.80, "acc_stderr,none": 0.008, "acc_norm,none": 0.77, "alias": "arc_easy"},
        },
        "groups": {
            "mmlu": {"acc,none": 0.6523, "acc_stderr,none": 0.0038, "alias": "mmlu"},
            "bbh_cot_fewshot": {"exact_match,get-answer": 0.4817, "exact_match_stderr,get-answer": 0.0055},
            "minerva_math": {"exact_match,none": 0.1422, "exact_match_stderr,none": 0.0049},
        },
        "group_subtasks": {
            "mmlu_humanities": ["mmlu_formal_logic"],
            "mmlu_stem": ["mmlu_abstract_algebra"],
            "mmlu": ["mmlu_humanities", "mmlu_stem"],
            "bbh_cot_fewshot": list(BBH_SUBTASKS),
            "minerva_math": list(MATH_SUBTASKS),
            "humaneval": [],
            "mbpp": [],
            "gsm8k": [],
            "arc_easy": [],
        },
        "configs": {
            **{s: {"task": s, "num_fewshot": 5, "metric_list": [{"metric": "acc"}]} for s in SUBJECTS},
            **{
                s: {
                    "task": s,
                    "num_fewshot": 0,  # the examples are written into the prompt ...
                    "metadata": {"version": 2.0, "num_fewshot": 3},  # ... and stated here
                    "metric_list": [{"metric": "exact_match"}],
                    "filter_list": [{"name": "get-answer"}],
                }
                for s in BBH_SUBTASKS
            },
            **{s: {"task": s, "num_fewshot": 4, "metric_list": [{"metric": "exact_match"}]} for s in MATH_SUBTASKS},
            "humaneval": {
                "task": "humaneval",
                "num_fewshot": 0,
                "metric_list": [{"metric": "pass_at_k", "k": [1, 10]}],
            },
            "mbpp": {"task": "mbpp", "num_fewshot": 3, "metric_list": [{"metric": "pass_at_1"}]},
            "gsm8k": {"task": "gsm8k", "num_fewshot": 5},
            "arc_easy": {"task": "arc_easy", "num_fewshot": 0},
        },
        "versions": {"mmlu": 2, "bbh_cot_fewshot": 3.0, "minerva_math": 1.0, "humaneval": 1.0, "mbpp": 1.0},
        "n-shot": {
            "mmlu": 5,
            "mmlu_abstract_algebra": 5,
            "mmlu_formal_logic": 5,
            "bbh_cot_fewshot": 3,
            "bbh_cot_fewshot_boolean_expressions": 3,
            "bbh_cot_fewshot_navigate": 3,
            "minerva_math": 4,
            "minerva_math_algebra": 4,
            "minerva_math_geometry": 4,
            "humaneval": 0,
            "mbpp": 3,
            "gsm8k": 5,
            "arc_easy": 0,
        },
        "higher_is_better": {"mmlu": {"acc": True}, "humaneval": {"pass@1": True}},
        "n-samples": {
            "bbh_cot_fewshot_boolean_expressions": {"original": 250, "effective": 250},
            "bbh_cot_fewshot_navigate": {"original": 250, "effective": 250},
        },
        "config": {
            "model": "hf",
            "model_args": "pretrained=my-org/Tiny-7B,dtype=bfloat16",
            "model_num_parameters": 7241732096,
            "model_dtype": "torch.bfloat16",
            "batch_size": "auto",
            "limit": None,
        },
        "git_hash": "0123abc",
        "date": 1735732800.0,  # when the evaluation ran (2025-01-01 12:00 UTC), not a release date
        "model_source": "hf",
        "model_name": "my-org/Tiny-7B",
        "model_name_sanitized": "my-org__Tiny-7B",
    }
    doc.update(over)
    return doc


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture
def results_json(tmp_path: Path) -> Path:
    return write_json(tmp_path / "results_2025-01-01T12-00-00.json", lm_eval_results())


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


BASE = ["--release-date", "2024-12-01"]


# ----------------------------------------------------------------------------- lm-evaluation-harness
def test_lm_eval_maps_the_five_benchmarks_and_converts_to_percent(results_json):
    imp = importers.read_lm_eval(results_json)
    rows = imp.rows.set_index("benchmark")
    assert list(rows.index) == ["MMLU", "BBH", "MATH", "HumanEval", "MBPP"]
    assert rows.loc["MMLU", "score"] == pytest.approx(65.23) and rows.loc["MMLU", "stderr"] == pytest.approx(0.38)
    assert rows.loc["BBH", "score"] == pytest.approx(48.17) and rows.loc["BBH", "metric"] == "exact_match,get-answer"
    # MATH: exact match (the paper's metric) chosen over math_verify
    assert rows.loc["MATH", "score"] == pytest.approx(14.22) and rows.loc["MATH", "metric"] == "exact_match,none"
    assert rows.loc["HumanEval", "metric"] == "pass@1,create_test" and rows.loc["HumanEval", "score"] == 30.49
    assert rows.loc["MBPP", "score"] == pytest.approx(42.4)
    assert [int(rows.loc[b, "shots"]) for b in rows.index] == [5, 3, 4, 0, 3]
    assert imp.model == "Tiny-7B" and "pretrained=my-org/Tiny-7B" in imp.model_from
    assert imp.params == 7241732096
    # unknown tasks listed, the groups' subtasks folded in (not listed as unknown)
    assert [t for t, _ in imp.skipped] == ["gsm8k", "arc_easy"]
    assert imp.folded == {"mmlu": 4, "bbh_cot_fewshot": 2, "minerva_math": 2}


def test_lm_eval_setting_checked_against_the_paper(results_json):
    rows = importers.read_lm_eval(results_json).rows.set_index("benchmark")
    assert rows.loc["MMLU", "differs"] == [] and rows.loc["BBH", "differs"] == [] and rows.loc["MATH", "differs"] == []
    assert rows.loc["BBH", "cot"] is True and rows.loc["MATH", "cot"] is True
    # lm-eval's mbpp prompt has no chain of thought; the paper's MBPP setting is 3-shot CoT
    assert rows.loc["MBPP", "differs"] == ["no CoT (paper: CoT)"]


def test_cli_lm_eval_writes_own_scores_with_setting_and_source(results_json, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    code, stdout, stderr = run(["import", "lm-eval", str(results_json), "--out", str(out), *BASE], capsys)
    assert code == 0, stderr
    df = validate_file(out, "own_scores")
    assert list(df.columns) == list(importers.OUT_COLUMNS)
    assert set(df["model"]) == {"Tiny-7B"} and set(df["params"]) == {7241732096}
    assert str(df["release_date"].iat[0]) == "2024-12-01"
    assert df.set_index("benchmark").loc["MMLU", "setting"].startswith("lm-eval mmlu v2, acc,none, 5-shot")
    assert "bbh_cot_fewshot" in df.set_index("benchmark").loc["BBH", "setting"]
    assert df["source"].str.contains("lm-evaluation-harness results results_2025-01-01T12-00-00.json").all()
    assert "(evaluated 2025-01-01)" in df["source"].iat[0]
    assert "Tiny-7B (from config.model_args pretrained=my-org/Tiny-7B" in stdout
    assert "gsm8k" in stdout and "arc_easy" in stdout and "maps to no bayesdense benchmark" in stdout
    # one warning line, for the one score whose setting differs
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: MBPP 42.40 (mbpp,")
    assert "no CoT (paper: CoT)" in warnings[0]


def test_setting_mismatches_are_warned_per_score_and_refused_when_strict(tmp_path, capsys):
    doc = lm_eval_results()
    doc["n-shot"]["mmlu"] = 0  # run without --num_fewshot 5
    # hendrycks_math instead of minerva_math: 0-shot, no chain of thought
    doc["results"]["hendrycks_math"] = {"exact_match,none": 0.08, "exact_match_stderr,none": 0.004}
    for key in ("results", "groups"):
        doc[key].pop("minerva_math")
    doc["group_subtasks"]["hendrycks_math"] = doc["group_subtasks"].pop("minerva_math")
    doc["n-shot"]["hendrycks_math"] = 0
    for s in MATH_SUBTASKS:
        doc["n-shot"][s] = 0
    p = write_json(tmp_path / "results.json", doc)
    out = tmp_path / "scores.csv"
    code, _, stderr = run(["import", "lm-eval", str(p), "--out", str(out), *BASE], capsys)
    assert code == 0
    warnings = {line.split()[1]: line for line in stderr.splitlines() if line.startswith("warning:")}
    assert set(warnings) == {"MMLU", "MATH", "MBPP"}
    assert "0-shot (paper: 5-shot)" in warnings["MMLU"]
    assert "0-shot (paper: 4-shot); no CoT (paper: CoT)" in warnings["MATH"]
    assert "hendrycks_math" in validate_file(out, "own_scores").set_index("benchmark").loc["MATH", "setting"]

    strict = tmp_path / "strict.csv"
    code, _, stderr = run(["import", "lm-eval", str(p), "--out", str(strict), "--strict-setting", *BASE], capsys)
    assert code == 2 and not strict.exists()
    assert "--strict-setting: 3 score(s)" in stderr and "MATH (hendrycks_math" in stderr
    assert "Traceback" not in stderr
    # the others alone pass the strict check
    code, _, stderr = run(
        ["import", "lm-eval", str(p), "--out", str(strict), "--strict-setting", "--benchmarks", "BBH,HumanEval", *BASE],
        capsys,
    )
    assert code == 0, stderr
    assert list(validate_file(strict, "own_scores")["benchmark"]) == ["BBH", "HumanEval"]


def test_several_tasks_for_one_benchmark_keep_the_paper_setting(tmp_path):
    doc = lm_eval_results()
    # the Open LLM Leaderboard's BBH: 3-shot multiple choice scored by acc_norm, no chain of thought
    doc["results"]["leaderboard_bbh"] = {"acc_norm,none": 0.45, "acc_norm_stderr,none": 0.006}
    doc["n-shot"]["leaderboard_bbh"] = 3
    imp = importers.parse_lm_eval(doc, source="r.json")
    assert (imp.rows["benchmark"] == "BBH").sum() == 2
    leaderboard = imp.rows.set_index("task").loc["leaderboard_bbh"]
    assert leaderboard["differs"] == ["no CoT (paper: CoT)", "metric acc_norm (paper: exact match)"]
    kept, dropped = importers.best_per_benchmark(imp.rows)
    assert kept.set_index("benchmark").loc["BBH", "task"] == "bbh_cot_fewshot"
    assert [t for t, _ in dropped] == ["leaderboard_bbh in r.json (evaluated 2025-01-01)"]


def test_group_without_its_own_score_is_the_size_weighted_subtask_mean():
    doc = lm_eval_results()
    doc["results"]["bbh_cot_fewshot"] = {"alias": "bbh_cot_fewshot"}  # older harness: no group aggregate
    doc.pop("groups")
    doc["n-samples"]["bbh_cot_fewshot_navigate"] = {"original": 750, "effective": 750}
    rows = importers.parse_lm_eval(doc, source="r.json").rows.set_index("benchmark")
    assert rows.loc["BBH", "score"] == pytest.approx(100 * (0.72 * 250 + 0.60 * 750) / 1000)
    assert "mean of 2 subtasks weighted by size" in rows.loc["BBH", "setting"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("results"), "no 'results' object: not an lm-evaluation-harness results file"),
        (lambda d: d["results"]["mmlu"].update({"acc,none": 65.2}), "results.mmlu.acc,none = 65.2: .*fractions"),
    ],
)
def test_not_a_results_file_is_refused_naming_file_and_key(tmp_path, change, expected):
    doc = lm_eval_results()
    change(doc)
    p = write_json(tmp_path / "r.json", doc)
    with pytest.raises(DataError, match=expected) as e:
        importers.read_lm_eval(p)
    assert str(p) in str(e.value)


def test_old_style_file_without_group_subtasks_folds_by_name():
    doc = lm_eval_results()
    doc.pop("group_subtasks")
    imp = importers.parse_lm_eval(doc, source="r.json")
    assert [t for t, _ in imp.skipped] == ["gsm8k", "arc_easy"]
    assert set(imp.rows["benchmark"]) == set(importers.FIVE)


# ----------------------------------------------------------------------------- missing / wrong arguments
def _no_params(d: dict[str, Any]) -> None:
    d["config"].pop("model_num_parameters")


def _no_model(d: dict[str, Any]) -> None:
    d["config"]["model_args"] = "dtype=bfloat16"
    d.pop("model_name")


@pytest.mark.parametrize(
    ("change", "args", "expected"),
    [
        (None, [], "missing --release-date: the release date of Tiny-7B .*record only when the evaluation ran"),
        (_no_params, BASE, "missing --params: the raw parameter count .*the files do not record it"),
        (_no_model, BASE, "missing --model: the model's name; .* record no config.model_args pretrained="),
    ],
)
def test_missing_arguments_exit_2_naming_the_option_and_write_nothing(tmp_path, capsys, change, args, expected):
    doc = lm_eval_results()
    if change:
        change(doc)
    p = write_json(tmp_path / "r.json", doc)
    out = tmp_path / "scores.csv"
    code, _, stderr = run(["import", "lm-eval", str(p), "--out", str(out), *args], capsys)
    assert code == 2 and not out.exists()
    assert stderr.startswith("error: ") and "Traceback" not in stderr
    assert re.search(expected, stderr), stderr
    assert "nothing was written" in stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--params", "7.2"], "too small for a raw parameter count; write 7.2e9 or 7.2B"),
        (["--release-date", "01/03/2025"], "is not a date YYYY-MM-DD"),
        (["--benchmarks", "GSM8K"], "'GSM8K' is not a benchmark; allowed: MMLU, BBH, MATH, HumanEval, MBPP"),
    ],
)
def test_bad_option_values_exit_2_with_the_rule(results_json, tmp_path, capsys, args, expected):
    out = tmp_path / "scores.csv"
    with pytest.raises(SystemExit) as e:
        main(["import", "lm-eval", str(results_json), "--out", str(out), *BASE, *args])
    assert e.value.code == 2 and not out.exists()
    assert expected in capsys.readouterr().err


def test_params_accept_raw_scientific_and_suffixed(results_json, tmp_path, capsys):
    for i, text in enumerate(["7200000000", "7.2e9", "7.2B"]):
        out = tmp_path / f"s{i}.csv"
        assert run(["import", "lm-eval", str(results_json), "--out", str(out), *BASE, "--params", text], capsys)[0] == 0
        assert set(validate_file(out, "own_scores")["params"]) == {7_200_000_000}


def test_two_files_naming_two_models_are_refused(results_json, tmp_path, capsys):
    other = lm_eval_results()
    other["config"]["model_args"] = "pretrained=other-org/Other-3B"
    p2 = write_json(tmp_path / "other.json", other)
    out = tmp_path / "scores.csv"
    code, _, stderr = run(["import", "lm-eval", str(results_json), str(p2), "--out", str(out), *BASE], capsys)
    assert code == 2 and not out.exists()
    assert "the files name 2 models (Tiny-7B" in stderr and "Other-3B (other.json)" in stderr


def test_no_mapped_task_is_refused(tmp_path, capsys):
    doc = lm_eval_results()
    doc["results"] = {"gsm8k": doc["results"]["gsm8k"]}
    doc.pop("groups")
    p = write_json(tmp_path / "r.json", doc)
    out = tmp_path / "scores.csv"
    code, _, stderr = run(["import", "lm-eval", str(p), "--out", str(out), *BASE], capsys)
    assert code == 2 and not out.exists()
    assert "no score in" in stderr and "found: gsm8k" in stderr


# ----------------------------------------------------------------------------- output file: round trip, append
def test_round_trip_passes_data_check(results_json, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert run(["import", "lm-eval", str(results_json), "--out", str(out), *BASE], capsys)[0] == 0
    code, stdout, _ = run(["data", "check", "--file", str(out), "--kind", "own_scores"], capsys)
    assert code == 0 and f"ok    {out}: 5 rows of kind 'own_scores'" in stdout


def test_existing_out_needs_append_or_force_and_append_refuses_duplicates(results_json, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert run(["import", "lm-eval", str(results_json), "--out", str(out), *BASE], capsys)[0] == 0
    before = out.read_bytes()
    code, _, stderr = run(["import", "lm-eval", str(results_json), "--out", str(out), *BASE], capsys)
    assert code == 2 and "exists: --append adds the new rows to it, --force overwrites it" in stderr
    code, _, stderr = run(["import", "lm-eval", str(results_json), "--out", str(out), "--append", *BASE], capsys)
    assert code == 2 and "already holds Tiny-7B/MMLU, Tiny-7B/BBH" in stderr
    assert out.read_bytes() == before
    # another model appends; an own_scores file without the optional columns takes them
    out.write_text("model,release_date,params,benchmark,score\nA-7B,2023-07-18,7000000000,MMLU,45.3\n")
    args = ["--model", "My-7B", "--out", str(out), "--append", *BASE]
    assert run(["import", "lm-eval", str(results_json), *args], capsys)[0] == 0
    df = validate_file(out, "own_scores")
    assert len(df) == 6 and list(df["model"]) == ["A-7B"] + ["My-7B"] * 5 and df["setting"].isna().iat[0]
    # --force overwrites
    assert run(["import", "lm-eval", str(results_json), "--out", str(out), "--force", *BASE], capsys)[0] == 0
    assert len(validate_file(out, "own_scores")) == 5


def test_append_with_a_different_release_date_is_refused_by_the_validator(results_json, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    args = ["import", "lm-eval", str(results_json), "--out", str(out), "--benchmarks", "MMLU", *BASE]
    assert run(args, capsys)[0] == 0
    before = out.read_bytes()
    args = ["import", "lm-eval", str(results_json), "--out", str(out), "--append", "--benchmarks", "BBH"]
    code, _, stderr = run([*args, "--release-date", "2024-12-02"], capsys)
    assert code == 2 and "column 'release_date': 2024-12-02 differs from 2024-12-01" in stderr
    assert str(out) in stderr and out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_json_output_is_strict(results_json, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    code, stdout, _ = run(["import", "lm-eval", str(results_json), "--out", str(out), "--json", *BASE], capsys)
    assert code == 0

    def refuse(c: str) -> Any:
        raise ValueError(c)

    obj = json.loads(stdout, parse_constant=refuse)
    scores = {s["benchmark"]: s for s in obj["scores"]}
    assert scores["HumanEval"]["stderr"] is None  # "N/A" in the file
    assert scores["MMLU"]["matches_paper_setting"] is True and scores["MBPP"]["differs"] == ["no CoT (paper: CoT)"]
    assert obj["model"] == "Tiny-7B" and obj["params"] == 7241732096 and obj["release_date"] == "2024-12-01"
    assert {s["task"] for s in obj["skipped"]} == {
        "gsm8k (results_2025-01-01T12-00-00.json)",
        "arc_easy (results_2025-01-01T12-00-00.json)",
    }


def test_help_teaches_with_examples(capsys):
    for fmt in ("lm-eval", "opencompass"):
        with pytest.raises(SystemExit) as e:
            main(["import", fmt, "--help"])
        assert e.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and "bayesdense import " + fmt in text and "MBPP 3-shot CoT" in text


# ----------------------------------------------------------------------------- OpenCompass
SUMMARY = """\
dataset,version,metric,mode,tiny-7b-hf,other-3b-hf
--------- 考试 Exam ---------,-,-,-,-,-
mmlu,-,naive_average,gen,64.10,50.02
lukaemon_mmlu_abstract_algebra,2bcd7a,accuracy,gen,31.00,25.00
lukaemon_mmlu_formal_logic,2bcd7a,accuracy,gen,40.48,30.16
bbh,-,naive_average,gen,45.33,30.50
bbh-navigate,4a31fa,score,gen,60.40,51.20
math,265cce,accuracy,gen,13.80,-
openai_humaneval,8e312c,humaneval_pass@1,gen,29.88,12.20
mbpp,1e1056,score,gen,40.60,20.20
mbpp,1e1056,pass,gen,203.00,101.00
mbpp,1e1056,timeout,gen,3.00,4.00
gsm8k,1d7fe4,accuracy,gen,50.11,20.09
"""
PAPER_SHOTS = ["--shots", "MMLU=5,BBH=3,MATH=4,HumanEval=0,MBPP=3", "--cot", "BBH,MATH,MBPP"]


@pytest.fixture
def summary_csv(tmp_path: Path) -> Path:
    p = tmp_path / "summary_20250301_120000.csv"
    p.write_text(SUMMARY, encoding="utf-8")
    return p


def test_opencompass_rows_in_percent_and_settings_from_options(summary_csv):
    imp = importers.read_opencompass(summary_csv, shots={"MMLU": 5, "BBH": 3, "MATH": 4}, cot=["BBH", "MATH"])
    assert imp.models == ("tiny-7b-hf", "other-3b-hf")
    tiny = imp.rows[imp.rows["model"] == "tiny-7b-hf"].set_index("benchmark")
    assert list(tiny.index) == ["MMLU", "BBH", "MATH", "HumanEval", "MBPP"]
    assert tiny["score"].tolist() == [64.10, 45.33, 13.80, 29.88, 40.60]  # percent already: unchanged
    assert tiny.loc["MBPP", "metric"] == "score"  # not the 'pass' count row
    assert (
        tiny.loc["MMLU", "differs"] == [] and tiny.loc["BBH", "differs"] == [] and tiny.loc["MATH", "unchecked"] == []
    )
    assert tiny.loc["HumanEval", "unchecked"] == ["shots not recorded (paper: 0-shot)"]
    assert tiny.loc["MBPP", "differs"] == ["no CoT (paper: CoT)"]
    assert imp.folded == {"mmlu": 2, "bbh": 1}
    assert ("gsm8k", "maps to no bayesdense benchmark") in imp.skipped
    assert ("math (other-3b-hf)", "no result for this model") in imp.skipped
    assert (imp.rows["model"] == "other-3b-hf").sum() == 4


def test_cli_opencompass_picks_and_renames_a_model_column(summary_csv, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    args = ["import", "opencompass", str(summary_csv), "--out", str(out), "--params", "7.2e9", *BASE, *PAPER_SHOTS]
    code, _, stderr = run([*args, "--model", "tiny-7b-hf=Tiny-7B"], capsys)
    assert code == 0 and "warning" not in stderr
    df = validate_file(out, "own_scores")
    assert set(df["model"]) == {"Tiny-7B"} and len(df) == 5 and set(df["shots"]) == {5, 3, 4, 0}
    assert df.set_index("benchmark").loc["BBH", "setting"] == "OpenCompass bbh, naive_average, mode gen, 3-shot CoT"
    assert run(["data", "check", "--file", str(out), "--kind", "own_scores"], capsys)[0] == 0


def test_cli_opencompass_without_shots_warns_that_settings_cannot_be_checked(summary_csv, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    args = ["import", "opencompass", str(summary_csv), "--out", str(out), "--params", "3e9", *BASE]
    code, _, stderr = run([*args, "--model", "other-3b-hf"], capsys)
    assert code == 0
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 4 and all("cannot check: shots not recorded" in w for w in warnings)
    assert "state them with --shots/--cot" in warnings[0]
    code, _, stderr = run([*args, "--model", "other-3b-hf", "--force", "--strict-setting"], capsys)
    assert code == 2 and "--strict-setting: 4 score(s)" in stderr


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (None, "missing --model: .* has 2 model columns \\(tiny-7b-hf, other-3b-hf\\)"),
        ("tiny-7b", "'tiny-7b' is not a model column of .*did you mean 'tiny-7b-hf'"),
    ],
)
def test_cli_opencompass_model_column_errors(summary_csv, tmp_path, capsys, model, expected):
    out = tmp_path / "scores.csv"
    args = ["import", "opencompass", str(summary_csv), "--out", str(out), "--params", "7e9", *BASE]
    code, _, stderr = run(args + (["--model", model] if model else []), capsys)
    assert code == 2 and not out.exists() and re.search(expected, stderr), stderr


def test_opencompass_format_errors_name_file_row_and_column(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("dataset,metric,mode,tiny\nmmlu,naive_average,gen,64.1\n")
    with pytest.raises(DataError, match="an OpenCompass summary CSV starts with dataset, version, metric, mode"):
        importers.read_opencompass(p)
    p.write_text(SUMMARY.replace("13.80", "138.0"))
    with pytest.raises(DataError, match=r"row 7 \(line 8\), column 'tiny-7b-hf': '138.0' is not a percent 0-100"):
        importers.read_opencompass(p)


def test_paper_settings_table_is_the_documented_one():
    labels = {b: s.label() for b, s in importers.PAPER_SETTINGS.items()}
    assert labels == {
        "MMLU": "5-shot, accuracy",
        "BBH": "3-shot CoT, exact match",
        "MATH": "4-shot CoT, exact match",
        "HumanEval": "0-shot, pass@1",
        "MBPP": "3-shot CoT, pass@1",
    }
    assert copy.deepcopy(importers.FIVE) == ("MMLU", "BBH", "MATH", "HumanEval", "MBPP")
