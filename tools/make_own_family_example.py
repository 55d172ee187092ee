"""Write the synthetic "reference family of your own" example under examples/own_family/.

Everything in it is simulated from a known truth (below), so a fit can be checked against it:

* runs.csv: 36 reference runs of one family (one loss), the law L = E + a N^-alpha + b D^-beta
  with E = 1.8, a = 0.35, alpha = 0.34, b = 0.45, beta = 0.28 (N in billions, D in trillions),
  1% log-normal noise; sizes 20M-10B, 5-200 tokens per parameter;
* link.csv: the 14 runs of lowest loss scored on a four-choice benchmark "QA" (chance 25%): the
  link S = 25 + 75 sigmoid(6 (2.6 - L)) plus Normal noise of 1 point; every fourth (from the
  second lowest loss) is held out ("heldout"), the other 10 fit it;
* scores.csv: 30 target models released 2023-03 to 2025-03, 1B-70B parameters, whose log density
  is -1 + (ln 2 / 150 days) t plus Normal noise (sd 0.15) minus a half-normal inefficiency (sd 0.3)
  (the stochastic frontier's own generative process), scored on QA at D0 = 5e12 tokens through the
  same law and link plus Normal noise of 1 point;
* spec.toml: the spec that fits them (`bayesdense fit examples/own_family/spec.toml`).

The true doubling time of the frontier is therefore 150 days. Re-run with
``python tools/make_own_family_example.py`` (deterministic: seed 7); a test checks the shipped files
equal this script's output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesdense import laws  # noqa: E402

TRUTH = {"E": 1.8, "a": 0.35, "alpha": 0.34, "b": 0.45, "beta": 0.28}
LINK = {"c": 75.0, "gamma": 6.0, "l": 2.6, "d": 25.0}
DOUBLING_DAYS = 150.0
D0 = 5e12
ORIGIN = dt.date(2023, 2, 24)
SEED = 7

SPEC = """\
# A reference family of your own (synthetic; tools/make_own_family_example.py writes this folder).
# The runs and link points replace the paper's reference family; the benchmark "QA" is not one of
# the paper's, so its chance level is declared. Paths are relative to this file.
name = "own_family"
description = "Synthetic own reference family (36 runs, link on QA) and 30 target models; true doubling 150 days"

[data]
targets = "own_scores"
scores_file = "scores.csv"
reference_runs = "runs.csv"
link_points = "link.csv"
benchmarks = ["QA"]
d0_tokens = 5e12

[layers]
kind = "joint"
irreducible_loss = true
chance_score = { QA = 25.0 }

[frontier]
kind = "stochastic_frontier"
inefficiency = "half_normal"

[priors]
# QA is four-choice: its link rises from chance (25%) to 100%. The link points stop at 71%, so the
# ceiling is not identified by them; hold it at 100% (c = 100 - d), as the default spec does
link_ceiling_frac = { dist = "Fixed", value = 1.0 }

[sampler]
sampler = "numpyro"
chains = 4
draws = 1000
tune = 1000
target_accept = 0.95
"""


def loss_at(n_billions: np.ndarray, d_trillions: np.ndarray | float) -> np.ndarray:
    t = TRUTH
    return t["E"] + laws.loss_law(n_billions, d_trillions, t["a"], t["alpha"], t["b"], t["beta"])


def score_at(loss: np.ndarray) -> np.ndarray:
    return np.asarray(laws.link(loss, LINK["c"], LINK["gamma"], LINK["l"], LINK["d"]))


def tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_runs = 36
    n = np.round(np.exp(rng.uniform(np.log(2e7), np.log(1e10), n_runs)))
    d = np.round(n * np.exp(rng.uniform(np.log(5), np.log(200), n_runs)))
    loss = loss_at(n / 1e9, d / 1e12) * np.exp(rng.normal(0, 0.01, n_runs))
    runs = pd.DataFrame(
        {"benchmark": "QA", "params": n.astype(np.int64), "tokens": d.astype(np.int64), "loss": np.round(loss, 5)}
    )
    pick = np.argsort(loss)[:14]  # the family's 14 best models were scored on the benchmark
    ll = loss[pick]
    sc = np.clip(score_at(ll) + rng.normal(0, 1.0, len(pick)), 0, 100)
    role = np.where(np.arange(len(pick)) % 4 == 1, "heldout", "fit")
    link = pd.DataFrame({"benchmark": "QA", "role": role, "loss": np.round(ll, 5), "score": np.round(sc, 2)})

    n_models = 30
    days = np.sort(rng.uniform(20, 750, n_models)).round()
    params = np.round(np.exp(rng.uniform(np.log(1e9), np.log(7e10), n_models)), -7)
    noise, inefficiency = rng.normal(0, 0.15, n_models), np.abs(rng.normal(0, 0.3, n_models))
    log_rho = -1.0 + np.log(2) / DOUBLING_DAYS * (days - 400) + noise - inefficiency
    n_eff = params * np.exp(log_rho)
    s = score_at(loss_at(n_eff / 1e9, D0 / 1e12)) + rng.normal(0, 1.0, n_models)
    dates = [ORIGIN + dt.timedelta(days=int(x)) for x in days]
    scores = pd.DataFrame(
        {
            "model": [f"Model-{i + 1:02d}" for i in range(n_models)],
            "release_date": [x.isoformat() for x in dates],
            "params": params.astype(np.int64),
            "benchmark": "QA",
            "score": np.round(np.clip(s, 0, 100), 2),
            "source": "synthetic (tools/make_own_family_example.py)",
        }
    )
    truth = pd.DataFrame({"model": scores["model"], "log_density": log_rho})  # not written: for checks
    return {"runs": runs, "link": link, "scores": scores, "truth": truth}


def write(out: Path, seed: int = SEED) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables(seed).items():
        if name == "truth":
            continue
        p = out / f"{name}.csv"
        df.to_csv(p, index=False)
        written.append(p)
    p = out / "spec.toml"
    p.write_text(SPEC)
    return [*written, p]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "examples" / "own_family", help="folder to write")
    args = ap.parse_args()
    for p in write(args.out):
        print(p)


if __name__ == "__main__":
    main()
