"""From a spec and the shipped tables to the arrays a model is fitted on (:class:`FitData`).

Units seen by the model: parameters in billions, tokens in trillions, scores in percent,
time in days since the spec's origin (the model itself works in years from the data's mid-date).
``FitData`` round-trips through an ``xarray.Dataset`` so a result file carries its own fit data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import classical, laws
from .data import (
    BENCHMARKS,
    CHATGPT_RELEASE,
    LEADERBOARD_TABLE,
    SCHEMAS,
    DataError,
    data_dir,
    days_since_origin,
    load_table,
    read_csv_strings,
    table_info,
    validate_frame,
)
from .spec import PAPER_CURVE_KEYS, ModelSpec, Prior

N_UNIT = 1e9  # parameters per model unit
D_UNIT = 1e12  # tokens per model unit
# the paper's evaluation settings (few-shot examples), which its reference runs were scored with
PAPER_SHOTS = {"MMLU": 5, "BBH": 3, "MATH": 4, "HumanEval": 0, "MBPP": 3}
PAPER_D0 = 5e12  # the NMI paper's D0, at which its densities (and so the implied scores) are defined
MAX_ROWS_SHOWN = 20  # rows a below-chance warning names


@dataclass
class FitData:
    benchmarks: list[str]
    d0_tokens: float
    # reference runs
    ref_bench: np.ndarray
    ref_params: np.ndarray
    ref_tokens: np.ndarray
    ref_loss: np.ndarray
    # link points (fit and held out)
    link_bench: np.ndarray
    link_role: np.ndarray
    link_loss: np.ndarray
    link_score: np.ndarray
    # target models
    model: np.ndarray
    t_days: np.ndarray
    params: np.ndarray
    params_basis: np.ndarray
    paper_record: np.ndarray  # running-max records of the point estimates (the paper's recipe)
    point_density: np.ndarray  # published or classical point-estimate density
    # observations of target models
    obs_model: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    obs_bench: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    obs_score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # data.score_settings = "offset": True where a score was not evaluated as the paper's
    # (as_paper_setting); such scores get their benchmark's setting offset. Empty otherwise.
    obs_other_setting: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    truth: dict[str, Any] = field(default_factory=dict)
    # a score-based reference family (data.reference_family = "public"): each reference run's score
    # (percent, on its benchmark) in place of a loss; empty for a loss-based family
    ref_score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # frontier.inefficiency_by: each target model's group (index into ``groups``); empty otherwise
    model_group: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    groups: list[str] = field(default_factory=list)

    @property
    def score_based(self) -> bool:
        return self.ref_score.size > 0

    @property
    def n_models(self) -> int:
        return len(self.model)

    def to_dataset(self) -> xr.Dataset:
        ds = xr.Dataset(
            {
                "ref_bench": ("reference_run", self.ref_bench),
                "ref_params": ("reference_run", self.ref_params),
                "ref_tokens": ("reference_run", self.ref_tokens),
                "ref_loss": ("reference_run", self.ref_loss),
                "link_bench": ("link_point", self.link_bench),
                "link_role": ("link_point", self.link_role.astype(str)),
                "link_loss": ("link_point", self.link_loss),
                "link_score": ("link_point", self.link_score),
                "t_days": ("model", self.t_days),
                "params": ("model", self.params),
                "params_basis": ("model", self.params_basis.astype(str)),
                "paper_record": ("model", self.paper_record),
                "point_density": ("model", self.point_density),
                "obs_model": ("observation", self.obs_model),
                "obs_bench": ("observation", self.obs_bench),
                "obs_score": ("observation", self.obs_score),
            },
            coords={"model": self.model.astype(str), "benchmark": np.array(self.benchmarks, dtype=str)},
            attrs={"d0_tokens": self.d0_tokens},
        )
        if self.obs_other_setting.size:
            ds["obs_other_setting"] = ("observation", self.obs_other_setting.astype(bool))
        if self.score_based:
            ds["ref_score"] = ("reference_run", self.ref_score)
        if self.groups:
            ds["model_group"] = ("model", np.asarray(self.groups, dtype=str)[self.model_group])
        for k, v in self.truth.items():
            arr = np.asarray(v)
            ds[f"truth_{k}"] = ("model", arr) if arr.ndim == 1 and arr.size == self.n_models else ((), arr)
        return ds

    def subset_models(self, keep: np.ndarray) -> FitData:
        """A copy with only the target models where ``keep`` is True (and their observations)."""
        keep = np.asarray(keep, bool)
        new_index = np.cumsum(keep) - 1
        obs = keep[self.obs_model]
        truth = {
            k: (np.asarray(v)[keep] if np.ndim(v) == 1 and len(v) == self.n_models else v)
            for k, v in self.truth.items()
        }
        return FitData(
            benchmarks=self.benchmarks,
            d0_tokens=self.d0_tokens,
            ref_bench=self.ref_bench,
            ref_params=self.ref_params,
            ref_tokens=self.ref_tokens,
            ref_loss=self.ref_loss,
            link_bench=self.link_bench,
            link_role=self.link_role,
            link_loss=self.link_loss,
            link_score=self.link_score,
            model=self.model[keep],
            t_days=self.t_days[keep],
            params=self.params[keep],
            params_basis=self.params_basis[keep],
            paper_record=self.paper_record[keep],
            point_density=self.point_density[keep],
            obs_model=new_index[self.obs_model[obs]],
            obs_bench=self.obs_bench[obs],
            obs_score=self.obs_score[obs],
            obs_other_setting=self.obs_other_setting[obs] if self.obs_other_setting.size else self.obs_other_setting,
            truth=truth,
            model_group=self.model_group[keep] if self.model_group.size else self.model_group,
            groups=self.groups,
            ref_score=self.ref_score,
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> FitData:
        truth = {str(k).removeprefix("truth_"): ds[k].values for k in ds.data_vars if str(k).startswith("truth_")}
        return cls(
            benchmarks=[str(b) for b in ds["benchmark"].values],
            d0_tokens=float(ds.attrs["d0_tokens"]),
            ref_bench=ds["ref_bench"].values,
            ref_params=ds["ref_params"].values,
            ref_tokens=ds["ref_tokens"].values,
            ref_loss=ds["ref_loss"].values,
            link_bench=ds["link_bench"].values,
            link_role=ds["link_role"].values.astype(str),
            link_loss=ds["link_loss"].values,
            link_score=ds["link_score"].values,
            model=ds["model"].values.astype(str),
            t_days=ds["t_days"].values,
            params=ds["params"].values,
            params_basis=ds["params_basis"].values.astype(str),
            paper_record=ds["paper_record"].values.astype(bool),
            point_density=ds["point_density"].values,
            obs_model=ds["obs_model"].values,
            obs_bench=ds["obs_bench"].values,
            obs_score=ds["obs_score"].values,
            obs_other_setting=ds["obs_other_setting"].values.astype(bool)
            if "obs_other_setting" in ds
            else np.zeros(0, bool),
            truth=truth,
            ref_score=ds["ref_score"].values if "ref_score" in ds else np.zeros(0),
            **_groups_of(ds["model_group"].values.astype(str) if "model_group" in ds else None),
        )


def _denominator(imp: pd.DataFrame, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Parameter count each density divides by: the paper's (default), total, or activated.

    "active" uses activated parameters for mixture-of-experts models (the NMI inference-cost
    density for MoE); other models keep their total. The paper-implied scores are always computed
    with the paper's own count, so only the denominator changes.
    """
    if how == "paper":
        return imp["params"].to_numpy(float), imp["params_basis"].to_numpy(str)
    total = np.where(np.isfinite(imp["params_total"]), imp["params_total"], imp["params"]).astype(float)
    if how == "total":
        return total, np.array(["total"] * len(imp))
    active = imp["params_active"].to_numpy(float)
    use = np.isfinite(active)
    return np.where(use, active, total), np.where(use, "active", "total")


