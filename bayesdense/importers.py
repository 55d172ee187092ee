"""Evaluation results from other tools -> rows of an ``own_scores`` table.

One pure function per format turns a file's parsed content into a tidy :class:`Imported`
(one row per task result that maps to a bayesdense benchmark, score in percent, with the
evaluation setting the file records and how it differs from the paper's):

- :func:`parse_lm_eval`: the results JSON of EleutherAI's lm-evaluation-harness (``results``
  with ``"metric,filter"`` keys holding fractions, ``n-shot``, ``configs``, ``group_subtasks``,
  ``config.model_args``);
- :func:`parse_opencompass`: the summary CSV of OpenCompass (columns ``dataset, version, metric,
  mode`` and one column per model abbreviation, values in percent, ``-`` for no result).

:func:`to_own_scores` adds the model's name, release date and parameter count, and
:func:`write_own_scores` validates the table with the ``own_scores`` validator and writes it
atomically (appending to an existing file when asked). Nothing here guesses a release date or a
parameter count: they come from the caller (a result file's evaluation date is not a release date).

The paper's settings, as the project states them: MMLU 5-shot, BBH 3-shot CoT, MATH 4-shot CoT,
HumanEval 0-shot, MBPP 3-shot CoT, scored by accuracy / exact match / pass@1. (``data/scores.SOURCES.md``
lists MBPP as plain 3-shot; if the paper says that, set ``cot=None`` for MBPP in :data:`PAPER_SETTINGS`.)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .data import BENCHMARKS, DataError, read_csv_strings, validate_file

FIVE = BENCHMARKS[:5]


@dataclass(frozen=True)
class PaperSetting:
    shots: int
    cot: bool | None  # None: the paper does not say
    metrics: tuple[str, ...]  # metric names (lm-eval and OpenCompass spellings) that score as the paper does
    metric_label: str

    def label(self) -> str:
        cot = " CoT" if self.cot else ""
        return f"{self.shots}-shot{cot}, {self.metric_label}"


_AVERAGES = ("naive_average", "weighted_average")  # OpenCompass summary groups
PAPER_SETTINGS: dict[str, PaperSetting] = {
    "MMLU": PaperSetting(5, None, ("acc", "exact_match", "accuracy", *_AVERAGES), "accuracy"),
    "BBH": PaperSetting(3, True, ("exact_match", "accuracy", "score", *_AVERAGES), "exact match"),
    "MATH": PaperSetting(4, True, ("exact_match", "math_verify", "accuracy"), "exact match"),
    "HumanEval": PaperSetting(0, None, ("pass@1", "pass_at_1", "humaneval_pass@1"), "pass@1"),
    "MBPP": PaperSetting(3, True, ("pass_at_1", "pass@1", "score"), "pass@1"),
}

ROW_COLUMNS = (
    "model",  # as the file names it ("" when it does not)
    "benchmark",
    "score",  # percent
    "stderr",  # percent; NaN when the file gives none
    "task",  # the file's task / dataset name
    "metric",  # the file's metric key
    "shots",  # Int64; <NA> when not recorded
    "cot",  # object: True / False / None (not recorded)
    "setting",  # one line: how the score was obtained, as the file records it
    "differs",  # object: list of ways the setting differs from the paper's
    "unchecked",  # object: list of setting parts the file does not record
    "file",  # the file's name (and evaluation date when recorded)
    "tool",  # lm-evaluation-harness | OpenCompass
)


@dataclass
class Imported:
    """What one file gave: the tidy rows, and what was left out and why."""

    rows: pd.DataFrame
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (task, reason)
    folded: dict[str, int] = field(default_factory=dict)  # group task -> number of its subtasks folded in
    model: str | None = None  # the file's model name, when it has one
    model_from: str = ""  # where that name came from
    params: int | None = None  # the file's parameter count, when it has one
    params_from: str = ""
    models: tuple[str, ...] = ()  # OpenCompass: every model column


def check_setting(benchmark: str, shots: int | None, cot: bool | None, metric: str) -> tuple[list[str], list[str]]:
    """How a score's setting differs from the paper's, and which parts cannot be checked."""
    paper = PAPER_SETTINGS[benchmark]
    differs: list[str] = []
    unchecked: list[str] = []
    if shots is None:
        unchecked.append(f"shots not recorded (paper: {paper.shots}-shot)")
    elif shots != paper.shots:
        differs.append(f"{shots}-shot (paper: {paper.shots}-shot)")
    if paper.cot is not None:
        want = "CoT" if paper.cot else "no CoT"
        if cot is None:
            unchecked.append(f"CoT not recorded (paper: {want})")
        elif cot != paper.cot:
            differs.append(f"{'CoT' if cot else 'no CoT'} (paper: {want})")
    name = metric.split(",", 1)[0]
    if name not in paper.metrics:
        differs.append(f"metric {name} (paper: {paper.metric_label})")
    return differs, unchecked


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(records, columns=list(ROW_COLUMNS))
    df["score"] = df["score"].astype(float)
    df["stderr"] = df["stderr"].astype(float)
    df["shots"] = df["shots"].astype("Int64")
    df["cot"] = pd.Series([r["cot"] for r in records], index=df.index, dtype=object)  # True / False / None
    return df


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


# ----------------------------------------------------------------------------- lm-evaluation-harness
@dataclass(frozen=True)
class _Task:
    benchmark: str
    cot: bool | None  # None: decide from the subtasks' names


# Task and group names of lm-evaluation-harness (lm_eval/tasks/...) that score a bayesdense benchmark.
# Subsets (minerva_math500, leaderboard_math_hard, mbpp_plus, humaneval_plus, mmlu_pro, ...) are other
# benchmarks and are not mapped.
LM_EVAL_TASKS: dict[str, _Task] = {
    "mmlu": _Task("MMLU", False),
    "mmlu_continuation": _Task("MMLU", False),
    "mmlu_generative": _Task("MMLU", False),
    "mmlu_flan_n_shot_generative": _Task("MMLU", False),
    "mmlu_flan_n_shot_loglikelihood": _Task("MMLU", False),
    "mmlu_flan_cot_fewshot": _Task("MMLU", True),
    "mmlu_flan_cot_zeroshot": _Task("MMLU", True),
    "bbh": _Task("BBH", None),
    "bbh_cot_fewshot": _Task("BBH", True),
    "bbh_cot_zeroshot": _Task("BBH", True),
    "bbh_fewshot": _Task("BBH", False),
    "bbh_zeroshot": _Task("BBH", False),
    "leaderboard_bbh": _Task("BBH", False),
    "minerva_math": _Task("MATH", True),  # Minerva prompt: worked solutions as examples
    "hendrycks_math": _Task("MATH", False),
    "humaneval": _Task("HumanEval", False),
    "humaneval_instruct": _Task("HumanEval", False),
    "mbpp": _Task("MBPP", False),
    "mbpp_instruct": _Task("MBPP", False),
}

# metric names to use, best first (a file may hold several, e.g. minerva_math: exact_match and math_verify)
_LM_EVAL_METRICS: dict[str, tuple[str, ...]] = {
    "MMLU": ("acc", "exact_match"),
    "BBH": ("exact_match", "acc_norm", "acc"),
    "MATH": ("exact_match", "math_verify"),
    "HumanEval": ("pass@1", "pass_at_1"),
    "MBPP": ("pass_at_1", "pass@1"),
}
_FILTERS = ("none", "strict-match", "get-answer", "create_test", "extract_code")


def _model_from_args(model_args: Any) -> tuple[str | None, str]:
    """Model name from ``config.model_args`` (a "k=v,k=v" string or a dict), as lm-eval names it."""
    if isinstance(model_args, Mapping):
        args = {str(k): str(v) for k, v in model_args.items()}
    elif isinstance(model_args, str):
        args = dict(p.split("=", 1) for p in model_args.split(",") if "=" in p)
    else:
        return None, ""
    for key in ("peft", "delta", "pretrained", "model", "path", "engine"):
        value = args.get(key, "").strip()
        if value:
            name = value.rstrip("/").rsplit("/", 1)[-1] or value
            return name, f"config.model_args {key}={value}"
    return None, ""


def _subtasks(task: str, group_subtasks: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """Every task below ``task``: from ``group_subtasks`` (recursively) or, in files without it, by name."""
    if task in group_subtasks:
        out: list[str] = []
        todo = list(group_subtasks.get(task) or [])
        while todo:
            t = str(todo.pop(0))
            if t not in out:
                out.append(t)
                todo.extend(group_subtasks.get(t) or [])
        return out
    return [n for n in names if n.startswith(task + "_") and n not in LM_EVAL_TASKS]


def _int_or_none(x: Any) -> int | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x
    if isinstance(x, float) and x.is_integer():
        return int(x)
    if isinstance(x, str) and x.strip().isdigit():
        return int(x.strip())
    return None


def _lm_eval_shots(task: str, subs: list[str], nshot: Mapping[str, Any], configs: Mapping[str, Any]) -> int | None:
    for t in [task, *subs]:
        n = _int_or_none(nshot.get(t))
        if n is not None:
            return n
        cfg = configs.get(t)
        if isinstance(cfg, Mapping):
            meta = cfg.get("metadata")
            # tasks whose examples are written into the prompt (bbh_cot_fewshot) state them in metadata
            n = _int_or_none(meta.get("num_fewshot")) if isinstance(meta, Mapping) else None
            n = n if n is not None else _int_or_none(cfg.get("num_fewshot"))
            if n is not None:
                return n
    return None


def _pick_metric(values: Mapping[str, Any], benchmark: str) -> str | None:
    keys = [k for k in values if not k.split(",", 1)[0].endswith("_stderr") and _number(values[k]) is not None]
    for name in _LM_EVAL_METRICS[benchmark]:
        found = [k for k in keys if k.split(",", 1)[0] == name]
        if found:
            for f in _FILTERS:
                for k in found:
                    if (k.split(",", 1)[1] if "," in k else "none") == f:
                        return k
            return found[0]
    return None


def _stderr_key(metric: str) -> str:
    name, _, filt = metric.partition(",")
    return f"{name}_stderr,{filt}" if filt else f"{name}_stderr"


def parse_lm_eval(doc: Any, *, source: str) -> Imported:
    """Tidy rows from one lm-evaluation-harness results JSON (already parsed).

    Group scores (``mmlu``, ``bbh_cot_fewshot``, ``minerva_math``) are used as the file gives them;
    their subtasks are folded in, not listed as unknown. A group without a score of its own (older
    harness versions) gets the mean of its subtasks, weighted by their sample counts when the file
    records them. Values are fractions in the file and percent here.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), Mapping):
        raise DataError(
            source,
            [
                "no 'results' object: not an lm-evaluation-harness results file (the results_<date>.json "
                "that `lm_eval --output_path` writes; samples_*.jsonl files hold per-example outputs)"
            ],
        )

    def part(key: str) -> Mapping[str, Any]:
        value = doc.get(key)
        return value if isinstance(value, Mapping) else {}

    results: dict[str, Any] = {**part("groups"), **doc["results"]}
    nshot, configs, group_subtasks = part("n-shot"), part("configs"), part("group_subtasks")
    versions, n_samples, config = part("versions"), part("n-samples"), part("config")

    model, model_from = _model_from_args(config.get("model_args"))
    if model is None and isinstance(doc.get("model_name"), str) and doc["model_name"].strip():
        model, model_from = doc["model_name"].strip().rstrip("/").rsplit("/", 1)[-1], "model_name"
    params = _int_or_none(config.get("model_num_parameters"))
    params = params if params is not None and params > 0 else None
    when = ""
    if _number(doc.get("date")) is not None:
        when = f" (evaluated {dt.datetime.fromtimestamp(float(doc['date']), tz=dt.UTC).date().isoformat()})"

    names = list(results)
    covered: dict[str, str] = {}
    for task in names:
        if task in LM_EVAL_TASKS:
            for s in _subtasks(task, group_subtasks, names):
                covered.setdefault(s, task)
    records: list[dict[str, Any]] = []
    imported = Imported(_frame([]), source, model=model, model_from=model_from, params=params)
    if params is not None:
        imported.params_from = f"config.model_num_parameters = {params}"
    for task in names:
        if task not in LM_EVAL_TASKS:
            if task not in covered:
                imported.skipped.append((task, "maps to no bayesdense benchmark"))
            continue
        spec = LM_EVAL_TASKS[task]
        bench = spec.benchmark
        values = results[task] if isinstance(results[task], Mapping) else {}
        subs = _subtasks(task, group_subtasks, names)
        folded_here = [s for s in subs if s in results]
        if folded_here:
            imported.folded[task] = len(folded_here)
        picked = _pick_metric(values, bench)
        note = ""
        stderr = math.nan
        if picked is not None:
            metric = picked
            score = float(values[metric])
            se = _number(values.get(_stderr_key(metric)))
            stderr = se * 100 if se is not None else math.nan
        else:
            # older harness versions: a group line without a score of its own
            leaves = [s for s in subs if s in results and s not in group_subtasks and isinstance(results[s], Mapping)]
            picks = [(s, m) for s in leaves if (m := _pick_metric(results[s], bench)) is not None]
            if not picks:
                found = ", ".join(k for k in values if k != "alias") or "none"
                imported.skipped.append(
                    (task, f"no {'/'.join(_LM_EVAL_METRICS[bench])} value (metrics found: {found})")
                )
                continue
            metric = picks[0][1]
            weights = []
            for s, _ in picks:
                ns = n_samples.get(s)
                w = _number(ns.get("effective")) if isinstance(ns, Mapping) else None
                weights.append(w)
            by_size = all(w is not None and w > 0 for w in weights)
            w_used = [float(w) if by_size and w is not None else 1.0 for w in weights]
            score = sum(float(results[s][m]) * w for (s, m), w in zip(picks, w_used, strict=True)) / sum(w_used)
            note = f"; mean of {len(picks)} subtasks{' weighted by size' if by_size else ''} (computed on import)"
        if not 0.0 <= score <= 1.0:
            raise DataError(
                source,
                [f"results.{task}.{metric} = {score:g}: lm-evaluation-harness reports fractions 0-1"],
            )
        shots = _lm_eval_shots(task, subs, nshot, configs)
        cot = spec.cot
        if cot is None and subs:
            flags = {"cot" in s for s in subs}
            cot = flags.pop() if len(flags) == 1 else None
        differs, unchecked = check_setting(bench, shots, cot, metric)
        version = versions.get(task)
        parts = [f"lm-eval {task}" + (f" v{version}" if version not in (None, "N/A") else ""), str(metric)]
        parts.append(f"{shots}-shot" if shots is not None else "shots not recorded")
        if cot is not None:
            parts[-1] += " CoT" if cot else ""
        records.append(
            {
                "model": model or "",
                "benchmark": bench,
                "score": round(score * 100, 4),
                "stderr": stderr,
                "task": task,
                "metric": metric,
                "shots": shots,
                "cot": cot,
                "setting": ", ".join(parts) + note,
                "differs": differs,
                "unchecked": unchecked,
                "file": f"{Path(source).name}{when}",
                "tool": "lm-evaluation-harness",
            }
        )
    imported.rows = _frame(records)
    return imported


