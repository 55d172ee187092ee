"""How much the integrated-LOO Pareto k of `compare` varies from fit to fit (fast profile).

    python tools/pareto_k_seeds.py --seeds 1 2 3 4 5 6 > validation/pareto_k_seeds.json

Fits trend_fig2 (stochastic frontier) and its mean-trend variant with the fast profile (2 chains x
300 draws) for each seed and records, per spec, elpd_loo, its se, the largest Pareto k and the
number of models with k > 0.7. tests/test_compare.py asserts the properties this shows to be
stable (few k above 0.7; the frontier's elpd above the mean trend's), not one fit's largest k.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed copy

from bayesdense import compare, fit  # noqa: E402
from bayesdense.fit import versions  # noqa: E402
from bayesdense.spec import load_spec, parse_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    args = ap.parse_args()
    base = load_spec("trend_fig2")
    mean = parse_spec(
        base.text.replace('kind = "stochastic_frontier"', 'kind = "mean_trend"').replace(
            'name = "trend_fig2"', 'name = "trend_fig2_mean"'
        )
    )
    rows = []
    for seed in args.seeds:
        trees = {s.name: fit.fit(s, seed=seed, profile="fast", progress=False) for s in (base, mean)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = compare.compare(trees)
        for r in res["loo"]:
            rows.append({"seed": seed, **{k: r[k] for k in ("spec", "elpd_loo", "se", "max_pareto_k")}})
            rows[-1]["n_pareto_k_above_0.7"] = r["n_pareto_k_above_0.7"]
        print(f"seed {seed}: {rows[-2:]}", file=sys.stderr, flush=True)
    out = {
        "command": "python tools/pareto_k_seeds.py --seeds " + " ".join(map(str, args.seeds)),
        "spec_hash": {s.name: s.hash for s in (base, mean)},
        "data_hash": fit.data_hash_of(base),
        "profile": "fast",
        "versions": versions(),
        "rows": rows,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
