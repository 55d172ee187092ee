"""The modes of a benchmark's reference loss law, and how much the data favour each.

The 33 plotted AVERAGE reference points admit two loss laws ``L = a N^-alpha + b D^-beta`` of
nearly equal fit (alpha ~ 0.11, the paper's, and alpha ~ 0.38). A prior centred on one of them
(the shipped specs centre on the paper's, +-10%) decides the answer without saying so. This
module finds every mode and weighs them by the data:

1. **Search.** Least squares from a grid of starting points (``alpha0 x beta0``, each with the
   ``a, b`` that put the curve through the data's mean), on the residual scale the spec uses (log
   loss or loss). Distinct optima (``|log alpha - log alpha'| > MODE_SEPARATION``) are the modes.
2. **Weights.** The curves-only posterior under wide priors centred on neither mode
   (:data:`VAGUE_PRIORS`) and the spec's prior on the residual sd is approximated at each mode by
   a Laplace approximation on the log scale of every parameter; a mode's weight is its share of
   the summed evidence. (Under the shipped priors for ``a`` and ``alpha``, which sit near the
   paper's curve, the weights reverse: README, "What we found".) Reference losses inform the loss law and
   nothing else does (the link points and scores enter through other parameters), so these are
   the data's weights for the choice.

``weights="paper"`` puts all weight on the mode nearest the paper's published exponent: an
explicit option for those who trust the three 5.2M-model points the paper's fit saw but its
figure does not show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares, minimize
from scipy.stats import norm

from . import laws
from .data import load_table
from .inputs import D_UNIT, N_UNIT
from .spec import DEFAULT_PRIORS, ModelSpec, Prior

MODE_SEPARATION = 0.3  # |log alpha| apart: two optima closer than this are one mode
ALPHA_STARTS = (0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4, 0.55, 0.8)
BETA_STARTS = (0.1, 0.2, 0.3, 0.45, 0.7)


@dataclass(frozen=True)
class Mode:
    """One optimum of the loss law on a benchmark's reference runs (N in billions, D in trillions)."""

    benchmark: str
    residuals: str  # "log" or "linear"
    a: float
    alpha: float
    b: float
    beta: float
    rss: float  # residual sum of squares on the residual scale
    log_lik: float  # Gaussian log likelihood at the maximum-likelihood residual sd
    starts: int  # how many starting points reached it
    log_evidence: float = float("nan")  # Laplace approximation of log p(data | this mode)
    weight: float = float("nan")  # share of the summed evidence (or the declared weight)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_law(spec: ModelSpec) -> None:
    """The mode search is of the paper's law, without an irreducible term: refuse a spec with one."""
    if spec.layers.irreducible_loss:
        raise ValueError(
            f"spec '{spec.name}' has layers.irreducible_loss = true; the loss-law mode search (and the structural "
            "study built on it) covers the paper's law without the irreducible term E"
        )


def reference_runs(benchmark: str, spec: ModelSpec | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N in billions, D in trillions, loss) of the reference runs of ``benchmark``: the shipped ones,
    or those of ``spec``'s reference family (``data.reference_runs``)."""
    if spec is not None and spec.data.reference_runs is not None:
        from .inputs import reference_tables

        ref = reference_tables(spec)[0]
    else:
        ref = load_table("reference_losses")
    ref = ref[ref["benchmark"] == benchmark]
    if ref.empty:
        raise ValueError(f"no reference runs for benchmark '{benchmark}'")
    return (
        ref["params"].to_numpy(float) / N_UNIT,
        ref["tokens"].to_numpy(float) / D_UNIT,
        ref["loss"].to_numpy(float),
    )