# ----------------------------------------------------------------------------- OpenCompass
# dataset abbreviations in OpenCompass summaries (configs/datasets/*, summary groups 'mmlu' and 'bbh')
OPENCOMPASS_DATASETS: dict[str, str] = {
    "mmlu": "MMLU",
    "bbh": "BBH",
    "math": "MATH",
    "openai_humaneval": "HumanEval",
    "mbpp": "MBPP",
}
# rows of the subsets that make up the 'mmlu' and 'bbh' summary groups
_OPENCOMPASS_SUBSETS: dict[str, tuple[str, ...]] = {"mmlu": ("lukaemon_mmlu_", "mmlu-"), "bbh": ("bbh-",)}
_OPENCOMPASS_METRICS: dict[str, tuple[str, ...]] = {
    "MMLU": ("naive_average", "weighted_average", "accuracy"),
    "BBH": ("naive_average", "weighted_average", "accuracy", "score"),
    "MATH": ("accuracy",),
    "HumanEval": ("humaneval_pass@1",),
    "MBPP": ("score",),
}
OPENCOMPASS_FIXED = ("dataset", "version", "metric", "mode")


def parse_opencompass(
    table: pd.DataFrame,
    *,
    source: str,
    shots: Mapping[str, int] | None = None,
    cot: Sequence[str] | None = None,
) -> Imported:
    """Tidy rows (one per model column and benchmark) from an OpenCompass summary CSV (strings).

    The summary records neither shots nor CoT: ``shots`` (benchmark -> n) and ``cot`` (the
    benchmarks evaluated with chain of thought; given means every other one was not) state them.
    """
    cols = [str(c).strip() for c in table.columns]
    if tuple(cols[:4]) != OPENCOMPASS_FIXED:
        raise DataError(
            source,
            [
                f"columns start with {', '.join(cols[:4]) or 'nothing'}; an OpenCompass summary CSV starts with "
                f"{', '.join(OPENCOMPASS_FIXED)} and then has one column per model abbreviation"
            ],
        )
    models = tuple(cols[4:])
    if not models:
        raise DataError(source, ["no model columns after dataset, version, metric, mode"])
    table = table.set_axis(cols, axis=1)
    imported = Imported(_frame([]), source, models=models)
    shots_of = dict(shots or {})
    cot_set = None if cot is None else set(cot)
    found: dict[str, list[int]] = {}
    for i, row in enumerate(table.itertuples(index=False)):
        name = str(row[0]).strip()
        if not name or name.startswith("-") or all(str(v).strip() == "-" for v in row[1:]):
            continue  # section separators and datasets without any result
        if name in OPENCOMPASS_DATASETS:
            found.setdefault(name, []).append(i)
            continue
        group = next((g for g, pre in _OPENCOMPASS_SUBSETS.items() if name.startswith(pre)), None)
        if group is not None:
            imported.folded[group] = imported.folded.get(group, 0) + 1
        elif name not in {t for t, _ in imported.skipped}:
            imported.skipped.append((name, "maps to no bayesdense benchmark"))
    for group in list(imported.folded):
        if group not in found:
            n = imported.folded.pop(group)
            imported.skipped.append(
                (f"{group} subsets", f"{n} subset rows but no '{group}' summary row: add the '{group}' summary group")
            )
    records: list[dict[str, Any]] = []
    for name, idx in found.items():
        bench = OPENCOMPASS_DATASETS[name]
        by_metric = {str(table.iat[i, 2]).strip(): i for i in idx}
        metric = next((m for m in _OPENCOMPASS_METRICS[bench] if m in by_metric), None)
        if metric is None:
            imported.skipped.append(
                (name, f"no {'/'.join(_OPENCOMPASS_METRICS[bench])} row (metrics found: {', '.join(by_metric)})")
            )
            continue
        i = by_metric[metric]
        version, mode = str(table.iat[i, 1]).strip(), str(table.iat[i, 3]).strip()
        n_shots = shots_of.get(bench)
        c = None if cot_set is None else bench in cot_set
        differs, unchecked = check_setting(bench, n_shots, c, metric)
        prompt = f" (prompt {version})" if version not in ("", "-") else ""
        setting = f"OpenCompass {name}{prompt}, {metric}, mode {mode}"
        setting += f", {n_shots}-shot" if n_shots is not None else ", shots not recorded"
        setting += "" if c is None else (" CoT" if c else "")
        for j, model in enumerate(models):
            raw = str(table.iat[i, 4 + j]).strip()
            if raw in ("-", ""):
                imported.skipped.append((f"{name} ({model})", "no result for this model"))
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or not 0 <= value <= 100:
                raise DataError(
                    source,
                    [f"row {i + 1} (line {i + 2}), column '{model}': '{raw}' is not a percent 0-100"],
                )
            records.append(
                {
                    "model": model,
                    "benchmark": bench,
                    "score": value,
                    "stderr": math.nan,
                    "task": name,
                    "metric": metric,
                    "shots": n_shots,
                    "cot": c,
                    "setting": setting,
                    "differs": differs,
                    "unchecked": unchecked,
                    "file": Path(source).name,
                    "tool": "OpenCompass",
                }
            )
    imported.rows = _frame(records)
    return imported


