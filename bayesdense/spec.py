"""Model specs: TOML files under ``models/``, parsed strictly (unknown keys are errors).

Priors are data: each is a table ``{dist = "Normal", mu = 0, sigma = 1}`` that maps one-to-one
onto a PyMC distribution. A spec never names Python code to import.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .data import BENCHMARKS, ENTRY_TYPES, LEADERBOARD_TABLE, specs_dir

PRIOR_PARAMS: dict[str, tuple[set[str], set[str]]] = {
    # dist: (required parameters, parameters that must be > 0)
    "Normal": ({"mu", "sigma"}, {"sigma"}),
    "HalfNormal": ({"sigma"}, {"sigma"}),
    "LogNormal": ({"mu", "sigma"}, {"sigma"}),
    "Exponential": ({"lam"}, {"lam"}),
    "Gamma": ({"alpha", "beta"}, {"alpha", "beta"}),
    "Beta": ({"alpha", "beta"}, {"alpha", "beta"}),
    "Fixed": ({"value"}, set()),  # a known constant, not estimated
}


# D0 (reference training tokens) the specs accept: the paper uses 1e12 to 5e12 and the
# sensitivity axis goes to 2e13; outside 1e9 .. 1e15 the loss law is extrapolated absurdly far
D0_RANGE = (1e9, 1e15)
# a spec name becomes part of a file name (NAME-seedS.nc): letters, digits, '_', '-', '.', '='
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.=-]{0,199}")
NAME_RULE = (
    "1-200 characters: letters, digits, '_', '-', '.', '=' (no spaces or path separators), not starting with '.' or '-'"
)


# a benchmark of your own reference family: it becomes a coordinate and a column name
BENCHMARK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.+-]{0,63}")
BENCHMARK_NAME_RULE = "1-64 characters: a letter, then letters, digits, '_', '.', '+', '-'"
# the [data] keys that name a file of yours (resolved against the spec file's directory)
DATA_FILE_KEYS = ("scores_file", "extra_models", "reference_runs", "link_points")
PUBLIC_BENCHMARKS = ("MMLU", "HumanEval")  # the benchmarks of data/public/reference_scores.csv
LEADERBOARD_BENCHMARKS = ("MMLU",)  # the benchmarks of data/leaderboard/open_llm_leaderboard_v1.csv
# layers.curves = "paper": the curve parameters held at the paper's values (inputs.paper_curves)
PAPER_CURVE_KEYS = (
    "loss_a",
    "loss_alpha",
    "loss_b",
    "loss_beta",
    "link_gamma",
    "link_l",
    "link_floor_offset",
    "link_ceiling_frac",
)
LEADERBOARD_FILTERS = ("entry_types", "drop_flagged", "drop_merged")  # [data] keys for targets = "leaderboard"


def _did_you_mean(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class SpecError(ValueError):
    """A spec file that cannot be used; the message names the file and the key."""


def safe_name(text: str) -> str:
    """``text`` with every character a spec name does not allow replaced by '_' (for derived names)."""
    out = "".join(c if c.isascii() and (c.isalnum() or c in "_.=-") else "_" for c in text)
    return ("_" + out if not out or out[0] in ".-" else out)[:180]  # room for a suffix such as "__shared"


def check_d0(d0: float) -> float:
    """``d0`` if it is a finite number of tokens inside :data:`D0_RANGE`, else ValueError."""
    lo, hi = D0_RANGE
    if isinstance(d0, bool) or not math.isfinite(d0) or not lo <= d0 <= hi:
        raise ValueError(
            f"D0 must be a finite number of tokens from {lo:.0e} to {hi:.0e} (the paper uses 1e12 to 5e12), got {d0!r}"
        )
    return float(d0)


def _plain_number(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {str(v).lower()}")
    if isinstance(v, str):
        raise ValueError(f"expected a number, got the text {v!r} (drop the quotes)")
    return v


def _plain_bool(v: Any) -> Any:
    if v is not None and not isinstance(v, bool):
        shown = f"the text {v!r} (drop the quotes)" if isinstance(v, str) else repr(v)
        raise ValueError(f"expected true or false, got {shown}")
    return v


Flag = Annotated[bool, BeforeValidator(_plain_bool)]  # true/false only (pydantic's lax mode reads 1 and "yes")

# a finite number (not NaN or inf), never true/false or text (pydantic's lax mode reads true as 1.0
# and "5" as 5)
Number = Annotated[float, BeforeValidator(_plain_number), Field(allow_inf_nan=False)]
Count = Annotated[int, BeforeValidator(_plain_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prior(_Strict):
    dist: Literal["Normal", "HalfNormal", "LogNormal", "Exponential", "Gamma", "Beta", "Fixed"]
    value: Number | None = None
    mu: Number | None = None
    sigma: Number | None = None
    lam: Number | None = None
    alpha: Number | None = None
    beta: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> Prior:
        need, positive = PRIOR_PARAMS[self.dist]
        given = {k for k in ("value", "mu", "sigma", "lam", "alpha", "beta") if getattr(self, k) is not None}
        if given != need:
            raise ValueError(f"{self.dist} takes exactly {sorted(need)}, got {sorted(given)}")
        for k in positive:
            if getattr(self, k) <= 0:
                raise ValueError(f"{self.dist} parameter '{k}' must be > 0, got {getattr(self, k)}")
        return self

    def kwargs(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if k != "dist" and v is not None}


class DataSpec(_Strict):
    targets: Literal[
        "paper_implied", "published_densities", "published_scores", "simulated", "own_scores", "leaderboard"
    ] = "paper_implied"
    # own_scores: a CSV of your own models' scores (table kind 'own_scores' in bayesdense/data.py);
    # a relative path is taken from the spec file's directory (from the working directory for a spec
    # given as text); the result records the resolved path
    scores_file: str | None = None
    # models to place beside the fitted ones: an own_scores CSV (the format `bayesdense import`
    # writes; path relative to the spec file). Their densities are drawn after the fit, given each
    # posterior draw, and never inform the trend or the curves (bayesdense/models/placed.py)
    extra_models: str | None = None
    # a reference family of your own: a runs CSV (table kind 'reference_runs': params, tokens, loss
    # and a benchmark column unless the spec has one benchmark) that replaces the paper's reference
    # runs, and a link-points CSV (kind 'own_link_points': benchmark, loss, score, role) that replaces
    # its link points. With reference_runs, data.benchmarks may name any benchmark of your files
    # (each declared in layers.chance_score); the loss-law and link priors not set in the spec are
    # then scaled to your data (inputs.reference_priors). Paths as for scores_file
    reference_runs: str | None = None
    link_points: str | None = None
    # the reference family without files of yours: "paper" (its six models, known by their losses) or
    # "public" (data/public/reference_scores.csv: base models of many families with published N, D
    # and MMLU / HumanEval scores, no losses: the loss law and link are fitted through their
    # composition, the link's slope fixed at 1 so the "loss" is in logit units)
    reference_family: Literal["paper", "public"] = "paper"
    figure: Literal["fig1", "fig2", "fig3c"] = "fig1"
    benchmarks: list[str] = Field(default_factory=lambda: ["AVERAGE"])
    # reference training tokens D0: finite, within D0_RANGE (checked below)
    d0_tokens: Number = 5e12
    time_origin: dt.date = dt.date(2023, 2, 24)
    params_basis: Literal["paper", "total", "active"] = "paper"
    era: Literal["all", "pre_chatgpt", "post_chatgpt"] = "all"
    # leave out model variants (from data/models.csv), e.g. ["quantized", "pruned", "distilled"]
    exclude_variants: list[Literal["base", "instruct", "quantized", "pruned", "distilled", "pruned+distilled"]] = Field(
        default_factory=list
    )
    # published_scores: "any" evaluation setting, or only scores evaluated as the paper's (its shot
    # count, inputs.PAPER_SHOTS, stated by the source, on a model that is not an instruct/chat variant),
    # or "offset": every score, those not evaluated as the paper's shifted by their benchmark's
    # setting offset (prior setting_offset, points)
    score_settings: Literal["any", "as_paper", "offset"] = "any"
    # keep only the models that also appear in this figure of the paper (names matched through the
    # aliases of data/models.csv): Fig. 2 (MMLU-CF) against Fig. 3c (MMLU) on the same models
    models_also_in: Literal["fig1", "fig2", "fig3c"] | None = None
    # time window on release dates (inclusive); None: no bound
    released_from: dt.date | None = None
    released_to: dt.date | None = None
    # own_scores: a score below its benchmark's chance level (layers.chance_score) is an error
    # naming the row ("error"), or the row is left out with a note ("drop")
    below_chance: Literal["error", "drop"] = "error"
    # points above chance that still count as chance: a score below chance + chance_margin sits on the
    # link's flat floor, where it says next to nothing about density (and on a leaderboard, much about
    # how a fine-tune broke); such scores are refused or dropped as below_chance says (README, finding 16)
    chance_margin: Annotated[Number, Field(ge=0, lt=50)] = 0.0
    # leaderboard: the shipped Open LLM Leaderboard v1 table (data/leaderboard/, kind 'leaderboard_scores':
    # MMLU 5-shot of every usable entry, dated by SUBMISSION to the leaderboard, not by release), its
    # entries kept by the leaderboard's model type (a subset of ENTRY_TYPES; unset: every entry, also
    # those without a type) and without the ones it flagged / marked as merges (unset: false)
    entry_types: list[str] | None = None
    drop_flagged: Flag | None = None
    drop_merged: Flag | None = None
    simulation_seed: Annotated[Count, Field(ge=0, le=2**32 - 1)] = 20251126
    simulation_missing_fraction: Annotated[Number, Field(ge=0, lt=1)] = 0.3
    simulation_score_sd: Annotated[Number, Field(gt=0)] = 1.5

    @field_validator("d0_tokens")
    @classmethod
    def _d0_range(cls, v: float) -> float:
        return check_d0(v)

    @field_validator("entry_types", mode="before")
    @classmethod
    def _entry_types(cls, v: Any) -> Any:
        allowed = ", ".join(ENTRY_TYPES)
        if v is None:  # unset (TOML has no null; a variant built in code may clear the filter)
            return v
        if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
            raise ValueError(f'expected a list of entry types, e.g. ["pretrained"], got {v!r}; allowed: {allowed}')
        if not v:
            raise ValueError(f"the list is empty: name at least one entry type ({allowed}), or leave the key out")
        for t in v:
            if t not in ENTRY_TYPES:
                raise ValueError(f"unknown entry type {t!r}{_did_you_mean(t, ENTRY_TYPES)}; allowed: {allowed}")
        if len(set(v)) != len(v):
            raise ValueError(f"an entry type is listed twice: {v}")
        return v

    @field_validator("benchmarks")
    @classmethod
    def _nonempty_unique(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v:
            raise ValueError("at least one benchmark is needed")
        if len(set(v)) != len(v):
            raise ValueError("benchmarks are listed twice")
        own_family = info.data.get("reference_runs") is not None
        for bench in v:
            if own_family:
                if not BENCHMARK_NAME.fullmatch(bench):
                    raise ValueError(f"benchmark name {bench!r}: {BENCHMARK_NAME_RULE}")
            elif bench not in BENCHMARKS:
                raise ValueError(
                    f"unknown benchmark '{bench}'{_did_you_mean(bench, BENCHMARKS)}; the paper's reference family "
                    f"has {', '.join(BENCHMARKS)} (another benchmark needs reference runs of your own: "
                    "data.reference_runs and data.link_points)"
                )
        return v

    @model_validator(mode="after")
    def _window_order(self) -> DataSpec:
        given = [k for k in LEADERBOARD_FILTERS if getattr(self, k) is not None]
        if given and self.targets != "leaderboard":
            raise ValueError(
                f"data.{given[0]} filters the entries of the shipped leaderboard table: it goes with "
                f"data.targets = 'leaderboard' only (got data.targets = {self.targets!r})"
            )
        if self.score_settings != "any" and self.targets != "published_scores":
            raise ValueError("score_settings applies to data.targets = 'published_scores' only")
        if self.models_also_in is not None and self.models_also_in == self.figure:
            raise ValueError(f"models_also_in = {self.models_also_in!r} is the spec's own figure: name another one")
        if self.released_from and self.released_to and self.released_from >= self.released_to:
            raise ValueError(f"released_from ({self.released_from}) must be before released_to ({self.released_to})")
        return self


class LayersSpec(_Strict):
    kind: Literal["joint", "trend"] = "joint"
    hierarchical: bool = False  # partial pooling of loss-law parameters across benchmarks
    # reference-loss residuals: "log" (relative error) or "linear" (absolute, as the paper's least squares)
    loss_residuals: Literal["log", "linear"] = "log"
    # an irreducible loss E_b in the loss law, L = E + a N^-alpha + b D^-beta (off, as in the paper)
    irreducible_loss: bool = False
    # each target model's latent log density: "sampled" by NUTS beside the other parameters, or
    # "integrated" out on an adaptive grid of `latent_grid` points around each model's integrand
    # (models/integrated.py; NUTS then sees only the global parameters,
    # and the latents are drawn afterwards, exactly given each global draw): for many models
    latents: Literal["sampled", "integrated"] = "sampled"
    latent_grid: Annotated[Count, Field(ge=16, le=4096)] = 40
    # each benchmark's score error: "sampled" (prior score_sd), or "marginalised": integrated out in
    # closed form under a conjugate Gamma prior on its precision (prior score_precision), which
    # removes the funnel between it and the latent densities of models with one or two scores; its
    # draws are then taken afterwards from the exact conditional (models/score_error.py)
    score_error: Literal["sampled", "marginalised"] = "sampled"
    # the reference curves (loss law and link): "fitted" jointly with everything else, or "paper":
    # held at the paper's published curves (NMI Extended Data Fig. 1, data/nmi/), so the targets'
    # scores cannot move them and the intervals are conditional on them, as the paper's are. For
    # many heterogeneous targets (leaderboards), whose scores would otherwise outweigh the reference
    # runs and link points (README, finding 16). Paper's reference family only.
    curves: Literal["fitted", "paper"] = "fitted"
    chance_score: dict[str, Number] = Field(
        default_factory=lambda: {"MMLU": 25.0, "BBH": 25.0, "MATH": 0.0, "HumanEval": 0.0, "MBPP": 0.0, "AVERAGE": 10.0}
    )

    @field_validator("chance_score")
    @classmethod
    def _chance_in_range(cls, v: dict[str, float]) -> dict[str, float]:
        for bench, score in v.items():
            if not 0 <= score < 100:
                raise ValueError(f"{bench} = {score}: a chance score is in percent, 0 <= score < 100")
        return v


class FrontierSpec(_Strict):
    kind: Literal["stochastic_frontier", "mean_trend", "records", "change_point", "quantile"] = "stochastic_frontier"
    inefficiency: Literal["half_normal", "exponential"] = "half_normal"
    # change_point: separate lines before and after a break; a date, or "unknown" (uniform prior
    # over the data's range, the switch smoothed over ~5 days so NUTS can move the break)
    change_date: dt.date | Literal["unknown"] | None = None
    # quantile: Bayesian quantile regression, log density ~ AsymmetricLaplace whose q-quantile is the line
    quantile: Annotated[Number, Field(gt=0, lt=1)] = 0.9
    # records: the share of posterior draws allowed to have a score outside the curves' domain (its
    # effective size unbounded, so no record line); such draws are replaced by resampled whole draws,
    # i.e. the trend is conditional on every score being inside the domain, and counted in the result
    records_max_undefined: Annotated[Number, Field(ge=0, le=0.25)] = 0.01
    # the trend of the frontier in time: a straight line in ln density, or a quadratic that can bend
    # (growth_rate_per_day is then the rate at the data's mid-date; "is growth slowing?")
    trend: Literal["line", "quadratic"] = "line"
    # one frontier per benchmark: each benchmark's own line (level and growth rate), the rates
    # partially pooled, rate_b ~ Normal(mean rate, growth_rate_sd_per_year); every score then has
    # its own latent log density on its benchmark's frontier (models/benchmark_rates.py). Needs
    # layers.latents = "integrated" and a half-normal stochastic frontier on a straight line.
    by_benchmark: bool = False
    # leaderboard specs: the inefficiency's scale differs by the leaderboard's entry type (pretrained,
    # fine-tuned, chat, merge, ...; entries without one form their own group), partially pooled:
    # ln lambda_type ~ Normal(ln frontier_lambda, frontier_lambda_sd_log), one frontier line and one
    # noise sd for all. Needs data.targets = "leaderboard", a half-normal stochastic frontier on
    # sampled latents and no data.extra_models.
    inefficiency_by: Literal["entry_type"] | None = None


class SamplerSpec(_Strict):
    sampler: Literal["numpyro", "pymc", "nutpie"] = "numpyro"
    chains: Annotated[Count, Field(le=16)] = 4
    draws: Annotated[Count, Field(ge=10)] = 1000
    tune: Annotated[Count, Field(ge=10)] = 1000
    target_accept: Annotated[Number, Field(gt=0.5, lt=1)] = 0.9

    @field_validator("chains")
    @classmethod
    def _two_chains(cls, v: int) -> int:
        if v < 2:
            raise ValueError(f"got {v}; at least 2 chains are needed: the convergence check (R-hat) compares chains")
        return v

    dense_mass: bool = True  # numpyro only


DEFAULT_PRIORS: dict[str, dict[str, Any]] = {
    # trend (t in years from the data's mid-date; growth per year; log density)
    "growth_rate_per_year": {"dist": "Normal", "mu": 0.0, "sigma": 2.5},
    "frontier_log_density_mid": {"dist": "Normal", "mu": 0.0, "sigma": 2.0},
    "frontier_omega": {"dist": "HalfNormal", "sigma": 1.5},
    # frontier.trend = "quadratic": ln density = mid + rate tau + curvature tau^2 (tau in years from
    # the mid-date), so the rate changes by 2 x curvature per year
    "frontier_curvature": {"dist": "Normal", "mu": 0.0, "sigma": 1.0},
    # frontier.by_benchmark: the spread of the benchmarks' growth rates (per year) around their mean;
    # half-normal with scale 1/year, i.e. doubling times of ~4-20 months for a typical mean of 2/year
    "growth_rate_sd_per_year": {"dist": "HalfNormal", "sigma": 1.0},
    "frontier_lambda": {"dist": "Gamma", "alpha": 2.0, "beta": 0.5},
    # frontier.inefficiency_by: the spread of ln lambda across entry types; 0.5 lets one type's
    # inefficiency-to-noise ratio be ~e^1 = 2.7 times another's at 2 sd
    "frontier_lambda_sd_log": {"dist": "HalfNormal", "sigma": 0.5},
    "exp_noise_sd": {"dist": "HalfNormal", "sigma": 0.5},
    "exp_inefficiency_mean": {"dist": "HalfNormal", "sigma": 1.5},
    "trend_sd": {"dist": "HalfNormal", "sigma": 1.5},
    "quantile_scale": {"dist": "HalfNormal", "sigma": 1.0},
    "nonrecord_log_density": {"dist": "Normal", "mu": 0.0, "sigma": 3.0},
    "density_meas_sd": {"dist": "HalfNormal", "sigma": 0.1},
    # loss law, N in billions and D in trillions
    "loss_a": {"dist": "LogNormal", "mu": -1.6, "sigma": 1.0},
    "loss_alpha": {"dist": "LogNormal", "mu": -1.9, "sigma": 0.5},
    "loss_b": {"dist": "LogNormal", "mu": -3.0, "sigma": 1.5},
    "loss_beta": {"dist": "LogNormal", "mu": -1.2, "sigma": 0.5},
    "loss_sd_log": {"dist": "HalfNormal", "sigma": 0.05},
    "loss_sd": {"dist": "HalfNormal", "sigma": 0.02},
    "loss_e": {"dist": "LogNormal", "mu": -3.0, "sigma": 1.0},
    "pool_sd": {"dist": "HalfNormal", "sigma": 0.5},
    # link, scores in percent
    "link_gamma": {"dist": "LogNormal", "mu": 3.2, "sigma": 0.5},
    "link_l": {"dist": "Normal", "mu": 0.2, "sigma": 0.1},
    "link_floor_offset": {"dist": "Normal", "mu": 0.0, "sigma": 3.0},
    # c + d = d + (100 - d) * frac: the paper's drawn links all top out at 100 +- 2.3 points
    "link_ceiling_frac": {"dist": "Beta", "alpha": 50.0, "beta": 1.0},
    "link_sd": {"dist": "HalfNormal", "sigma": 3.0},
    # per-benchmark score error; estimated when models have several benchmarks. With one score per
    # model (AVERAGE) it is not identified apart from the frontier noise: the default spec fixes it
    # at the sampling error of the five-benchmark average, ~0.9 points (see README, Priors).
    "score_sd": {"dist": "LogNormal", "mu": 0.4, "sigma": 0.5},
    # layers.score_error = "marginalised": 1 / score_sd^2 ~ Gamma(2, rate 4), i.e. score_sd with median
    # 1.54 points and 90% between 0.92 and 3.36 (score_sd's LogNormal above: 1.49, 0.66 to 3.40)
    "score_precision": {"dist": "Gamma", "alpha": 2.0, "beta": 4.0},
    # data.score_settings = "offset": a score not evaluated as the paper's (other shot count, or an
    # instruct/chat model) is its benchmark's score plus this offset, in points
    "setting_offset": {"dist": "Normal", "mu": 0.0, "sigma": 5.0},
}


POSITIVE_DISTS = {"HalfNormal", "LogNormal", "Exponential", "Gamma"}


def _support_problem(name: str, p: Prior) -> str | None:
    """Why prior ``p`` cannot stand for parameter ``name`` (whose default fixes its support), or None."""
    default = DEFAULT_PRIORS[name]["dist"]
    if default == "Beta":  # a fraction: link_ceiling_frac, c + d = d + (100 - d) * frac <= 100
        if p.dist == "Fixed" and p.value is not None and not 0 < p.value <= 1:
            return f"'{name}' is a fraction (c + d <= 100%): a Fixed value must be in (0, 1], got {p.value:g}"
        if p.dist not in ("Beta", "Fixed"):
            return f"'{name}' is a fraction in (0, 1]: its prior must be Beta or Fixed, got {p.dist}"
    elif default in POSITIVE_DISTS:  # scales, standard deviations, rates, loss-law constants
        if p.dist == "Fixed" and p.value is not None and not p.value > 0:
            return f"'{name}' must be positive: a Fixed value must be > 0, got {p.value:g}"
        if p.dist not in POSITIVE_DISTS | {"Beta", "Fixed"}:
            return (
                f"'{name}' must be positive: its prior must be one of {', '.join(sorted(POSITIVE_DISTS))}, "
                f"Beta or Fixed, got {p.dist}"
            )
    return None


class ModelSpec(_Strict):
    name: str
    description: str = ""
    data: DataSpec = Field(default_factory=DataSpec)
    layers: LayersSpec = Field(default_factory=LayersSpec)
    frontier: FrontierSpec = Field(default_factory=FrontierSpec)
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    priors: dict[str, Prior] = Field(default_factory=dict)
    # per-benchmark overrides of per-benchmark priors: [benchmark_priors.AVERAGE] loss_alpha = {...}
    benchmark_priors: dict[str, dict[str, Prior]] = Field(default_factory=dict)
    source_text: str = ""  # set by parse_spec from the file's text; not a key a spec file may give

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not NAME_PATTERN.fullmatch(v):
            raise ValueError(f"{v!r} is not a usable name (it names the result file): {NAME_RULE}")
        return v

    @field_validator("priors")
    @classmethod
    def _known_priors(cls, v: dict[str, Prior]) -> dict[str, Prior]:
        for k, p in v.items():
            if k not in DEFAULT_PRIORS:
                close = difflib.get_close_matches(k, list(DEFAULT_PRIORS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown prior '{k}'{hint}")
            problem = _support_problem(k, p)
            if problem:
                raise ValueError(problem)
        return v

    @field_validator("benchmark_priors")
    @classmethod
    def _known_benchmark_priors(cls, v: dict[str, dict[str, Prior]]) -> dict[str, dict[str, Prior]]:
        for bench, table in v.items():
            try:
                cls._known_priors(table)
            except ValueError as e:
                raise ValueError(f"{bench}: {e}") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        self._benchmark_names()
        pooled = ("loss_a", "loss_alpha", "loss_b", "loss_beta", "loss_e")
        if self.layers.hierarchical:
            clash = [f"benchmark_priors.{b}.{k}" for b, t in self.benchmark_priors.items() for k in t if k in pooled]
            if clash:
                raise ValueError(
                    f"layers.hierarchical = true pools {', '.join(pooled)} across benchmarks from the one prior under "
                    f"[priors], so per-benchmark priors for them would be ignored: remove {', '.join(clash)} or set "
                    "layers.hierarchical = false"
                )
        if self.layers.kind == "trend" and self.data.targets != "published_densities":
            raise ValueError("layers.kind = 'trend' needs data.targets = 'published_densities'")
        if self.layers.kind == "joint" and self.data.targets == "published_densities":
            raise ValueError("data.targets = 'published_densities' needs layers.kind = 'trend'")
        if self.data.targets == "paper_implied" and self.data.benchmarks != ["AVERAGE"]:
            raise ValueError("paper-implied scores exist for AVERAGE only; use targets = 'simulated' for others")
        if self.data.targets in ("simulated", "published_scores") and "AVERAGE" in self.data.benchmarks:
            raise ValueError("per-benchmark scores are for MMLU, BBH, MATH, HumanEval, MBPP (not AVERAGE)")
        if (self.data.targets == "own_scores") != (self.data.scores_file is not None):
            raise ValueError("data.scores_file goes with (and only with) data.targets = 'own_scores'")
        if self.data.targets == "own_scores" and "AVERAGE" in self.data.benchmarks and len(self.data.benchmarks) > 1:
            raise ValueError("AVERAGE is the mean of the other five benchmarks: fit it alone, or them without it")
        if self.data.targets in ("own_scores", "leaderboard") and self.data.params_basis != "paper":
            whose = (
                "own scores divide by the file's"
                if self.data.targets == "own_scores"
                else "the leaderboard's divide by its"
            )
            raise ValueError(f"data.params_basis is for the shipped models; {whose} params")
        outside = [b for b in self.data.benchmarks if b not in LEADERBOARD_BENCHMARKS]
        if self.data.targets == "leaderboard" and outside:
            raise ValueError(
                f"data.targets = 'leaderboard' (table {LEADERBOARD_TABLE}) has {', '.join(LEADERBOARD_BENCHMARKS)} "
                f"scores only, not {', '.join(outside)}: set data.benchmarks = {list(LEADERBOARD_BENCHMARKS)}"
            )
        if self.frontier.trend == "quadratic" and (
            self.frontier.kind not in ("stochastic_frontier", "mean_trend", "quantile")
            or self.layers.latents == "integrated"
            or self.data.extra_models
        ):
            raise ValueError(
                "frontier.trend = 'quadratic' needs frontier.kind 'stochastic_frontier', 'mean_trend' or 'quantile', "
                "sampled latents and no data.extra_models"
            )
        if (self.frontier.kind == "change_point") != (self.frontier.change_date is not None):
            raise ValueError("frontier.change_date goes with (and only with) frontier.kind = 'change_point'")
        if self.layers.latents == "integrated" and (
            self.layers.kind != "joint" or self.frontier.kind not in ("stochastic_frontier", "mean_trend")
        ):
            raise ValueError(
                "layers.latents = 'integrated' needs layers.kind = 'joint' and frontier.kind 'stochastic_frontier' "
                f"or 'mean_trend' (got '{self.layers.kind}', '{self.frontier.kind}')"
            )
        if self.layers.score_error == "marginalised" and (
            self.layers.kind != "joint" or self.layers.latents != "sampled" or self.frontier.kind == "records"
        ):
            raise ValueError(
                "layers.score_error = 'marginalised' needs layers.kind = 'joint', sampled latents and a frontier "
                f"other than 'records' (got '{self.layers.kind}', '{self.layers.latents}', '{self.frontier.kind}')"
            )
        if self.data.score_settings == "offset" and (
            self.layers.kind != "joint" or self.layers.latents != "sampled" or self.layers.score_error != "sampled"
        ):
            raise ValueError(
                "data.score_settings = 'offset' needs layers.kind = 'joint', sampled latents and a sampled score "
                f"error (got '{self.layers.kind}', '{self.layers.latents}', '{self.layers.score_error}')"
            )
        if self.layers.score_error == "marginalised":
            bad = sorted({self.prior("score_precision", b).dist for b in self.data.benchmarks} - {"Gamma"})
            if bad:
                raise ValueError(
                    f"score_precision must be Gamma (conjugate) for the marginalised score error, got {bad[0]}"
                )
        if self.frontier.by_benchmark and (
            self.layers.latents != "integrated"
            or self.frontier.kind != "stochastic_frontier"
            or self.frontier.inefficiency != "half_normal"
            or self.frontier.trend != "line"
            or self.data.extra_models is not None
            or len(self.data.benchmarks) < 2
        ):
            raise ValueError(
                "frontier.by_benchmark = true needs layers.latents = 'integrated', frontier.kind = "
                "'stochastic_frontier' with inefficiency 'half_normal' and trend 'line', no data.extra_models, "
                f"and at least 2 benchmarks (got {len(self.data.benchmarks)})"
            )
        if self.frontier.inefficiency_by and (
            self.data.targets != "leaderboard"
            or self.frontier.kind != "stochastic_frontier"
            or self.frontier.inefficiency != "half_normal"
            or self.layers.kind != "joint"
            or self.layers.latents != "sampled"
            or self.data.extra_models is not None
        ):
            raise ValueError(
                "frontier.inefficiency_by = 'entry_type' needs data.targets = 'leaderboard', frontier.kind = "
                "'stochastic_frontier' with inefficiency 'half_normal', layers.kind = 'joint' with sampled latents "
                f"and no data.extra_models (got targets '{self.data.targets}', frontier '{self.frontier.kind}', "
                f"inefficiency '{self.frontier.inefficiency}', latents '{self.layers.latents}')"
            )
        if self.data.extra_models is not None and (
            self.layers.kind != "joint" or self.frontier.kind not in ("stochastic_frontier", "mean_trend")
        ):
            raise ValueError(
                "data.extra_models (placed models) needs layers.kind = 'joint' and frontier.kind "
                f"'stochastic_frontier' or 'mean_trend' (got '{self.layers.kind}', '{self.frontier.kind}')"
            )
        if self.layers.curves == "paper" and (
            self.data.reference_family != "paper"
            or self.data.reference_runs is not None
            or self.layers.irreducible_loss
            or self.layers.hierarchical
            or self.layers.kind != "joint"
        ):
            raise ValueError(
                "layers.curves = 'paper' holds the paper's published curves: it needs layers.kind = 'joint', the "
                "paper's reference family (data.reference_family = 'paper', no data.reference_runs), no "
                "layers.irreducible_loss and layers.hierarchical = false"
            )
        if self.layers.curves == "paper":
            given = [f"priors.{k}" for k in self.priors if k in PAPER_CURVE_KEYS] + [
                f"benchmark_priors.{b}.{k}"
                for b, t in self.benchmark_priors.items()
                for k in t
                if k in PAPER_CURVE_KEYS
            ]
            if given:
                raise ValueError(
                    "layers.curves = 'paper' holds every curve parameter at the paper's value: remove "
                    + ", ".join(given)
                )
        if self.layers.hierarchical and len(self.data.benchmarks) < 2:
            raise ValueError("layers.hierarchical needs at least two benchmarks")
        unused = set(self.benchmark_priors) - set(self.data.benchmarks)
        if unused:
            raise ValueError(f"benchmark_priors for {sorted(unused)}, which data.benchmarks does not include")
        return self

    def _benchmark_names(self) -> None:
        """Benchmark names outside data.benchmarks: the paper's six, or with reference runs of your
        own, the spec's benchmarks (each needing its chance level and link points)."""
        own = self.data.reference_runs is not None
        known = tuple(self.data.benchmarks) if own else BENCHMARKS
        for where, names in (
            ("layers.chance_score", list(self.layers.chance_score)),
            ("benchmark_priors", list(self.benchmark_priors)),
        ):
            for bench in names:
                if own and where == "layers.chance_score":
                    continue  # chance levels of other benchmarks are harmless defaults
                if bench not in known:
                    raise ValueError(
                        f"{where}: unknown benchmark '{bench}'{_did_you_mean(bench, known)}; benchmarks: "
                        + ", ".join(known)
                    )
        if (self.data.link_points is None) != (self.data.reference_runs is None):
            raise ValueError(
                "data.reference_runs and data.link_points go together: your reference family's losses are on "
                "its own scale, and only link points measured on that scale map them to scores"
            )
        if self.data.reference_family == "public":
            problems = []
            if own:
                problems.append("data.reference_runs is your own family")
            outside = [b for b in self.data.benchmarks if b not in PUBLIC_BENCHMARKS]
            if outside:
                problems.append(f"it has {' and '.join(PUBLIC_BENCHMARKS)} only, not {', '.join(outside)}")
            if self.layers.irreducible_loss:
                problems.append("scores alone cannot tell an irreducible loss from the link's offset")
            if self.data.targets in ("simulated", "paper_implied"):
                problems.append(f"data.targets = {self.data.targets!r} is built from the paper's curves")
            if problems:
                raise ValueError("data.reference_family = 'public': " + "; ".join(problems))
        if not own:
            return
        new = [b for b in self.data.benchmarks if b not in BENCHMARKS]
        undeclared = [b for b in new if b not in self.layers.chance_score]
        if undeclared:
            raise ValueError(
                f"layers.chance_score: declare the chance level (percent) of {', '.join(undeclared)}, e.g. "
                f"chance_score = {{ {undeclared[0]} = 25.0 }} for four-choice questions, 0 for generated answers"
            )
        if new and self.data.targets != "own_scores":
            raise ValueError(
                f"data.targets = {self.data.targets!r} holds scores on the paper's benchmarks only; {', '.join(new)} "
                "needs data.targets = 'own_scores'"
            )

    @property
    def data_files(self) -> dict[str, str]:
        """The files of yours this spec reads ([data] key -> path as given or resolved)."""
        return {k: v for k in DATA_FILE_KEYS if (v := getattr(self.data, k)) is not None}

    def prior(self, name: str, benchmark: str | None = None) -> Prior:
        if benchmark is not None and name in self.benchmark_priors.get(benchmark, {}):
            return self.benchmark_priors[benchmark][name]
        if name in self.priors:
            return self.priors[name]
        return Prior(**DEFAULT_PRIORS[name])

    @property
    def text(self) -> str:
        return self.source_text

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.source_text.encode()).hexdigest()[:16]


