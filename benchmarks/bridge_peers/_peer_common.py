"""Helpers shared by the peer runners; imported inside the peers' virtual environments.

Only numpy, torch and the standard library: the runners run in venvs that
have neither spikenet nor scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

RESULT_PREFIX = "BRIDGE_PEER_RESULT "


def parse_args(description):
    """Command line shared by every runner."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, help="npz file with X_train, y_train, X_test, y_test")
    p.add_argument("--steps", default="5,10,25,200", help="comma-separated step counts to evaluate")
    p.add_argument("--threads", default="1,2", help="comma-separated torch thread counts to time")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the runner's)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per (steps, threads); median kept")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", type=int, default=64, help="hidden units")
    args = p.parse_args()
    args.steps = [int(s) for s in args.steps.split(",") if s]
    args.threads = [int(s) for s in args.threads.split(",") if s]
    return args


def load(path):
    """The digits split as float32/int64 tensors."""
    with np.load(path, allow_pickle=False) as d:
        return (torch.as_tensor(d["X_train"], dtype=torch.float32), torch.as_tensor(d["y_train"]),
                torch.as_tensor(d["X_test"], dtype=torch.float32), torch.as_tensor(d["y_test"]))


def timed(fn, repeats):
    """Median wall time (s) of ``fn()`` over ``repeats`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def thread_settings():
    """The thread settings in force: torch intra-/inter-op threads, BLAS pools, thread variables.

    ``torch_parallel`` holds torch's own report of its OpenMP and MKL thread
    counts and parallel backend (``torch.__config__.parallel_info()``).
    BLAS pools are read with ``threadpoolctl`` where it is installed (else
    ``None``); the environment variables that set thread counts are copied
    as they are (absent ones are left out).
    """
    import os
    import sys

    info = {"torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                               "NUMBA_NUM_THREADS") if k in os.environ}}
    # torch's own view: OpenMP and MKL thread counts, the parallel backend
    info["torch_parallel"] = [ln.strip() for ln in torch.__config__.parallel_info().splitlines()
                              if ln.strip().startswith(("omp_get_max_threads", "mkl_get_max_threads",
                                                        "ATen parallel backend"))]
    numba = sys.modules.get("numba")  # spikenet's runner only
    if numba is not None:
        info["numba_threads"] = numba.get_num_threads()
        info["numba_max_threads"] = numba.config.NUMBA_NUM_THREADS
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["blas"] = None
    else:
        info["blas"] = [{"api": p.get("internal_api"), "threads": p.get("num_threads")}
                        for p in threadpool_info()]
    return info


def measure(predict, X, y, steps_list, threads_list, repeats, set_threads=None):
    """Accuracy at each step count (1 thread) and images/s per (threads, steps).

    ``predict(X, steps)`` returns class indices for the whole batch.
    ``set_threads(t)`` switches the library to ``t`` threads (default
    ``torch.set_num_threads``); the thread settings in force while each
    thread count was timed are recorded under ``thread_settings``.
    """
    set_threads = torch.set_num_threads if set_threads is None else set_threads
    out = {"accuracy": {}, "images_per_s": {}, "seconds": {}, "thread_settings": {}}
    set_threads(1)
    with torch.no_grad():
        for s in steps_list:
            out["accuracy"][str(s)] = float((predict(X, s) == y).float().mean())
        for t in threads_list:
            set_threads(t)
            out["thread_settings"][str(t)] = thread_settings()
            out["images_per_s"][str(t)] = {}
            out["seconds"][str(t)] = {}
            for s in steps_list:
                sec = timed(lambda s=s: predict(X, s), repeats)
                out["seconds"][str(t)][str(s)] = sec
                out["images_per_s"][str(t)][str(s)] = len(X) / sec
    return out


def emit(result):
    """Print the result as one JSON line that the benchmark parses."""
    print(RESULT_PREFIX + json.dumps(result, sort_keys=True), flush=True)