# ----------------------------------------------------------------------------- rows -> own_scores
def best_per_benchmark(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One row per (model, benchmark): the one closest to the paper's setting (fewest differences,
    then fewest unchecked parts, then first). Returns the kept rows and (task, reason) for the rest."""
    if rows.empty:
        return rows, []
    rank = rows["differs"].map(len) * 100 + rows["unchecked"].map(len)
    order = rows.assign(_rank=rank, _pos=range(len(rows))).sort_values(["_rank", "_pos"], kind="stable")
    keep = ~order.duplicated(["model", "benchmark"], keep="first")
    kept = order[keep].sort_values("_pos").drop(columns=["_rank", "_pos"]).reset_index(drop=True)
    dropped = []
    for r in order[~keep].itertuples(index=False):
        k = kept[(kept["model"] == r.model) & (kept["benchmark"] == r.benchmark)].iloc[0]
        dropped.append(
            (
                f"{r.task} in {r.file}",
                f"also {r.benchmark}; kept {k['task']} in {k['file']} (closer to the paper's setting, or first)",
            )
        )
    return kept, dropped


OUT_COLUMNS = ("model", "release_date", "params", "benchmark", "score", "shots", "setting", "source")


def to_own_scores(rows: pd.DataFrame, *, model: str, release_date: dt.date, params: int) -> pd.DataFrame:
    """The ``own_scores`` table (strings, ready to write) for one model's rows."""
    out = pd.DataFrame(
        {
            "model": model,
            "release_date": release_date.isoformat(),
            "params": str(int(params)),
            "benchmark": rows["benchmark"].astype(str),
            "score": [f"{round(float(s), 4):g}" for s in rows["score"]],
            "shots": ["" if pd.isna(n) else str(int(n)) for n in rows["shots"]],
            "setting": rows["setting"].astype(str),
            "source": [f"{t} results {f}" for t, f in zip(rows["tool"], rows["file"], strict=True)],
        },
        columns=list(OUT_COLUMNS),
    )
    return out.reset_index(drop=True)


