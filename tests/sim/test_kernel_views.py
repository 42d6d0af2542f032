"""Helpers of the kernels' hot loops: borrowed views, the event-flag scan, the vector width."""

import re

import llvmlite.binding as llvm
import numpy as np
import pytest
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

from spikenet.sim.kernels.args import Parts
from spikenet.sim.kernels.borrow import borrow
from spikenet.sim.kernels.flagscan import lowest_flag
from spikenet.sim.kernels.flagscan import next_word as _next_word
from spikenet.sim.kernels.vectorwidth import wide_vectors, wide_vectors_unless_none


@njit
def _add_through_borrowed_views(x, row, lo, hi, c):
    xb = borrow(x)
    view = xb[row, lo:hi]
    for i in range(view.shape[0]):
        view[i] += c
    return xb[row, lo:hi].sum(), xb.shape[0], xb.shape[1]


@njit
def _borrow_scalar(x):
    return borrow(x)


@njit
def _add_through_a_borrowed_group(parts, c):
    n, lo, hi = borrow(parts)
    for i in range(lo.shape[1]):
        lo[0, i] += c
        hi[0, i] += 2 * c
    return n, lo[0].sum(), hi[0].sum()


@intrinsic
def _counted(typingctx, arr):
    """True when the array has a memory-info block (its views and calls are reference-counted)."""
    def codegen(context, builder, signature, args):
        ary = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0])
        return cgutils.is_not_null(builder, ary.meminfo)

    return types.boolean(arr), codegen


@njit
def _counted_before_and_after_borrowing(parts):
    borrowed = borrow(parts)
    return (_counted(parts.part_lo), _counted(parts.part_hi), _counted(borrowed.part_lo),
            _counted(borrowed.part_hi), _counted(borrow(parts.part_lo)))


@njit
def _scan_all(words, n):
    out = []
    w = _next_word(words, 0, n)
    while w < n:
        out.append(w)
        w = _next_word(words, w + 1, n)
    return out


@njit
def _flagged_neurons(words, n):
    """Every flagged byte's index, visited word by word as the LIF kernel does."""
    out = []
    w = _next_word(words, 0, n)
    while w < n:
        word = words[w]
        while word != 0:
            out.append(8 * w + np.int64(lowest_flag(word)))
            word &= word - np.uint64(1)
        w = _next_word(words, w + 1, n)
    return out


def test_borrowed_views_read_and_write_the_arrays_memory():
    x = np.arange(24.0).reshape(4, 6)
    expect = x.copy()
    expect[2, 1:5] += 0.5
    total, n0, n1 = _add_through_borrowed_views(x, 2, 1, 5, 0.5)
    np.testing.assert_array_equal(x, expect)
    assert total == expect[2, 1:5].sum()
    assert (n0, n1) == x.shape


def test_borrowed_view_of_a_strided_array_keeps_its_strides():
    base = np.zeros((4, 12))
    x = base[:, ::3]  # not contiguous
    _add_through_borrowed_views(x, 1, 0, 4, 2.0)
    expect = np.zeros((4, 12))
    expect[1, ::3] = 2.0
    np.testing.assert_array_equal(base, expect)


def test_borrow_rejects_a_scalar():
    with pytest.raises(TypingError):
        _borrow_scalar(1.0)


def test_borrowing_an_argument_group_borrows_each_array_and_keeps_its_number():
    parts = Parts(3, np.arange(4).reshape(1, 4), np.arange(4, 8).reshape(1, 4))
    n, lo_sum, hi_sum = _add_through_a_borrowed_group(parts, 10)
    assert n == 3
    np.testing.assert_array_equal(parts.part_lo, [[10, 11, 12, 13]])
    np.testing.assert_array_equal(parts.part_hi, [[24, 25, 26, 27]])
    assert (lo_sum, hi_sum) == (46, 102)


def test_a_borrowed_group_and_a_borrowed_array_carry_no_reference_count():
    parts = Parts(3, np.arange(4).reshape(1, 4), np.arange(4, 8).reshape(1, 4))
    assert _counted_before_and_after_borrowing(parts) == (True, True, False, False, False)


def test_borrow_rejects_a_tuple_without_arrays_or_with_other_members():
    with pytest.raises(TypingError):
        _borrow_scalar((1.0, 2))
    with pytest.raises(TypingError):
        _borrow_scalar((np.zeros(2), (np.zeros(2),)))


