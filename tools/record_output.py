"""Run one bayesdense command and record what it prints under validation/, with its provenance.

    python tools/record_output.py NAME -- ARGS...

writes ``validation/NAME.txt``: comment lines (the command, the commit, the date, Python and the
package versions, and for a spec-based command the spec hash, data hash and seed), then the
command's standard output exactly. The README quotes such records, and tests check that every
line it quotes is in the record (tests/test_readme_records.py).

The commit stamped is HEAD, so a record is refused while the package, the shipped specs or the
data differ from it (commit first); ``--allow-dirty`` (before NAME) records anyway and says
"plus uncommitted changes" in the header.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, not an older installed copy


def main(argv: list[str]) -> int:
    allow_dirty = bool(argv) and argv[0] == "--allow-dirty"
    argv = argv[1:] if allow_dirty else argv
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    name, args = argv[0], argv[2:]
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "bayesdense", "data", "pyproject.toml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    if dirty and not allow_dirty:
        print(
            "record_output: the package or data differ from HEAD, whose commit the record would name:\n"
            + dirty
            + "\ncommit first, or pass --allow-dirty before NAME to record with 'plus uncommitted changes'",
            file=sys.stderr,
        )
        return 2
    from bayesdense import fit

    out = subprocess.run([sys.executable, "-m", "bayesdense.cli", *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return out.returncode
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    v = fit.versions()
    head = [
        f"# bayesdense {' '.join(args)}",
        f"# commit {commit.stdout.strip() or 'unknown'}{' plus uncommitted changes' if dirty else ''}, "
        f"{dt.date.today().isoformat()}; written by "
        f"tools/record_output.py {name}",
        "# " + ", ".join(f"{k} {val}" for k, val in v.items()),
    ]
    from bayesdense.cli import build_parser

    ns = build_parser().parse_args(args)  # the command's own reading of its arguments
    if isinstance(getattr(ns, "spec", None), str):  # a spec-based command
        from bayesdense.spec import load_spec

        spec = load_spec(ns.spec)
        seed = f", seed {ns.seed}" if hasattr(ns, "seed") else " (nothing sampled)"
        head.append(f"# spec {spec.name} (hash {spec.hash}), data hash {fit.data_hash_of(spec)[:16]}{seed}")
    path = ROOT / "validation" / f"{name}.txt"
    path.write_text("\n".join(head) + "\n\n" + out.stdout)
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
