"""Scale-out helpers: a dask.distributed cluster that does not oversubscribe threads.

scikit-learn's ``GridSearchCV`` / ``cross_val_score`` and skatomsets' featurizers all
parallelise through joblib, so running them on a ``dask.distributed`` cluster is a matter of
``with joblib.parallel_backend("dask"): ...``. Each task then trains a torch network; if
every worker process also let torch / BLAS use every core, ``n_workers x n_cores`` threads
would fight over ``n_cores`` cores. :func:`local_cluster` starts workers with one thread per
task *and* caps the native thread pools (OpenMP, MKL, OpenBLAS, torch) to
``threads_per_worker`` inside each worker.

On a multi-GPU machine, start one worker per GPU (as skorch recommends) with
``CUDA_VISIBLE_DEVICES`` set per worker, e.g. with ``dask-cuda``'s ``LocalCUDACluster``, and
use ``device="cuda"`` in the estimators: each worker then sees exactly one GPU.
"""

from __future__ import annotations

from typing import Any

__all__ = ["limit_torch_threads", "local_cluster"]

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_torch_threads(n: int = 1) -> int:
    """Cap torch's intra-op threads (run inside a worker); returns the new setting."""
    import torch

    torch.set_num_threads(n)
    return torch.get_num_threads()


def local_cluster(n_workers: int = 2, threads_per_worker: int = 1, **kwargs: Any):
    """Start a ``dask.distributed`` ``LocalCluster`` of separate processes and a ``Client``.

    Parameters
    ----------
    n_workers : int, default=2
        Worker processes.
    threads_per_worker : int, default=1
        Tasks per worker and the size of each worker's native thread pools.
    **kwargs
        Passed on to ``LocalCluster``.

    Returns
    -------
    client : distributed.Client
        Close it (or use it as a context manager) to shut the cluster down.

    Examples
    --------
    >>> import joblib
    >>> from sklearn.model_selection import GridSearchCV
    >>> client = local_cluster(n_workers=2)                     # doctest: +SKIP
    >>> with joblib.parallel_backend("dask"):                   # doctest: +SKIP
    ...     GridSearchCV(model, grid, cv=5).fit(X, y)
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError(
            "local_cluster needs dask.distributed: pip install 'skatomsets[dask]'"
        ) from exc
    env = {v: str(threads_per_worker) for v in _THREAD_VARS}
    env.update(kwargs.pop("env", {}))
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        env=env,
        **kwargs,
    )
    client = Client(cluster)
    client.run(limit_torch_threads, threads_per_worker)
    return client
