"""The structural interval: the doubling time over the modelling choices the data cannot settle.

A fit of one spec gives an interval *conditional* on that spec's choices. Four of them move the
answer more than that interval is wide (README, "What we found"): which mode of the reference
loss law, the scale of its residuals, the frontier estimand and the release window. A structural
study fits every combination (a factorial, one member per combination) and mixes the members'
posteriors with stated weights:

========================  ==========================================  ==========================
choice                    levels                                       weight
========================  ==========================================  ==========================
loss_law_mode             each mode of the loss law (modes.py)         the data's (Laplace
                                                                       evidence under vague
                                                                       priors) or ``paper``
loss_residuals            log, linear                                  declared, 1/2 each
frontier                  the spec's frontier, records (+ OLS)         declared, 1/2 each
window                    all, released from 2023-09-01,               declared, 1/2, 1/4, 1/4
                          released to 2024-09-30
========================  ==========================================  ==========================

A member's weight is the product of its levels' weights. The mixture's intervals are 94%
equal-tailed (weighted quantiles of the pooled draws), so the doubling time's interval is the
growth rate's mapped through ln 2 / rate. The spread is decomposed by the law of total variance:
for each choice, the variance of the growth rate's conditional mean across its levels ("main
effect"), the average within-member variance, and the rest (interactions), as shares of the
mixture's variance.

The study is written as one JSON file (with the spec hash, data hash, seed and versions) that
``bayesdense fit`` reads when its hashes match, and refuses (saying so) when they do not.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import jsonout, modes
from .spec import ModelSpec, parse_spec

STUDY_VERSION = 4  # bump when the set of members, their weights or their sampler settings change
INTERVAL = 0.94
WINDOWS: tuple[tuple[str, dict[str, Any], float], ...] = (
    ("all", {}, 0.5),
    ("from 2023-09-01", {"data.released_from": dt.date(2023, 9, 1)}, 0.25),
    ("to 2024-09-30", {"data.released_to": dt.date(2024, 9, 30)}, 0.25),
)
RESIDUALS = (("log", 0.5), ("linear", 0.5))
# each member: the spec's sampler with 2 chains of 800 draws after 600 tuning steps. numpyro runs
# the chains one after another on one core. With the latents sampled as they were before offset
# latents the dense mass matrix needed a long warm-up (4 x 500 after 500: ~125 leapfrog steps per
# iteration on the stochastic-frontier members; 1000 tuning steps: ~60). With offset latents the
# steps stay at ~31 from 600 tuning steps on (benchmarks/RESULTS.md, the structural study).
# The three release windows of one (mode, residual scale, frontier) share one compiled model
# (shared.NumpyroProgram: the same sampler, the data as arguments; a records member shares its
# curves-only first stage), which saves ~10 s of compiling per member from empty caches.
MEMBER_SAMPLER = {"chains": 2, "draws": 800, "tune": 600}


# A member that fails the convergence checks is fitted once more, in the same worker and on the same
# compiled model (shared.NumpyroProgram takes the target acceptance as an argument), and judged by
# the same checks over all its chains. The remedy follows the failure: a member with divergences
# (the stochastic-frontier members of the short window, a few in 2,000 draws where noise_sd nears
# zero or the intercept sits in its tail) is refitted with smaller steps, target acceptance
# REFIT_TARGET_ACCEPT; one that only misses R-hat or ESS (2 chains make R-hat <= 1.01 a close call)
# with REFIT_CHAINS_FACTOR x the chains. Twice the chains alone did not remove those divergences
# (2-4 in 4 x 1000 draws, benchmarks/RESULTS.md).
REFIT_CHAINS_FACTOR = 2
REFIT_TARGET_ACCEPT = 0.99


def refit_text(text: str, first: dict[str, Any]) -> str:
    """A member's spec text for its refit, given its first fit's table row (see
    sensitivity.run_variants): smaller steps when it diverged, else more chains."""
    from .spec import spec_to_toml

    spec = parse_spec(text, "member")
    if first.get("divergences"):
        upd = {"target_accept": max(spec.sampler.target_accept, REFIT_TARGET_ACCEPT)}
        why = f"target acceptance {upd['target_accept']} ({first['divergences']} divergences)"
    else:
        upd = {"chains": spec.sampler.chains * REFIT_CHAINS_FACTOR}
        why = f"{upd['chains']} chains (max R-hat {first.get('max_rhat', float('nan')):.3f})"
    longer = spec.model_copy(update={"sampler": spec.sampler.model_copy(update=upd)})
    return spec_to_toml(longer, header=f"structural member refitted with {why}")


def _refit_settings(text: str) -> dict[str, Any]:
    sp = parse_spec(text, "member").sampler
    return {"chains": sp.chains, "draws": sp.draws, "tune": sp.tune, "target_accept": sp.target_accept}


NOT_APPLICABLE = "the structural study does not apply"


def check_spec(spec: ModelSpec) -> str:
    """The one benchmark of a joint spec (the structural study is defined for those)."""
    if spec.layers.kind != "joint" or len(spec.data.benchmarks) != 1 or spec.layers.hierarchical:
        raise ValueError(
            f"spec '{spec.name}': the structural study needs a joint spec on one benchmark "
            f"(layers.kind = 'joint', one entry in data.benchmarks); this one has kind '{spec.layers.kind}' "
            f"and benchmarks {spec.data.benchmarks}"
        )
    if spec.data.released_from or spec.data.released_to:
        raise ValueError(f"spec '{spec.name}': the structural study sets the release window itself; remove it")
    modes.check_law(spec)
    return spec.data.benchmarks[0]


def members(spec: ModelSpec, *, mode_weights: str = "data") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The members (name, levels, weight, spec text) and the mode search behind them."""
    from .sensitivity import _variant

    bench = check_spec(spec)
    base_frontier = spec.frontier.kind
    frontiers: list[tuple[str, dict[str, Any], float]] = [(base_frontier, {}, 0.5)]
    if base_frontier != "records":
        # under the other loss-law mode ~5% of draws put the best models' scores beyond the curves'
        # domain (loss below the law's floor at D0): the records line is conditional on the rest
        frontiers.append(("records", {"frontier.kind": "records", "frontier.records_max_undefined": 0.1}, 0.5))
    else:
        frontiers = [("records", {}, 1.0)]
    out: list[dict[str, Any]] = []
    found: dict[str, Any] = {}
    for resid, w_res in RESIDUALS:
        scale_spec = spec.model_copy(update={"layers": spec.layers.model_copy(update={"loss_residuals": resid})})
        ms = modes.weighted_modes(scale_spec, bench, weights=mode_weights)
        found[resid] = [m.as_dict() for m in ms]
        for (_k, mode), (fname, fupd, w_f), (wname, wupd, w_w) in itertools.product(enumerate(ms), frontiers, WINDOWS):
            paper = _is_paper(mode, spec)
            levels = {
                "loss_law_mode": "paper" if paper else "other",
                "loss_residuals": resid,
                "frontier": fname,
                "window": wname,
            }
            # the member's name carries the mode's own alpha (it differs a little between residual scales)
            named = {**levels, "loss_law_mode": "paper" if paper else f"alpha~{mode.alpha:.2f}"}
            name = "|".join(f"{c}={v}" for c, v in named.items())
            bp = {b: dict(p) for b, p in spec.model_dump()["benchmark_priors"].items()}
            bp[bench] = {**bp.get(bench, {}), **modes.anchor_priors(mode)}
            upd: dict[str, Any] = {
                "layers.loss_residuals": resid,
                "benchmark_priors": bp,
                **fupd,
                **wupd,
                **{f"sampler.{k2}": v for k2, v in MEMBER_SAMPLER.items()},
            }
            _, text = _variant(spec, name, **upd)
            out.append({"name": name, "levels": levels, "weight": mode.weight * w_res * w_f * w_w, "spec_text": text})
    out = [m for m in out if m["weight"] > 0]  # e.g. the other mode under mode_weights="paper"
    total = sum(m["weight"] for m in out)
    for m in out:
        m["weight"] /= total
    return out, found