def write_own_scores(new: pd.DataFrame, out: str | Path, *, append: bool = False) -> pd.DataFrame:
    """Validate ``new`` (strings, :data:`OUT_COLUMNS`), alone or after the rows already in ``out``,
    with the ``own_scores`` validator, then write it atomically. Returns the validated table.
    Raises :class:`DataError` (nothing written) on any problem, including a (model, benchmark)
    already in ``out``."""
    out = Path(out)
    table = new
    if append and out.exists():
        validate_file(out, "own_scores")  # refuse to append to a broken file
        old = read_csv_strings(out)
        clash = old.merge(new[["model", "benchmark"]], on=["model", "benchmark"])
        if not clash.empty:
            pairs = ", ".join(f"{m}/{b}" for m, b in zip(clash["model"], clash["benchmark"], strict=True))
            raise DataError(
                out,
                [
                    f"already holds {pairs}: appending would duplicate (model, benchmark) rows; remove those rows "
                    "or import into a new file"
                ],
            )
        cols = [c for c in OUT_COLUMNS if c in old.columns or c in new.columns]
        cols += [c for c in old.columns if c not in cols]
        table = pd.concat([old, new], ignore_index=True).reindex(columns=cols).fillna("")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        table.to_csv(tmp, index=False)
        try:
            checked = validate_file(tmp, "own_scores")
        except DataError as e:
            raise DataError(out, e.problems) from None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return checked


# ----------------------------------------------------------------------------- reading files
def read_lm_eval(path: str | Path) -> Imported:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, ["file not found"]) from None
    except UnicodeDecodeError:
        raise DataError(path, ["not UTF-8 text: an lm-evaluation-harness results file is JSON"]) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(path, [f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"]) from None
    return parse_lm_eval(doc, source=str(path))


def read_opencompass(
    path: str | Path, *, shots: Mapping[str, int] | None = None, cot: Sequence[str] | None = None
) -> Imported:
    return parse_opencompass(read_csv_strings(path), source=str(path), shots=shots, cot=cot)


__all__ = [
    "FIVE",
    "LM_EVAL_TASKS",
    "OPENCOMPASS_DATASETS",
    "OUT_COLUMNS",
    "PAPER_SETTINGS",
    "Imported",
    "best_per_benchmark",
    "check_setting",
    "parse_lm_eval",
    "parse_opencompass",
    "read_lm_eval",
    "read_opencompass",
    "to_own_scores",
    "write_own_scores",
]
