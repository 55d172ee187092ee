"""Redraw every figure the README shows, from saved results and records (no refit of what exists).

    python tools/make_docs_figures.py [--fit-missing]

Each figure is drawn by ``bayesdense plot`` from its source: a result file under ``results/`` (made
by ``bayesdense fit SPEC --seed 1 --out results``; with ``--fit-missing`` a missing one is fitted
first, which for ``benchmarks_hier`` takes about half an hour on 2 cores) or a record under
``validation/``. The PNG is copied to ``docs/`` and ``docs/figures.json`` records, per figure, the
command and its source (for a result file: its spec, spec hash, data hash and seed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# figure in docs/ -> (source, file bayesdense plot writes, extra plot arguments, spec to fit if missing)
FIGURES: dict[str, tuple[str, str, list[str], str | None]] = {
    "density_vs_date.png": ("results/default-seed1.nc", "density_vs_date.png", ["--width", "double"], "default"),
    "change_point.png": (
        "results/changepoint_fig3c-seed1.nc",
        "change_point.png",
        ["--width", "double"],
        "changepoint_fig3c",
    ),
    "benchmark_rates.png": (
        "results/benchmarks_hier-seed1.nc",
        "benchmark_rates.png",
        ["--width", "single", "--raw-rates", "validation/sensitivity_benchmarks.csv"],
        "benchmarks_hier",
    ),
    "sensitivity_benchmarks.png": (
        "validation/sensitivity_benchmarks.csv",
        "sensitivity_forest.png",
        ["--width", "double"],
        None,
    ),
    "sensitivity_forest.png": (
        "validation/sensitivity_default_all.csv",
        "sensitivity_forest.png",
        ["--width", "single"],
        None,
    ),
    "sbc_default.png": ("validation/sbc_default.json", "sbc_default.png", ["--width", "double"], None),
    "sbc_trend_fig2.png": ("validation/sbc_trend_fig2.json", "sbc_trend_fig2.png", ["--width", "double"], None),
}


def bayesdense(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "bayesdense.cli", *args], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"make_docs_figures: bayesdense {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def provenance(source: Path) -> dict[str, object]:
    if source.suffix != ".nc":
        return {}
    import xarray as xr

    tree = xr.open_datatree(source)
    a = tree.attrs
    return {k: a.get(k) for k in ("spec_name", "spec_hash", "data_hash", "seed")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit-missing", action="store_true", help="fit a missing result file first (slow)")
    args = ap.parse_args()
    missing = [(n, s, spec) for n, (s, _, _, spec) in FIGURES.items() if not (ROOT / s).is_file()]
    for name, source, spec in missing:
        if spec is None or not args.fit_missing:
            sys.exit(
                f"make_docs_figures: {source} (for docs/{name}) is missing; "
                + (
                    f"make it with `bayesdense fit {spec} --seed 1 --out results` or pass --fit-missing"
                    if spec
                    else "it is a record"
                )
            )
        print(f"fitting {spec} for docs/{name} ...", file=sys.stderr)
        bayesdense("fit", spec, "--seed", "1", "--out", "results")
    manifest = {}
    for name, (source, written, extra, _) in FIGURES.items():
        with tempfile.TemporaryDirectory() as tmp:
            cmd = ["plot", source, "--out", tmp, *extra]
            bayesdense(*cmd)
            shutil.copyfile(Path(tmp) / written, ROOT / "docs" / name)
        manifest[name] = {"command": "bayesdense " + " ".join(c if c != tmp else "TMP" for c in cmd), "source": source}
        manifest[name] |= provenance(ROOT / source)
        print(f"docs/{name} <- {source}", file=sys.stderr)
    (ROOT / "docs" / "figures.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