def _is_paper(mode: modes.Mode, spec: ModelSpec) -> bool:
    from .classical import published_curves

    if spec.data.reference_runs is not None:  # your reference family has no paper mode
        return False
    return abs(math.log(mode.alpha / published_curves()[mode.benchmark].alpha)) <= modes.MODE_SEPARATION


# ----------------------------------------------------------------------------- combining
def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Quantiles of the distribution putting weight ``w_i`` on ``x_i`` (midpoint interpolation)."""
    order = np.argsort(x)
    xs, ws = x[order], w[order] / w.sum()
    cdf = np.cumsum(ws) - 0.5 * ws
    return [float(np.interp(q, cdf, xs)) for q in qs]


def _eti(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    lo, med, hi = weighted_quantiles(x, w, ((1 - INTERVAL) / 2, 0.5, (1 + INTERVAL) / 2))
    return {"median": med, "eti_low": lo, "eti_high": hi}


def doubling_from_rate(rate: dict[str, float]) -> dict[str, Any]:
    """ln 2 / rate at the rate's quantiles (order reversed); an end at a rate <= 0 is unbounded (None)."""

    def days(r: float) -> float | None:
        return math.log(2) / r if r > 0 else None

    out: dict[str, Any] = {
        "median": days(rate["median"]),
        "eti_low": days(rate["eti_high"]),
        "eti_high": days(rate["eti_low"]),
    }
    reasons = {
        k: "the growth rate's quantile here is <= 0: the doubling time is unbounded"
        for k, v in out.items()
        if v is None
    }
    if reasons:
        out["null_reasons"] = reasons
    return out


