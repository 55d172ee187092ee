"""The notebooks in notebooks/ are committed executed, with clean outputs, and run top to bottom.

Default tier, on the committed files: every code cell was run, in order, by
``tools/run_notebooks.py`` with the default (citable) sampler profile, from the code cells as they
are now (the tool stores a SHA-256 of their sources; editing a code cell without re-running fails);
no errors, no warnings, no stderr in the outputs; inline figures at 150 dpi or more; each file under
2 MB; and a recorded file a notebook reads ships with the package (it is read through
``bayesdense.data.records_dir()``, never from the repository).

Slow tier: each notebook is executed again with nbclient in a kernel on this interpreter, with the
bayesdense under test first on its path and BAYESDENSE_PROFILE=fast in its environment (the
notebooks never choose a profile themselves). A cell that raises fails the test with that cell's
source and traceback. These runs are never written back. `./quickstart test` and `.ci/run` run the
slow tier too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import sys
import time
import tomllib
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "bayesdense-notebook-test"
CELL_TIMEOUT_S = 600
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in the kernel's tracebacks
MIN_DPI = 150  # inline figures (the first code cell of each notebook sets it)
MAX_BYTES = 2_000_000


def test_the_four_notebooks_of_issue_5_are_there():
    expected = {
        "01_reproduce_then_uncertainty.ipynb",
        "02_benchmark_choice.ipynb",
        "03_figures_for_your_paper.ipynb",
        "04_bring_your_own_data.ipynb",
    }
    assert expected <= {p.name for p in NOTEBOOKS}


def _code_sha256(nb) -> str:
    """SHA-256 of the code cells' sources, in order: what tools/run_notebooks.py stores when it runs a
    notebook (defined here again, so that a changed definition there fails here)."""
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def _png_dpi(png: bytes) -> float | None:
    """The resolution a PNG records in its pHYs chunk (matplotlib writes the dpi it drew at), or None."""
    pos = 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"pHYs":
            x_ppu, _, unit = struct.unpack(">IIB", png[pos + 8 : pos + 17])
            return x_ppu * 0.0254 if unit == 1 else None
        if kind == b"IDAT":
            return None  # pHYs must come before the image data
        pos += 12 + length
    return None


def _outputs(nb):
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            for o in c.outputs:
                yield i, o


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_executed_from_its_current_code(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: not run top to bottom in one kernel (execution counts {counts}); "
        "run `python tools/run_notebooks.py`"
    )
    assert any(o.output_type in ("display_data", "execute_result") for _, o in _outputs(nb)), path.name
    meta = nb.metadata.get("bayesdense", {})
    assert meta.get("executed_by") == "tools/run_notebooks.py", f"{path.name}: not executed by tools/run_notebooks.py"
    assert meta.get("code_sha256") == _code_sha256(nb), (
        f"{path.name}: a code cell changed after the outputs were made; re-run `python tools/run_notebooks.py "
        f"{path.stem}`"
    )
    assert meta.get("profile") == "default", f"{path.name}: outputs of the '{meta.get('profile')}' profile"
    intro = " ".join(next(c.source for c in nb.cells if c.cell_type == "markdown").split())
    assert "made with the **default** sampler profile" in intro and "tools/run_notebooks.py" in intro, (
        f"{path.name}: the first markdown cell must say which profile made the outputs, and how"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_have_no_errors_or_warnings(path):
    nb = nbformat.read(path, as_version=4)
    for i, o in _outputs(nb):
        assert o.output_type != "error", f"{path.name}, cell {i}: {o.ename}: {o.evalue}"
        if o.output_type == "stream":
            assert o.name == "stdout", f"{path.name}, cell {i} wrote to {o.name}:\n{o.text}"
            assert "Warning" not in o.text, f"{path.name}, cell {i} printed a warning:\n{o.text}"
        for mime, text in o.get("data", {}).items():
            if mime.startswith("text/"):
                assert "Warning" not in text, f"{path.name}, cell {i}: a warning in its {mime} output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_figures_are_sharp_and_the_file_small(path):
    nb = nbformat.read(path, as_version=4)
    pngs = [(i, base64.b64decode(o.data["image/png"])) for i, o in _outputs(nb) if "image/png" in o.get("data", {})]
    assert pngs, f"{path.name}: no figure in the outputs"
    for i, png in pngs:
        dpi = _png_dpi(png)
        assert dpi is not None and dpi >= MIN_DPI - 0.5, f"{path.name}, cell {i}: figure at {dpi} dpi"
        width_px = struct.unpack(">I", png[16:20])[0]
        assert width_px >= MIN_DPI * 3.0, f"{path.name}, cell {i}: figure only {width_px} px wide"
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name}: {size / 1e6:.2f} MB"


def test_recorded_files_the_notebooks_read_ship_with_the_package():
    """A reader with an installed bayesdense has no validation/ folder: a notebook reads a record
    through data.records_dir(), and every record it names is force-included in the wheel."""
    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "force-include"
    ]
    for path in NOTEBOOKS:
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert not re.search(r"\.\./|\.parents?\b|[\"']validation[\"'/]", code), (
            f"{path.name} reads a file through a path in the repository; use bayesdense.data.records_dir()"
        )
        for record in (ROOT / "validation").iterdir():
            if record.name in code:
                assert "records_dir()" in code, path.name
                assert shipped.get(f"validation/{record.name}") == f"bayesdense/_shipped/validation/{record.name}", (
                    f"{path.name} reads {record.name}, which the wheel does not ship (pyproject force-include)"
                )


def _kernel_manager(tmp_path: Path) -> KernelManager:
    """A kernel on this interpreter with the bayesdense under test (the one this test imports, not an
    older installed copy) first on its path, fast sampler profile, its temporary files under
    ``tmp_path`` (pytest removes old ones even if the kernel is killed)."""
    import bayesdense

    under_test = str(Path(bayesdense.__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(p for p in (under_test, os.environ.get("PYTHONPATH", "")) if p)
    spec_dir = tmp_path / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "bayesdense notebook test",
                "language": "python",
                "env": {
                    "BAYESDENSE_PROFILE": "fast",
                    "PYTHONPATH": pythonpath,
                    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                    "TMPDIR": str(tmp_path / "tmp"),
                },
            }
        )
    )
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # start from a clean notebook: the committed outputs are not this run's
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        nb,
        km=_kernel_manager(tmp_path),
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},  # run where a reader opens it
    )
    t0 = time.time()
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{path.name}: a cell raised\n{ANSI.sub('', str(e))}", pytrace=False)
    print(f"{path.name}: executed in {time.time() - t0:.1f} s")
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert ran and all(c.execution_count for c in ran), f"{path.name}: not every code cell ran"
