"""The Open LLM Leaderboard v1 table (data/leaderboard/, issue #17 item 4): the import, its drop
counts, the spec keys that select and filter it (data.targets = "leaderboard", entry_types,
drop_flagged, drop_merged) and their errors."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bayesdense import data
from bayesdense.inputs import load_leaderboard, prepare
from bayesdense.spec import LEADERBOARD_BENCHMARKS, SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = data.data_dir() / data.table_info(data.LEADERBOARD_TABLE).file
SOURCES = ROOT / "data" / "leaderboard" / "SOURCES.md"
# the Sloth repository's data/open-llm-leaderboard_old.csv, when this machine has it
SOURCE = os.environ.get("BAYESDENSE_LEADERBOARD_SOURCE", "")
LABELS = {  # SOURCES.md's row label of each drop reason
    "missing_date": "no submission date (`missing_date`)",
    "params_not_positive": "no positive parameter count: missing, zero or not a number (`params_not_positive`)",
    "missing_mmlu": "no MMLU score (`missing_mmlu`)",
    "duplicate_model": "another entry of the same model is kept (`duplicate_model`)",
    "kept": "kept",
}


def _importer():
    from fakes import load_tool

    return load_tool("import_leaderboard")


def _board(extra: str = "", chance: float | None = 0.0) -> str:
    """A leaderboard spec; chance 0: no entry is below chance, so filters alone decide the count."""
    layers = f"[layers]\nchance_score = {{ MMLU = {chance} }}\n" if chance is not None else ""
    return f'name = "lb"\n[data]\ntargets = "leaderboard"\nbenchmarks = ["MMLU"]\n{extra}{layers}'


HEADER = (
    "T,Model,Average ⬆️,ARC,HellaSwag,MMLU,TruthfulQA,Winogrande,GSM8K,Type,Architecture,Weight type,"
    "Precision,Merged,Hub License,#Params (B),Hub ❤️,Available on the hub,Model sha,Flagged,MoE,date"
)


def _entry(model, mmlu="60.5", typ="🟢 pretrained", arch="LlamaForCausalLM", prec="float16", merged="True",
           params="7", flagged="True", moe="True", date="2024-01-02T03:04:05Z"):  # fmt: skip
    """One source line; the leaderboard's Merged/MoE/Flagged hold the negation (True: not marked)."""
    cells = ["x", model, "1", "1", "1", mmlu, "1", "1", "1", f'"{typ}"', arch, "Original", prec, merged, "mit"]
    return ",".join([*cells, params, "0", "True", "abc", flagged, moe, date])


SMALL = [
    _entry("org/base-7b"),
    _entry("org/chat-13b", mmlu="55.25", typ="💬 chat models (RLHF, DPO, IFT, ...)", params="13", flagged="False"),
    _entry("org/merge-7b", typ="🤝 base merges and moerges", merged="False", moe="False", arch="?"),
    _entry("org/tuned-2b", typ="🔶 fine-tuned on domain-specific datasets", params="2", arch="Unknown"),
    _entry("org/cont-1b", typ="🟩 continuously pretrained", params="1", date="2023-09-15T11:25:37.918274"),
    _entry("org/notype-7b", typ=""),
    _entry("org/nodate-7b", date=""),
    _entry("org/tiny", params="0"),
    _entry("org/noparams", params=""),
    _entry("org/nommlu", mmlu=""),
    # the same model three times: 4bit first submitted, two unquantized; the earliest unquantized is kept
    _entry("org/dup-7b", prec="4bit", mmlu="50.0", date="2023-10-01T00:00:00Z"),
    _entry("org/dup-7b", prec="bfloat16", mmlu="61.0", date="2023-12-01T00:00:00Z"),
    _entry("org/dup-7b", prec="float16", mmlu="60.0", date="2023-11-01T00:00:00Z"),
    # the same model under two spellings: the earlier submission is kept
    _entry("Org/Case-7B", date="2024-02-01T00:00:00Z"),
    _entry("org/case-7b", date="2024-01-01T00:00:00Z"),
    # two spellings submitted the same day in the same precision: the first name (code points) is kept
    _entry("org/tie-7b", mmlu="58.0", date="2024-03-01T10:00:00Z"),
    _entry("ORG/tie-7b", mmlu="59.0", date="2024-03-01T12:00:00Z"),
]


