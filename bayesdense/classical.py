"""The paper-faithful point-estimate pipeline (scipy): the baseline every posterior is compared with.

Steps, as in Xiao et al. (Nat. Mach. Intell. 2025): fit the loss law per benchmark on the
reference runs, fit the link on the MiniCPM points, invert at D0, divide by the parameter count,
keep the running-maximum records in date order and fit ln(rho) = A t + B by ordinary least
squares, t in days since 2023-02-24. Doubling time = ln 2 / A.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from . import laws
from .data import CHATGPT_RELEASE, TIME_ORIGIN, days_since_origin, load_table

DAYS_PER_MONTH = 30.44
DEFAULT_D0 = 5e12
FIGURES = {"fig1": "fig1_density", "fig2": "fig2_density", "fig3c": "fig3c_density"}


# ----------------------------------------------------------------------------- curve fits
def fit_loss_law(params: np.ndarray, tokens: np.ndarray, loss: np.ndarray) -> dict[str, float]:
    """Least squares of ``L = a N^-alpha + b D^-beta`` on raw N and D (residuals in loss)."""
    n = np.asarray(params, float)
    d = np.asarray(tokens, float)
    y = np.asarray(loss, float)

    def resid(p: np.ndarray) -> np.ndarray:
        return laws.loss_law(n, d, np.exp(p[0]), p[1], np.exp(p[2]), p[3]) - y

    best = None
    for alpha0, beta0 in ((0.1, 0.25), (0.2, 0.35), (0.1, 0.5)):
        x0 = np.array(
            [np.log(y.mean() / 2 * np.median(n) ** alpha0), alpha0, np.log(y.mean() / 2 * np.median(d) ** beta0), beta0]
        )
        r = least_squares(resid, x0, method="lm", xtol=1e-14, ftol=1e-14, max_nfev=20000)
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None
    p = best.x
    rmse = float(np.sqrt(np.mean(best.fun**2)))
    return {"a": float(np.exp(p[0])), "alpha": float(p[1]), "b": float(np.exp(p[2])), "beta": float(p[3]), "rmse": rmse}


def fit_link(loss: np.ndarray, score: np.ndarray, *, ceiling: float | None = 100.0) -> dict[str, float]:
    """Least squares of ``S = d + c * sigmoid(gamma (l - L))`` (score residuals, percent).

    Ten points on the lower part of the curve do not pin down its upper asymptote, so by default
    the ceiling is fixed at 100 percent (``c = ceiling - d``) and the floor kept at or above 0.
    The paper's drawn curves have ``c + d`` within 2.3 points of 100 and ``d >= 0`` (to digitizing
    precision), which this recovers; ``ceiling=None`` fits all four parameters freely.
    """
    x = np.asarray(loss, float)
    y = np.asarray(score, float)
    if ceiling is None:

        def resid4(p: np.ndarray) -> np.ndarray:
            return laws.link(x, p[0], p[1], p[2], p[3]) - y

        x0 = np.array([y.max() - y.min() + 10, 20.0, float(np.median(x)), max(y.min() - 5, 0.0)])
        r = least_squares(resid4, x0, method="lm", xtol=1e-14, ftol=1e-14, max_nfev=20000)
        c, gamma, l_mid, d = (float(v) for v in r.x)
    else:
        top = float(ceiling)

        def resid3(p: np.ndarray) -> np.ndarray:
            return laws.link(x, top - p[2], p[0], p[1], p[2]) - y

        x0 = np.array([20.0, float(np.median(x)), float(np.clip(y.min() - 5, 0.0, top - 1))])
        r = least_squares(resid3, x0, bounds=([1e-6, 0.0, 0.0], [1e4, 20.0, top - 1e-6]), xtol=1e-14, ftol=1e-14)
        gamma, l_mid, d = (float(v) for v in r.x)
        c = top - d
    return {"c": c, "gamma": gamma, "l": l_mid, "d": d, "rmse": float(np.sqrt(np.mean(r.fun**2)))}


def fit_composition(params: np.ndarray, tokens: np.ndarray, score: np.ndarray, *, chance: float) -> laws.Curves:
    """Least squares of ``S = d + (100 - d) sigmoid(l - a N^-alpha - b D^-beta)`` on scores alone
    (raw N and D, percent): a score-based reference family's loss law and link through their
    composition, the link's slope fixed at 1 (the loss is in logit units) and its floor ``d`` at or
    above ``chance``. Multi-start; the best fit is returned as :class:`laws.Curves`."""
    n = np.asarray(params, float) / 1e9
    d_t = np.asarray(tokens, float) / 1e12
    y = np.asarray(score, float)

    def resid(p: np.ndarray) -> np.ndarray:
        a, alpha, b, beta, l_mid, floor = np.exp(p[0]), p[1], np.exp(p[2]), p[3], p[4], p[5]
        return laws.link(laws.loss_law(n, d_t, a, alpha, b, beta), 100.0 - floor, 1.0, l_mid, floor) - y

    best = None
    for alpha0, beta0, l0 in ((0.3, 0.3, 2.0), (0.1, 0.5, 1.0), (0.5, 0.2, 3.0), (0.2, 0.2, 0.0)):
        x0 = np.array([0.0, alpha0, 0.0, beta0, l0, chance + 0.5])
        lo = [-10.0, 1e-3, -10.0, 1e-3, -20.0, chance]
        hi = [10.0, 3.0, 10.0, 3.0, 20.0, min(chance + 20.0, 99.0)]
        r = least_squares(resid, x0, bounds=(lo, hi), xtol=1e-12, ftol=1e-12, max_nfev=20000)
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None
    a, alpha, b, beta, l_mid, floor = best.x
    # raw units: a N^-alpha with N in billions = (a 1e9^alpha) N_raw^-alpha, likewise b with D in trillions
    return laws.Curves(
        a=float(np.exp(a) * 1e9**alpha),
        alpha=float(alpha),
        b=float(np.exp(b) * 1e12**beta),
        beta=float(beta),
        c=float(100.0 - floor),
        gamma=1.0,
        l=float(l_mid),
        d=float(floor),
    )


def published_curves() -> dict[str, laws.Curves]:
    """Curves recovered from the paper's drawn lines (``curve_parameters`` table), gamma made positive."""
    cp = load_table("curve_parameters")
    return {
        r.benchmark: laws.Curves(a=r.a, alpha=r.alpha, b=r.b, beta=r.beta, c=r.c, gamma=-r.gamma_paper, l=r.l, d=r.d)
        for r in cp.itertuples()
    }


