"""The roofline script: its arithmetic against hand-worked numbers, and a run at tiny size."""

from __future__ import annotations

import json

import pytest

from benchmarks import roofline


def test_bound_is_the_slower_of_compute_and_memory():
    # 4 flops at 50 GFLOP/s = 0.08 ns; 41 B at 100 GB/s = 0.41 ns
    b, kind = roofline.bound_ns(4, 41, 50.0, 100.0)
    assert b == pytest.approx(0.41) and kind == "memory"
    # 272 flops at 50 GFLOP/s = 5.44 ns; 72 B at 100 GB/s = 0.72 ns
    b, kind = roofline.bound_ns(272, 72, 50.0, 100.0)
    assert b == pytest.approx(5.44) and kind == "compute"
    with pytest.raises(ValueError, match="peak_gflops"):
        roofline.bound_ns(1, 1, 0.0, 1.0)


def test_cache_level_is_the_smallest_cache_holding_the_working_set():
    caches = {"L1": 32 * 1024, "L2": 1024 * 1024, "L3": 32 * 2**20}
    assert roofline.cache_level(512 * 25, caches) == "L1"  # a 512-neuron LIF block
    assert roofline.cache_level(4000 * 49, caches) == "L2"  # CUBA-4000
    assert roofline.cache_level(10**5 * 49, caches) == "L3"
    assert roofline.cache_level(10**7 * 49, caches) == "DRAM"


def test_roofline_script_runs_at_tiny_size_and_writes_its_page(tmp_path):
    import numba

    doc, js = tmp_path / "roofline.md", tmp_path / "roofline.json"
    threads = numba.get_num_threads()
    assert roofline.main(["--tiny", "--rounds", "1", "--no-gate", "--doc", str(doc), "--json", str(js)]) == 0
    assert numba.get_num_threads() == threads  # measured on one thread, then restored
    page = doc.read_text()
    assert "## The machine" in page and "Smoke run" in page
    res = json.loads(js.read_text())
    peak = res["machine"]["peak_gflops_float64"]
    assert peak > 0 and res["machine"]["peak_gflops_float32"] > 0
    assert res["cpu"]["vector_bits"] in (128, 256, 512)
    for model, row in res["kernels"].items():
        kc = roofline.KERNELS[model]
        assert kc.name in page
        # the bound follows from the stated counts and the measured machine
        bw = res["machine"]["bandwidth_gbs"][row["level"]]
        assert row["bound_ns"] == pytest.approx(roofline.bound_ns(kc.flops, kc.bytes, peak, bw)[0])
        for which in ("spikenet", "limit"):
            assert row[which]["ns_median"] > 0
            assert row[which]["fraction_of_bound"] == pytest.approx(row["bound_ns"] / row[which]["ns_median"])


def test_limit_lif_kernel_counts_equal_the_closed_form_counts():
    # the limit kernel the LIF roofline row compares with: same spikes as the exact solution,
    # over several of its 256-neuron blocks (drives 0.5-3: silent and fast neurons)
    import numpy as np

    from benchmarks import cases
    from benchmarks import limit_kernels as lk

    J = cases.lif_drives(1000)
    counts = np.zeros(J.size, dtype=np.int64)
    lk.lif_run(J, 2000, 1e-4, cases.LIF_TAU_M, cases.LIF_TAU_REF, counts)
    np.testing.assert_array_equal(counts, cases.lif_analytic_counts(J, 0.2))
