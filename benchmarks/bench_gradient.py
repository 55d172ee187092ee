"""Cost of one log-density-and-gradient evaluation of the joint model against the number of models.

    python benchmarks/bench_gradient.py                  # 50, 500, 2,000, 5,000 synthetic models

What a fit's time is made of: (iterations) x (leapfrog steps per iteration) x (this cost). For each
size, the synthetic AVERAGE set of benchmarks/bench_scale.py (same seed per size), the model as a
large fit builds it (Laplace latents from ``models.LARGE_FIT`` models on), PyMC's JAX log density
with its gradient jitted by JAX, timed at the model's initial point: the median of 5 blocks of 500
calls, after a warm-up call, in microseconds per call and per model. One JSON line per size is
appended to benchmarks/results_gradient.jsonl (spec hash, data hash, versions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 2000, 5000])
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from bayesdense.fit import parallel_jax_chains

    parallel_jax_chains()  # as a fit runs
    import bench_scale
    import jax
    import numpy as np
    from pymc.sampling.jax import get_jaxified_logp

    from bayesdense import inputs, models
    from bayesdense.fit import data_hash_of, versions
    from bayesdense.spec import load_spec

    print(f"{'models':>7s} {'us per call':>12s} {'us per model':>13s} {'latents':>8s}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            csv = Path(tmp) / f"scores_{n}.csv"
            bench_scale.synthetic_scores(n, 1000 + n, csv)
            spec_path = Path(tmp) / f"scale_{n}.toml"
            spec_path.write_text(
                bench_scale.SPEC.format(n=n, mode="sampled", csv=csv, target_accept=0.95, draws=1000, tune=1000)
            )
            spec = load_spec(spec_path)
            fd = inputs.prepare(spec)
            form = models.latent_form(spec, fd.n_models)
            model = models.build(spec, fd, offset_latents=form)
            logp = get_jaxified_logp(model, negative_logp=False)
            point = model.initial_point()
            x = [jax.numpy.asarray(point[v.name]) for v in model.value_vars]
            grad = jax.jit(jax.value_and_grad(logp))
            grad(x)[0].block_until_ready()
            blocks = []
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(500):
                    out = grad(x)
                out[0].block_until_ready()
                blocks.append((time.perf_counter() - t0) / 500 * 1e6)
            us = float(np.median(blocks))
            row = {
                "date": dt.date.today().isoformat(),
                "command": "python benchmarks/bench_gradient.py " + " ".join(sys.argv[1:]),
                "n_models": fd.n_models,
                "latents": "laplace" if form == "laplace" else "offset",
                "us_per_call": round(us, 1),
                "us_per_model": round(us / fd.n_models, 3),
                "blocks_us": [round(b, 1) for b in blocks],
                "spec_hash": spec.hash,
                "data_hash": data_hash_of(spec),
                "cores": os.cpu_count(),
                "versions": versions(),
            }
            print(f"{fd.n_models:7d} {us:12.1f} {us / fd.n_models:13.3f} {row['latents']:>8s}", flush=True)
            with open(HERE / "results_gradient.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
