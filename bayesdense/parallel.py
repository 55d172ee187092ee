"""Independent fits in parallel: local worker processes, or an existing Dask cluster.

Local workers are started fresh ("spawn"): forking a process that has started JAX's or numba's
threads can deadlock. With ``scheduler`` (``tcp://host:port``) the jobs go to that
``dask.distributed`` cluster, whose workers need bayesdense installed; the job functions are
module-level and their arguments plain data, so they pickle by reference.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def local_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def run_jobs(
    fn: Callable[[Any], Any],
    jobs: Sequence[Any],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_error: Callable[[Any, BaseException], Any] | None = None,
) -> list[Any]:
    """``[fn(job) for job in jobs]``, in parallel, results in job order.

    ``on_error(job, exc)`` turns a job that raised (or whose worker died) into a result; without
    it the first error is raised (in parallel: after the other jobs finished).
    """
    if scheduler:
        return _on_dask(fn, jobs, scheduler, on_error)
    if workers <= 1 or len(jobs) <= 1:
        results = []
        for j in jobs:
            try:
                results.append(fn(j))
            except Exception as e:  # noqa: BLE001 - handed to on_error, or raised
                if on_error is None:
                    raise
                results.append(on_error(j, e))
        return results
    with local_pool(min(workers, len(jobs))) as ex:
        futures = [ex.submit(fn, j) for j in jobs]
        return _collect(jobs, futures, on_error)


def _collect(jobs: Sequence[Any], futures: list[Any], on_error: Callable[[Any, BaseException], Any] | None) -> list:
    results: list[Any] = []
    first: BaseException | None = None
    for j, f in zip(jobs, futures, strict=True):
        try:
            results.append(f.result())
        except Exception as e:  # noqa: BLE001 - a failed job must not cancel the others
            if on_error is None:
                first = first or e
                results.append(None)
            else:
                results.append(on_error(j, e))
    if first is not None:
        raise first
    return results


def _on_dask(
    fn: Callable[[Any], Any], jobs: Sequence[Any], scheduler: str, on_error: Callable[[Any, BaseException], Any] | None
) -> list[Any]:
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs dask.distributed: pip install 'bayesdense[dask]'") from None
    if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
        raise ValueError(f"--scheduler '{scheduler}' is not a Dask scheduler address; expected tcp://HOST:PORT")
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as e:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    with client:
        futures = client.map(fn, list(jobs), pure=False)
        return _collect(jobs, futures, on_error)