# The variance decomposition clips every draw to the mixture's 0.5% and 99.5% quantiles first
# (winsorizing). A records member's slope through a handful of records has t-like tails with few
# degrees of freedom (an exact posterior with a flat prior), whose variance barely exists: in the
# default study one draw of 2,000 (-0.37 per day, in a member whose median is 0.0046) moved the raw
# shares by 10 points between two runs of the same seed. The intervals use the unclipped draws.
WINSOR = 0.005


def combine(draws: list[np.ndarray], weights: list[float], levels: list[dict[str, str]]) -> dict[str, Any]:
    """Mix members' growth-rate draws with their weights; intervals and the variance decomposition
    (law of total variance over the choices, on draws winsorized at ``WINSOR``)."""
    w_m = np.asarray(weights, float) / float(np.sum(weights))
    x = np.concatenate(draws)
    w = np.concatenate([np.full(len(d), wm / len(d)) for d, wm in zip(draws, w_m, strict=True)])
    rate = _eti(x, w)
    lo, hi = weighted_quantiles(x, w, (WINSOR, 1 - WINSOR))
    clipped = [np.clip(d, lo, hi) for d in draws]
    mean_m = np.array([d.mean() for d in clipped])
    var_m = np.array([d.var() for d in clipped])
    mu = float(np.sum(w_m * mean_m))
    total = float(np.sum(w_m * (var_m + (mean_m - mu) ** 2)))
    shares: dict[str, float] = {}
    for choice in levels[0]:
        between = 0.0
        for lev in {lv[choice] for lv in levels}:
            idx = np.array([lv[choice] == lev for lv in levels])
            wl = float(w_m[idx].sum())
            if wl > 0:
                between += wl * (float(np.sum(w_m[idx] * mean_m[idx]) / wl) - mu) ** 2
        shares[choice] = between / total
    shares["within_members"] = float(np.sum(w_m * var_m)) / total
    shares["interactions"] = 1.0 - sum(shares.values())
    return {
        "growth_rate_per_day": rate,
        "doubling_time_days": doubling_from_rate(rate),
        "p_growth_rate_le_0": float(np.sum(w[x <= 0])),
        "variance_share": shares,
        "variance_share_of": f"the growth rate's variance over draws clipped to the mixture's {WINSOR:.1%} and "
        f"{1 - WINSOR:.1%} quantiles (heavy-tailed records members)",
    }


# ----------------------------------------------------------------------------- the study
def record_path(spec: ModelSpec, directory: str | Path, mode_weights: str = "data") -> Path:
    """Where a study is recorded (``fit`` looks up the data-weighted one by default)."""
    suffix = "" if mode_weights == "data" else f"_{mode_weights}_mode"
    return Path(directory) / f"structural_{spec.name}{suffix}.json"


