"""Model specs: TOML files under ``models/``, parsed strictly (unknown keys are errors).

Priors are data: each is a table ``{dist = "Normal", mu = 0, sigma = 1}`` that maps one-to-one
onto a PyMC distribution. A spec never names Python code to import.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .data import BENCHMARKS, specs_dir

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


class SpecError(ValueError):
    """A spec file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prior(_Strict):
    dist: Literal["Normal", "HalfNormal", "LogNormal", "Exponential", "Gamma", "Beta", "Fixed"]
    value: float | None = None
    mu: float | None = None
    sigma: float | None = None
    lam: float | None = None
    alpha: float | None = None
    beta: float | None = None

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
    targets: Literal["paper_implied", "published_densities", "published_scores", "simulated", "own_scores"] = (
        "paper_implied"
    )
    # own_scores: a CSV of your own models' scores (table kind 'own_scores' in bayesdense/data.py);
    # a relative path is taken from the working directory
    scores_file: str | None = None
    figure: Literal["fig1", "fig2", "fig3c"] = "fig1"
    benchmarks: list[Literal[BENCHMARKS]] = Field(default_factory=lambda: ["AVERAGE"])  # type: ignore[valid-type]
    d0_tokens: Annotated[float, Field(gt=0)] = 5e12
    time_origin: dt.date = dt.date(2023, 2, 24)
    params_basis: Literal["paper", "total", "active"] = "paper"
    era: Literal["all", "pre_chatgpt", "post_chatgpt"] = "all"
    # leave out model variants (from data/models.csv), e.g. ["quantized", "pruned", "distilled"]
    exclude_variants: list[Literal["base", "instruct", "quantized", "pruned", "distilled", "pruned+distilled"]] = Field(
        default_factory=list
    )
    # time window on release dates (inclusive); None: no bound
    released_from: dt.date | None = None
    released_to: dt.date | None = None
    simulation_seed: int = 20251126
    simulation_missing_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.3
    simulation_score_sd: Annotated[float, Field(gt=0)] = 1.5

    @field_validator("benchmarks")
    @classmethod
    def _nonempty_unique(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one benchmark is needed")
        if len(set(v)) != len(v):
            raise ValueError("benchmarks are listed twice")
        return v

    @model_validator(mode="after")
    def _window_order(self) -> DataSpec:
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
    chance_score: dict[str, float] = Field(
        default_factory=lambda: {"MMLU": 25.0, "BBH": 25.0, "MATH": 0.0, "HumanEval": 0.0, "MBPP": 0.0, "AVERAGE": 10.0}
    )


class FrontierSpec(_Strict):
    kind: Literal["stochastic_frontier", "mean_trend", "records", "change_point", "quantile"] = "stochastic_frontier"
    inefficiency: Literal["half_normal", "exponential"] = "half_normal"
    # change_point: separate lines before and after a break; a date, or "unknown" (uniform prior
    # over the data's range, the switch smoothed over ~5 days so NUTS can move the break)
    change_date: dt.date | Literal["unknown"] | None = None
    # quantile: Bayesian quantile regression, log density ~ AsymmetricLaplace whose q-quantile is the line
    quantile: Annotated[float, Field(gt=0, lt=1)] = 0.9


class SamplerSpec(_Strict):
    sampler: Literal["numpyro", "pymc", "nutpie"] = "numpyro"
    chains: Annotated[int, Field(ge=1, le=16)] = 4
    draws: Annotated[int, Field(ge=10)] = 1000
    tune: Annotated[int, Field(ge=10)] = 1000
    target_accept: Annotated[float, Field(gt=0.5, lt=1)] = 0.9
    dense_mass: bool = True  # numpyro only


DEFAULT_PRIORS: dict[str, dict[str, Any]] = {
    # trend (t in years from the data's mid-date; growth per year; log density)
    "growth_rate_per_year": {"dist": "Normal", "mu": 0.0, "sigma": 2.5},
    "frontier_log_density_mid": {"dist": "Normal", "mu": 0.0, "sigma": 2.0},
    "frontier_omega": {"dist": "HalfNormal", "sigma": 1.5},
    "frontier_lambda": {"dist": "Gamma", "alpha": 2.0, "beta": 0.5},
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
}


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
    source_text: str = ""

    @field_validator("priors")
    @classmethod
    def _known_priors(cls, v: dict[str, Prior]) -> dict[str, Prior]:
        for k in v:
            if k not in DEFAULT_PRIORS:
                close = difflib.get_close_matches(k, list(DEFAULT_PRIORS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown prior '{k}'{hint}")
        return v

    @field_validator("benchmark_priors")
    @classmethod
    def _known_benchmark_priors(cls, v: dict[str, dict[str, Prior]]) -> dict[str, dict[str, Prior]]:
        for bench, table in v.items():
            if bench not in BENCHMARKS:
                close = difflib.get_close_matches(bench, list(BENCHMARKS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown benchmark '{bench}'{hint}")
            cls._known_priors(table)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
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
        if self.data.targets == "own_scores" and self.data.params_basis != "paper":
            raise ValueError("data.params_basis is for the shipped models; own scores divide by the file's params")
        if (self.frontier.kind == "change_point") != (self.frontier.change_date is not None):
            raise ValueError("frontier.change_date goes with (and only with) frontier.kind = 'change_point'")
        if self.layers.hierarchical and len(self.data.benchmarks) < 2:
            raise ValueError("layers.hierarchical needs at least two benchmarks")
        unused = set(self.benchmark_priors) - set(self.data.benchmarks)
        if unused:
            raise ValueError(f"benchmark_priors for {sorted(unused)}, which data.benchmarks does not include")
        return self

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
    return list(model.model_fields) if hasattr(model, "model_fields") else []


def parse_spec(text: str, path: str = "<spec>") -> ModelSpec:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML: {e}") from None
    try:
        return ModelSpec(**raw, source_text=text)
    except ValidationError as e:
        raise SpecError(_format_errors(path, e)) from None
    except TypeError as e:
        raise SpecError(f"{path}: {e}") from None


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
        text = p.read_text()
    except OSError as e:
        raise SpecError(f"{p}: cannot read: {e.strerror}") from None
    return parse_spec(text, str(p))


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
