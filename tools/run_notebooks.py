"""Execute the notebooks in notebooks/ in place, so that they are committed with their outputs.

    python tools/run_notebooks.py                      # all of them, default sampler profile
    python tools/run_notebooks.py 02 04                # a subset: names, or their unique beginnings
    python tools/run_notebooks.py --profile fast       # a quick check; do not commit these outputs

Each notebook runs top to bottom with nbclient, in a kernel on this interpreter, in notebooks/ (where
a reader opens it), with this checkout's ``bayesdense`` first on the kernel's PYTHONPATH (so the
outputs come from these sources even if the installed copy is older) and ``BAYESDENSE_PROFILE`` set
to ``--profile`` (``default``: the spec's own sampler settings, the numbers to cite; the notebooks
never choose a profile themselves). All four with the default profile took 6 min 14 s on 2 cores
(about 4 minutes with ``--profile fast``), most of it notebook 02's two live fits; the time of each
notebook is printed. It needs the ``notebooks`` extra (``pip install '.[notebooks]'``): without
ipywidgets, tqdm (which numpyro imports) prints a TqdmWarning into every notebook.

A notebook is written back only when every cell ran and no cell printed a warning to stderr;
otherwise the run stops with the notebook, the cell and its traceback or warning, the file is left
as it was, and the exit code is 1. What is written is kept reproducible, so that a re-run gives a
small diff: no execution timestamps (``record_timing=False``), no widget state, and the notebook's
own ``kernelspec`` and ``language_info`` kept as committed (not this machine's Python version).
What still changes from run to run is what the cells print about the run itself: wall times, a
result's creation time, temporary paths (the fits are seeded, so on one machine the numbers and
figures repeat).
``metadata["bayesdense"]`` records the profile and the SHA-256 of the code cells' sources
(:func:`code_hash`); tests/test_notebooks.py recomputes it, so a code cell edited without a re-run
fails the tests.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
KERNEL = "bayesdense-run-notebooks"
CELL_TIMEOUT_S = 1800
PROFILES = ("default", "fast", "thorough")  # bayesdense.fit.PROFILES (not imported: keep this tool light)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def code_hash(nb: dict) -> str:
    """SHA-256 of the notebook's code cells' sources, in order (the outputs were made from these)."""
    sources = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def warning_streams(nb: dict) -> list[tuple[int, str]]:
    """(cell index, text) of every stream output that reports a warning."""
    return [
        (i, o["text"])
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o["output_type"] == "stream" and ("Warning" in o["text"] or o["name"] == "stderr")
    ]


def _kernel_manager(tmp: Path, profile: str):  # type: ignore[no-untyped-def]
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "bayesdense notebooks",
                "language": "python",
                "env": {
                    "BAYESDENSE_PROFILE": profile,
                    "PYTHONPATH": pythonpath,
                    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                },
            }
        )
    )
    ksm = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm)


def run(path: Path, profile: str) -> str | None:
    """Execute ``path`` and write it back; the reason it was not written, or None."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    kept = {k: copy.deepcopy(nb.metadata[k]) for k in ("kernelspec", "language_info") if k in nb.metadata}
    with tempfile.TemporaryDirectory(prefix="bayesdense-run-notebooks-") as tmp:
        client = NotebookClient(
            nb,
            km=_kernel_manager(Path(tmp), profile),
            timeout=CELL_TIMEOUT_S,
            record_timing=False,
            store_widget_state=False,
            resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        )
        try:
            client.execute()
        except CellExecutionError as e:
            return f"a cell raised:\n{ANSI.sub('', str(e))}"
    warned = warning_streams(nb)
    if warned:
        return "warnings in the outputs (fix them at their source, or filter them narrowly):\n" + "\n".join(
            f"--- cell {i}:\n{text.rstrip()}" for i, text in warned
        )
    for k in ("kernelspec", "language_info", "widgets"):
        nb.metadata.pop(k, None)
    nb.metadata.update(kept)
    nb.metadata["bayesdense"] = {
        "executed_by": "tools/run_notebooks.py",
        "profile": profile,
        "code_sha256": code_hash(nb),
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", choices=PROFILES, help="sampler profile (default: default)")
    ap.add_argument("notebooks", nargs="*", help="notebooks to run, by name or its unique beginning (default: all)")
    args = ap.parse_args(argv)
    every = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if args.notebooks:
        found = {n: [p for p in every if p.name.startswith(Path(n).name)] for n in args.notebooks}
        unclear = [n for n, hits in found.items() if len(hits) != 1]
        if unclear:
            print(f"run_notebooks: {', '.join(unclear)} names no single notebook; there are:", file=sys.stderr)
            print("  " + "\n  ".join(p.stem for p in every), file=sys.stderr)
            return 2
        chosen = [found[n][0] for n in args.notebooks]
    else:
        chosen = every
    if importlib.util.find_spec("ipywidgets") is None:
        print(
            "run_notebooks: ipywidgets is not installed; without it tqdm (which numpyro imports) prints a "
            "TqdmWarning into the notebooks. Install the notebooks extra: pip install '.[notebooks]'",
            file=sys.stderr,
        )
        return 2
    if args.profile != "default":
        print(f"run_notebooks: profile '{args.profile}': for a check only, commit outputs of the default profile")
    t_all = time.time()
    for path in chosen:
        t0 = time.time()
        print(f"{path.name}: running (profile {args.profile}) ...", flush=True)
        why = run(path, args.profile)
        if why:
            print(f"run_notebooks: {path.name} FAILED, file left unchanged: {why}", file=sys.stderr)
            return 1
        size = path.stat().st_size / 1e6
        print(f"{path.name}: written, {time.time() - t0:.0f} s, {size:.2f} MB", flush=True)
    print(f"run_notebooks: {len(chosen)} notebook(s) in {time.time() - t_all:.0f} s (profile {args.profile})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