def run(
    spec: ModelSpec,
    out_dir: str | Path,
    *,
    seed: int = 1,
    mode_weights: str = "data",
    workers: int = 2,
    scheduler: str | None = None,
    planned: tuple[list[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Fit every member (resuming from results already in ``out_dir``), mix them, write the record.
    ``planned``: the result of :func:`members` for these arguments, when the caller has it already."""
    from . import fit, io
    from .sensitivity import run_variants

    t0 = time.time()
    mem, found = planned or members(spec, mode_weights=mode_weights)
    out = Path(out_dir)
    table = run_variants(
        [("structural", m["name"], m["spec_text"]) for m in mem],
        out / "members",
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        sampler="numpyro",  # the members of one mode and residual scale share a compiled model
        refit=refit_text,
    )
    rows = table.attrs["rows"]
    for i, r in enumerate(rows):
        if r.get("refit_of"):
            mem[i] = {**mem[i], "spec_text": refit_text(mem[i]["spec_text"], r["refit_of"])}
    failed = [r for r in rows if r.get("error")]
    if failed:
        raise RuntimeError("structural members failed: " + "; ".join(f"{r['variant']}: {r['error']}" for r in failed))
    draws = []
    tree_attrs: dict[str, dict[str, Any]] = {}
    for r in rows:
        rate, attrs = io.read_draws(r["result_file"], "growth_rate_per_day")
        tree_attrs[r["result_file"]] = attrs
        draws.append(np.asarray(rate, float).ravel())
    combined = combine(draws, [m["weight"] for m in mem], [m["levels"] for m in mem])
    out_members = []
    for m, r, d in zip(mem, rows, draws, strict=True):
        rate = _eti(d, np.ones_like(d))
        out_members.append(
            {
                "name": m["name"],
                "levels": m["levels"],
                "weight": m["weight"],
                "growth_rate_per_day": rate,
                "doubling_time_days": doubling_from_rate(rate),
                "max_rhat": r["max_rhat"],
                "min_ess_bulk": r["min_ess_bulk"],
                "divergences": r["divergences"],
                "converged": bool(r["converged"]),
                # None: the first fit converged; else the refit's sampler and the first fit's checks
                "refit": _refit_settings(m["spec_text"]) if r.get("refit_of") else None,
                "first_fit": r.get("refit_of") and {k: v for k, v in r["refit_of"].items() if k != "result_file"},
                **({"refit_error": r["refit_error"]} if r.get("refit_error") else {}),  # the refit raised
                "records_undefined_draws": int(tree_attrs[r["result_file"]].get("records_undefined_draws", 0)),
                "spec_hash": parse_spec(m["spec_text"], m["name"]).hash,
            }
        )
    by_level: dict[str, dict[str, Any]] = {}
    for choice in mem[0]["levels"]:
        levels = list(dict.fromkeys(m["levels"][choice] for m in mem))
        by_level[choice] = {}
        for lev in levels:
            idx = [i for i, m in enumerate(mem) if m["levels"][choice] == lev]
            sub = combine([draws[i] for i in idx], [mem[i]["weight"] for i in idx], [mem[i]["levels"] for i in idx])
            by_level[choice][lev] = {
                "weight": float(sum(mem[i]["weight"] for i in idx)),
                "growth_rate_per_day": sub["growth_rate_per_day"],
                "doubling_time_days": sub["doubling_time_days"],
            }
    record = {
        "study": "structural",
        "study_version": STUDY_VERSION,
        "spec": spec.name,
        "spec_hash": spec.hash,
        "data_hash": fit.data_hash_of(spec),
        "seed": seed,
        "mode_weights": mode_weights,
        "interval": f"{round(INTERVAL * 100)}% equal-tailed (weighted quantiles of the mixed draws)",
        "command": f"bayesdense structural {spec.name} --seed {seed} --mode-weights {mode_weights}",
        "versions": fit.versions(),
        "member_sampler": MEMBER_SAMPLER,
        "seconds": round(time.time() - t0, 1),  # this run; members fitted earlier were reused
        "members_reused": sum(bool(r.get("reused")) for r in rows),
        "members_wall_seconds": round(sum(float(a.get("wall_seconds", 0.0)) for a in tree_attrs.values()), 1),
        **combined,
        "by_choice": by_level,
        "members": out_members,
        "converged_members": sum(m["converged"] for m in out_members),
        "loss_law_modes": found,
        "weights_declared": {
            "loss_residuals": dict(RESIDUALS),
            "frontier": "1/2 the spec's, 1/2 records",
            "window": {n: w for n, _, w in WINDOWS},
            "loss_law_mode": "the data's (Laplace evidence, modes.py)" if mode_weights == "data" else "paper",
        },
    }
    path = record_path(spec, out, mode_weights)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(jsonout.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return record


def load_record(spec: ModelSpec, path: str | Path) -> tuple[dict[str, Any] | None, str]:
    """The recorded study at ``path`` if it matches the spec and data, else (None, why not)."""
    from . import fit

    p = Path(path)
    if not p.is_file():
        return None, f"no structural study recorded at {p}"
    try:
        rec = jsonout.loads_strict(p.read_text())
    except (ValueError, json.JSONDecodeError) as e:
        return None, f"{p}: not a structural study ({e})"
    if rec.get("study") != "structural" or rec.get("study_version") != STUDY_VERSION:
        return None, f"{p}: a structural study of another version (recompute it)"
    if rec.get("spec_hash") != spec.hash:
        return (
            None,
            f"{p} is stale: it was computed for another version of spec '{rec.get('spec')}' (spec hash differs)",
        )
    if rec.get("data_hash") != fit.data_hash_of(spec):
        return None, f"{p} is stale: the data changed since it was computed (data hash differs)"
    return rec, ""


def lookup(spec: ModelSpec, explicit: str | Path | None = None) -> tuple[dict[str, Any] | None, str]:
    """The structural study to show beside a fit of ``spec``: ``explicit`` if given, else the first
    of ``validation/structural_SPEC.json`` and ``results/structural/structural_SPEC.json`` (in the
    current directory) and the record shipped with the package (:func:`bayesdense.data.records_dir`)
    that exists. (None, why) when there is none or it is stale."""
    from .data import records_dir

    if explicit is None:
        try:
            check_spec(spec)
        except ValueError as e:
            return None, f"{NOT_APPLICABLE}: {e}"
    if explicit is not None:
        rec, why = load_record(spec, explicit)
        if rec is not None:
            rec["record_file"] = str(explicit)
        return rec, why
    for d in ("validation", "results/structural", records_dir()):
        p = record_path(spec, d)
        if p.is_file():
            rec, why = load_record(spec, p)
            if rec is not None:
                rec["record_file"] = str(p)
            return rec, why
    where = "validation/, results/structural/ or the package's records"
    return None, f"no structural study of spec '{spec.name}' in {where}"


def headline(rec: dict[str, Any]) -> dict[str, Any]:
    """The ``structural`` object of ``fit --json``."""
    return {
        "growth_rate_per_day": rec["growth_rate_per_day"],
        "doubling_time_days": rec["doubling_time_days"],
        "p_growth_rate_le_0": rec["p_growth_rate_le_0"],
        "interval": rec["interval"],
        "members": [
            {"name": m["name"], "weight": m["weight"], "doubling_time_days": m["doubling_time_days"]}
            for m in rec["members"]
        ],
        "variance_share": rec["variance_share"],
        "by_choice": rec["by_choice"],
        "converged_members": rec["converged_members"],
        "record": rec.get("record_file", ""),
        "command": rec["command"],
    }


def _days(d: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return "unbounded" if v is None else f"{v:.0f}"

    return f"{f(d['median'])} days [{f(d['eti_low'])}, {f(d['eti_high'])}]"


def format_structural(s: dict[str, Any] | None, why_not: str = "") -> str:
    """The text block ``bayesdense fit`` prints under the conditional result."""
    if s is None and why_not.startswith(NOT_APPLICABLE):
        return f"Structural interval: not shown ({why_not})."
    if s is None:
        return (
            f"Structural interval: not shown ({why_not}).\n  Compute it with: bayesdense structural SPEC (see --help)"
        )
    r, d = s["growth_rate_per_day"], s["doubling_time_days"]
    lines = [
        f"Structural interval (over loss-law mode, residual scale, frontier estimand and release window; "
        f"{s['interval']}; from {s['record']}):",
        f"  growth rate   = {r['median']:.5f} per day [{r['eti_low']:.5f}, {r['eti_high']:.5f}]",
        f"  doubling time = {_days(d)}",
    ]
    if s["p_growth_rate_le_0"] > 0.001:
        lines.append(f"  P(growth rate <= 0) = {s['p_growth_rate_le_0']:.3f}")
    share = s["variance_share"]
    parts = ", ".join(f"{k} {v:.0%}" for k, v in sorted(share.items(), key=lambda kv: -kv[1]))
    lines.append(f"  share of the growth rate's variance (draws winsorized at {WINSOR:.1%}): {parts}")
    for choice, levels in s["by_choice"].items():
        lv = "; ".join(f"{name} (w {v['weight']:.2f}) {_days(v['doubling_time_days'])}" for name, v in levels.items())
        lines.append(f"  {choice}: {lv}")
    lines.append(f"  {s['converged_members']} of {len(s['members'])} members converged; recompute: {s['command']}")
    return "\n".join(lines)
