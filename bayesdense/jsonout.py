"""Strict JSON for every ``--json`` output and JSON file bayesdense writes.

JSON has no NaN or Infinity (RFC 8259); Python's ``json`` writes them anyway unless told not to.
Here a non-finite number becomes ``null`` and the object holding it gets a ``null_reasons``
entry saying why (``"infinite"``, ``"-infinite"`` or ``"not a number"``), so a reader never
meets a bare ``null`` without a reason. Reasons set by the producer (e.g. the doubling time of
a non-positive growth rate) are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def _reason(x: float) -> str:
    if math.isnan(x):
        return "not a number"
    return "infinite" if x > 0 else "-infinite"


def _scalar(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dt.date | dt.datetime):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x


def clean(obj: Any) -> Any:
    """A copy of ``obj`` with only JSON types and finite numbers (non-finite -> null + reason)."""
    obj = _scalar(obj)
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        reasons: dict[str, str] = dict(obj.get("null_reasons") or {})
        for k, v in obj.items():
            if k == "null_reasons":
                continue
            v = _scalar(v)
            if isinstance(v, float) and not math.isfinite(v):
                out[str(k)] = None
                reasons.setdefault(str(k), _reason(v))
            else:
                out[str(k)] = clean(v)
        if reasons:
            out["null_reasons"] = reasons
        return out
    if isinstance(obj, list | tuple | np.ndarray):
        items = [clean(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
        # a list has no place for reasons: a non-finite element becomes null (reasons live on dicts)
        return [None if isinstance(v, float) and not math.isfinite(v) else v for v in items]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text: ``json.loads`` with any parser accepts it (no NaN/Infinity)."""
    return json.dumps(clean(obj), indent=indent, allow_nan=False)


def loads_strict(text: str) -> Any:
    """Parse JSON refusing NaN/Infinity (what a strict parser in another language would do)."""

    def bad(c: str) -> Any:
        raise ValueError(f"non-standard JSON constant {c}")

    return json.loads(text, parse_constant=bad)
