"""Parallel execution: local processes and an existing Dask cluster (a LocalCluster started here)."""

from __future__ import annotations

import math

import pytest

from bayesdense import laws, parallel
from bayesdense.cli import main


def _failed(job, exc):
    return f"failed: {job!r} ({type(exc).__name__})"


def test_local_jobs_keep_order_and_isolate_failures():
    jobs = [0.01, "not a rate", 0.005]
    out = parallel.run_jobs(laws.doubling_time, jobs, workers=2, on_error=_failed)
    assert out[0] == pytest.approx(math.log(2) / 0.01) and out[2] == pytest.approx(math.log(2) / 0.005)
    assert out[1].startswith("failed: 'not a rate'")
    with pytest.raises(ValueError):
        parallel.run_jobs(laws.doubling_time, jobs, workers=1)


def test_a_bad_scheduler_address_is_a_clear_error(capsys):
    assert main(["sensitivity", "trend_fig2", "--axis", "d0", "--scheduler", "localhost:8786"]) == 2
    err = capsys.readouterr().err
    assert "not a Dask scheduler address" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_jobs_on_a_dask_cluster(cluster):
    jobs = [0.01, "not a rate", 0.02]
    out = parallel.run_jobs(laws.doubling_time, jobs, scheduler=cluster.scheduler_address, on_error=_failed)
    assert out[0] == pytest.approx(math.log(2) / 0.01) and out[2] == pytest.approx(math.log(2) / 0.02)
    assert out[1].startswith("failed: 'not a rate'")


@pytest.mark.slow
def test_sensitivity_on_a_dask_cluster_shares_one_model_per_batch(cluster, tmp_path):
    from bayesdense import sensitivity
    from bayesdense.spec import load_spec

    table = sensitivity.run(
        load_spec("trend_fig2"), "models", tmp_path, profile="fast", workers=2, scheduler=cluster.scheduler_address
    )
    assert len(table) == 7 and (table["error"] == "").all()
    assert table["shared_model"].all() and table["sampler"].eq("nutpie").all()
    assert (table["n_models"] < 47).any()  # the subsets really are subsets
    assert sorted(p.name for p in tmp_path.glob("*.nc")) == sorted(
        f"models__{''.join(c if c.isalnum() or c in '-_.=' else '_' for c in v)}.nc" for v in table["variant"]
    )
