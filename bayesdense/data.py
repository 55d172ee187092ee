"""Shipped tables: where they live, what each column means, and strict validation.

Every table has a *kind* (its schema, defined here: column types, units, ranges, keys) and a
manifest entry in ``data/manifest.toml`` (file, sha256, source, licence, digitized flag, units).
:func:`load_table` refuses a table that breaks its schema with a :class:`DataError` naming the
file, the row (1-based data row, with the file's line number) and the column.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BENCHMARKS = ("MMLU", "BBH", "MATH", "HumanEval", "MBPP", "AVERAGE")
# kinds of leaderboard entry (table kind 'leaderboard_scores'; spec data.entry_types), in the
# Open LLM Leaderboard's order of its model types
ENTRY_TYPES = ("pretrained", "continuously_pretrained", "fine_tuned", "chat", "merge")
LEADERBOARD_TABLE = "open_llm_leaderboard_v1"  # the shipped table of spec data.targets = "leaderboard"
TIME_ORIGIN = dt.date(2023, 2, 24)  # Llama-1 release: the paper's t = 0
CHATGPT_RELEASE = dt.date(2022, 11, 30)
EARLIEST_DATE = dt.date(1990, 1, 1)
MAX_ERRORS_SHOWN = 12


class DataError(ValueError):
    """A table that cannot be used; ``problems`` lists every located problem."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(f"  - {p}" for p in shown) + (f"\n  ... and {more} more" if more > 0 else "")
        super().__init__(f"{self.path}: {len(problems)} problem(s)\n{text}")


# ----------------------------------------------------------------------------- locations
def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


def data_dir() -> Path:
    """Shipped data: ``$BAYESDENSE_DATA_DIR``, the wheel's copy, or the source tree's ``data/``."""
    env = os.environ.get("BAYESDENSE_DATA_DIR")
    here = Path(__file__).resolve().parent
    if env:
        return Path(env)
    return _first_existing(here / "_shipped" / "data", here.parent / "data")


def records_dir() -> Path:
    """Shipped study records (the structural studies of the shipped specs, ``validation/``), found
    the same way as :func:`data_dir`: the wheel's copy, or the source tree's ``validation/``."""
    here = Path(__file__).resolve().parent
    return _first_existing(here / "_shipped" / "validation", here.parent / "validation")


def specs_dir() -> Path:
    """Shipped model specs (``models/*.toml``), found the same way as :func:`data_dir`."""
    here = Path(__file__).resolve().parent
    return _first_existing(here / "_shipped" / "models", here.parent / "models")


