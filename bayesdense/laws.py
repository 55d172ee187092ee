"""The densing-law mathematics: one small function per law.

Every function works on numpy arrays and, where marked ``xp``, on PyTensor tensors too
(pass ``xp=pytensor.tensor``). The Bayesian model and the classical pipeline both call these
functions, so there is exactly one definition of each law.

Conventions (Xiao et al., Nat. Mach. Intell. 7, 1823-1833, 2025, Eqs. 1-3):

* loss law      ``L(N, D) = a * N**-alpha + b * D**-beta``  (no irreducible term)
* link          ``S(L) = d + c * sigmoid(gamma * (l - L))``  in percent.
  The paper writes ``c / (1 + exp(-gamma_paper * (L - l))) + d`` with ``gamma_paper < 0``;
  bayesdense uses ``gamma = -gamma_paper > 0`` everywhere.
* inversion     ``L_hat(S) = l + ln(c / (S - d) - 1) / gamma`` (gamma > 0), then
  ``N_hat(S) = ((L_hat(S) - b * D0**-beta) / a) ** (-1 / alpha)``
* density       ``rho = N_hat / N``

Units are whatever the caller uses consistently (raw counts here; the PyMC model rescales N to
billions and D to trillions and converts ``a`` and ``b`` with :func:`rescale_loss_law`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import expit

LN2 = float(np.log(2.0))


class DomainError(ValueError):
    """Raised in strict mode when an inversion is undefined for the given input."""


def _sigmoid(x: Any, xp: Any) -> Any:
    return expit(x) if xp is np else xp.sigmoid(x)


def loss_law(n: Any, d: Any, a: Any, alpha: Any, b: Any, beta: Any) -> Any:
    """Reference loss at ``n`` parameters trained on ``d`` tokens."""
    return a * n ** (-alpha) + b * d ** (-beta)


def loss_floor(d: Any, b: Any, beta: Any) -> Any:
    """The loss an infinitely large reference model reaches with ``d`` tokens: ``b * d**-beta``."""
    return b * d ** (-beta)


def link(loss: Any, c: Any, gamma: Any, l: Any, d: Any, *, xp: Any = np) -> Any:  # noqa: E741
    """Score (percent) predicted from a loss; decreasing in loss for ``gamma > 0``."""
    return d + c * _sigmoid(gamma * (l - loss), xp)


@dataclass(frozen=True)
class Curves:
    """One benchmark's loss law and link, in raw units (N in parameters, D in tokens)."""

    a: float
    alpha: float
    b: float
    beta: float
    c: float
    gamma: float
    l: float  # noqa: E741
    d: float
    e: float = 0.0  # irreducible loss (0: the paper's law, without it)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def loss(self, n: Any, d_tokens: Any) -> Any:
        return self.e + loss_law(
            np.asarray(n, float), np.asarray(d_tokens, float), self.a, self.alpha, self.b, self.beta
        )

    def score_from_loss(self, loss: Any) -> Any:
        return link(np.asarray(loss, float), self.c, self.gamma, self.l, self.d)

    def score_at(self, n: Any, d0: float) -> Any:
        """Score a reference model with ``n`` parameters trained on ``d0`` tokens would reach."""
        return self.score_from_loss(self.loss(n, d0))

    def max_score(self, d0: float) -> float:
        """Supremum of reachable scores at ``d0`` (infinite reference model)."""
        return float(self.score_from_loss(self.e + loss_floor(d0, self.b, self.beta)))


# ----------------------------------------------------------------------------- inversions
REASON_OK = ""
REASON_BELOW_FLOOR = "score at or below the link floor d"
REASON_ABOVE_CEILING = "score at or above the link ceiling c + d"
REASON_UNREACHABLE = "loss at or under the D0 floor b*D0^-beta (effective size unbounded)"


