import shutil
from pathlib import Path

import pytest

from bayesdense import data

SHIPPED = data.data_dir()


def test_every_shipped_table_validates_and_matches_its_hash():
    for name, info in data.manifest().items():
        df = data.load_table(name)
        assert len(df) > 0
        assert data.sha256_of(SHIPPED / info.file) == info.sha256
        units = set(info.units)
        assert units == {c.name for c in data.SCHEMAS[info.kind].columns if c.name in df.columns}, name


def test_manifest_flags_digitized_tables():
    m = data.manifest()
    assert m["fig1_density"].digitized_from_figures and "CC BY 4.0" in m["fig1_density"].licence
    assert not m["models"].digitized_from_figures


def _corrupt(tmp_path: Path, table: str, old: str, new: str) -> Path:
    src = SHIPPED / data.table_info(table).file
    dst = tmp_path / src.name
    text = src.read_text()
    assert old in text
    dst.write_text(text.replace(old, new, 1))
    return dst


@pytest.mark.parametrize(
    ("table", "old", "new", "expected"),
    [
        ("fig1_density", "Llama-7B,2023-02-24", "Llama-7B,2023-02-30", r"row 3 \(line 4\), column 'plotted_date'"),
        ("fig1_density", "Llama-7B,2023-02-24", "Llama-7B,2091-02-24", "outside 1990-01-01 .. today"),
        ("fig1_density", "Llama-7B,2023-02-24,0.0324", "Llama-7B,2023-02-24,-0.0324", "column 'density'"),
        ("fig1_density", "Llama-13B,", "Llama-65B,", "duplicate of row 1"),
        ("reference_losses", "AVERAGE,5247232,30", "AVERAGE,-5247232,30", "column 'params'"),
        ("reference_losses", "AVERAGE,5247232,30", "AVERAGE,5,30", "looks like millions or billions"),
        ("link_points", "AVERAGE,fit,0.1653,53.3", "AVERAGE,fit,0.1653,140", r"column 'score': 140 is above"),
        ("link_points", "AVERAGE,fit,", "Average,fit,", "did you mean 'AVERAGE'"),
        ("link_points", "benchmark,role,loss,score", "benchmark,role,loss,scor", "column 'score' is missing"),
        ("models", "Gemma-7B,", "Gemma-2B,", "duplicate"),
    ],
)
def test_corrupted_copies_are_refused_with_their_place(tmp_path, table, old, new, expected):
    bad = _corrupt(tmp_path, table, old, new)
    with pytest.raises(data.DataError, match=expected) as e:
        data.validate_file(bad, data.table_info(table).kind)
    assert str(bad) in str(e.value)


def test_scores_as_fractions_are_refused(tmp_path):
    f = tmp_path / "pts.csv"
    f.write_text("benchmark,role,loss,score\nMMLU,fit,0.2,0.41\nMMLU,fit,0.3,0.33\nMMLU,fit,0.4,0.28\n")
    with pytest.raises(data.DataError, match="percent"):
        data.validate_file(f, "link_points")


def test_a_changed_shipped_file_fails_its_hash(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(SHIPPED, root)
    p = root / data.table_info("fig3a_api_prices", root).file
    p.write_text(p.read_text().replace("19.975", "19.976"))
    with pytest.raises(data.DataError, match="does not match the manifest"):
        data.load_table("fig3a_api_prices", root)