# ----------------------------------------------------------------------------- schemas
@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # str | int | float | date | bool | percent
    unit: str
    description: str
    required: bool = True  # False: empty cells allowed
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # True: value must be > lo
    allowed: tuple[str, ...] | None = None
    optional_column: bool = False  # the column itself may be absent

    def rule(self) -> str:
        parts = [
            {
                "str": "text",
                "int": "integer",
                "float": "number",
                "date": "date YYYY-MM-DD",
                "bool": "True/False",
                "percent": "percent 0-100",
            }[self.kind]
        ]
        if self.allowed:
            parts.append("one of " + ", ".join(self.allowed))
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"<= {self.hi:g}")
        if self.unit:
            parts.append(f"unit: {self.unit}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Schema:
    kind: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required_columns: tuple[str, ...] | None = None  # None: every column not marked optional_column
    row_checks: tuple[Callable[[pd.DataFrame], Iterable[tuple[int, str, str]]], ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _tokens_match(df: pd.DataFrame) -> Iterable[tuple[int, str, str]]:
    implied = df["params"] * df["tokens_per_param"]
    for i in np.flatnonzero(np.abs(df["tokens"] / implied - 1) > 0.01):
        yield int(i), "tokens", f"{df['tokens'].iat[i]:g} differs from params x tokens_per_param = {implied.iat[i]:g}"


def _active_le_total(df: pd.DataFrame) -> Iterable[tuple[int, str, str]]:
    if "params_active" not in df or "params_total" not in df or "architecture" not in df:
        return
    both = df["params_active"].notna() & df["params_total"].notna()
    for i in np.flatnonzero(both & (df["params_active"] > df["params_total"])):
        yield int(i), "params_active", "activated parameters exceed total parameters"
    for i in np.flatnonzero(df["params_active"].notna() & (df["architecture"] != "moe")):
        yield int(i), "params_active", "activated parameters given for a model that is not 'moe'"


def _one_date_and_size_per_model(df: pd.DataFrame) -> Iterable[tuple[int, str, str]]:
    for col in [c for c in ("release_date", "submitted_date", "params") if c in df]:
        first = df.groupby("model", sort=False)[col].transform("first")
        for i in np.flatnonzero((df[col] != first).to_numpy()):
            yield int(i), col, f"{df[col].iat[i]} differs from {first.iat[i]} on this model's first row"


_BENCH = Column("benchmark", "str", "", "benchmark name", allowed=BENCHMARKS)
_MODEL = Column("model", "str", "", "model name as plotted in the paper")
_PLOTTED = Column("plotted_date", "date", "date", "date as plotted in the figure (the paper's release date)")
_DENSITY = Column("density", "float", "ratio N_hat/N", "capability density as plotted", lo=0, lo_open=True, hi=1e4)
_PARAMS_MIN = 1e5  # smaller "parameter counts" are almost surely in millions/billions, not raw counts
_SRC = "citation of the primary source of the value"

SCHEMAS: dict[str, Schema] = {
    s.kind: s
    for s in (
        Schema(
            "reference_losses",
            (
                _BENCH,
                Column("params", "int", "parameters", "reference model size N", lo=_PARAMS_MIN, hi=1e13),
                Column("tokens_per_param", "float", "tokens per parameter", "D/N", lo=0, lo_open=True, hi=1e5),
                Column("tokens", "int", "tokens", "training tokens D", lo=1e6, hi=1e15),
                Column("loss", "float", "nats per token (conditional loss)", "test loss", lo=0, lo_open=True, hi=20),
            ),
            key=("benchmark", "params", "tokens"),
            row_checks=(_tokens_match,),
        ),
        Schema(
            "link_points",
            (
                _BENCH,
                Column("role", "str", "", "fit: used to fit the link; heldout: check only", allowed=("fit", "heldout")),
                Column("loss", "float", "nats per token (conditional loss)", "test loss", lo=0, lo_open=True, hi=20),
                Column("score", "percent", "percent", "benchmark score", lo=0, hi=100),
            ),
            key=("benchmark", "role", "loss", "score"),
        ),
        Schema(
            "curve_parameters",
            (
                _BENCH,
                Column("a", "float", "loss (N in raw parameters)", "loss-law coefficient a", lo=0, lo_open=True),
                Column("alpha", "float", "", "loss-law exponent in N", lo=0, lo_open=True, hi=2),
                Column("b", "float", "loss (D in raw tokens)", "loss-law coefficient b", lo=0, lo_open=True),
                Column("beta", "float", "", "loss-law exponent in D", lo=0, lo_open=True, hi=2),
                Column(
                    "c",
                    "float",
                    "percent",
                    "link amplitude (the MATH refit has c + d = 101.9)",
                    lo=0,
                    lo_open=True,
                    hi=120,
                ),
                Column("gamma_paper", "float", "per nat", "link slope in the paper's sign (negative)", lo=-1e4, hi=0),
                Column("l", "float", "nats per token", "link midpoint loss", lo=0, hi=20),
                Column("d", "float", "percent", "link floor", lo=-5, hi=100),
                Column("powerlaw_curve_rmse", "float", "loss", "RMSE of the refit against the drawn curve", lo=0),
                Column("sigmoid_curve_rmse", "float", "percent", "RMSE of the refit against the drawn curve", lo=0),
            ),
            key=("benchmark",),
        ),
        Schema(
            "densities",
            (
                _MODEL,
                _PLOTTED,
                _DENSITY,
                Column("marker_radius_pt", "float", "pt", "digitized marker radius", lo=0, optional_column=True),
                Column(
                    "marker_implied_params_b",
                    "float",
                    "billions of parameters (approximate)",
                    "size implied by marker area; an approximation, not a source",
                    lo=0,
                    optional_column=True,
                ),
                Column("label_note", "str", "", "digitizer's note on the label", required=False, optional_column=True),
            ),
            key=("model",),
        ),
        Schema(
            "scores",
            (
                Column("model", "str", "", "model name as plotted in NMI Fig. 1"),
                Column("benchmark", "str", "", "benchmark", allowed=BENCHMARKS[:5]),
                Column("score", "percent", "percent", "published score", lo=0, hi=100),
                Column(
                    "shots", "int", "examples", "few-shot examples stated by the source", required=False, lo=0, hi=100
                ),
                Column("setting", "str", "", "evaluation setting as the source states it", required=False),
                Column("source", "str", "", _SRC),
                Column("notes", "str", "", "free text", required=False, optional_column=True),
            ),
            key=("model", "benchmark"),
        ),
        Schema(
            # your own target models (spec: data.targets = "own_scores", data.scores_file = "...")
            "own_scores",
            (
                Column("model", "str", "", "model name"),
                Column("release_date", "date", "date", "release date"),
                Column(
                    "params", "int", "parameters", "parameter count the density divides by", lo=_PARAMS_MIN, hi=1e13
                ),
                Column("benchmark", "str", "", "benchmark (AVERAGE: mean of the other five)", allowed=BENCHMARKS),
                Column("score", "percent", "percent", "score in the paper's evaluation setting", lo=0, hi=100),
                Column(
                    "shots",
                    "int",
                    "examples",
                    "few-shot examples of the evaluation",
                    required=False,
                    lo=0,
                    hi=100,
                    optional_column=True,
                ),
                Column(
                    "setting",
                    "str",
                    "",
                    "evaluation setting (task, metric, shots, CoT) as recorded",
                    required=False,
                    optional_column=True,
                ),
                Column("source", "str", "", _SRC, required=False, optional_column=True),
            ),
            key=("model", "benchmark"),
            row_checks=(_one_date_and_size_per_model,),
        ),
        Schema(
            # a public leaderboard's entries (data/leaderboard/; spec: data.targets = "leaderboard"): the
            # own_scores columns, dated by submission to the leaderboard, with what the leaderboard
            # says about each entry, for the spec's filters (data.entry_types, drop_flagged, drop_merged)
            "leaderboard_scores",
            (
                Column("model", "str", "", "model (Hugging Face repository id)"),
                Column(
                    "submitted_date",
                    "date",
                    "date",
                    "date the entry was submitted to the leaderboard (UTC): not the model's release date",
                ),
                Column(
                    "params",
                    "int",
                    "parameters",
                    "parameter count as the leaderboard gives it (whole billions)",
                    lo=_PARAMS_MIN,
                    hi=1e13,
                ),
                Column("benchmark", "str", "", "benchmark", allowed=BENCHMARKS),
                Column("score", "percent", "percent", "score as the leaderboard gives it", lo=0, hi=100),
                Column("shots", "int", "examples", "few-shot examples of the leaderboard's evaluation", lo=0, hi=100),
                Column(
                    "precision",
                    "str",
                    "",
                    "weights as evaluated",
                    allowed=("float16", "bfloat16", "8bit", "4bit", "GPTQ"),
                ),
                Column(
                    "entry_type",
                    "str",
                    "",
                    "the leaderboard's model type (empty: none given)",
                    required=False,
                    allowed=ENTRY_TYPES,
                ),
                Column("architecture", "str", "", "model class from the config (empty: unknown)", required=False),
                Column("merged", "bool", "", "marked by the leaderboard as a merge (a 'merge' tag on the Hub)"),
                Column("moe", "bool", "", "marked by the leaderboard as a mixture of experts (tag or name)"),
                Column("flagged", "bool", "", "flagged by the leaderboard (e.g. contamination reported)"),
            ),
            key=("model", "benchmark"),
            row_checks=(_one_date_and_size_per_model,),
        ),
        Schema(
            # a reference family of your own (spec: data.reference_runs = "..."; `bayesdense scaling-law`):
            # one row per trained model; any benchmark (loss) names, or no benchmark column for one loss
            "reference_runs",
            (
                Column("params", "int", "parameters", "reference model size N (raw count)", lo=_PARAMS_MIN, hi=1e13),
                Column("tokens", "int", "tokens", "training tokens D (raw count)", lo=1e6, hi=1e15),
                Column("loss", "float", "nats per token", "final (test) loss", lo=0, lo_open=True, hi=20),
                Column(
                    "benchmark",
                    "str",
                    "",
                    "which loss the row is (optional; one table may hold several)",
                    optional_column=True,
                ),
            ),
        ),
        Schema(
            # the loss-to-score link points of your own reference family (spec: data.link_points = "..."):
            # the loss of a reference model (same loss as the runs) and its score on the benchmark
            "own_link_points",
            (
                Column(
                    "benchmark",
                    "str",
                    "",
                    "benchmark the score is on (optional with one benchmark)",
                    optional_column=True,
                ),
                Column(
                    "role",
                    "str",
                    "",
                    "fit: used to fit the link (the default); heldout: check only",
                    allowed=("fit", "heldout"),
                    optional_column=True,
                ),
                Column("loss", "float", "nats per token", "the reference model's loss", lo=0, lo_open=True, hi=20),
                Column("score", "percent", "percent", "its benchmark score", lo=0, hi=100),
            ),
        ),
        Schema(
            # a score-based reference family (data/public/): models with published N, D and a benchmark
            # score, no losses; the loss law and link are fitted through their composition
            "reference_scores",
            (
                Column("model", "str", "", "model (Hugging Face id)"),
                Column("family", "str", "", "model family as the source labels it"),
                Column("params", "int", "parameters", "model size N (raw count)", lo=_PARAMS_MIN, hi=1e13),
                Column("tokens", "int", "tokens", "pretraining tokens D (raw count)", lo=1e6, hi=1e15),
                Column("benchmark", "str", "", "benchmark", allowed=BENCHMARKS[:5]),
                Column("score", "percent", "percent", "score", lo=0, hi=100),
                Column("setting", "str", "", "evaluation setting as the source states it"),
                Column("source", "str", "", _SRC),
            ),
            key=("model", "benchmark"),
        ),
        Schema(
            "api_prices",
            (
                _MODEL,
                _PLOTTED,
                Column("price_usd_per_mtok", "float", "US$ per million tokens", "API price", lo=0, lo_open=True),
                Column("on_cheapest_line", "bool", "", "on the paper's cheapest-model line"),
            ),
            key=("model",),
        ),
        Schema(
            "models",
            (
                Column("model", "str", "", "canonical model name (as plotted in Fig. 1 where present)"),
                Column(
                    "aliases", "str", "", "other plotted spellings, ';'-separated", required=False, optional_column=True
                ),
                Column("family", "str", "", "model family", required=False, optional_column=True),
                Column("organisation", "str", "", "developer", required=False, optional_column=True),
                Column("release_date", "date", "date", "official release date", required=False, optional_column=True),
                Column("release_date_source", "str", "", _SRC, required=False, optional_column=True),
                Column(
                    "params_total", "int", "parameters", "total parameters", required=False, lo=_PARAMS_MIN, hi=1e13
                ),
                Column("params_total_source", "str", "", _SRC, required=False, optional_column=True),
                Column(
                    "params_active",
                    "int",
                    "parameters",
                    "activated parameters (MoE)",
                    required=False,
                    lo=_PARAMS_MIN,
                    hi=1e13,
                ),
                Column("params_active_source", "str", "", _SRC, required=False, optional_column=True),
                Column(
                    "architecture",
                    "str",
                    "",
                    "dense or mixture-of-experts (empty: not public)",
                    required=False,
                    allowed=("dense", "moe"),
                ),
                Column(
                    "variant",
                    "str",
                    "",
                    "model variant",
                    allowed=("base", "instruct", "quantized", "pruned", "distilled", "pruned+distilled"),
                ),
                Column(
                    "quant_bits", "int", "bits", "weight bit width of a quantized model", required=False, lo=1, hi=16
                ),
                Column(
                    "parent_model", "str", "", "model this one was derived from", required=False, optional_column=True
                ),
                Column(
                    "training_tokens",
                    "int",
                    "tokens",
                    "pre-training tokens",
                    required=False,
                    lo=1e6,
                    hi=1e15,
                    optional_column=True,
                ),
                Column("training_tokens_source", "str", "", _SRC, required=False, optional_column=True),
                Column("notes", "str", "", "free text", required=False, optional_column=True),
            ),
            key=("model",),
            required_columns=("model",),
            row_checks=(_active_le_total,),
        ),
    )
}


# ----------------------------------------------------------------------------- parsing
def suggest(value: str, options: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the closest option, case-insensitively; '' when none is close."""
    opts = list(options)
    lower = {o.lower(): o for o in opts}
    close = difflib.get_close_matches(value.lower(), list(lower), n=1)
    return f" (did you mean '{lower[close[0]]}'?)" if close else ""


def _parse_cell(raw: str, col: Column) -> tuple[Any, str | None]:
    """Parse one cell; returns (value, problem)."""
    if raw == "":
        return (None, None) if not col.required else (None, "is empty; a value is required")
    try:
        if col.kind == "str":
            if any(ord(c) < 32 or ord(c) == 127 for c in raw):
                return None, "contains a control character (a line break or tab inside the cell); use one line"
            val: Any = raw
        elif col.kind == "bool":
            if raw not in ("True", "False", "true", "false"):
                return None, f"'{raw}' is not True/False"
            val = raw.lower() == "true"
        elif col.kind == "date":
            val = dt.date.fromisoformat(raw)
            if val < EARLIEST_DATE or val > dt.date.today():
                return None, f"date {raw} is outside {EARLIEST_DATE} .. today"
        else:
            val = float(raw)
            if not math.isfinite(val):
                return None, f"'{raw}' is not a finite number"
            if col.kind == "int":
                if val != round(val):
                    hint = ""
                    if col.unit == "parameters" and 0 < val < _PARAMS_MIN:
                        hint = " (looks like billions; raw parameter counts are expected, e.g. 3210000000 for 3.21B)"
                    return None, f"{raw} is not a whole number{hint}"
                val = int(round(val))
    except ValueError:
        return None, f"'{raw}' is not a valid {col.rule().split(',')[0]}"
    if col.allowed and val not in col.allowed:
        hint = suggest(str(val), col.allowed)
        return None, f"'{raw}' is not allowed{hint}; allowed: {', '.join(col.allowed)}"
    if col.kind in ("int", "float", "percent"):
        if col.lo is not None and (val < col.lo or (col.lo_open and val == col.lo)):
            hint = ""
            if col.unit == "parameters" and 0 < val < _PARAMS_MIN:
                hint = " (looks like millions or billions; raw parameter counts are expected, e.g. 7000000000)"
            return None, f"{raw} is below the allowed range ({col.rule()}){hint}"
        if col.hi is not None and val > col.hi:
            return None, f"{raw} is above the allowed range ({col.rule()})"
    return val, None


def validate_frame(raw: pd.DataFrame, schema: Schema, path: str | Path) -> pd.DataFrame:
    """Validate a frame of strings against ``schema``; return typed columns or raise DataError."""
    problems: list[str] = []
    names = [c.name for c in schema.columns]
    for c in schema.columns:
        needed = not c.optional_column and (schema.required_columns is None or c.name in schema.required_columns)
        if c.name not in raw.columns and needed:
            problems.append(f"column '{c.name}' is missing ({c.description}; {c.rule()})")
    for extra in [c for c in raw.columns if c not in names]:
        hint = suggest(extra, names)
        problems.append(f"column '{extra}' is not part of a '{schema.kind}' table{hint}; columns: {', '.join(names)}")
    if problems:
        raise DataError(path, problems)
    if raw.empty:
        raise DataError(path, ["the table has no data rows"])

    out: dict[str, list[Any]] = {}
    for c in schema.columns:
        if c.name not in raw.columns:
            continue
        vals = []
        for i, cell in enumerate(raw[c.name].tolist()):
            v, prob = _parse_cell(str(cell).strip(), c)
            if prob:
                problems.append(f"row {i + 1} (line {i + 2}), column '{c.name}': {prob}")
            vals.append(v)
        out[c.name] = vals
        if c.kind == "percent" and c.name in out:
            nums = [v for v in vals if v is not None]
            if len(nums) >= 3 and max(nums) <= 1.0:
                problems.append(
                    f"column '{c.name}': every value is <= 1; scores are expected in percent (0-100), "
                    "not as fractions: multiply by 100"
                )
    if problems:
        raise DataError(path, problems)

    df = pd.DataFrame(out)
    for c in schema.columns:
        if c.name in df and c.kind in ("int", "float", "percent"):
            df[c.name] = pd.to_numeric(df[c.name], errors="raise").astype("Int64" if c.kind == "int" else float)
            if c.kind == "int" and c.required:
                df[c.name] = df[c.name].astype(np.int64)
    if schema.key:
        dup = df.duplicated(list(schema.key), keep=False)
        seen: dict[tuple[Any, ...], int] = {}
        for i in map(int, np.flatnonzero(dup)):
            k = tuple(df[list(schema.key)].iloc[i])
            if k in seen:
                problems.append(
                    f"row {i + 1} (line {i + 2}), column '{schema.key[0]}': duplicate of row {seen[k] + 1} "
                    f"({', '.join(f'{n}={v}' for n, v in zip(schema.key, k, strict=True))})"
                )
            else:
                seen[k] = i
    for check in schema.row_checks:
        for i, col, msg in check(df):
            problems.append(f"row {i + 1} (line {i + 2}), column '{col}': {msg}")
    if problems:
        raise DataError(path, problems)
    return df


def read_csv_strings(path: str | Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    except FileNotFoundError:
        raise DataError(path, ["file not found"]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(path, [f"not a readable CSV table: {str(e).splitlines()[0]}"]) from None


def validate_file(path: str | Path, kind: str) -> pd.DataFrame:
    """Read and validate a CSV file of the given kind."""
    if kind not in SCHEMAS:
        raise ValueError(f"unknown table kind '{kind}'; known: {', '.join(SCHEMAS)}")
    return validate_frame(read_csv_strings(path), SCHEMAS[kind], path)


# ----------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class TableInfo:
    name: str
    file: str
    kind: str
    sha256: str
    source: str
    licence: str
    digitized_from_figures: bool
    description: str
    units: dict[str, str]


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@cache
def _manifest_cached(root: str) -> dict[str, TableInfo]:
    path = Path(root) / "manifest.toml"
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DataError(path, [f"cannot read the manifest: {e}"]) from None
    out = {}
    for name, entry in doc.get("tables", {}).items():
        try:
            out[name] = TableInfo(name=name, **entry)
        except TypeError as e:
            raise DataError(path, [f"[tables.{name}]: {e}"]) from None
    return out


def manifest(root: Path | None = None) -> dict[str, TableInfo]:
    return _manifest_cached(str(root or data_dir()))


def table_info(name: str, root: Path | None = None) -> TableInfo:
    m = manifest(root)
    if name not in m:
        close = difflib.get_close_matches(name, list(m), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise KeyError(f"no shipped table '{name}'{hint}; tables: {', '.join(m)}")
    return m[name]


@cache
def _load_cached(name: str, root: str) -> pd.DataFrame:
    info = table_info(name, Path(root))
    path = Path(root) / info.file
    digest = sha256_of(path) if path.exists() else ""
    if path.exists() and digest != info.sha256:
        raise DataError(
            path,
            [
                f"sha256 {digest[:12]}... does not match the manifest ({info.sha256[:12]}...); "
                "the file was changed: restore it or run tools/write_manifest.py"
            ],
        )
    df = validate_file(path, info.kind)
    df.attrs.update(table=name, sha256=info.sha256, source=info.source)
    return df


def load_table(name: str, root: Path | None = None) -> pd.DataFrame:
    """A validated copy of a shipped table (see ``data/manifest.toml`` for names)."""
    return _load_cached(name, str(root or data_dir())).copy()


def days_since_origin(dates: Iterable[dt.date], origin: dt.date = TIME_ORIGIN) -> np.ndarray:
    return np.array([(d - origin).days for d in dates], dtype=float)


def data_hash(names: Iterable[str], root: Path | None = None) -> str:
    """One hash over the named shipped tables (their manifest sha256s)."""
    h = hashlib.sha256()
    for n in sorted(names):
        h.update(f"{n}:{table_info(n, root).sha256};".encode())
    return h.hexdigest()