def _format_errors(path: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            parent = e["loc"][:-1]
            known = _known_keys(parent)
            close = difflib.get_close_matches(str(e["loc"][-1]), known, n=1)
            msg = (
                "unknown key"
                + (f" (did you mean '{close[0]}'?)" if close else "")
                + (f"; allowed here: {', '.join(known)}" if known else "")
            )
        lines.append(f"  - {key}: {msg}")
    return f"{path}: invalid spec\n" + "\n".join(lines)


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = ModelSpec
    for part in loc:
        field = model.model_fields.get(str(part)) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = field.annotation
    return [k for k in model.model_fields if k != "source_text"] if hasattr(model, "model_fields") else []


def parse_spec(text: str, path: str = "<spec>", *, base_dir: str | Path | None = None) -> ModelSpec:
    """A validated spec from TOML text. ``base_dir`` (the spec file's directory): a relative
    ``data.scores_file`` or ``data.extra_models`` is taken from there (without it, from the working
    directory)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML: {e}") from None
    if "source_text" in raw:  # filled in from the text itself, never from a key
        known = [k for k in ModelSpec.model_fields if k != "source_text"]
        raise SpecError(f"{path}: invalid spec\n  - source_text: unknown key; allowed here: {', '.join(known)}")
    try:
        spec = ModelSpec(**raw, source_text=text)
    except ValidationError as e:
        raise SpecError(_format_errors(path, e)) from None
    except TypeError as e:
        raise SpecError(f"{path}: {e}") from None
    for key in DATA_FILE_KEYS:
        value = getattr(spec.data, key)
        if base_dir is not None and value:
            f = Path(value).expanduser()
            if not f.is_absolute():  # the text (and hash) keep the path as written
                resolved = str((Path(base_dir) / f).resolve())
                spec = spec.model_copy(update={"data": spec.data.model_copy(update={key: resolved})})
    return spec


def shipped_specs() -> dict[str, Path]:
    return {p.stem: p for p in sorted(specs_dir().glob("*.toml"))}


def load_spec(name_or_path: str | Path | None = None) -> ModelSpec:
    """A shipped spec by name (``default``, ``records``, ...) or a TOML file by path."""
    name_or_path = name_or_path or "default"
    p = Path(name_or_path)
    if not p.exists():
        shipped = shipped_specs()
        if str(name_or_path) in shipped:
            p = shipped[str(name_or_path)]
        else:
            close = difflib.get_close_matches(str(name_or_path), list(shipped), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise SpecError(f"no spec file or shipped spec '{name_or_path}'{hint}; shipped: {', '.join(shipped)}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{p}: not a text file (UTF-8 TOML expected)") from None
    except OSError as e:
        raise SpecError(f"{p}: cannot read: {e.strerror}") from None
    return parse_spec(text, str(p), base_dir=p.parent)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def spec_to_toml(spec: ModelSpec, *, header: str = "") -> str:
    """TOML text for a spec (every setting written out); ``parse_spec`` reads it back equal."""
    d = spec.model_dump(exclude={"source_text"}, exclude_none=True)
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    lines += [f"name = {_toml_value(d.pop('name'))}", f"description = {_toml_value(d.pop('description'))}"]
    for table in ("data", "layers", "frontier", "sampler"):
        lines += ["", f"[{table}]"] + [f"{k} = {_toml_value(v)}" for k, v in d[table].items()]
    if d["priors"]:
        lines += ["", "[priors]"] + [f"{k} = {_toml_value(v)}" for k, v in d["priors"].items()]
    for bench, table in d["benchmark_priors"].items():
        lines += ["", f"[benchmark_priors.{bench}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


ANCHORED = ("loss_alpha", "loss_beta")


def missing_anchors(spec: ModelSpec) -> list[str]:
    """For own-data specs: the benchmarks whose loss-law exponents are not anchored, with the fix.

    The 33 reference points per benchmark admit loss laws that differ widely in the exponents
    (README, "The reference loss law has two modes"); the shipped specs centre them on the paper's
    curves (+-10%). An own-data spec without those lines lets the exponents roam, and the densities
    then differ from the paper's recipe on the same scores by an order of magnitude. Returns
    warning lines (empty when nothing is missing), naming the TOML lines to add.
    """
    if spec.data.targets not in ("own_scores", "leaderboard") or spec.layers.curves == "paper":
        return []
    shipped: dict[str, dict[str, Prior]] = {}
    for name in ("default", "multibench"):
        shipped.update(load_spec(name).benchmark_priors)
    lines = []
    for b in spec.data.benchmarks:
        have = spec.benchmark_priors.get(b, {})
        gone = [k for k in ANCHORED if k not in have and k not in spec.priors]
        if gone and b in shipped:
            lines.append(f"[benchmark_priors.{b}]")
            lines += [f"{k} = {_toml_value(shipped[b][k].model_dump(exclude_none=True))}" for k in gone]
    if not lines:
        return []
    return [
        "the loss-law exponents of your benchmarks are not anchored to the paper's curves, so the densities "
        "can differ from the paper's recipe on the same scores by 10x or more (README, own data). "
        "To anchor them as the shipped specs do, add to the spec:",
        *("    " + x for x in lines),
    ]
