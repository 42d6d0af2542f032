"""Parameter sweeps: run a function over a grid of parameters (and seeds) on a Dask cluster.

``sweep(fn, grid, seeds=...)`` calls ``fn(**point, seed=s)`` once for every
point of the grid and every seed, on the worker processes of a
``dask.distributed`` cluster (a ``LocalCluster`` by default, or an existing
scheduler), and returns the results as a table with one row per call.

Reproducibility does not depend on the cluster: the seed of each call is
fixed before anything is scheduled (given explicitly, or derived from
``seed`` and the call's position in the grid), and rows come back in grid
order whatever the number of workers or the order in which they finish.
A call that raises is kept as a row with its parameters, ``status="error"``
and the error's text.

Dask and pandas are optional dependencies (``pip install "spikenet[sweep]"``);
they are imported when a sweep runs.
"""

from __future__ import annotations

import itertools
import numbers
import os
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["SweepError", "grid_points", "point_seeds", "sweep"]

#: Columns added to every row of a sweep's table (besides the grid's names).
META_COLUMNS = ("seed", "status", "error", "elapsed")


class SweepError(RuntimeError):
    """Raised by ``sweep(..., on_error="raise")`` when a point fails; names the point."""


def grid_points(grid) -> list[dict]:
    """Expand a parameter grid into the list of its points, in a fixed order.

    Parameters
    ----------
    grid : mapping of str to sequence, or sequence of mappings
        A mapping ``{name: values}`` gives the Cartesian product of the
        values, the last name varying fastest (like ``itertools.product``
        and ``numpy.meshgrid(..., indexing="ij")``). A sequence of mappings
        gives those points as they are (each must have the same names).

    Returns
    -------
    list of dict
        One dict ``{name: value}`` per point.

    Raises
    ------
    TypeError, ValueError
        If ``grid`` is not one of the two forms, a name is not a string or
        is ``"seed"`` or a reserved column, a list of values is empty, or the
        explicit points do not share their names.
    """
    if isinstance(grid, Mapping):
        names = list(grid)
        values = []
        for name in names:
            _check_name(name)
            vals = grid[name]
            if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray)):
                raise TypeError(f"grid[{name!r}] must be a sequence of values, got {type(vals).__name__}")
            vals = list(vals.tolist() if isinstance(vals, np.ndarray) else vals)
            if not vals:
                raise ValueError(f"grid[{name!r}] is empty: give at least one value")
            values.append(vals)
        return [dict(zip(names, combo)) for combo in itertools.product(*values)]
    if isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        points = []
        names = None
        for i, point in enumerate(grid):
            if not isinstance(point, Mapping):
                raise TypeError(f"grid[{i}] must be a mapping of parameter names to values, "
                                f"got {type(point).__name__}")
            for name in point:
                _check_name(name)
            if names is None:
                names = list(point)
            elif set(point) != set(names):
                raise ValueError(f"grid[{i}] has the names {sorted(point)}, expected {sorted(names)} "
                                 "like grid[0]")
            points.append(dict(point))
        if not points:
            raise ValueError("grid is empty: give at least one point")
        return points
    raise TypeError("grid must be a mapping {name: values} or a sequence of mappings, "
                    f"got {type(grid).__name__}")


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(f"grid names must be strings, got {name!r}")
    if name in META_COLUMNS:
        raise ValueError(f"grid name {name!r} is reserved for the sweep's own columns {META_COLUMNS}; "
                         "pass seeds with the seeds= argument")