def _small_source(tmp_path: Path, rows: list[str] = SMALL, name: str = "src.csv") -> Path:
    f = tmp_path / name
    f.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return f


def _sources_counts() -> dict[str, int]:
    text = SOURCES.read_text(encoding="utf-8")
    out = {}
    for key, label in LABELS.items():
        m = re.search(rf"^\| {re.escape(label)} \| ([\d,]+) \|$", text, re.M)
        assert m, f"SOURCES.md has no row '{label}'"
        out[key] = int(m.group(1).replace(",", ""))
    total = re.search(r"^\| total \| ([\d,]+) \|$", text, re.M)
    assert total
    out["total"] = int(total.group(1).replace(",", ""))
    return out


# ----------------------------------------------------------------------------- the import
def test_the_import_keeps_usable_entries_with_plain_words_and_negated_marks(tmp_path):
    table, counts = _importer().build(_small_source(tmp_path))
    assert counts == {"missing_date": 1, "params_not_positive": 2, "missing_mmlu": 1, "duplicate_model": 4, "kept": 9}
    assert sum(counts.values()) == len(SMALL)
    rows = table.set_index("model")

    def cells(model: str, *cols: str) -> list:
        return rows.loc[model, list(cols)].tolist()

    assert list(table["model"]) == sorted(table["model"])
    assert rows.loc["org/base-7b", "entry_type"] == "pretrained" and rows.loc["org/base-7b", "params"] == 7e9
    assert cells("org/chat-13b", "entry_type", "score", "flagged") == ["chat", "55.25", True]
    assert cells("org/merge-7b", "entry_type", "merged", "moe", "architecture") == ["merge", True, True, ""]
    assert cells("org/tuned-2b", "entry_type", "architecture") == ["fine_tuned", ""]
    assert cells("org/cont-1b", "entry_type", "submitted_date") == ["continuously_pretrained", "2023-09-15"]
    assert rows.loc["org/notype-7b", "entry_type"] == ""
    assert cells("org/base-7b", "merged", "moe", "flagged") == [False, False, False]
    assert cells("org/dup-7b", "precision", "score", "submitted_date") == ["float16", "60.0", "2023-11-01"]
    assert "org/case-7b" in rows.index and "Org/Case-7B" not in rows.index
    assert cells("ORG/tie-7b", "score") == ["59.0"] and "org/tie-7b" not in rows.index
    assert set(table["benchmark"]) == {"MMLU"} and set(table["shots"]) == {5}


def test_the_import_is_deterministic_whatever_the_source_order(tmp_path):
    imp = _importer()
    outs = []
    for i, rows in enumerate((SMALL, SMALL[::-1], SMALL[5:] + SMALL[:5])):
        table, _ = imp.build(_small_source(tmp_path, rows, f"src{i}.csv"))
        out = tmp_path / f"out{i}.csv"
        imp.write(table, out)  # validated as kind leaderboard_scores
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    assert b"\r" not in outs[0]


@pytest.mark.skipif(not Path(SOURCE).is_file(), reason="set BAYESDENSE_LEADERBOARD_SOURCE to the Sloth source CSV")
def test_the_import_reproduces_the_shipped_table_and_its_recorded_counts(tmp_path):
    imp = _importer()
    table, counts = imp.build(Path(SOURCE))
    out = tmp_path / "lb.csv"
    imp.write(table, out)
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert sum(counts.values()) == imp.N_SOURCE == 7169
    recorded = _sources_counts()
    assert {k: recorded[k] for k in counts} == counts