def _predict(u: np.ndarray, n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The loss law at log-parameters ``u = (log a, log alpha, log b, log beta)``."""
    a, alpha, b, beta = np.exp(u[:4])
    return np.asarray(laws.loss_law(n, d, a, alpha, b, beta))


def _resid(u: np.ndarray, n: np.ndarray, d: np.ndarray, y: np.ndarray, residuals: str) -> np.ndarray:
    pred = _predict(u, n, d)
    return np.log(pred) - np.log(y) if residuals == "log" else pred - y


def find_modes(
    n: np.ndarray,
    d: np.ndarray,
    loss: np.ndarray,
    *,
    residuals: str = "log",
    benchmark: str = "",
    alpha_starts: tuple[float, ...] = ALPHA_STARTS,
    beta_starts: tuple[float, ...] = BETA_STARTS,
) -> list[Mode]:
    """Every distinct least-squares optimum of the loss law, best first (units as given)."""
    if residuals not in ("log", "linear"):
        raise ValueError(f"residuals must be 'log' or 'linear', not {residuals!r}")
    y = np.asarray(loss, float)
    found: list[tuple[float, np.ndarray]] = []
    for alpha0 in alpha_starts:
        for beta0 in beta_starts:
            # each term carries half the mean loss at the data's median N and D
            u0 = np.log([y.mean() / 2 * np.median(n) ** alpha0, alpha0, y.mean() / 2 * np.median(d) ** beta0, beta0])
            with np.errstate(over="ignore", invalid="ignore"):
                r = least_squares(
                    _resid, u0, args=(n, d, y, residuals), method="lm", xtol=1e-13, ftol=1e-13, max_nfev=5000
                )
            if np.all(np.isfinite(r.x)) and np.all(np.abs(r.x) < 50):
                found.append((2 * r.cost, r.x))
    found.sort(key=lambda t: t[0])
    modes: list[tuple[float, np.ndarray, int]] = []
    for rss, u in found:
        for k, (_, um, cnt) in enumerate(modes):
            if abs(u[1] - um[1]) <= MODE_SEPARATION:
                modes[k] = (modes[k][0], um, cnt + 1)
                break
        else:
            modes.append((rss, u, 1))
    m = len(y)
    out = []
    for rss, u, cnt in modes:
        a, alpha, b, beta = (float(v) for v in np.exp(u))
        sd2 = rss / m
        log_lik = float(-0.5 * m * (np.log(2 * np.pi * sd2) + 1))
        if residuals == "log":
            log_lik -= float(np.log(y).sum())  # Jacobian: the density of the losses themselves
        out.append(Mode(benchmark, residuals, a, alpha, b, beta, float(rss), log_lik, cnt))
    return out


def _log_prior(p: Prior, u: float) -> float:
    """log density of ``log theta = u`` when theta has prior ``p`` (Jacobian included)."""
    kw = p.kwargs()
    if p.dist == "LogNormal":
        return float(norm.logpdf(u, kw["mu"], kw["sigma"]))
    if p.dist == "HalfNormal":
        th = np.exp(u)
        return float(np.log(2) + norm.logpdf(th, 0.0, kw["sigma"]) + u)
    raise ValueError(f"mode weights need LogNormal or HalfNormal priors for the loss law, not {p.dist}")


# Priors the evidence is computed under: wide (two orders of magnitude either way for a and b, one
# for the exponents) and centred on neither mode. The shipped priors for a and alpha are not used:
# they sit near the paper's curve, and would give the paper's mode its weight before the data do.
VAGUE_PRIORS: dict[str, Prior] = {
    "loss_a": Prior(dist="LogNormal", mu=-2.303, sigma=2.0),  # median 0.1
    "loss_alpha": Prior(dist="LogNormal", mu=-1.386, sigma=1.0),  # median 0.25
    "loss_b": Prior(dist="LogNormal", mu=-2.303, sigma=2.0),
    "loss_beta": Prior(dist="LogNormal", mu=-1.386, sigma=1.0),
}


def curve_priors(spec: ModelSpec, benchmark: str, *, which: str = "vague") -> dict[str, Prior]:
    """The priors a mode's evidence is computed under, with the spec's prior on the residual sd:
    ``"vague"`` (:data:`VAGUE_PRIORS`) or ``"spec"`` (the spec's own priors for a and b and the
    unanchored defaults for the exponents, spec.py ``DEFAULT_PRIORS``)."""
    if spec.data.reference_runs is not None:  # your family: the priors the fit uses, scaled to your losses
        from .inputs import reference_priors

        spec = reference_priors(spec)
    sd_name = "loss_sd_log" if spec.layers.loss_residuals == "log" else "loss_sd"
    if which == "vague":
        return {**VAGUE_PRIORS, "loss_sd": spec.prior(sd_name, benchmark)}
    return {
        "loss_a": spec.prior("loss_a", benchmark),
        "loss_alpha": Prior(**DEFAULT_PRIORS["loss_alpha"]),
        "loss_b": spec.prior("loss_b", benchmark),
        "loss_beta": Prior(**DEFAULT_PRIORS["loss_beta"]),
        "loss_sd": spec.prior(sd_name, benchmark),
    }


def _neg_log_post(
    v: np.ndarray, n: np.ndarray, d: np.ndarray, y: np.ndarray, residuals: str, pri: dict[str, Prior]
) -> float:
    """-log posterior density of v = (log a, log alpha, log b, log beta, log sd)."""
    r = _resid(v[:4], n, d, y, residuals)
    sd = np.exp(v[4])
    ll = float(norm.logpdf(r, 0.0, sd).sum())
    if residuals == "log":
        ll -= float(np.log(y).sum())
    lp = sum(
        _log_prior(pri[k], float(x))
        for k, x in zip(("loss_a", "loss_alpha", "loss_b", "loss_beta", "loss_sd"), v, strict=True)
    )
    out = -(ll + lp)
    return out if np.isfinite(out) else 1e300


def _hessian(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    k = len(x)
    hm = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
            hm[i, j] = hm[j, i] = v
    return hm


def laplace_evidence(
    mode: Mode, n: np.ndarray, d: np.ndarray, y: np.ndarray, pri: dict[str, Prior]
) -> tuple[float, np.ndarray]:
    """Laplace approximation of log p(data, restricted to this mode's basin) and the posterior mode."""
    v0 = np.log([mode.a, mode.alpha, mode.b, mode.beta, np.sqrt(mode.rss / len(y))])

    def f(v: np.ndarray) -> float:
        return _neg_log_post(v, n, d, y, mode.residuals, pri)

    with np.errstate(over="ignore", invalid="ignore"):
        res = minimize(f, v0, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 40000})
        res = minimize(f, res.x, method="BFGS", options={"gtol": 1e-8})
    v = res.x
    if abs(v[1] - v0[1]) > MODE_SEPARATION:
        raise ValueError(f"the {mode.benchmark} mode at alpha = {mode.alpha:.3f} has no posterior mode near it")
    hm = _hessian(f, v)
    sign, logdet = np.linalg.slogdet(hm)
    if sign <= 0:
        raise ValueError(f"the {mode.benchmark} mode at alpha = {mode.alpha:.3f} is not a maximum of the posterior")
    return float(-f(v) + 0.5 * len(v) * np.log(2 * np.pi) - 0.5 * logdet), v


def weighted_modes(spec: ModelSpec, benchmark: str, *, weights: str = "data", priors: str = "vague") -> list[Mode]:
    """The modes of ``benchmark``'s loss law on the spec's residual scale, with their weights.

    ``weights="data"``: Laplace evidence shares under :func:`curve_priors` (``priors``); ``"paper"``: weight 1
    on the mode nearest the paper's published alpha, 0 on the others.
    """
    from .classical import published_curves

    if weights not in ("data", "paper"):
        raise ValueError(f"mode weights must be 'data' or 'paper', not {weights!r}")
    check_law(spec)
    n, d, y = reference_runs(benchmark, spec)
    modes = find_modes(n, d, y, residuals=spec.layers.loss_residuals, benchmark=benchmark)
    # an optimum of least squares that the priors turn into a slope is not a mode (no evidence)
    both = [(m, z) for m, z in zip(modes, _evidences(spec, benchmark, modes, priors), strict=True) if z is not None]
    kept = [m for m, _ in both]
    ev = np.array([z for _, z in both])
    if weights == "data":
        w = np.exp(ev - ev.max())
        w /= w.sum()
    else:
        if spec.data.reference_runs is not None:
            raise ValueError("mode weights 'paper' need the paper's reference family; yours has no paper mode")
        paper_alpha = published_curves()[benchmark].alpha
        near = int(np.argmin([abs(np.log(m.alpha / paper_alpha)) for m in kept]))
        w = np.eye(len(kept))[near]
    return [
        Mode(**{**m.as_dict(), "log_evidence": float(z), "weight": float(wi)})
        for m, z, wi in zip(kept, ev, w, strict=True)
    ]


def anchor_priors(mode: Mode, sigma: float = 0.1) -> dict[str, dict[str, Any]]:
    """``benchmark_priors`` entries that centre alpha and beta on ``mode``, +-10% like the shipped anchor."""
    return {
        "loss_alpha": {"dist": "LogNormal", "mu": round(float(np.log(mode.alpha)), 4), "sigma": sigma},
        "loss_beta": {"dist": "LogNormal", "mu": round(float(np.log(mode.beta)), 4), "sigma": sigma},
    }


def _evidences(spec: ModelSpec, benchmark: str, modes: list[Mode], priors: str) -> list[float | None]:
    """Each mode's Laplace log evidence under :func:`curve_priors` (``priors``); None where those
    priors leave no posterior mode near it."""
    n, d, y = reference_runs(benchmark, spec)
    pri = curve_priors(spec, benchmark, which=priors)
    out: list[float | None] = []
    for m in modes:
        try:
            out.append(laplace_evidence(m, n, d, y, pri)[0])
        except ValueError:
            out.append(None)
    return out


def _shares(log_evidence: list[float | None]) -> list[float | None]:
    """Evidence shares of the modes that have an evidence (None stays None)."""
    top = max((z for z in log_evidence if z is not None), default=0.0)
    total = sum(np.exp(z - top) for z in log_evidence if z is not None)
    return [None if z is None else float(np.exp(z - top) / total) for z in log_evidence]


def mode_table(spec: ModelSpec, benchmark: str) -> list[dict[str, Any]]:
    """Every least-squares mode of ``benchmark``'s loss law on the spec's residual scale, best fit
    first, each with its evidence share under wide priors (``weight_vague``) and under the spec's
    priors for a and b (``weight_spec``; None where those priors leave no posterior mode near it),
    and whether it is the paper's (its alpha within ``MODE_SEPARATION`` in log of the published
    exponent) and the spec's (its alpha within 2 sd of the spec's log-normal alpha prior)."""
    from .classical import published_curves

    check_law(spec)
    n, d, y = reference_runs(benchmark, spec)
    found = find_modes(n, d, y, residuals=spec.layers.loss_residuals, benchmark=benchmark)
    weights = {which: _shares(_evidences(spec, benchmark, found, which)) for which in ("vague", "spec")}
    published = {} if spec.data.reference_runs is not None else published_curves()
    paper_alpha = published[benchmark].alpha if benchmark in published else None
    prior = spec.prior("loss_alpha", benchmark)
    mu, sigma = prior.mu, prior.sigma
    anchored = prior.dist == "LogNormal" and mu is not None and sigma is not None and sigma <= 0.5

    def in_prior(alpha: float) -> bool | None:
        return bool(abs(np.log(alpha) - mu) <= 2 * sigma) if anchored and mu is not None and sigma is not None else None

    return [
        {
            **{k: v for k, v in m.as_dict().items() if k not in ("log_evidence", "weight")},
            "weight_vague": weights["vague"][i],
            "weight_spec": weights["spec"][i],
            "paper_alpha": paper_alpha,
            "is_paper": bool(paper_alpha is not None and abs(np.log(m.alpha / paper_alpha)) <= MODE_SEPARATION),
            "in_spec_prior": in_prior(m.alpha),
        }
        for i, m in enumerate(found)
    ]