def _era_mask(dates: pd.Series, era: str) -> np.ndarray:
    if era == "all":
        return np.ones(len(dates), bool)
    pre = (dates < CHATGPT_RELEASE).to_numpy()
    return pre if era == "pre_chatgpt" else ~pre


# ----------------------------------------------------------------------------- the reference family
def _own_table(path: Path, kind: str, benches: list[str], key: str) -> pd.DataFrame:
    """A reference-runs or link-points CSV of yours, validated, restricted to ``benches``; a table
    without a benchmark column is the one benchmark of a single-benchmark spec."""
    df = validate_frame(read_csv_strings(path), SCHEMAS[kind], path)
    if "benchmark" not in df:
        if len(benches) > 1:
            raise DataError(
                path,
                [
                    f"the table has no 'benchmark' column, but the spec fits {len(benches)} benchmarks "
                    f"({', '.join(benches)}): add the column (spec data.{key})"
                ],
            )
        df = df.assign(benchmark=benches[0])
    if kind == "own_link_points":
        if "role" not in df:
            df = df.assign(role="fit")
        df["role"] = df["role"].fillna("fit").replace("", "fit")
    present = list(dict.fromkeys(df["benchmark"]))
    missing = [b for b in benches if b not in present]
    if missing:
        raise DataError(
            path,
            [
                f"column 'benchmark': no rows for {b!r} (spec data.benchmarks; spec data.{key}); the file has "
                + ", ".join(present)
                for b in missing
            ],
        )
    return df[df["benchmark"].isin(benches)].reset_index(drop=True)


def own_scores_table(path: str | Path, spec: ModelSpec) -> pd.DataFrame:
    """An ``own_scores`` CSV, validated; with a reference family of your own its benchmark column
    may also name the spec's benchmarks."""
    schema = SCHEMAS["own_scores"]
    if spec.data.reference_runs is not None:
        allowed = tuple(dict.fromkeys([*BENCHMARKS, *spec.data.benchmarks]))
        cols = tuple(dataclasses.replace(c, allowed=allowed) if c.name == "benchmark" else c for c in schema.columns)
        schema = dataclasses.replace(schema, columns=cols)
    return validate_frame(read_csv_strings(path), schema, path)


