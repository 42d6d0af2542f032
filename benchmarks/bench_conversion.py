"""Spiking throughput of a converted digits classifier (issue 6, point 5).

:func:`bench_conversion` trains the 64-128-10 SoftLIF digits network (the
recipe of ``spikenet.rate._digits_model``, about 5 s), converts it with
:func:`spikenet.rate.to_spiking` (dt = 1 ms, PSC synapse 5 ms) and times
``SpikingModel.run(X_test, T=0.2)`` on the whole test set (450 images), which
simulates the batch in one Numba kernel call. The first, compiling call is
excluded (reported separately); the throughput is the median over
``repeats`` timed calls. Target: at least 500 test images per second on 2 cores.

Called by the benchmark runner (``benchmarks/__main__.py``); also runnable on
its own: ``python -m benchmarks.bench_conversion [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import time

TARGET_IMAGES_PER_S = 500.0


def bench_conversion(T=0.2, dt=1e-3, repeats=5, n_images=None, epochs=30, seed=0) -> dict:
    """Measure the spiking throughput and accuracy of the converted digits network.

    Parameters
    ----------
    T : float
        Simulated time per image in seconds (the issue's 0.2 s).
    dt : float
        Time step in seconds (the issue's 1 ms).
    repeats : int
        Timed runs (>= 1); the median is reported, with min and max.
    n_images : int, optional
        Use the first ``n_images`` test images (default: all 450).
    epochs : int
        Training epochs of the rate network (30 reaches >= 95%).
    seed : int
        Seed of the data split, initialisation and mini-batch order.

    Returns
    -------
    dict
        ``images_per_s`` (median), ``images_per_s_min``, ``images_per_s_max``,
        ``run_s`` (median seconds per batch run), ``first_call_s`` (includes
        loading or compiling the kernels), ``n_images``, ``T``, ``dt``,
        ``steps``, ``neuron_steps_per_s``, ``rate_accuracy``,
        ``spiking_accuracy``, ``mean_rate_hz`` (hidden layer), ``target_images_per_s``,
        ``met`` (bool), ``cpu_count`` and ``numba_threads``.
    """
    import numba
    import torch

    from spikenet.rate import to_spiking
    from spikenet.rate._digits_model import accuracy, trained_digits_model

    model, (_, _, X_test, y_test) = trained_digits_model(hidden=(128,), epochs=epochs, seed=seed)
    if n_images is not None:
        X_test, y_test = X_test[:n_images], y_test[:n_images]
    with torch.no_grad():
        rate_acc = accuracy(model(X_test), y_test)
    snn = to_spiking(model, dt=dt)
    x = X_test.numpy()

    t0 = time.perf_counter()
    snn.run(x[:2], T)
    first = time.perf_counter() - t0

    times, outputs = [], None
    for _ in range(max(1, int(repeats))):
        t0 = time.perf_counter()
        outputs = snn.run(x, T)
        times.append(time.perf_counter() - t0)
    run = snn.simulate(x, T)
    n = len(x)
    steps = round(T / dt)
    med = statistics.median(times)
    return {
        "images_per_s": n / med,
        "images_per_s_min": n / max(times),
        "images_per_s_max": n / min(times),
        "run_s": med,
        "first_call_s": first,
        "n_images": n,
        "T": T,
        "dt": dt,
        "steps": steps,
        "neuron_steps_per_s": n * steps * sum(snn.sizes) / med,
        "rate_accuracy": rate_acc,
        "spiking_accuracy": accuracy(outputs, y_test),
        "mean_rate_hz": float(run.rasters[0].mean() / dt),
        "target_images_per_s": TARGET_IMAGES_PER_S,
        "met": n / med >= TARGET_IMAGES_PER_S,
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
    }


def main(argv=None) -> int:
    """Print the measurement (``--quick``: 100 images, 10 training epochs, 3 repeats)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    kwargs = {"n_images": 100, "epochs": 10, "repeats": 3} if args.quick else {}
    res = bench_conversion(**kwargs)
    for key, value in res.items():
        print(f"{key:>20}: {value:.4g}" if isinstance(value, float) else f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
