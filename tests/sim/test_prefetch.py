"""The prefetch hint used by synaptic delivery: it compiles, changes no value, and rejects bad arguments."""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from spikenet.sim.kernels.prefetch import prefetch


@njit
def _sum_with_prefetch(x, ahead):
    total = 0.0
    for i in range(x.shape[0]):
        if i + ahead < x.shape[0]:
            prefetch(x, i + ahead)
        total += x[i]
    return total


@njit
def _prefetch_scalar(x):
    prefetch(x, 0)


def test_prefetch_leaves_every_value_unchanged():
    x = np.random.default_rng(0).random(100_000)
    before = x.copy()
    for ahead in (0, 1, 64, 10**6):
        assert _sum_with_prefetch(x, ahead) == pytest.approx(x.sum(), rel=1e-12)
    np.testing.assert_array_equal(x, before)


def test_prefetch_works_on_int32_and_strided_arrays():
    idx = np.arange(1000, dtype=np.int32)
    assert _sum_with_prefetch(idx, 16) == idx.sum()
    assert _sum_with_prefetch(np.arange(200.0)[::2], 3) == np.arange(200.0)[::2].sum()


def test_prefetch_rejects_a_scalar():
    with pytest.raises(TypingError):
        _prefetch_scalar(1.0)


def test_prefetch_is_a_non_temporal_hint():
    # Rows are read once per spike: the hint must ask for no temporal
    # locality (LLVM's locality argument 0; prefetchnta on x86), not for every
    # cache level (3; prefetcht0), where rows would displace the neurons' state.
    import platform
    import re

    x = np.arange(64.0)
    _sum_with_prefetch(x, 8)
    sig = _sum_with_prefetch.signatures[0]
    calls = re.findall(r"call void @llvm\.prefetch[^(]*\(ptr [^,]+, i32 (\d), i32 (\d), i32 (\d)\)",
                       "".join(_sum_with_prefetch.inspect_llvm(sig)))
    assert calls and all(c == ("0", "0", "1") for c in calls)  # read, no locality, data cache
    if platform.machine() in ("x86_64", "AMD64"):
        asm = "".join(_sum_with_prefetch.inspect_asm(sig))
        assert "prefetchnta" in asm and "prefetcht0" not in asm
