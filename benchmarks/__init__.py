"""Benchmarks of spikenet against Brian2, NEST and bare Numba kernels.

Run ``python -m benchmarks --help`` (or ``spikenet bench --help``) from the
repository root. Every measurement runs one simulator on one case in a fresh
Python process, so that whole-process wall time, compiled-code caches and peak
memory are real; :mod:`benchmarks.measure` drives those processes,
:mod:`benchmarks.protocol` decides their order (alternating rounds) and when
they may start (the load gate), and :mod:`benchmarks.report` writes the report
into the ``--out`` folder (``docs/benchmarks.md`` only with ``--update-docs``).

Modules
-------
cases
    The benchmark cases (CUBA network, uncoupled LIF, Hodgkin-Huxley), their
    parameters and the agreement checks between simulators.
run_spikenet, run_brian2, run_nest, run_limit
    One worker per simulator, run as ``python -m benchmarks.run_<sim>``.
limit_kernels
    Minimal hand-written Numba kernels doing the same arithmetic as spikenet:
    the "limit" column, i.e. what the hardware gives without any framework.
measure
    Subprocess driver: caches (warm or empty), repeats, timings, ``ru_maxrss``.
protocol
    Alternating rounds, the load gate, medians of per-round ratios.
report
    Tables, target verdicts, build options, the loop-time plot and the report.
"""
