"""The LaTeX tables compile: each is wrapped in a minimal document and run through pdflatex.

Needs ``pdflatex`` with booktabs (Debian: texlive-latex-base and texlive-latex-recommended). Without
them these tests skip, unless ``BAYESDENSE_REQUIRE_LATEX=1`` (set by ``.ci/run`` after it installed
them), where they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from fakes import fake_result
from hypothesis import given
from hypothesis import strategies as st

from bayesdense import report

REQUIRE = "BAYESDENSE_REQUIRE_LATEX"
PREAMBLE = "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs,longtable}\n\\begin{document}\n"
# every character report._tex must escape, in a model name
NASTY = r"Model_1 50% & more #2 $x$ {a} ~b^c \d <e> |f|"


class LatexError(AssertionError):
    pass


@pytest.fixture(scope="module")
def pdflatex() -> str:
    exe = shutil.which("pdflatex")
    missing = None
    if exe is None:
        missing = "pdflatex not found (Debian: apt-get install texlive-latex-base texlive-latex-recommended)"
    elif shutil.which("kpsewhich") and subprocess.run(["kpsewhich", "booktabs.sty"], capture_output=True).returncode:
        missing = "booktabs.sty not found by kpsewhich (Debian: apt-get install texlive-latex-recommended)"
    if missing:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{missing}; {REQUIRE}=1 requires it")
        pytest.skip(missing)
    assert exe is not None
    return exe


def compile_tex(exe: str, body: str, workdir: Path, name: str = "doc") -> str:
    """Compile ``body`` in a minimal article with booktabs; returns the log. Raises LatexError
    with the log's error lines (those starting with '!' and the lines after them)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{name}.tex").write_text(PREAMBLE + body + "\n\\end{document}\n")
    r = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", f"{name}.tex"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log_path = workdir / f"{name}.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else r.stdout
    if r.returncode or not (workdir / f"{name}.pdf").exists():
        lines = log.splitlines()
        errs = ["\n".join(lines[i : i + 3]) for i, line in enumerate(lines) if line.startswith("!") or "Error:" in line]
        raise LatexError(f"pdflatex failed (exit {r.returncode}):\n" + ("\n".join(errs) or r.stdout[-2000:]))
    return log


def _missing_characters(log: str) -> list[str]:
    return re.findall(r"Missing character: .*", log)


@pytest.fixture(scope="module")
def tree():
    return fake_result(np.random.default_rng(3).normal(0.006, 0.0004, size=(2, 200)))


def test_models_table_compiles(pdflatex, tree, tmp_path):
    tex = report.table(tree, "tex")
    log = compile_tex(pdflatex, tex, tmp_path)
    assert not _missing_characters(log)
    assert "Output written on doc.pdf (1 page" in log or "Output written on doc.pdf (2 pages" in log


def test_special_characters_in_model_names_compile_and_survive(pdflatex, tree, tmp_path):
    df = report.models_table(tree)
    df.loc[0, "model"] = NASTY
    tex = report.to_latex(df)
    log = compile_tex(pdflatex, tex, tmp_path)
    assert not _missing_characters(log)
    # each special character is escaped, not dropped: the escaped name appears verbatim in the table
    assert report._tex(NASTY) in tex
    assert all(report.TEX_ESCAPES[c] in report._tex(NASTY) for c in "\\&%$#_{}~^<>|")


def test_the_check_fails_on_broken_latex(pdflatex, tree, tmp_path):
    """The compile check can fail: an unescaped '&' (what _tex prevents) and an unknown macro."""
    df = report.models_table(tree)
    bad = report.to_latex(df).replace(report._tex(str(df.loc[0, "model"])), "A & B & C", 1)
    with pytest.raises(LatexError, match="Extra alignment tab"):
        compile_tex(pdflatex, bad, tmp_path / "tab")
    with pytest.raises(LatexError, match="Undefined control sequence"):
        compile_tex(pdflatex, report.to_latex(df) + "\\nosuchmacro\n", tmp_path / "macro")


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_escaping_is_one_pass_and_reversible(s):
    """No escape is escaped again (the old chain of replace() calls turned a backslash into
    '\\textbackslash\\{\\}'): decoding the escape sequences gives the name back exactly."""
    inverse = {v: k for k, v in report.TEX_ESCAPES.items()}
    token = re.compile("|".join(re.escape(v) for v in sorted(inverse, key=len, reverse=True)) + "|.", re.S)
    assert "".join(inverse.get(t, t) for t in token.findall(report._tex(s))) == s


