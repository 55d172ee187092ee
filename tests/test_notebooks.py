"""The notebooks in notebooks/ run top to bottom, as a reader would run them.

Each notebook is executed with nbclient in a kernel on this interpreter, with
BAYESDENSE_PROFILE=fast in the kernel's environment (the notebooks never choose a profile
themselves). A cell that raises fails the test with that cell's source and traceback. Executed
notebooks are never written back: the committed files keep no outputs (checked in the default
tier). Executing them samples (about 2 minutes for all four on 2 cores), so that part is in the
slow tier, which `./quickstart test` and `.ci/run` also run.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "bayesdense-notebook-test"
CELL_TIMEOUT_S = 600
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in the kernel's tracebacks


def test_the_four_notebooks_of_issue_5_are_there():
    expected = {
        "01_reproduce_then_uncertainty.ipynb",
        "02_benchmark_choice.ipynb",
        "03_figures_for_your_paper.ipynb",
        "04_bring_your_own_data.ipynb",
    }
    assert expected <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


def _kernel_manager(tmp_path: Path) -> KernelManager:
    """A kernel on this interpreter (so it sees the bayesdense under test), fast sampler profile,
    its temporary files under ``tmp_path`` (pytest removes old ones even if the kernel is killed)."""
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