def test_the_recorded_drop_counts_and_the_shipped_rows_add_up_to_the_source():
    counts = _sources_counts()
    assert counts["kept"] == len(pd.read_csv(SHIPPED))
    assert sum(v for k, v in counts.items() if k != "total") == counts["total"] == _importer().N_SOURCE == 7169


def test_the_shipped_table_is_hash_checked_and_says_what_its_marks_mean(tmp_path):
    df = data.load_table(data.LEADERBOARD_TABLE)
    assert set(df["benchmark"]) == set(LEADERBOARD_BENCHMARKS)
    assert set(df["entry_type"].dropna()) <= set(data.ENTRY_TYPES)
    row = df.set_index("model").loc["Contamination/contaminated_proof_7b_v1.0"]
    assert bool(row["flagged"]) and not bool(row["merged"])
    assert df.loc[df["model"].str.lower().str.contains("moe"), "moe"].all()
    root = tmp_path / "data"
    shutil.copytree(data.data_dir(), root)
    p = root / data.table_info(data.LEADERBOARD_TABLE, root).file
    p.write_text(p.read_text().replace(",MMLU,62.42,", ",MMLU,62.43,", 1))
    with pytest.raises(data.DataError, match="does not match the manifest"):
        data.load_table(data.LEADERBOARD_TABLE, root)


# ----------------------------------------------------------------------------- the spec's filters
@pytest.mark.parametrize(
    ("extra", "entry_types", "drop_flagged", "drop_merged"),
    [
        ("", None, False, False),
        ('entry_types = ["pretrained"]\n', ["pretrained"], False, False),
        ('entry_types = ["chat", "merge"]\ndrop_flagged = true\n', ["chat", "merge"], True, False),
        ("drop_flagged = true\ndrop_merged = true\n", None, True, True),
        ('entry_types = ["fine_tuned"]\ndrop_merged = true\ndrop_flagged = false\n', ["fine_tuned"], False, True),
    ],
)
def test_the_loader_keeps_the_entries_pandas_keeps(extra, entry_types, drop_flagged, drop_merged):
    df = pd.read_csv(SHIPPED, keep_default_na=False)
    keep = pd.Series(True, index=df.index)
    if entry_types is not None:
        keep &= df["entry_type"].isin(entry_types)
    if drop_flagged:
        keep &= ~df["flagged"]
    if drop_merged:
        keep &= ~df["merged"]
    spec = parse_spec(_board(extra), "lb.toml")
    got = load_leaderboard(spec)
    assert sorted(got["model"]) == sorted(df.loc[keep, "model"])
    assert len(got) == int(keep.sum()) > 0
    # the fit's dates are the submission dates
    sub = df.loc[keep].set_index("model")["submitted_date"]
    assert (got.set_index("model")["release_date"].astype(str) == sub.reindex(got["model"])).all()