def test_sensitivity_table_compiles(pdflatex, tmp_path):
    import pandas as pd

    t = pd.read_csv(Path(__file__).resolve().parents[1] / "validation" / "sensitivity_benchmarks.csv")
    t["error"] = t["error"].astype(object)
    t.loc[1, "error"] = "RuntimeError: a failed variant"  # a failed row prints as such
    t.loc[2, "doubling_days_hdi_high"] = float("nan")  # an unbounded interval
    tex = report.sensitivity_table(t, "tex", spec="multi_bench", seed=3)
    assert r"of spec \texttt{multi\_bench}, sampler seed 3" in tex  # the caption says which study
    assert len(t) > report.LONGTABLE_ROWS and r"\begin{longtable}" in tex
    assert tex.count(r" \\") == len(t) + 2 and "failed" in tex and "unbounded" in tex  # header twice
    log = compile_tex(pdflatex, tex, tmp_path)
    assert not _missing_characters(log)
    md = report.sensitivity_table(t, "md")
    assert len(md.strip().splitlines()) == len(t) + 2


@pytest.mark.parametrize("kind", ["long", "top", "headline"])
def test_result_tables_compile_with_captions(pdflatex, tree, tmp_path, kind):
    """The 47-row table as a longtable over pages (header repeated), a --top table as a float, the
    headline table; each caption names the spec, D0 and seed."""
    tex = {
        "long": lambda: report.table(tree, "tex"),
        "top": lambda: report.table(tree, "tex", top=10),
        "headline": lambda: report.table(tree, "tex", headline=True),
    }[kind]()
    assert r"\texttt{trend\_fig2}" in tex and r"$D_0 = 5\times10^{12}$" in tex and "seed 1." in tex
    assert (r"\begin{longtable}" in tex) == (kind == "long")
    body = tex if kind != "long" else "\\setlength{\\textheight}{4in}\n" + tex  # short pages: it must break
    log = compile_tex(pdflatex, body, tmp_path)
    assert not _missing_characters(log)
    pages = int(re.search(r"Output written on doc\.pdf \((\d+) page", log).group(1))
    assert pages >= 2 if kind == "long" else pages == 1


def test_sensitivity_table_names_each_axis_once_marks_the_base_and_says_why_a_row_is_flagged():
    import pandas as pd

    def row(axis, variant, med, converged=True, rhat=1.002, div=0):
        return {
            "axis": axis,
            "variant": variant,
            "doubling_days_median": med,
            "doubling_days_hdi_low": med - 30,
            "doubling_days_hdi_high": med + 40,
            "growth_median": 0.005,
            "growth_hdi_low": 0.004,
            "growth_hdi_high": 0.006,
            "max_rhat": rhat,
            "min_ess_bulk": 900,
            "divergences": div,
            "converged": converged,
            "error": "",
        }

    t = pd.DataFrame(
        [
            row("d0", "d0=1e+12", 120.0),
            row("d0", "d0=5e+12", 129.0),
            row("priors", "base priors", 129.0),
            row("priors", "wide growth prior", 150.0, converged=False, rhat=1.031, div=2),
        ]
    )
    d = report._sensitivity_display(t)
    assert list(d["Axis"]) == ["d0", "", "priors", ""]
    assert list(d["Variant"]) == ["D0 = 1T tokens", "D0 = 5T tokens (base)", "base priors (base)", "wide growth prior"]
    assert list(d["Flag"]) == ["", "", "", "R-hat 1.031, 2 div."]
    assert "R-hat 1.031, 2 div." in report.sensitivity_table(t, "md")