LINK_MIN_POINTS = 4  # the link has up to four parameters and a residual scale


def runs_problems(runs: pd.DataFrame, min_runs: int) -> list[str]:
    """Why a table of runs (columns params, tokens) cannot identify the loss law, one line each
    (empty when it can): one size, one token count, one tokens-per-parameter ratio (N and D then
    move together), or fewer than ``min_runs`` runs (`scaling-law`: 7, for up to five parameters and
    a residual scale; a spec's reference runs: 5 without an irreducible loss, 7 with one)."""
    problems = []
    if runs["params"].nunique() < 2:
        problems.append(
            "column 'params': every run has the same size; alpha and a cannot be estimated (need 2 or more sizes)"
        )
    if runs["tokens"].nunique() < 2:
        problems.append("column 'tokens': every run has the same token count; beta and b cannot be estimated")
    ratio = runs["tokens"].to_numpy(float) / runs["params"].to_numpy(float)
    if len(runs) > 1 and np.ptp(np.log(ratio)) < 1e-6:
        problems.append(
            f"column 'tokens': every run has D/N = {ratio[0]:.4g}; N and D move together and the N- and D-terms "
            "cannot be told apart (add runs with other tokens per parameter)"
        )
    if len(runs) < min_runs:
        problems.append(f"only {len(runs)} run(s); the law and its residual scale need at least {min_runs}")
    return problems