def point_seeds(n_points: int, seeds=1, seed=None) -> np.ndarray:
    """The seed of every call of a sweep, fixed before anything runs.

    Parameters
    ----------
    n_points : int
        Number of grid points.
    seeds : int or sequence of int
        An int ``r`` derives ``r`` seeds per point from ``seed`` (distinct for
        every point and repetition); a sequence gives the seeds themselves,
        the same for every point (common random numbers across the grid).
    seed : int or None
        Base entropy for derived seeds; ``None`` draws fresh entropy, so two
        sweeps differ. Ignored when ``seeds`` is a sequence.

    Returns
    -------
    numpy.ndarray of int64, shape (n_points, n_seeds)
        Row ``i`` holds the seeds of point ``i``; all in ``[0, 2**63)``.
    """
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        r = int(seeds)
        if r < 1:
            raise ValueError(f"seeds must be >= 1 when it is a count, got {r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise TypeError(f"seed must be a non-negative int or None, got {seed!r}")
        root = np.random.SeedSequence(seed)
        # One child per call, in grid order: the seed of call (i, j) depends on
        # (seed, i, j) only, never on the cluster.
        children = root.spawn(n_points * r)
        out = np.array([c.generate_state(2, dtype=np.uint32) for c in children], dtype=np.uint64)
        vals = ((out[:, 0] << np.uint64(31)) ^ out[:, 1]).astype(np.int64)
        return vals.reshape(n_points, r)
    if isinstance(seeds, (Sequence, np.ndarray)) and not isinstance(seeds, (str, bytes)):
        arr = list(seeds)
        if not arr:
            raise ValueError("seeds is empty: give at least one seed")
        for s in arr:
            if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
                raise TypeError(f"seeds must hold non-negative ints, got {s!r}")
        return np.tile(np.asarray(arr, dtype=np.int64), (n_points, 1))
    raise TypeError(f"seeds must be a count (int) or a sequence of ints, got {type(seeds).__name__}")


def _call(fn, params, seed):
    """Run one point on a worker: never raises, returns (values, status, error, elapsed)."""
    t0 = time.perf_counter()
    try:
        out = fn(**params, seed=int(seed))
    except Exception as exc:  # reported as a row, not lost
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        tb = traceback.format_exc(limit=-3)
        return {}, "error", f"{text}\n{tb}", time.perf_counter() - t0
    try:
        values = _as_row(out)
    except (TypeError, ValueError) as exc:
        return {}, "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0
    return values, "ok", None, time.perf_counter() - t0


def _as_row(out) -> dict:
    if isinstance(out, Mapping):
        row = {}
        for k, v in out.items():
            if not isinstance(k, str):
                raise TypeError(f"the function's result keys must be strings, got {k!r}")
            if k in META_COLUMNS:
                raise ValueError(f"the function's result key {k!r} clashes with the sweep's column {k!r}")
            row[k] = v.item() if isinstance(v, np.generic) else v
        return row
    if isinstance(out, (numbers.Number, np.generic)):
        return {"value": out.item() if isinstance(out, np.generic) else out}
    raise TypeError("the function must return a mapping {column: value} or a number, "
                    f"got {type(out).__name__}")


def sweep(fn: Callable, grid, seeds=1, *, seed=None, client=None, address: str | None = None,
          n_workers: int | None = None, threads_per_worker: int = 1, on_error: str = "keep",
          progress: bool = True):
    """Run ``fn`` over a grid of parameters and seeds on a Dask cluster; one table row per call.

    Parameters
    ----------
    fn : callable
        Called as ``fn(**point, seed=s)`` with ``s`` an int; returns a mapping
        ``{column: value}`` (scalars, or any picklable values) or a single
        number (column ``"value"``). It runs in worker processes: define it
        at module level (a lambda or a closure works too: Dask serialises it
        with cloudpickle), and let it seed all its randomness from ``seed``.
    grid : mapping of str to sequence, or sequence of mappings
        The points (see :func:`grid_points`).
    seeds : int or sequence of int, default 1
        Repetitions per point: a count of derived seeds or explicit seeds
        (see :func:`point_seeds`).
    seed : int, optional
        Base entropy of derived seeds. The same ``seed`` gives the same table
        whatever the cluster and the number of workers.
    client : distributed.Client or "serial", optional
        A client to use (left open). ``"serial"`` runs every call in this
        process, one after the other, without Dask (for debugging and for
        timing a serial loop).
    address : str, optional
        Address of a running scheduler (e.g. ``"tcp://10.0.0.5:8786"``) to
        connect to; ignored when ``client`` is given.
    n_workers : int, optional
        Worker processes of the ``LocalCluster`` started when neither
        ``client`` nor ``address`` is given (default: the number of CPUs).
        The cluster is closed when the sweep returns.
    threads_per_worker : int, default 1
        Threads per worker process of that ``LocalCluster``. One thread per
        process suits simulations, which hold the GIL while Python runs.
    on_error : {"keep", "raise"}, default "keep"
        ``"keep"`` keeps a failed call as a row (``status="error"``, the
        error's text in ``error``) and warns once with the number of failed
        points; ``"raise"`` raises :class:`SweepError` naming the first
        failed point (after every call has finished).
    progress : bool, default True
        Show a progress bar of finished calls (tqdm, on stderr).

    Returns
    -------
    pandas.DataFrame
        One row per (point, seed), in grid order, seeds varying fastest:
        the grid's columns, ``seed``, the function's result columns, then
        ``status`` ("ok" or "error"), ``error`` (None or the error's text)
        and ``elapsed`` (seconds the call took on its worker). A result
        column missing from some rows is NaN/None there.

    Raises
    ------
    TypeError, ValueError
        For a bad ``fn``, ``grid``, ``seeds``, ``on_error`` or cluster option.
    SweepError
        With ``on_error="raise"``, when a call failed.
    ImportError
        If dask.distributed or pandas is missing (``pip install "spikenet[sweep]"``).

    Examples
    --------
    >>> def rate(J, seed):
    ...     from spikenet.sim import LIF
    ...     return {"rate": float(LIF().rate(J))}
    >>> table = sweep(rate, {"J": [1.5, 2.0]}, client="serial", progress=False)
    >>> list(table["rate"].round(2))
    [41.71, 63.04]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if on_error not in ("keep", "raise"):
        raise ValueError(f"on_error must be 'keep' or 'raise', got {on_error!r}")
    if isinstance(threads_per_worker, bool) or not isinstance(threads_per_worker, numbers.Integral) \
            or threads_per_worker < 1:
        raise ValueError(f"threads_per_worker must be an int >= 1, got {threads_per_worker!r}")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral)
                                  or n_workers < 1):
        raise ValueError(f"n_workers must be an int >= 1 or None, got {n_workers!r}")
    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be a string such as 'tcp://host:8786', got {type(address).__name__}")
    points = grid_points(grid)
    seed_table = point_seeds(len(points), seeds, seed)
    calls = [(p, int(s)) for p, row in zip(points, seed_table) for s in row]

    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError('sweep needs pandas: pip install "spikenet[sweep]"') from exc

    if isinstance(client, str):
        if client != "serial":
            raise ValueError(f"client must be a distributed.Client or 'serial', got {client!r}")
        outcomes = _run_serial(fn, calls, progress)
    else:
        outcomes = _run_dask(fn, calls, client, address, n_workers, threads_per_worker, progress)

    rows = []
    failed = []
    for (params, s), (values, status, error, elapsed) in zip(calls, outcomes):
        row = dict(params)
        row["seed"] = s
        row.update(values)
        row["status"] = status
        row["error"] = error
        row["elapsed"] = elapsed
        rows.append(row)
        if status != "ok":
            failed.append((params, s, error))
    table = pd.DataFrame(rows)
    # The bookkeeping columns last, whatever order the results came in.
    cols = [c for c in table.columns if c not in ("status", "error", "elapsed")]
    table = table[[*cols, "status", "error", "elapsed"]]
    if failed:
        params, s, error = failed[0]
        first_line = error.splitlines()[0] if error else ""
        msg = (f"{len(failed)} of {len(calls)} sweep calls failed; first: {params} with seed={s}: "
               f"{first_line} (rows with status='error' hold the parameters and the error)")
        if on_error == "raise":
            raise SweepError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return table


def _progress_bar(total, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sweep", unit="call")


def _run_serial(fn, calls, progress):
    bar = _progress_bar(len(calls), progress)
    out = []
    try:
        for params, s in calls:
            out.append(_call(fn, params, s))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out


def _run_dask(fn, calls, client, address, n_workers, threads_per_worker, progress):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError('sweep needs dask.distributed: pip install "spikenet[sweep]"') from exc
    cluster = None
    own_client = None
    if client is None:
        if address is not None:
            own_client = client = Client(address)
        else:
            n = n_workers if n_workers is not None else (os.cpu_count() or 1)
            cluster = LocalCluster(n_workers=n, threads_per_worker=threads_per_worker, processes=True,
                                   dashboard_address=":0")
            own_client = client = Client(cluster)
    elif not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client or 'serial', got {type(client).__name__}")
    bar = _progress_bar(len(calls), progress)
    try:
        futures = [client.submit(_call, fn, params, s, pure=False) for params, s in calls]
        index = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(calls)
        for fut in as_completed(futures):
            if fut.status == "finished":
                out[index[fut.key]] = fut.result()
            else:  # the worker itself died (killed, out of memory...): still a row
                exc = fut.exception()
                out[index[fut.key]] = ({}, "error", f"{type(exc).__name__}: {exc}", float("nan"))
            if bar is not None:
                bar.update(1)
        return out
    finally:
        if bar is not None:
            bar.close()
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()
