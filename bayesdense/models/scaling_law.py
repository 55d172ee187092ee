"""The scaling law on its own: ``L(N, D) = [E +] a N^-alpha + b D^-beta`` on a table of training runs.

Pure: builds a ``pm.Model`` from the runs and the prior table; no sampling (that is :mod:`bayesdense.fit`).

Units: N in billions of parameters, D in trillions of tokens (``inputs.N_UNIT``, ``inputs.D_UNIT``),
loss in the table's unit (nats per token). ``a`` is then the N-term at N = 1B and ``b`` the D-term at
D = 1T. For sampling, the two terms are parameterised by their values at the runs' geometric-mean
size and tokens (``n_term_at_centre = a n_c^-alpha``), which the data pin down nearly independently
of the exponents; ``loss_a`` and ``loss_b`` are derived from them.

Priors are weakly informative and stated in data units (see :func:`default_priors`): the scale of
every term is a fraction of the observed losses, never a fixed number, and the chosen values are
recorded in the result file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .. import laws

LIKELIHOODS = ("normal", "student_t")
SCALES = ("log", "loss")
KEY_VARS = ("loss_e", "loss_a", "loss_alpha", "loss_b", "loss_beta")


def centre(params_billions: np.ndarray, tokens_trillions: np.ndarray) -> tuple[float, float]:
    """The runs' geometric-mean size (billions) and tokens (trillions)."""
    return float(np.exp(np.mean(np.log(params_billions)))), float(np.exp(np.mean(np.log(tokens_trillions))))


def default_priors(loss: np.ndarray, *, irreducible: bool, scale: str) -> dict[str, dict[str, Any]]:
    """Weakly informative priors in data units, as plain tables (``dist`` + PyMC arguments + ``rule``).

    * exponents ``alpha``, ``beta``: LogNormal, median 0.3, sigma 0.7 (94%: 0.08 to 1.1; the
      literature's values run from 0.07 to 0.5);
    * each reducible term at the runs' centre: LogNormal, median = median loss / 2 (without E) or
      median loss / 4 (with E), sigma 1.25 (a factor ~10 either way);
    * irreducible loss ``E``: LogNormal, median = smallest observed loss / 2, sigma 0.75 (94%:
      0.12 to 2 times the smallest loss; the likelihood rules out E above the observed losses);
    * residual scale: HalfNormal, sigma 0.1 on log loss (10% of the loss), or 0.1 x median loss;
    * Student-t degrees of freedom ``nu``: Gamma(2, 0.1) (mean 20; Juarez and Steel 2010).
    """
    y = np.asarray(loss, float)
    med, low = float(np.median(y)), float(np.min(y))
    share = 4.0 if irreducible else 2.0
    out: dict[str, dict[str, Any]] = {
        "loss_alpha": {"dist": "LogNormal", "mu": float(np.log(0.3)), "sigma": 0.7, "rule": "median 0.3"},
        "loss_beta": {"dist": "LogNormal", "mu": float(np.log(0.3)), "sigma": 0.7, "rule": "median 0.3"},
        "n_term_at_centre": {
            "dist": "LogNormal",
            "mu": float(np.log(med / share)),
            "sigma": 1.25,
            "rule": f"median = median loss / {share:g} = {med / share:.4g}",
        },
        "d_term_at_centre": {
            "dist": "LogNormal",
            "mu": float(np.log(med / share)),
            "sigma": 1.25,
            "rule": f"median = median loss / {share:g} = {med / share:.4g}",
        },
    }
    if irreducible:
        out["loss_e"] = {
            "dist": "LogNormal",
            "mu": float(np.log(low / 2)),
            "sigma": 0.75,
            "rule": f"median = smallest loss / 2 = {low / 2:.4g}",
        }
    if scale == "log":
        out["sigma_log_loss"] = {"dist": "HalfNormal", "sigma": 0.1, "rule": "10% of the loss"}
    else:
        out["sigma_loss"] = {"dist": "HalfNormal", "sigma": 0.1 * med, "rule": f"0.1 x median loss = {0.1 * med:.4g}"}
    out["student_t_nu"] = {"dist": "Gamma", "alpha": 2.0, "beta": 0.1, "rule": "mean 20 (used by student_t only)"}
    return out


def _rv(priors: dict[str, dict[str, Any]], name: str) -> Any:
    p = {k: v for k, v in priors[name].items() if k not in ("dist", "rule")}
    return getattr(pm, priors[name]["dist"])(name, **p)


def build(
    params_billions: np.ndarray,
    tokens_trillions: np.ndarray,
    loss: np.ndarray,
    priors: dict[str, dict[str, Any]],
    *,
    irreducible: bool,
    likelihood: str = "normal",
    scale: str = "log",
) -> pm.Model:
    """The PyMC model of ``loss ~ [E +] a N^-alpha + b D^-beta`` with Normal or Student-t residuals
    on the log or the loss scale. No sampling."""
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood '{likelihood}' is not one of {', '.join(LIKELIHOODS)}")
    if scale not in SCALES:
        raise ValueError(f"scale '{scale}' is not one of {', '.join(SCALES)}")
    n = np.asarray(params_billions, float)
    d = np.asarray(tokens_trillions, float)
    y = np.asarray(loss, float)
    n_c, d_c = centre(n, d)
    with pm.Model(coords={"run": [str(i) for i in range(len(y))]}) as model:
        alpha = _rv(priors, "loss_alpha")
        beta = _rv(priors, "loss_beta")
        t_n = _rv(priors, "n_term_at_centre")
        t_d = _rv(priors, "d_term_at_centre")
        pm.Deterministic("loss_a", t_n * n_c**alpha)  # a N^-alpha == t_n (N / n_c)^-alpha
        pm.Deterministic("loss_b", t_d * d_c**beta)
        e = _rv(priors, "loss_e") if irreducible else pt.as_tensor_variable(0.0)
        mu = e + laws.loss_law(n / n_c, d / d_c, t_n, alpha, t_d, beta)  # the one loss law, centred units
        if scale == "log":
            sigma = _rv(priors, "sigma_log_loss")
            centre_value, observed = pt.log(mu), np.log(y)
        else:
            sigma = _rv(priors, "sigma_loss")
            centre_value, observed = mu, y
        if likelihood == "student_t":
            nu = _rv(priors, "student_t_nu")
            pm.StudentT("loss_obs", nu=nu, mu=centre_value, sigma=sigma, observed=observed, dims="run")
        else:
            pm.Normal("loss_obs", mu=centre_value, sigma=sigma, observed=observed, dims="run")
    return model