def refit_curves() -> dict[str, dict[str, float]]:
    """Refit every benchmark's loss law and link on the digitized points."""
    ref = load_table("reference_losses")
    pts = load_table("link_points")
    out = {}
    for bench, g in ref.groupby("benchmark", sort=False):
        law = fit_loss_law(g["params"].to_numpy(), g["tokens"].to_numpy(), g["loss"].to_numpy())
        p = pts[(pts["benchmark"] == bench) & (pts["role"] == "fit")]
        lk = fit_link(p["loss"].to_numpy(), p["score"].to_numpy())
        out[str(bench)] = {
            **{k: v for k, v in law.items() if k != "rmse"},
            "loss_rmse": law["rmse"],
            **{k: v for k, v in lk.items() if k != "rmse"},
            "score_rmse": lk["rmse"],
        }
    return out


def refit_vs_published(d0: float = DEFAULT_D0) -> pd.DataFrame:
    """How close the refit lands to the recovered curves: per benchmark, the relative difference of
    each parameter and of the effective size implied at three scores inside the link's range."""
    pub = published_curves()
    rows = []
    for bench, fit in refit_curves().items():
        p = pub[bench]
        row: dict[str, Any] = {"benchmark": bench}
        for k in ("a", "alpha", "b", "beta", "c", "gamma", "l", "d"):
            ref = getattr(p, k)
            row[f"{k}_rel_diff"] = (fit[k] - ref) / abs(ref)
        row["d_abs_diff"] = fit["d"] - p.d
        del row["d_rel_diff"]
        refit = laws.Curves(**{k: fit[k] for k in ("a", "alpha", "b", "beta", "c", "gamma", "l", "d")})
        lo, hi = p.d + 0.2 * p.c, min(p.d + 0.8 * p.c, p.max_score(d0) - 1)
        s = np.linspace(lo, hi, 3)
        ratio = laws.effective_size(s, refit, d0) / laws.effective_size(s, p, d0)
        row["n_eff_ratio_max_dev"] = float(np.nanmax(np.abs(ratio - 1)))
        row["loss_rmse"] = fit["loss_rmse"]
        row["score_rmse"] = fit["score_rmse"]
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the trend
@dataclass
class TrendFit:
    A_per_day: float
    B: float
    r2: float
    n_records: int
    records: list[str]
    doubling_time_days: float
    doubling_time_months: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def densing_fit(names: list[str], t_days: np.ndarray, density: np.ndarray) -> TrendFit:
    """The paper's recipe: running-maximum records, then OLS of ln(rho) on t."""
    t = np.asarray(t_days, float)
    y = np.log(np.asarray(density, float))
    rec = laws.running_max_records(t, y)
    tr, yr = t[rec], y[rec]
    if rec.sum() < 2:
        raise ValueError("fewer than two running-maximum records: the trend is undefined")
    A, B = np.polyfit(tr, yr, 1)
    pred = A * tr + B
    ss_tot = float(np.sum((yr - yr.mean()) ** 2))
    r2 = 1 - float(np.sum((yr - pred) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    order = np.argsort(tr, kind="stable")
    recs = [names[i] for i in np.flatnonzero(rec)[order]]
    dbl = float(laws.doubling_time(A))
    return TrendFit(float(A), float(B), r2, int(rec.sum()), recs, dbl, dbl / DAYS_PER_MONTH)


def reproduce(figure: str) -> dict[str, Any]:
    """Reproduce the paper's trend line(s) for a shipped figure (fig1, fig2 or fig3c)."""
    if figure not in FIGURES:
        raise KeyError(f"unknown figure '{figure}'; choose one of {', '.join(FIGURES)}")
    df = load_table(FIGURES[figure])
    t = days_since_origin(df["plotted_date"])
    out: dict[str, Any] = {
        "figure": figure,
        "table": FIGURES[figure],
        "n_models": len(df),
        "time_origin": TIME_ORIGIN.isoformat(),
    }
    if figure == "fig3c":
        pre = df["plotted_date"] < CHATGPT_RELEASE
        for key, mask in (("pre_chatgpt", pre.to_numpy()), ("post_chatgpt", ~pre.to_numpy())):
            sub = df[mask]
            fit = densing_fit(sub["model"].tolist(), t[mask], sub["density"].to_numpy())
            out[key] = {"n_models": int(mask.sum()), **fit.as_dict()}
        out["rate_ratio_post_over_pre"] = out["post_chatgpt"]["A_per_day"] / out["pre_chatgpt"]["A_per_day"]
        out["chatgpt_release"] = CHATGPT_RELEASE.isoformat()
    else:
        out.update(densing_fit(df["model"].tolist(), t, df["density"].to_numpy()).as_dict())
    return out


# ----------------------------------------------------------------------------- paper-implied scores
def _model_rows() -> dict[str, Any]:
    """Rows of the model table by canonical name and by every alias."""
    out: dict[str, Any] = {}
    for r in load_table("models").itertuples():
        out[r.model] = r
        for a in str(r.aliases or "").split(";"):
            if a.strip():
                out[a.strip()] = r
    return out


def variant_of(names: list[str]) -> np.ndarray:
    """Each model's variant (base, instruct, quantized, ...) from the model table; "" if unknown."""
    rows = _model_rows()
    return np.array([str(rows[n].variant) if n in rows else "" for n in names])


def also_in_figure(names: list[str], figure: str) -> np.ndarray:
    """Which of ``names`` also appear in the paper's ``figure``, spellings matched through the
    aliases of the model table (e.g. Fig. 3c's "Llama-3.2-1B" is Fig. 2's "Llama3.2-1B")."""
    rows = _model_rows()

    def canonical(n: str) -> str:
        return str(rows[n].model) if n in rows else n

    other = {canonical(m) for m in load_table(FIGURES[figure])["model"]}
    return np.array([canonical(n) in other for n in names], bool)


def paper_param_counts(names: list[str]) -> pd.DataFrame:
    """Parameter count the paper divided by, per Fig. 1 model, from the sourced model table.

    For mixture-of-experts models the paper's marker size tells whether total or activated
    parameters were used (the marker-implied size is closer to one of them). A quantized model
    without a count of its own gets its parent's (its markers are the parent's size). Both choices
    are inferences, recorded in the ``params_basis`` column. Models without any count get NaN.
    """
    alias = _model_rows()
    fig1 = load_table("fig1_density").set_index("model")
    rows = []
    for name in names:
        r = alias.get(name)
        total = float(r.params_total) if r is not None and pd.notna(r.params_total) else np.nan
        active = float(r.params_active) if r is not None and pd.notna(r.params_active) else np.nan
        basis = "total"
        n = total
        marker = fig1["marker_implied_params_b"].get(name, np.nan) * 1e9
        if np.isfinite(active) and np.isfinite(marker) and np.isfinite(total):
            if abs(np.log(marker / active)) < abs(np.log(marker / total)):
                basis, n = "active", active
        if not np.isfinite(n) and r is not None and r.variant == "quantized" and r.parent_model in alias:
            parent = alias[r.parent_model]
            if pd.notna(parent.params_total):
                n, basis = float(parent.params_total), "parent"
        rows.append(
            {
                "model": name,
                "params": n,
                "params_total": total,
                "params_active": active,
                "params_basis": basis if np.isfinite(n) else "missing",
            }
        )
    return pd.DataFrame(rows)


def implied_scores(d0: float = DEFAULT_D0, benchmark: str = "AVERAGE", table: str = "fig1_density") -> pd.DataFrame:
    """Reconstruction: the score each plotted density implies through ``benchmark``'s recovered
    curves at ``d0`` and the parameter count the paper divided by.

    The paper prints densities, not scores; these scores are what the published curves map
    back to. ``score = S(L(rho * N, D0))``. Models with no sourced parameter count get NaN.
    """
    df = load_table(table)
    curves = published_curves()[benchmark]
    counts = paper_param_counts(df["model"].tolist())
    n_eff = df["density"].to_numpy() * counts["params"].to_numpy()
    score = curves.score_at(n_eff, d0)
    out = pd.DataFrame(
        {
            "model": df["model"],
            "plotted_date": df["plotted_date"],
            "t_days": days_since_origin(df["plotted_date"]),
            "density": df["density"],
            "params": counts["params"],
            "params_basis": counts["params_basis"],
            "params_total": counts["params_total"],
            "params_active": counts["params_active"],
            "n_eff": n_eff,
            "score": score,
            "benchmark": benchmark,
            "d0": d0,
        }
    )
    out.attrs["max_score"] = curves.max_score(d0)
    return out


def point_densities(
    scores: pd.DataFrame, d0: float = DEFAULT_D0, curves: dict[str, laws.Curves] | None = None
) -> pd.Series:
    """The paper's point estimate for models of your own: each score (columns model, benchmark,
    score, params) inverted through the benchmark's curves at ``d0`` (the paper's recovered curves
    unless ``curves`` are given) and divided by ``params``; a model with several benchmarks gets
    the geometric mean of its finite densities (NaN when none can be inverted, e.g. a score beyond
    what the reference law reaches at D0)."""
    curves = published_curves() if curves is None else curves
    n_eff = np.array([laws.effective_size(r.score, curves[r.benchmark], d0) for r in scores.itertuples()], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rho = pd.Series(np.log(n_eff / scores["params"].to_numpy(float)), index=scores.index)
    log_rho = log_rho.where(np.isfinite(log_rho))
    return np.exp(log_rho.groupby(scores["model"], sort=False).mean())


def score_crosscheck(d0: float = DEFAULT_D0) -> pd.DataFrame:
    """Models with all five published scores: their mean against the paper-implied AVERAGE score."""
    sc = load_table("scores")
    wide = sc.pivot(index="model", columns="benchmark", values="score").dropna()
    imp = implied_scores(d0=d0).set_index("model")
    common = [m for m in wide.index if m in imp.index and np.isfinite(imp.loc[m, "score"])]
    out = pd.DataFrame({"mean_of_five": wide.loc[common].mean(axis=1), "implied_average": imp.loc[common, "score"]})
    out["difference"] = out["mean_of_five"] - out["implied_average"]
    return out


# ----------------------------------------------------------------------------- Huber on log loss
HUBER_DELTA = 1e-3  # Hoffmann et al. (2022) and Besiroglu et al. (2024)
# the literature's grid of initial values (log A, log B, log E, alpha, beta; raw N and D)
HUBER_GRID: dict[str, tuple[float, ...]] = {
    "log_a": tuple(np.arange(0.0, 25.01, 5.0)),
    "log_b": tuple(np.arange(0.0, 25.01, 5.0)),
    "log_e": tuple(np.arange(-1.0, 1.01, 0.5)),
    "alpha": tuple(np.arange(0.0, 2.01, 0.5)),
    "beta": tuple(np.arange(0.0, 2.01, 0.5)),
}


def _huber(r: np.ndarray, delta: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss of residuals ``r`` and its derivative; ``delta=None``: squared error / 2."""
    if delta is None:
        return 0.5 * r**2, r
    small = np.abs(r) <= delta
    return np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)), np.where(small, r, delta * np.sign(r))


def fit_loss_law_huber(
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    *,
    irreducible: bool = True,
    delta: float | None = HUBER_DELTA,
    n_starts: int = 30,
) -> dict[str, Any]:
    """Robust fit of ``L = [E +] A N^-alpha + B D^-beta`` (raw N and D) by the Huber objective on log loss.

    As in Hoffmann et al. (2022, Approach 3) and Besiroglu et al. (2024): minimise
    ``sum_i Huber_delta(LSE(log A - alpha log N_i, log B - beta log D_i, log E) - log L_i)`` with
    L-BFGS from a grid of initial values (:data:`HUBER_GRID`). Every grid point is scored first and
    L-BFGS runs from the ``n_starts`` best (``n_starts=len(grid)`` runs from every grid point, as the
    papers do, at about 150x the time). ``irreducible=False`` drops the ``E`` term; ``delta=None`` is
    least squares on log loss.
    Returns ``E`` (0 without the term), ``a``, ``alpha``, ``b``, ``beta`` in raw units, the objective,
    the RMSE of log loss, and how many starts reached the best objective (within 1e-9 relative).
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax
    from threadpoolctl import threadpool_limits

    ln_n = np.log(np.asarray(params, float))
    ln_d = np.log(np.asarray(tokens, float))
    y = np.log(np.asarray(loss, float))

    def terms(p: np.ndarray) -> np.ndarray:
        cols = [p[0] - p[3] * ln_n, p[1] - p[4] * ln_d]
        if irreducible:
            cols.append(np.full_like(ln_n, p[2]))
        return np.stack(cols)

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        t = terms(p)
        h, dh = _huber(logsumexp(t, axis=0) - y, delta)
        w = softmax(t, axis=0) * dh  # d LSE / d term, times d Huber / d residual
        grad = np.array(
            [w[0].sum(), w[1].sum(), w[2].sum() if irreducible else 0.0, -(w[0] * ln_n).sum(), -(w[1] * ln_d).sum()]
        )
        return float(h.sum()), grad

    g = HUBER_GRID
    grid = (
        np.array(
            np.meshgrid(
                g["log_a"], g["log_b"], g["log_e"] if irreducible else (0.0,), g["alpha"], g["beta"], indexing="ij"
            )
        )
        .reshape(5, -1)
        .T
    )
    # score the grid in one pass: LSE over terms for every (start, run)
    t_all = [grid[:, [0]] - grid[:, [3]] * ln_n, grid[:, [1]] - grid[:, [4]] * ln_d]
    if irreducible:
        t_all.append(np.broadcast_to(grid[:, [2]], t_all[0].shape))
    start_obj = _huber(logsumexp(np.stack(t_all), axis=0) - y, delta)[0].sum(axis=1)
    starts = grid[np.argsort(start_obj, kind="stable")[:n_starts]]
    # five parameters: BLAS threads only contend (10x slower on a busy two-core machine)
    with threadpool_limits(1):
        opts = {"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-12}
        results = [minimize(objective, x0, jac=True, method="L-BFGS-B", options=opts) for x0 in starts]
    funs = np.array([r.fun for r in results])
    best = results[int(np.argmin(funs))]
    p = best.x
    resid = logsumexp(terms(p), axis=0) - y
    return {
        "E": float(np.exp(p[2])) if irreducible else 0.0,
        "a": float(np.exp(p[0])),
        "alpha": float(p[3]),
        "b": float(np.exp(p[1])),
        "beta": float(p[4]),
        "objective": float(best.fun),
        "rmse_log_loss": float(np.sqrt(np.mean(resid**2))),
        "starts": int(len(starts)),
        "starts_at_best": int(np.sum(funs <= best.fun * (1 + 1e-9) + 1e-15)),
        "delta": delta,
        "units": "raw counts (N in parameters, D in tokens)",
    }