def reference_tables(spec: ModelSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference runs and link points ``spec`` is fitted on (columns benchmark, params, tokens,
    loss; benchmark, role, loss, score): the paper's (shipped), or with ``data.reference_runs`` and
    ``data.link_points`` your own, checked here so a table that cannot fit a benchmark's curves is
    refused before anything is sampled, naming the file, the benchmark and what is missing."""
    benches = list(spec.data.benchmarks)
    if spec.data.reference_family == "public":
        ref = load_table("public_reference_scores")
        ref = ref[ref["benchmark"].isin(benches)].reset_index(drop=True)
        return ref, pd.DataFrame({"benchmark": [], "role": [], "loss": [], "score": []})
    if spec.data.reference_runs is None:
        ref = load_table("reference_losses")
        ref = ref[ref["benchmark"].isin(benches)]
        pts = load_table("link_points")
        pts = pts[pts["benchmark"].isin(benches)]
        missing = [b for b in benches if b not in set(ref["benchmark"])]
        if missing:
            raise ValueError(f"benchmark(s) {', '.join(missing)} have no reference runs in the shipped data")
        return ref, pts
    rpath = Path(spec.data.reference_runs).expanduser()
    ref = _own_table(rpath, "reference_runs", benches, "reference_runs")
    min_runs = 7 if spec.layers.irreducible_loss else 5
    problems = [
        f"benchmark {b!r}: {p}" for b, g in ref.groupby("benchmark", sort=False) for p in runs_problems(g, min_runs)
    ]
    if problems:
        raise DataError(rpath, problems)
    assert spec.data.link_points is not None  # the spec refuses reference_runs without link_points
    lpath = Path(spec.data.link_points).expanduser()
    pts = _own_table(lpath, "own_link_points", benches, "link_points")
    few = [
        f"benchmark {b!r}: {int((g['role'] == 'fit').sum())} link point(s) with role 'fit'; the link needs at least "
        f"{LINK_MIN_POINTS}"
        for b, g in pts.groupby("benchmark", sort=False)
        if (g["role"] == "fit").sum() < LINK_MIN_POINTS
    ]
    if few:
        raise DataError(lpath, few)
    return ref, pts


def family_curves(spec: ModelSpec) -> dict[str, laws.Curves]:
    """The point-estimate curves of the spec's reference family: the paper's recovered curves, or
    for reference runs of your own the paper's recipe on them (least squares of the loss law and of
    the link, ``classical.fit_loss_law`` / ``fit_link``; with ``layers.irreducible_loss`` the law with
    its irreducible term by the literature's Huber fit on log loss, ``classical.fit_loss_law_huber``):
    the classical answer beside the posterior."""
    if spec.data.reference_family == "public":
        ref = reference_tables(spec)[0]
        return {
            b: classical.fit_composition(
                *(g[c].to_numpy(float) for c in ("params", "tokens", "score")), chance=spec.layers.chance_score[b]
            )
            for b, g in ref.groupby("benchmark", sort=False)
        }
    if spec.data.reference_runs is None:
        return classical.published_curves()
    ref, pts = reference_tables(spec)
    out = {}
    for b in spec.data.benchmarks:
        g = ref[ref["benchmark"] == b]
        n, d, y = (g[c].to_numpy(float) for c in ("params", "tokens", "loss"))
        if spec.layers.irreducible_loss:
            law = classical.fit_loss_law_huber(n, d, y, irreducible=True)
            law = {**law, "e": law["E"]}
        else:
            law = {**classical.fit_loss_law(n, d, y), "e": 0.0}
        p = pts[(pts["benchmark"] == b) & (pts["role"] == "fit")]
        lk = classical.fit_link(p["loss"].to_numpy(float), p["score"].to_numpy(float))
        out[b] = laws.Curves(
            **{k: law[k] for k in ("a", "alpha", "b", "beta", "e")}, **{k: lk[k] for k in ("c", "gamma", "l", "d")}
        )
    return out


def paper_curves(spec: ModelSpec) -> ModelSpec:
    """``spec`` with every curve parameter of its benchmarks Fixed at the paper's published curves
    (``layers.curves = "paper"``), in the model's units (N in billions, D in trillions; the link's
    floor as an offset from the benchmark's chance score, its ceiling as a fraction of 100 - floor)."""
    from .classical import published_curves

    pub = published_curves()
    per: dict[str, dict[str, Prior]] = {}
    for b in spec.data.benchmarks:
        c = pub[b]
        chance = spec.layers.chance_score.get(b, 0.0)
        values = {
            "loss_a": c.a * N_UNIT**-c.alpha,
            "loss_alpha": c.alpha,
            "loss_b": c.b * D_UNIT**-c.beta,
            "loss_beta": c.beta,
            "link_gamma": c.gamma,
            "link_l": c.l,
            "link_floor_offset": c.d - chance,
            "link_ceiling_frac": c.c / (100.0 - c.d),
        }
        per[b] = {k: Prior(dist="Fixed", value=float(v)) for k, v in values.items()}
    priors = {k: p for k, p in spec.priors.items() if k not in PAPER_CURVE_KEYS}
    return spec.model_copy(update={"priors": priors, "benchmark_priors": {**spec.benchmark_priors, **per}})


def reference_priors(spec: ModelSpec, fd: FitData | None = None) -> ModelSpec:
    """``spec`` with priors scaled to a reference family of your own, for every loss-law and link
    prior the spec leaves at the package default (the defaults are scaled to the paper's
    conditional losses of 0.1-0.9 nats). Per benchmark, with ``L`` its runs' losses and ``l`` its
    link points' losses (fit role):

    * ``loss_a``, ``loss_b``: LogNormal, median = median(L) / 2, sigma 1.5 (a factor ~20 either way);
    * ``loss_e`` (irreducible): LogNormal, median = min(L) / 2, sigma 0.75;
    * ``loss_sd`` (loss-scale residuals): HalfNormal, sigma = 0.05 x median(L);
    * ``link_l``: Normal, mean = median(l), sd = max(l) - min(l);
    * ``link_gamma``: LogNormal, median = 4 / (max(l) - min(l)) (the link rises over the points'
      range), sigma 0.75.

    The losses are ``fd``'s, or without it read from the spec's files. The public family (scores,
    no losses: ``data.reference_family = "public"``) gets the link's slope fixed at 1, so the loss
    law is in logit units, and ``loss_a``, ``loss_b`` LogNormal(0, 1.5), ``link_l`` Normal(2, 2),
    ``link_sd`` HalfNormal(10) points (many recipes: models of equal N and D differ widely). The
    paper's family is returned unchanged."""
    if spec.layers.curves == "paper":
        return paper_curves(spec)
    if spec.data.reference_family == "public":
        table = {
            "loss_a": Prior(dist="LogNormal", mu=0.0, sigma=1.5),
            "loss_b": Prior(dist="LogNormal", mu=0.0, sigma=1.5),
            "link_l": Prior(dist="Normal", mu=2.0, sigma=2.0),
            "link_sd": Prior(dist="HalfNormal", sigma=10.0),
        }
        per: dict[str, dict[str, Prior]] = {}
        for b in spec.data.benchmarks:
            given = spec.benchmark_priors.get(b, {})
            per[b] = {
                **{k: p for k, p in table.items() if k not in given and k not in spec.priors},
                **given,
                "link_gamma": Prior(dist="Fixed", value=1.0),
            }
        return spec.model_copy(update={"benchmark_priors": per})
    if spec.data.reference_runs is None:
        return spec
    if fd is None:
        ref, pts = reference_tables(spec)
        pts = pts[pts["role"] == "fit"]
        losses = {b: ref.loc[ref["benchmark"] == b, "loss"].to_numpy(float) for b in spec.data.benchmarks}
        links = {b: pts.loc[pts["benchmark"] == b, "loss"].to_numpy(float) for b in spec.data.benchmarks}
    else:
        fit = fd.link_role == "fit"
        losses = {b: fd.ref_loss[fd.ref_bench == j] for j, b in enumerate(fd.benchmarks)}
        links = {b: fd.link_loss[fit & (fd.link_bench == j)] for j, b in enumerate(fd.benchmarks)}
    all_losses = np.concatenate(list(losses.values()))
    per = {}
    for b in losses:
        loss, ll = losses[b], links[b]
        span = float(np.ptp(ll)) or float(np.median(ll)) / 2
        med = float(np.median(loss))
        table = {
            "loss_a": Prior(dist="LogNormal", mu=float(np.log(med / 2)), sigma=1.5),
            "loss_b": Prior(dist="LogNormal", mu=float(np.log(med / 2)), sigma=1.5),
            "loss_e": Prior(dist="LogNormal", mu=float(np.log(float(np.min(loss)) / 2)), sigma=0.75),
            "loss_sd": Prior(dist="HalfNormal", sigma=0.05 * med),
            "link_l": Prior(dist="Normal", mu=float(np.median(ll)), sigma=span),
            "link_gamma": Prior(dist="LogNormal", mu=float(np.log(4 / span)), sigma=0.75),
        }
        given = spec.benchmark_priors.get(b, {})
        per[b] = {**{k: p for k, p in table.items() if k not in given and k not in spec.priors}, **given}
    if spec.layers.hierarchical:  # pooled loss-law priors live under [priors]: scale them to all runs
        centre = {"loss_a": float(np.median(all_losses)), "loss_b": float(np.median(all_losses))}
        centre["loss_e"] = float(np.min(all_losses))
        first = next(iter(per.values()))
        pooled = {
            k: Prior(dist="LogNormal", mu=float(np.log(centre[k] / 2)), sigma=first[k].sigma)
            for k in centre
            if k not in spec.priors
        }
        per = {b: {k: p for k, p in t.items() if k not in ("loss_a", "loss_b", "loss_e")} for b, t in per.items()}
        return spec.model_copy(update={"priors": {**spec.priors, **pooled}, "benchmark_priors": per})
    return spec.model_copy(update={"benchmark_priors": per})


def prepare(spec: ModelSpec) -> FitData:
    """The fit data a spec asks for, from the shipped tables (and files of your own)."""
    benches = list(spec.data.benchmarks)
    ref, pts = reference_tables(spec)
    bidx = {b: i for i, b in enumerate(benches)}

    table = classical.FIGURES[spec.data.figure]
    if spec.data.targets == "published_densities":
        df = load_table(table)
        keep = _era_mask(df["plotted_date"], spec.data.era)
        df = df[keep].reset_index(drop=True)
        params = np.full(len(df), np.nan)
        basis = np.array(["not needed"] * len(df))
        point = df["density"].to_numpy()
    elif spec.data.targets in ("own_scores", "leaderboard"):
        own = load_leaderboard(spec) if spec.data.targets == "leaderboard" else load_own_scores(spec)
        df = own.drop_duplicates("model").rename(columns={"release_date": "plotted_date"}).reset_index(drop=True)
        df = df[_era_mask(df["plotted_date"], spec.data.era)].reset_index(drop=True)
        params = df["params"].to_numpy(float)
        basis = np.array(["file"] * len(df))
        point = (
            classical.point_densities(own, spec.data.d0_tokens, curves=family_curves(spec))
            .reindex(df["model"])
            .to_numpy(float)
        )
    else:
        if spec.data.figure != "fig1":
            raise ValueError("paper-implied and simulated scores are built from NMI Fig. 1 (AVERAGE curves)")
        # the scores are data: reconstructed once at the paper's own D0 (5T), whatever D0 the model uses
        imp = classical.implied_scores(d0=PAPER_D0, benchmark="AVERAGE", table=table)
        imp = imp[np.isfinite(imp["params"]) & _era_mask(imp["plotted_date"], spec.data.era)].reset_index(drop=True)
        df = imp
        params, basis = _denominator(imp, spec.data.params_basis)
        point = imp["density"].to_numpy()
    origin = spec.data.time_origin
    t = days_since_origin(df["plotted_date"], origin)
    names = df["model"].to_numpy(str)
    rec = laws.running_max_records(t, np.log(point))

    fd = FitData(
        benchmarks=benches,
        d0_tokens=spec.data.d0_tokens,
        ref_bench=ref["benchmark"].map(bidx).to_numpy(int),
        ref_params=ref["params"].to_numpy(float),
        ref_tokens=ref["tokens"].to_numpy(float),
        ref_loss=ref["loss"].to_numpy(float) if "loss" in ref else np.full(len(ref), np.nan),
        ref_score=ref["score"].to_numpy(float) if "loss" not in ref else np.zeros(0),
        link_bench=pts["benchmark"].map(bidx).to_numpy(int),
        link_role=pts["role"].to_numpy(str),
        link_loss=pts["loss"].to_numpy(float),
        link_score=pts["score"].to_numpy(float),
        model=names,
        t_days=t,
        params=params,
        params_basis=basis,
        paper_record=rec,
        point_density=point,
    )
    if spec.data.targets == "paper_implied":
        fd.obs_model = np.arange(len(df))
        fd.obs_bench = np.zeros(len(df), int)
        fd.obs_score = df["score"].to_numpy(float)
    elif spec.data.targets in ("published_scores", "own_scores", "leaderboard"):
        sc = load_table("scores") if spec.data.targets == "published_scores" else own
        sc = sc[sc["benchmark"].isin(benches)]
        if spec.data.score_settings == "as_paper":
            sc = sc[as_paper_setting(sc)]
        if spec.data.score_settings == "offset":
            fd.obs_other_setting = ~as_paper_setting(sc)
        midx = {m: i for i, m in enumerate(names)}
        sc = sc[sc["model"].isin(midx)]
        has = np.zeros(len(names), bool)
        has[[midx[m] for m in sc["model"]]] = True
        fd.obs_model = sc["model"].map(midx).to_numpy(int)
        fd.obs_bench = sc["benchmark"].map(bidx).to_numpy(int)
        fd.obs_score = sc["score"].to_numpy(float)
        fd = fd.subset_models(has)  # a model with no score has nothing to say about its density
    elif spec.data.targets == "simulated":
        simulate_scores(
            fd,
            seed=spec.data.simulation_seed,
            missing=spec.data.simulation_missing_fraction,
            score_sd=spec.data.simulation_score_sd,
        )
    if spec.data.exclude_variants:
        variants = classical.variant_of(list(fd.model))
        fd = fd.subset_models(~np.isin(variants, spec.data.exclude_variants))
        fd.paper_record = laws.running_max_records(fd.t_days, np.log(fd.point_density))
    if spec.data.models_also_in:
        fd = fd.subset_models(classical.also_in_figure(list(fd.model), spec.data.models_also_in))
        fd.paper_record = laws.running_max_records(fd.t_days, np.log(fd.point_density))
    lo, hi = spec.data.released_from, spec.data.released_to
    if lo or hi:
        origin = spec.data.time_origin
        keep = np.ones(fd.n_models, bool)
        if lo:
            keep &= fd.t_days >= (lo - origin).days
        if hi:
            keep &= fd.t_days <= (hi - origin).days
        if keep.sum() < 4:
            raise ValueError(f"the release window {lo or '...'} to {hi or '...'} keeps {keep.sum()} models; need >= 4")
        fd = fd.subset_models(keep)
        fd.paper_record = laws.running_max_records(fd.t_days, np.log(fd.point_density))
    if spec.frontier.inefficiency_by == "entry_type":  # the leaderboard's own column
        kinds = own.drop_duplicates("model").set_index("model")["entry_type"]
        names = kinds.reindex(fd.model).fillna("").replace("", NO_ENTRY_TYPE).to_numpy(str)
        grouped = _groups_of(names)
        fd.model_group, fd.groups = grouped["model_group"], grouped["groups"]
    if fd.n_models < 2 or len(set(fd.t_days)) < 2:
        where = spec.data.scores_file if spec.data.targets == "own_scores" else f"data.targets = {spec.data.targets!r}"
        raise DataError(
            str(where),
            [
                f"{fd.n_models} model(s) with {len(set(fd.t_days))} release date(s) left to fit (after the spec's "
                "benchmarks, era, variants and release window); a trend in time needs at least two models "
                "released on different dates"
            ],
        )
    return fd


def _groups_of(names: np.ndarray | None) -> dict[str, Any]:
    """FitData's ``model_group`` and ``groups`` from each model's group name (sorted group names)."""
    if names is None:
        return {}
    groups, codes = np.unique(names, return_inverse=True)
    return {"model_group": codes.astype(int), "groups": [str(g) for g in groups]}


NO_ENTRY_TYPE = "no type"  # the group of leaderboard entries without one (frontier.inefficiency_by)


def as_paper_setting(scores: pd.DataFrame) -> np.ndarray:
    """Which published scores were evaluated as the paper's: the shot count the source states equals
    ``PAPER_SHOTS`` of the benchmark, and the model is not an instruct/chat variant (data/models.csv)."""
    paper = scores["benchmark"].map(PAPER_SHOTS)
    shots_ok = scores["shots"].notna() & (scores["shots"] == paper)
    instruct = classical.variant_of(list(scores["model"])) == "instruct"
    return np.asarray(shots_ok & ~instruct, bool)


def load_own_scores(spec: ModelSpec) -> pd.DataFrame:
    """The validated ``own_scores`` table a spec names, restricted to its benchmarks.

    A score below its benchmark's chance level (``layers.chance_score``) is an error naming the
    row, or with ``data.below_chance = "drop"`` the row is left out (with a warning)."""
    path = Path(spec.data.scores_file or "").expanduser()
    return _restrict_to_spec(own_scores_table(path, spec), path, spec)


def load_leaderboard(spec: ModelSpec) -> pd.DataFrame:
    """The shipped leaderboard table (hash-checked against the manifest) as an ``own_scores`` table:
    its entries filtered by ``data.entry_types``, ``data.drop_flagged`` and ``data.drop_merged``,
    restricted to the spec's benchmarks, with its submission date in the ``release_date`` column (the
    date the trend is fitted on: the entry's submission to the leaderboard, not the model's release)."""
    path = data_dir() / table_info(LEADERBOARD_TABLE).file
    board = load_table(LEADERBOARD_TABLE)
    keep = np.ones(len(board), bool)
    steps = []
    d = spec.data
    if d.entry_types is not None:
        keep &= board["entry_type"].isin(d.entry_types).to_numpy()
        steps.append(f"data.entry_types = {d.entry_types}")
    if d.drop_flagged:
        keep &= ~board["flagged"].to_numpy(bool)
        steps.append("data.drop_flagged = true")
    if d.drop_merged:
        keep &= ~board["merged"].to_numpy(bool)
        steps.append("data.drop_merged = true")
    if not keep.any():
        raise DataError(path, [f"no entries left after {', '.join(steps)} (table {LEADERBOARD_TABLE})"])
    board = board[keep].rename(columns={"submitted_date": "release_date"})
    return _restrict_to_spec(board.reset_index(drop=True), path, spec, file_rows=np.flatnonzero(keep))


def _restrict_to_spec(
    own: pd.DataFrame, path: Path, spec: ModelSpec, *, file_rows: np.ndarray | None = None
) -> pd.DataFrame:
    """``own`` (an own_scores-like table read from ``path``) restricted to the spec's benchmarks, with
    the scores below their benchmark's chance level (+ ``data.chance_margin``) refused or dropped
    (``data.below_chance``).
    ``file_rows``: each row's 0-based data row in the file (default: its position in ``own``)."""
    at = np.arange(len(own)) if file_rows is None else np.asarray(file_rows)
    keep = own["benchmark"].isin(spec.data.benchmarks)
    if not keep.any():
        raise DataError(
            path,
            [
                f"no scores for the spec's benchmarks ({', '.join(spec.data.benchmarks)}); "
                f"the file has {', '.join(sorted(set(own['benchmark'])))}"
            ],
        )
    chance = own["benchmark"].map(spec.layers.chance_score).fillna(0.0).to_numpy(float)
    margin = spec.data.chance_margin
    below = keep.to_numpy() & (own["score"].to_numpy(float) < chance + margin)
    level = "chance level" if not margin else f"chance level + {margin:g} points (data.chance_margin)"
    margin_note = f" + {margin:g} points (data.chance_margin)" if margin else ""
    if below.any() and spec.data.below_chance == "error":
        raise DataError(
            path,
            [
                f"row {at[i] + 1} (line {at[i] + 2}), column 'score': {own['model'].iat[i]} scores "
                f"{own['score'].iat[i]:g} on {own['benchmark'].iat[i]}, below the benchmark's chance level "
                f"{chance[i]:g} (spec layers.chance_score){margin_note}; fix the row, "
                'or set data.below_chance = "drop" to leave such rows out'
                for i in np.flatnonzero(below)
            ],
        )
    if below.any():
        import warnings

        shown = [str(at[i] + 1) for i in np.flatnonzero(below)]
        rows = ", ".join(shown[:MAX_ROWS_SHOWN]) + (
            f" and {len(shown) - MAX_ROWS_SHOWN} more" if len(shown) > MAX_ROWS_SHOWN else ""
        )
        warnings.warn(
            f"{path}: left out {int(below.sum())} score(s) below their benchmark's {level} "
            f"(data.below_chance = 'drop'): row(s) {rows}",
            UserWarning,
            stacklevel=3,  # the caller of load_own_scores / load_leaderboard
        )
        keep &= ~below
        if not keep.any():
            raise DataError(path, [f"no scores left after leaving out those below {level}"])
    return own[keep].reset_index(drop=True)


FIVE = ("MMLU", "BBH", "MATH", "HumanEval", "MBPP")


def add_average(own: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """``own`` with an AVERAGE row (the mean of the five benchmarks, as the paper defines it) for
    every model that has no AVERAGE row; a model without all five scores is an error naming it."""
    rows = []
    for name, g in own.groupby("model", sort=False):
        if "AVERAGE" in set(g["benchmark"]):
            continue
        have = dict(zip(g["benchmark"], g["score"], strict=True))
        missing = [b for b in FIVE if b not in have]
        if missing:
            raise DataError(
                path,
                [
                    f"model {name!r}: the spec fits AVERAGE (the mean of {', '.join(FIVE)}), and the file has no "
                    f"AVERAGE row for it and no {', '.join(missing)} score to average; add the missing scores "
                    "(or an AVERAGE row), or use a spec whose data.benchmarks are the ones you have"
                ],
            )
        first = g.iloc[0]
        rows.append(
            {
                "model": name,
                "release_date": first["release_date"],
                "params": first["params"],
                "benchmark": "AVERAGE",
                "score": float(np.mean([have[b] for b in FIVE])),
                "setting": "mean of the five benchmarks' scores",
            }
        )
    if not rows:
        return own
    return pd.concat([own, pd.DataFrame(rows)], ignore_index=True)


def prepare_placed(spec: ModelSpec, fd: FitData) -> FitData | None:
    """The placed models of ``data.extra_models`` (None without it), beside the fitted ``fd``.

    Same file format as ``own_scores``; every problem is found here, before anything is sampled:
    an empty file, a model with no score on the spec's benchmarks (with AVERAGE, the mean of the
    five is taken when the file has all five), and a name that is already one of the fitted models.
    The curves and reference data are the fitted ones; each placed model's own ``point_density``
    is the paper's recipe on its scores (for comparison only)."""
    if not spec.data.extra_models:
        return None
    path = Path(spec.data.extra_models).expanduser()
    if path.is_file() and not path.read_text(encoding="utf-8", errors="replace").strip():
        raise DataError(
            path,
            [
                "the file is empty (spec data.extra_models): it needs the header "
                "model,release_date,params,benchmark,score and a row per model and benchmark "
                "(bayesdense import lm-eval ... --out FILE writes one)"
            ],
        )
    raw = own_scores_table(path, spec)
    n_rows = len(raw)  # rows after these are AVERAGE rows derived here (no line in the file)
    benches = spec.data.benchmarks
    if "AVERAGE" in benches:
        raw = add_average(raw, path)

    def where(i: int) -> str:
        return f"row {i + 1} (line {i + 2})" if i < n_rows else f"model {raw['model'].iat[i]!r} (mean of its five)"

    fitted = {str(m) for m in fd.model}
    clash = [i for i in range(n_rows) if raw["model"].iat[i] in fitted]
    if clash:
        raise DataError(
            path,
            [
                f"{where(i)}, column 'model': {raw['model'].iat[i]!r} is already one of the fitted models; "
                "rename your model (a placed model is judged against the fitted ones, not fitted twice)"
                for i in clash
            ],
        )
    keep = raw["benchmark"].isin(benches).to_numpy()
    unused = sorted(set(raw["model"]) - set(raw["model"][keep]))
    if unused:
        have = ", ".join(sorted(set(raw["benchmark"])))
        raise DataError(
            path,
            [
                f"model {m!r} has no score on the spec's benchmarks ({', '.join(benches)}); the file has {have}"
                for m in unused
            ],
        )
    chance = raw["benchmark"].map(spec.layers.chance_score).fillna(0.0).to_numpy(float)
    below = np.flatnonzero(keep & (raw["score"].to_numpy(float) < chance))
    if below.size:
        raise DataError(
            path,
            [
                f"{where(int(i))}: {raw['model'].iat[i]} scores {raw['score'].iat[i]:g} on {raw['benchmark'].iat[i]}, "
                f"below the benchmark's chance level {chance[i]:g} (spec layers.chance_score): such a score says "
                "nothing about density"
                for i in below
            ],
        )
    own = raw[keep].reset_index(drop=True)
    first = own.drop_duplicates("model").reset_index(drop=True)
    names = first["model"].to_numpy(str)
    midx = {m: i for i, m in enumerate(names)}
    bidx = {b: i for i, b in enumerate(fd.benchmarks)}
    return dataclasses.replace(  # the fit's curve data, the placed models' own model-level data
        fd,
        truth={},
        model=names,
        t_days=days_since_origin(first["release_date"], spec.data.time_origin),
        params=first["params"].to_numpy(float),
        params_basis=np.array(["file"] * len(names)),
        paper_record=np.zeros(len(names), bool),
        point_density=classical.point_densities(own, fd.d0_tokens, curves=family_curves(spec))
        .reindex(names)
        .to_numpy(float),
        obs_model=own["model"].map(midx).to_numpy(int),
        obs_bench=own["benchmark"].map(bidx).to_numpy(int),
        obs_score=own["score"].to_numpy(float),
    )


def simulate_scores(fd: FitData, *, seed: int, missing: float, score_sd: float) -> None:
    """Per-benchmark scores for the target models, simulated (seeded) from their published
    densities through each benchmark's recovered curves at D0, plus Normal noise; a random
    ``missing`` fraction of cells is dropped (each model keeps at least one score).
    The truth (log density) is stored in ``fd.truth``. Stand-in until real scores ship."""
    rng = np.random.default_rng(seed)
    curves = classical.published_curves()
    n_eff = fd.point_density * fd.params
    rows_m, rows_b, rows_s = [], [], []
    for i in range(fd.n_models):
        keep = rng.random(len(fd.benchmarks)) >= missing
        if not keep.any():
            keep[rng.integers(len(fd.benchmarks))] = True
        for j, b in enumerate(fd.benchmarks):
            if keep[j]:
                mu = float(curves[b].score_at(n_eff[i], fd.d0_tokens))
                rows_m.append(i)
                rows_b.append(j)
                rows_s.append(float(np.clip(mu + rng.normal(0, score_sd), 0.0, 100.0)))
    fd.obs_model = np.array(rows_m, int)
    fd.obs_bench = np.array(rows_b, int)
    fd.obs_score = np.array(rows_s, float)
    fd.truth = {"log_density": np.log(fd.point_density), "score_sd": score_sd, "seed": seed}