def link_inverse(score: Any, c: Any, gamma: Any, l: Any, d: Any) -> np.ndarray:  # noqa: E741
    """Loss that the link maps to ``score``; NaN where ``score`` is outside ``(d, c + d)``."""
    s = np.asarray(score, float)
    inside = (s > d) & (s < c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = l + np.log(c / (s - d) - 1.0) / gamma
    return np.where(inside, out, np.nan)


def n_from_loss(loss: Any, d0: float, a: float, alpha: float, b: float, beta: float) -> np.ndarray:
    """Reference size reaching ``loss`` at ``d0`` tokens; ``inf`` at or under the D0 floor."""
    excess = np.asarray(loss, float) - loss_floor(d0, b, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = (excess / a) ** (-1.0 / alpha)
    return np.where(excess > 0, n, np.where(np.isnan(excess), np.nan, np.inf))


def domain_reason(score: Any, curves: Curves, d0: float) -> np.ndarray:
    """Why each score cannot be inverted (empty string where it can)."""
    s = np.atleast_1d(np.asarray(score, float))
    out = np.full(s.shape, REASON_OK, dtype=object)
    out[s <= curves.d] = REASON_BELOW_FLOOR
    out[s >= curves.c + curves.d] = REASON_ABOVE_CEILING
    ok = out == REASON_OK
    out[ok & (s >= curves.max_score(d0))] = REASON_UNREACHABLE
    return out


def effective_size(score: Any, curves: Curves, d0: float, *, strict: bool = False) -> np.ndarray:
    """Effective parameter size N_hat for benchmark scores (percent) at ``d0`` tokens.

    Out-of-domain scores give NaN (outside the link's range) or ``inf`` (beyond what the
    reference law can reach at ``d0``); with ``strict=True`` they raise :class:`DomainError`
    naming the first offending value and the reason.
    """
    s = np.asarray(score, float)
    if strict:
        reasons = domain_reason(s, curves, d0)
        bad = np.flatnonzero(reasons != REASON_OK)
        if bad.size:
            i = int(bad[0])
            raise DomainError(f"score {np.ravel(s)[i]:.4g} cannot be inverted: {reasons[i]}")
    loss = link_inverse(s, curves.c, curves.gamma, curves.l, curves.d) - curves.e
    return n_from_loss(loss, d0, curves.a, curves.alpha, curves.b, curves.beta)


def density(n_eff: Any, n: Any) -> np.ndarray:
    """Capability density ``N_hat / N``."""
    return np.asarray(n_eff, float) / np.asarray(n, float)


def rescale_loss_law(a: Any, alpha: Any, b: Any, beta: Any, n_unit: float, d_unit: float) -> tuple[Any, Any]:
    """Coefficients ``(a', b')`` for N measured in ``n_unit`` and D in ``d_unit``.

    ``a * N**-alpha == a' * (N / n_unit)**-alpha`` with ``a' = a * n_unit**-alpha``.
    """
    return a * n_unit ** (-alpha), b * d_unit ** (-beta)


# ----------------------------------------------------------------------------- the trend
def running_max_records(t: Any, value: Any) -> np.ndarray:
    """Mask of points that set a new running maximum of ``value`` in time order.

    Ties in time are visited in descending ``value`` so that only the best model of a release
    date can be a record (the paper's recipe: sort by date, keep new maxima).
    """
    t = np.asarray(t, float)
    v = np.asarray(value, float)
    order = np.lexsort((-v, t))
    mask = np.zeros(v.shape, bool)
    best = -np.inf
    for i in order:
        if v[i] > best:
            mask[i] = True
            best = v[i]
    return mask


def doubling_time(rate: Any) -> Any:
    """ln 2 / rate, in the rate's time unit; ``inf`` for rate <= 0 (no doubling)."""
    r = np.asarray(rate, float)
    with np.errstate(divide="ignore"):
        return np.where(r > 0, LN2 / r, np.inf)


def asymmetric_laplace_logpdf(x: Any, mu: Any, scale: Any, q: float) -> Any:
    """log density of the asymmetric Laplace whose ``q``-quantile is ``mu`` (Bayesian quantile
    regression; PyMC's ``AsymmetricLaplace(mu, b=1/scale, q=q)``): rate kappa/scale above ``mu``,
    1/(scale kappa) below, kappa = sqrt(q / (1 - q))."""
    kappa = np.sqrt(q / (1 - q))
    z = x - mu
    return np.log(kappa / (scale * (1 + kappa**2))) + np.where(z >= 0, -z * kappa / scale, z / (scale * kappa))


# ----------------------------------------------------------------------------- compute-optimal split
def compute_optimal(
    compute_flops: Any, a: Any, alpha: Any, b: Any, beta: Any, *, n_unit: float = 1.0, d_unit: float = 1.0
) -> tuple[Any, Any]:
    """``(N_opt, D_opt)`` in raw counts minimising ``a (N/n_unit)**-alpha + b (D/d_unit)**-beta``
    subject to the compute budget ``C = 6 N D`` FLOPs (Hoffmann et al. 2022, Approach 3).

    With ``K = C / (6 n_unit d_unit)`` (the budget in model units) the optimum is
    ``N' = G K**(beta/(alpha+beta))``, ``D' = K / N'``, ``G = (alpha a / (beta b))**(1/(alpha+beta))``.
    An irreducible term does not move the optimum. Works on numpy arrays and xarray draws; a draw
    with an infinite or zero term gives the limit (N_opt 0 or inf) without a warning.
    """
    k = np.asarray(compute_flops, float) / (6.0 * n_unit * d_unit)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = (alpha * a / (beta * b)) ** (1.0 / (alpha + beta))
        n = g * k ** (beta / (alpha + beta))
        return n * n_unit, (k / n) * d_unit
