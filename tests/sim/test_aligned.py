"""The network's streamed state arrays start on a cache line (spikenet/sim/_aligned.py)."""

import numpy as np
import pytest

from spikenet.sim import LIF, Network, PSCFilter
from spikenet.sim._aligned import LINE, aligned


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 0), (1, 4000)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int64])
def test_aligned_copy_has_the_values_and_starts_on_a_cache_line(shape, dtype):
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    for _ in range(20):  # whatever the allocator returns
        out = aligned(a)
        assert out.ctypes.data % LINE == 0 or out.size == 0  # (an empty array has no data to place)
        assert out.dtype == a.dtype and out.shape == a.shape and out.flags.c_contiguous
        np.testing.assert_array_equal(out, a)
        assert not np.shares_memory(out, a)
        out[...] = 0  # writeable


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [None, 3])
def test_the_network_state_arrays_start_on_a_cache_line(dtype, batch):
    net = Network(dt=1e-4, dtype=dtype, batch=batch, seed=0)
    a = net.add_population(13, LIF(), bias=1.2, name="a")
    b = net.add_population(5, LIF(), bias=0.9, name="b")
    net.connect(a, b, 0.1, synapse=PSCFilter(0.005), p=0.5)
    net.run(1e-3)
    built = net._built
    for key in ("v", "ref_end", "gm", "stages", "scratch", "jconst", "flags", "flag_words", "zeros", "dbuf",
                "pop_jblock"):
        assert built[key].ctypes.data % LINE == 0, key
