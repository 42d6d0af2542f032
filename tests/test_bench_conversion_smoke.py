"""benchmarks/bench_conversion.py runs at a tiny size and returns every documented number.

No speed is asserted here (speed targets live in the benchmark report).
"""

import math

import pytest


def test_bench_conversion_returns_its_measurements():
    from benchmarks.bench_conversion import TARGET_IMAGES_PER_S, bench_conversion

    res = bench_conversion(T=0.05, repeats=1, n_images=20, epochs=2)
    import numba

    expected = {
        "images_per_s", "images_per_s_min", "images_per_s_max", "run_s", "first_call_s", "n_images", "T",
        "dt", "steps", "neuron_steps_per_s", "rate_accuracy", "spiking_accuracy", "mean_rate_hz",
        "target_images_per_s", "met", "cpu_count", "numba_threads", "spikes_per_image", "former_accuracy",
        "former_spikes_per_image", "load_before", "load_after",
    }  # fmt: skip
    threads = [t for t in (1, 2) if t <= numba.config.NUMBA_NUM_THREADS]
    grid = [f"fast_{d}_{t}t_{k}" for d in ("float32", "float64") for t in threads for k in (5, 10, 25, 200)]
    grid += [f"psc_float64_{t}t_{k}" for t in threads for k in (25, 200)]
    expected |= {f"{q}_{case}" for q in ("ips", "acc") for case in grid}
    assert set(res) == expected
    assert all(res[f"ips_{case}"] > 0 and 0 <= res[f"acc_{case}"] <= 1 for case in grid)
    assert res["spikes_per_image"] > 0 and res["former_spikes_per_image"] > 0
    assert res["n_images"] == 20 and res["steps"] == 50
    assert math.isfinite(res["images_per_s"]) and res["images_per_s"] > 0
    assert res["neuron_steps_per_s"] == pytest.approx(res["images_per_s"] * 50 * 128, rel=1e-12)
    assert 0 <= res["spiking_accuracy"] <= 1 and 0 <= res["rate_accuracy"] <= 1
    assert res["mean_rate_hz"] > 0
    assert res["met"] == (res["images_per_s"] >= TARGET_IMAGES_PER_S)