@pytest.mark.parametrize("density", [0.0, 0.01, 0.2, 1.0])
def test_flag_word_scan_finds_exactly_the_nonzero_words(density):
    rng = np.random.default_rng(int(density * 100))
    for n in (0, 1, 3, 4, 5, 127, 128):
        flags = (rng.random(8 * n) < density).astype(np.uint8)
        words = flags.view(np.uint64)
        assert _scan_all(words, n) == np.flatnonzero(words).tolist()
        # a prefix of the words: nothing past n is reported
        if n > 2:
            assert _scan_all(words, n - 2) == np.flatnonzero(words[:n - 2]).tolist()


@pytest.mark.parametrize("density", [0.0, 0.01, 0.3, 1.0])
def test_lowest_flag_visits_exactly_the_flagged_neurons_in_order(density):
    rng = np.random.default_rng(int(density * 100) + 7)
    for n in (0, 1, 5, 128):
        flags = (rng.random(8 * n) < density).astype(np.uint8)
        flags[-1:] = 1 if n and density > 0 else flags[-1:]  # the last byte of the last word
        words = flags.view(np.uint64)
        assert _flagged_neurons(words, n) == np.flatnonzero(flags).tolist()


def _decay_pass(x, y, a, b):
    for i in range(x.shape[0]):
        y[i] = a * x[i] + b if x[i] < 1.0 else 0.0


def _wide_decay_pass(x, y, a, b):
    wide_vectors()
    for i in range(x.shape[0]):
        y[i] = a * x[i] + b if x[i] < 1.0 else 0.0


def test_wide_vectors_marks_its_function_and_changes_no_result():
    # The same loop compiled with and without the mark: bit-identical output,
    # and only the marked function carries LLVM's vector-width attribute. On a
    # CPU with AVX-512, only the marked loop uses 512-bit registers (zmm).
    plain, wide = njit(_decay_pass), njit(_wide_decay_pass)
    x = np.random.default_rng(0).random(1001) * 1.2
    y_plain, y_wide = np.empty_like(x), np.empty_like(x)
    plain(x, y_plain, 0.97, 0.011)
    wide(x, y_wide, 0.97, 0.011)
    np.testing.assert_array_equal(y_wide, y_plain)
    attribute = '"prefer-vector-width"="512"'
    assert attribute in "".join(wide.inspect_llvm().values())
    assert attribute not in "".join(plain.inspect_llvm().values())
    if "+avx512f" in llvm.get_host_cpu_features().flatten():
        zmm = [len(re.findall("zmm", "".join(f.inspect_asm().values()))) for f in (plain, wide)]
        assert zmm[0] == 0 and zmm[1] > 0


def _maybe_wide_decay_pass(x, y, a, b, wide):
    wide_vectors_unless_none(wide)
    for i in range(x.shape[0]):
        y[i] = a * x[i] + b if x[i] < 1.0 else 0.0


def test_the_width_is_a_compile_time_choice_of_the_callers_argument():
    # None compiles the plain loop, True the marked one: two specialisations
    # of one function, with the same results.
    f = njit(_maybe_wide_decay_pass)
    x = np.random.default_rng(1).random(777) * 1.2
    y_none, y_true = np.empty_like(x), np.empty_like(x)
    f(x, y_none, 0.9, 0.05, None)
    f(x, y_true, 0.9, 0.05, True)
    np.testing.assert_array_equal(y_none, y_true)
    assert len(f.signatures) == 2
    ir = {str(sig[-1]): "".join(f.inspect_llvm(sig)) for sig in f.signatures}
    attribute = '"prefer-vector-width"="512"'
    assert attribute not in ir["none"] and attribute in ir["bool"]


def test_the_flag_scan_refuses_a_big_endian_machine_with_an_import_error(monkeypatch):
    # an ImportError raised by a test of sys.byteorder, not an assert, which python -O strips
    import importlib
    import sys

    from spikenet.sim.kernels import flagscan

    monkeypatch.setattr(sys, "byteorder", "big")
    with pytest.raises(ImportError, match="little-endian"):
        importlib.reload(flagscan)
    monkeypatch.undo()
    importlib.reload(flagscan)  # the module as it was, for the tests that follow