def test_the_shipped_specs_fit_the_unflagged_entries_at_least_five_points_above_chance():
    df = pd.read_csv(SHIPPED, keep_default_na=False)
    for name, types in (("leaderboard", None), ("leaderboard_pretrained", ["pretrained"])):
        keep = ~df["flagged"] & (df["score"] >= 25 + 5)
        if types:
            keep &= df["entry_type"].isin(types)
        with pytest.warns(UserWarning, match="below their benchmark's chance level"):
            fd = prepare(load_spec(name))
        assert fd.n_models == int(keep.sum()), name
        assert sorted(fd.model) == sorted(df.loc[keep, "model"]), name


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            'entry_types = ["pretrain"]\n',
            r"data.entry_types: unknown entry type 'pretrain' \(did you mean 'pretrained'",
        ),
        ('entry_types = ["base"]\n', "allowed: pretrained, continuously_pretrained, fine_tuned, chat, merge"),
        ('entry_types = "chat"\n', r"data.entry_types: expected a list of entry types, e.g. \[\"pretrained\"\]"),
        ("entry_types = []\n", "data.entry_types: the list is empty"),
        ('entry_types = ["chat", "chat"]\n', "data.entry_types: an entry type is listed twice"),
        ('drop_flagged = "yes"\n', "data.drop_flagged: expected true or false, got the text 'yes'"),
        ("drop_merged = 1\n", "data.drop_merged: expected true or false, got 1"),
        ("drop_flaged = true\n", r"data.drop_flaged: unknown key \(did you mean 'drop_flagged'\?\)"),
    ],
)
def test_bad_values_of_the_filter_keys_name_the_key_and_what_is_allowed(extra, expected):
    with pytest.raises(SpecError, match=expected) as e:
        parse_spec(_board(extra), "bad.toml")
    assert "bad.toml" in str(e.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'name = "x"\n[data]\ntargets = "published_scores"\nbenchmarks = ["MMLU"]\ndrop_flagged = true\n',
            "data.drop_flagged filters the entries of the shipped leaderboard table: it goes with "
            "data.targets = 'leaderboard' only",
        ),
        (
            'name = "x"\n[data]\ntargets = "own_scores"\nscores_file = "s.csv"\nentry_types = ["chat"]\n',
            "data.entry_types .*goes with data.targets = 'leaderboard' only",
        ),
        ('name = "x"\n[data]\ntargets = "leaderboard"\n', r"has MMLU scores only, not AVERAGE: set data.benchmarks"),
        ('name = "x"\n[data]\ntargets = "leaderbord"\n', "data.targets"),
        (
            'name = "x"\n[data]\ntargets = "leaderboard"\nbenchmarks = ["MMLU"]\nparams_basis = "active"\n',
            "data.params_basis is for the shipped models",
        ),
    ],
)
def test_the_filter_keys_and_the_target_refuse_what_cannot_apply(text, expected):
    with pytest.raises(SpecError, match=expected) as e:
        parse_spec(text, "bad.toml")
    assert "bad.toml" in str(e.value)


def test_a_filter_that_leaves_nothing_is_refused_naming_the_keys(monkeypatch):
    from bayesdense import inputs

    merged_only = data.load_table(data.LEADERBOARD_TABLE).query("merged").reset_index(drop=True)
    monkeypatch.setattr(inputs, "load_table", lambda name: merged_only)
    spec = parse_spec(_board('entry_types = ["merge"]\ndrop_merged = true\n'), "lb.toml")
    with pytest.raises(data.DataError, match=r"no entries left after data.entry_types = \['merge'\], "
                       r"data.drop_merged = true \(table open_llm_leaderboard_v1\)") as e:  # fmt: skip
        load_leaderboard(spec)
    assert str(SHIPPED) in str(e.value)


def test_the_leaderboard_rows_of_a_below_chance_error_are_the_files(tmp_path):
    spec = parse_spec(_board('entry_types = ["pretrained"]\ndrop_flagged = true\n', chance=None), "lb.toml")
    with pytest.raises(data.DataError, match=r"below the benchmark's chance level") as e:
        load_leaderboard(spec)
    df = pd.read_csv(SHIPPED, keep_default_na=False)
    first = next(p for p in e.value.problems if "column 'score'" in p)
    row = int(re.match(r"row (\d+) \(line (\d+)\)", first).group(1))
    name = df["model"].iat[row - 1]
    assert name in first and df["entry_type"].iat[row - 1] == "pretrained" and df["score"].iat[row - 1] < 25


