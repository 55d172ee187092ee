"""Which parameterisation lets the benchmark-subset variants converge? (issue #12, item 2)

    python benchmarks/bench_score_error.py [--variants A,B,...] [--integrated MATH+MBPP] [--seed 1]
                                           [--modes sampled,marginalised,sampled_numpyro,laplace,laplace_numpyro]

For the hardest subsets of `bayesdense sensitivity --axis benchmarks` (default spec, default
profile), each variant is fitted three ways and its diagnostics printed:

- `sampled`: today's axis: the per-benchmark score error `score_sd` sampled beside every model's
  latent density, on one shared compiled model (nutpie, shared.py's 1.5x tuning and 2x draws);
- `marginalised`: the same with the score error integrated out in closed form
  (`layers.score_error = "marginalised"`, models/score_error.py), same shared-model route;
- `sampled_numpyro`: as `sampled`, but the shared model is sampled with the spec's own sampler
  (numpyro, dense mass matrix, 4 x 1000 after 1000; shared.NumpyroProgram, data as arguments);
- `laplace`, `laplace_numpyro`: as `sampled` and `sampled_numpyro`, with each latent density
  sampled in units of its conditional posterior given the globals (``offset_latents="laplace"``,
  models/densing.py; what `fit` and the shared models use since a sampled score error selects it);
- `integrated`: the latent densities integrated out (`layers.latents = "integrated"`), the variant's
  own model with the spec's sampler (numpyro); only for the `--integrated` variants (slow).

Each line: mode, variant, wall seconds (sampling; the shared compile is its own line), median
doubling time, max R-hat and its variable, min bulk ESS, divergences and whether every check
passed. Appended as JSON lines, with spec hash, data hash, seed and versions, to
benchmarks/results_score_error.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HARD = "MMLU+BBH+HumanEval,BBH+MATH+HumanEval,MATH+MBPP,MATH+HumanEval"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default=HARD, help=f"comma-separated subset names (default {HARD})")
    ap.add_argument("--integrated", default="MATH+MBPP", help="variants also fitted with integrated latents ('' none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--modes", default="sampled,marginalised", help="shared-model modes to run (see above)")
    args = ap.parse_args()

    from bayesdense import fit, quantities, sensitivity, shared
    from bayesdense.spec import load_spec, parse_spec

    texts = {n: t for _, n, t in sensitivity.variants(load_spec("default"), "benchmarks")}
    names = args.variants.split(",")
    unknown = [n for n in names + [v for v in args.integrated.split(",") if v] if n not in texts]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; the benchmarks axis has {', '.join(texts)}")
    out = ROOT / "benchmarks" / "results_score_error.jsonl"
    common = {"date": dt.date.today().isoformat(), "seed": args.seed, "versions": fit.versions()}

    def record(mode: str, spec, tree, seconds: float) -> None:
        s = quantities.summary(tree)
        d = s["diagnostics"]
        row = {
            "mode": mode,
            "variant": spec.name.split("__", 1)[-1],
            "seconds": round(seconds, 1),
            "doubling_days_median": round(s["doubling_time_days"]["median"], 1),
            "max_rhat": round(d["max_rhat"], 4),
            "max_rhat_var": d["max_rhat_var"],
            "min_ess_bulk": round(d["min_ess_bulk"]),
            "divergences": d["divergences"],
            "converged": d["ok"],
            "spec_hash": spec.hash,
            "data_hash": fit.data_hash_of(spec),
            **common,
        }
        print(json.dumps({k: row[k] for k in list(row)[:9]}), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")

    for mode in [m for m in args.modes.split(",") if m]:
        score_error, sampler, latents = {
            "sampled": ("sampled", "nutpie", True),
            "marginalised": ("marginalised", "nutpie", True),
            "sampled_numpyro": ("sampled", "numpyro", True),
            "laplace": ("sampled", "nutpie", "laplace"),
            "laplace_numpyro": ("sampled", "numpyro", "laplace"),
        }[mode]
        specs = []
        for n in names:
            text = texts[n].replace('score_error = "sampled"', f'score_error = "{score_error}"')
            specs.append(parse_spec(text, n))
        sm = shared.SharedModel(shared.superset(specs), sampler=sampler, latents=latents)
        compiled = {"mode": mode, "shared_compile_seconds": round(sm.compile_seconds, 1)}
        print(json.dumps(compiled), flush=True)
        with out.open("a") as f:
            f.write(json.dumps({**compiled, **common}) + "\n")
        for spec in specs:
            t0 = time.time()
            tree = sm.fit(spec, seed=args.seed)
            record(mode, spec, tree, time.time() - t0)
    for n in [v for v in args.integrated.split(",") if v]:
        spec = parse_spec(texts[n].replace('latents = "sampled"', 'latents = "integrated"'), n)
        t0 = time.time()
        tree = fit.fit(spec, seed=args.seed, progress=False)
        record("integrated", spec, tree, time.time() - t0)


if __name__ == "__main__":
    main()
