"""Argument checks for the ``bayesdense`` command, all done before anything is fitted.

Argparse types (``--seed``, ``--top``, ``--d0``, dates) turn a bad value into a usage error
(exit 2) that names the option; the path checks refuse an output that cannot be written or that
would overwrite an input, naming the option and the path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

SEED_MAX = 2**32 - 1  # numpy, the samplers and the result file's integer attribute all take this range


class ArgumentError(Exception):
    """A bad option value; the message names the option (exit 2, no traceback)."""


def seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number (a seed is 0 .. {SEED_MAX})") from None
    if not 0 <= v <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{text} is outside 0 .. {SEED_MAX} (2**32 - 1)")
    return v


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return v


def d0_tokens(text: str) -> float:
    from .spec import check_d0

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of tokens (e.g. 5e12)") from None
    try:
        return check_d0(v)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def date(text: str) -> str:
    """A date YYYY-MM-DD, returned as its ISO text."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD ({e})") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def writable_dir(path: str | Path, option: str) -> Path:
    """``path`` if it is, or can be created as, a writable directory (nothing is created here)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ArgumentError(f"{option} {p}: exists and is not a directory")
    anc = p.absolute()
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise ArgumentError(f"{option} {p}: cannot be created: {anc} is a file, not a directory")
    try:  # os.access says yes to root on a read-only file system; a real probe does not
        with tempfile.TemporaryFile(dir=anc, prefix=".bayesdense-probe."):
            pass
    except OSError as e:
        raise ArgumentError(f"{option} {p}: cannot write in {anc} ({e.strerror or e})") from None
    return p


def output_file(
    path: str | Path, option: str, *, inputs: Iterable[str | Path] = (), suffixes: tuple[str, ...] = ()
) -> Path:
    """``path`` if it can be written, is not one of ``inputs`` and (if given) has one of ``suffixes``."""
    p = Path(path)
    for i in inputs:
        if _same_file(p, Path(i)):
            raise ArgumentError(f"{option} {p}: is the input file {i}; choose another output file")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ArgumentError(f"{option} {p}: the file name must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise ArgumentError(f"{option} {p}: is a directory; give a file name")
    writable_dir(p.parent if str(p.parent) else ".", option)
    return p


def inside(path: Path, directory: Path, what: str) -> Path:
    """``path`` if it resolves inside ``directory`` (an output name never escapes ``--out``)."""
    if not path.resolve().is_relative_to(directory.resolve()):
        raise ArgumentError(f"{what} {path} would be written outside {directory}")
    return path
