"""Spiking throughput of a converted digits classifier, by step count, float type and thread count.

:func:`bench_conversion` trains the 64-128-10 SoftLIF digits network (the
recipe of ``spikenet.rate._digits_model``, a few seconds), converts it with
:func:`spikenet.rate.to_spiking` and times ``SpikingModel.run(X_test, T)`` on
the whole test set (450 images, one kernel call per run):

- the headline: the default conversion at ``T`` (5 steps of 1 ms), with its
  accuracy and spikes per image, beside the former defaults (5 ms PSC
  synapses, rate_scale 1, neurons from reset, float64) at 0.2 s;
- a grid: images per second at 5, 10, 25 and 200 steps, float32 and float64,
  1 and 2 Numba threads (those that ``NUMBA_NUM_THREADS`` allows), plus the
  PSC path at 25 and 200 steps. The cases are timed in alternating rounds
  (every case once per round), and each reports the median over the rounds.

The load average before and after is part of the result: timings taken on a
loaded machine are not comparable with other measurements.

Called by the benchmark runner (``benchmarks/__main__.py``); also runnable on
its own: ``python -m benchmarks.bench_conversion [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import time

#: Headline target (images per second for the whole test set, 2 cores).
TARGET_IMAGES_PER_S = 500.0
STEPS = (5, 10, 25, 200)
PSC_STEPS = (25, 200)
FORMER = {"rate_scale": 1.0, "v_init": 0.0, "dtype": "float64"}  # with synapse=PSCFilter(0.005)


def bench_conversion(
    T=0.005, dt=1e-3, repeats=5, n_images=None, epochs=30, seed=0, steps=STEPS, threads=(1, 2)
) -> dict:
    """Measure the spiking throughput and accuracy of the converted digits network.

    Parameters
    ----------
    T : float
        Simulated time of the headline run in seconds (5 steps of 1 ms).
    dt : float
        Time step in seconds.
    repeats : int
        Rounds of the grid (>= 1); every case is timed once per round.
    n_images : int, optional
        Use the first ``n_images`` test images (default: all 450).
    epochs : int
        Training epochs of the rate network (30 reaches about 96%).
    seed : int
        Seed of the data split, initialisation and mini-batch order.
    steps : tuple of int
        Step counts of the grid.
    threads : tuple of int
        Numba thread counts of the grid (those above ``NUMBA_NUM_THREADS`` are skipped).

    Returns
    -------
    dict
        Flat: ``images_per_s`` (headline, default threads; with
        ``images_per_s_min``/``_max``, ``run_s``, ``neuron_steps_per_s``),
        ``spiking_accuracy``, ``rate_accuracy``, ``spikes_per_image``,
        ``mean_rate_hz`` (hidden layer), ``target_images_per_s`` and ``met``, ``former_accuracy`` and
        ``former_spikes_per_image`` (former defaults at 0.2 s),
        ``first_call_s``, ``n_images``, ``T``, ``dt``, ``cpu_count``,
        ``numba_threads``, ``load_before``/``load_after`` (1-minute load
        average), and for every grid case ``ips_<path>_<dtype>_<threads>t_<steps>``
        (images per second, median over the rounds) and ``acc_<...>`` (accuracy).
    """
    import numba
    import torch

    from spikenet.rate import to_spiking
    from spikenet.rate._digits_model import accuracy, trained_digits_model
    from spikenet.sim import PSCFilter

    load_before = os.getloadavg()[0]
    model, (_, _, X_test, y_test) = trained_digits_model(hidden=(128,), epochs=epochs, seed=seed)
    if n_images is not None:
        X_test, y_test = X_test[:n_images], y_test[:n_images]
    with torch.no_grad():
        rate_acc = accuracy(model(X_test), y_test)
    x = X_test.numpy()
    n = len(x)
    max_threads = numba.config.NUMBA_NUM_THREADS
    default_threads = numba.get_num_threads()

    snn = to_spiking(model, dt=dt)
    t0 = time.perf_counter()
    snn.run(x[:2], T)
    first = time.perf_counter() - t0
    head = []
    for _ in range(max(1, int(repeats))):
        t0 = time.perf_counter()
        outputs = snn.run(x, T)
        head.append(time.perf_counter() - t0)
    run = snn.simulate(x, T)
    former = to_spiking(model, dt=dt, synapse=PSCFilter(0.005), **FORMER)
    former_T = round(0.2 / dt) * dt
    former_run = former.simulate(x, former_T)

    cases = {}
    for dtype in ("float32", "float64"):
        fast = to_spiking(model, dt=dt, dtype=dtype)
        for k in steps:
            for th in threads:
                cases[f"fast_{dtype}_{th}t_{k}"] = (fast, k, th)
    for k in PSC_STEPS:
        for th in threads:
            cases[f"psc_float64_{th}t_{k}"] = (former, k, th)
    cases = {key: c for key, c in cases.items() if c[2] <= max_threads}
    times = {key: [] for key in cases}
    acc = {}
    try:
        for key, (model_, k, th) in cases.items():  # warm-up (compilation), accuracy
            numba.set_num_threads(th)
            acc[key] = accuracy(model_.run(x, k * dt), y_test)
        for _ in range(max(1, int(repeats))):
            for key, (model_, k, th) in cases.items():
                numba.set_num_threads(th)
                t0 = time.perf_counter()
                model_.run(x, k * dt)
                times[key].append(time.perf_counter() - t0)
    finally:
        numba.set_num_threads(default_threads)

    med = statistics.median(head)
    res = {
        "images_per_s": n / med,
        "images_per_s_min": n / max(head),
        "images_per_s_max": n / min(head),
        "run_s": med,
        "first_call_s": first,
        "n_images": n,
        "T": T,
        "dt": dt,
        "steps": round(T / dt),
        "neuron_steps_per_s": n * round(T / dt) * sum(snn.sizes) / med,
        "rate_accuracy": rate_acc,
        "spiking_accuracy": accuracy(outputs, y_test),
        "mean_rate_hz": float(run.counts[0].mean() / dt),
        "target_images_per_s": TARGET_IMAGES_PER_S,
        "met": n / med >= TARGET_IMAGES_PER_S,
        "spikes_per_image": float(sum(c.sum() for c in run.counts) / n),
        "former_accuracy": accuracy(former_run.decoded(0.05), y_test),
        "former_spikes_per_image": float(sum(r.sum() for r in former_run.rasters) / n),
        "cpu_count": os.cpu_count(),
        "numba_threads": default_threads,
    }
    for key, ts in times.items():
        res[f"ips_{key}"] = n / statistics.median(ts)
        res[f"acc_{key}"] = acc[key]
    res["load_before"] = load_before
    res["load_after"] = os.getloadavg()[0]
    return res


def main(argv=None) -> int:
    """Print the measurement (``--quick``: 100 images, 10 training epochs, 3 rounds)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    kwargs = {"n_images": 100, "epochs": 10, "repeats": 3} if args.quick else {}
    res = bench_conversion(**kwargs)
    for key, value in res.items():
        print(f"{key:>32}: {value:.4g}" if isinstance(value, float) else f"{key:>32}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