def test_the_entries_axis_varies_only_the_leaderboard_filters():
    from bayesdense.sensitivity import variants

    base = load_spec("leaderboard")
    got = {name: parse_spec(text, "v.toml").data for _, name, text in variants(base, "entries")}
    assert got["every entry type"].entry_types is None
    assert got["pretrained"].entry_types == ["pretrained"]
    assert got["pretrained + continuously pretrained"].entry_types == ["pretrained", "continuously_pretrained"]
    assert "merge" not in got["without merges"].entry_types and got["without merges"].drop_merged
    assert not got["flagged kept"].drop_flagged
    for name, d in got.items():  # everything else as the base spec
        same = {k: v for k, v in d.model_dump().items() if k not in ("entry_types", "drop_flagged", "drop_merged")}
        assert same == {k: v for k, v in base.data.model_dump().items() if k in same}, name
        assert d.drop_flagged == (name != "flagged kept"), name
        assert bool(d.drop_merged) == (name == "without merges"), name
        if name not in ("pretrained", "pretrained + continuously pretrained", "without merges"):
            assert d.entry_types is None, name
    with pytest.raises(ValueError, match="data.targets = 'leaderboard'"):
        variants(load_spec("default"), "entries")
    assert "entries" not in {axis for axis, _, _ in variants(load_spec("default"), "all")}


# ----------------------------------------------------------------------------- inefficiency by entry type
BY_TYPE = '[frontier]\ninefficiency_by = "entry_type"\n'


def test_each_entry_is_grouped_by_its_leaderboard_type():
    df = pd.read_csv(SHIPPED, keep_default_na=False).set_index("model")
    fd = prepare(parse_spec(_board('entry_types = ["pretrained", "chat"]\n') + BY_TYPE, "lb.toml"))
    assert fd.groups == ["chat", "pretrained"]
    assert [fd.groups[g] for g in fd.model_group] == list(df.loc[fd.model, "entry_type"])
    fd = prepare(parse_spec(_board() + BY_TYPE, "lb.toml"))  # entries without a type: a group of their own
    untyped = (df.loc[fd.model, "entry_type"] == "").to_numpy()
    assert untyped.any() and (fd.model_group[untyped] == fd.groups.index("no type")).all()
    assert not prepare(parse_spec(_board(), "lb.toml")).groups  # not asked for: no groups


def test_the_frontier_of_an_entry_has_its_types_inefficiency():
    """log p(log density) of each entry = skew-normal with its type's lambda and the common noise sd."""
    import numpy as np
    from scipy import stats

    from bayesdense import models

    spec = parse_spec(_board('entry_types = ["pretrained", "chat", "merge"]\n') + BY_TYPE, "lb.toml")
    fd = prepare(spec)
    m = models.build(spec, fd, offset_latents=models.latent_form(spec, fd.n_models))
    point = m.initial_point()
    point["frontier_log_lambda_by_type"] = np.log([0.8, 2.0, 6.0])  # the types apart
    point["frontier_lambda_sd_log_log__"] = np.log(0.8)
    names = ["log_density", "frontier_lambda_by_type", "noise_sd", "frontier_log_density_mid", "growth_rate_per_year"]
    outs = m.replace_rvs_by_values([m[n] for n in names] + [m["log_density_frontier"]])
    f = m.compile_fn(outs, inputs=m.value_vars, on_unused_input="ignore", point_fn=False)
    rho, lam_g, noise, mid, rate, got = f(*[point[v.name] for v in m.value_vars])
    lam = lam_g[fd.model_group]
    line = mid + rate * np.asarray(m["t_years_from_mid"].get_value())
    want = stats.skewnorm.logpdf(rho, -lam, loc=line, scale=noise * np.sqrt(1 + lam**2)).sum()
    assert np.isclose(got, want, rtol=1e-9), (got, want)
    assert len(set(np.round(lam_g, 6))) == 3


def test_inefficiency_by_type_is_refused_where_it_cannot_apply():
    with pytest.raises(SpecError, match="inefficiency_by = 'entry_type' needs data.targets = 'leaderboard'"):
        load_spec_text('name = "x"\n' + BY_TYPE)
    with pytest.raises(SpecError, match="inefficiency 'exponential'"):
        parse_spec(_board() + BY_TYPE + 'inefficiency = "exponential"\n', "lb.toml")
    with pytest.raises(SpecError, match="frontier.inefficiency_by"):
        parse_spec(_board() + '[frontier]\ninefficiency_by = "architecture"\n', "lb.toml")


def load_spec_text(text: str):
    return parse_spec(text, "x.toml")
