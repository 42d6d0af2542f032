"""The measurement protocol: alternating rounds, the load gate and per-round ratios.

This module imports only the standard library; it knows nothing about
simulators, so that its rules can be tested with fake runners and a fake load
reader.

Rounds
------
A case is measured in rounds. Each round runs every simulator of the case
once, in an order that alternates between rounds: the configured order in
even rounds, the reverse in odd rounds (A B C, C B A, A B C, ...), so that a
drift of the machine during a round (a warming CPU, a starting job) does not
always hit the same simulator first. :func:`round_order`.

Load gate
---------
Before every measured run the gate reads the 1-minute load average. Runs of
the suite itself raise it too (a 1-thread process that runs back to back
drives it towards 1), so the gate subtracts the suite's own share,
estimated from the CPU time its finished runs used (:class:`OwnLoad`), and
compares what is left, the load of *other* processes, with
``max_per_core x cores`` (0.3 per core by default). Above it, the run is not
started (it is discarded before it can measure anything) and the gate waits
``wait_s`` seconds and reads again, at most ``retries`` times; if the machine
never becomes quiet the run is made anyway and flagged ``over_load``, and the
case it belongs to is reported INVALID. Every reading (the raw load average,
the suite's own estimated share, the rest) is kept with the run.

Ratios
------
A ratio between two simulators is computed per round, from their runs of that
round, and reported as the median over rounds with its spread (min, max and
the interquartile range). :func:`ratio_stats`.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Maximum load average of other processes per core at the start of a run.
MAX_LOAD_PER_CORE = 0.3
#: The kernel's 1-minute load average decays with this time constant (s).
LOAD_TAU_S = 60.0


def round_order(items, k: int) -> list:
    """The order of ``items`` in round ``k`` (0-based): as given in even rounds, reversed in odd ones.

    Parameters
    ----------
    items : sequence
        The simulators (or any labels) of a case, in their configured order.
    k : int
        Round index, >= 0.

    Returns
    -------
    list
        A new list with the items in the order of round ``k``.
    """
    if k < 0:
        raise ValueError(f"round index k must be >= 0, got {k}")
    items = list(items)
    return items if k % 2 == 0 else items[::-1]


def read_load_1m() -> float:
    """The 1-minute load average (``os.getloadavg()[0]``), NaN where the OS has none."""
    try:
        return float(os.getloadavg()[0])
    except (OSError, AttributeError):  # pragma: no cover - not on Linux/macOS
        return float("nan")


@dataclass
class OwnLoad:
    """The suite's own share of the 1-minute load average.

    Each finished run adds an interval ``[start, end]`` (``time.time()``
    seconds) during which it used ``cpu_s`` seconds of CPU time (user plus
    system, its threads and children together), i.e. ``k = cpu_s / (end -
    start)`` busy threads on average. The load average is an exponential
    average of the number of runnable threads with time constant
    ``LOAD_TAU_S``, so at time ``t`` that run contributes
    ``k (exp(-(t - end) / tau) - exp(-(t - start) / tau))``. CPU time
    counts only the time a thread ran, not the time it waited for a core, so
    the estimate is at most the true share: the load left to the others is
    over- rather than under-estimated.
    """

    tau_s: float = LOAD_TAU_S
    intervals: list = field(default_factory=list)

    def add(self, start: float, end: float, cpu_s: float) -> None:
        """Record a finished run: wall-clock start and end (s) and its CPU time (s)."""
        if end > start and cpu_s > 0:
            self.intervals.append((float(start), float(end), float(cpu_s)))

    def estimate(self, t: float) -> float:
        """Estimated share of the suite in the load average at time ``t`` (s)."""
        total, keep = 0.0, []
        for start, end, cpu in self.intervals:
            if t - end > 10 * self.tau_s:  # below 5e-5 of its height: forget it
                continue
            keep.append((start, end, cpu))
            k = cpu / (end - start)
            total += k * (math.exp(-max(t - end, 0.0) / self.tau_s)
                          - math.exp(-max(t - start, 0.0) / self.tau_s))
        self.intervals = keep
        return total


@dataclass
class LoadGate:
    """Reads the load before each run; waits, retries, or flags the run (see the module docstring).

    Parameters
    ----------
    max_per_core : float
        Highest load of other processes per core at which a run may start.
    cores : int
        Cores of the machine (default ``os.cpu_count()``).
    retries : int
        Readings after the first one before giving up and running anyway.
    wait_s : float
        Seconds to wait between readings.
    enforce : bool
        False: record the readings and flag runs above the limit, but never wait.
    read_load : callable
        Returns the 1-minute load average (injected in tests).
    sleep, clock : callable
        ``time.sleep`` and ``time.time`` (injected in tests).
    """

    max_per_core: float = MAX_LOAD_PER_CORE
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    retries: int = 8
    wait_s: float = 15.0
    enforce: bool = True
    read_load: Callable[[], float] = read_load_1m
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    own: OwnLoad = field(default_factory=OwnLoad)

    def __post_init__(self):
        if not self.max_per_core > 0:
            raise ValueError(f"max_per_core must be > 0, got {self.max_per_core}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")
        if self.cores < 1:
            raise ValueError(f"cores must be >= 1, got {self.cores}")

    @property
    def limit(self) -> float:
        """Highest load of other processes (whole machine) at which a run may start."""
        return self.max_per_core * self.cores

    def reading(self) -> dict:
        """One reading: ``load_1m`` (raw), ``own`` (the suite's estimated share), ``others``, ``ok``."""
        t = self.clock()
        load = float(self.read_load())
        own = self.own.estimate(t)
        others = load - own
        ok = not (others > self.limit)  # NaN (no load average): ok, the report says so
        return {"time": t, "load_1m": load, "own": own, "others": others,
                "per_core": others / self.cores, "ok": ok}

    def run(self, fn: Callable[[], object], log=None) -> tuple[object, dict]:
        """Run ``fn()`` once the machine is quiet; returns ``(fn's result, gate record)``.

        The gate record has ``load`` (the reading the run started with),
        ``discarded`` (the readings of the attempts that were not started) and
        ``over_load`` (True when the run started above the limit because the
        retries ran out, or because the gate does not enforce).
        """
        discarded = []
        r = self.reading()
        while not r["ok"] and self.enforce and len(discarded) < self.retries:
            discarded.append(r)
            if log is not None:
                log(f"    load {r['load_1m']:.2f} (others {r['others']:.2f}) above "
                    f"{self.limit:.2f}: waiting {self.wait_s:g} s "
                    f"({len(discarded)}/{self.retries})")
            self.sleep(self.wait_s)
            r = self.reading()
        start = self.clock()
        result = fn()
        end = self.clock()
        cpu = getattr(result, "cpu_s", None)
        if cpu is None and isinstance(result, dict):
            cpu = result.get("cpu_s")
        if cpu:
            self.own.add(start, end, cpu)
        return result, {"load": r, "discarded": discarded, "over_load": not r["ok"]}


def run_rounds(items, n_rounds: int, run_one: Callable, gate: LoadGate | None = None,
               log=None, keep_going: Callable | None = None,
               on_done: Callable | None = None) -> list[dict]:
    """Run every item once per round, in alternating order, through the load gate.

    Parameters
    ----------
    items : sequence
        The simulators of a case (any labels), in their configured order.
    n_rounds : int
        Number of rounds, >= 1.
    run_one : callable
        ``run_one(item, k)`` makes one run of ``item`` in round ``k`` and
        returns its result.
    gate : LoadGate, optional
        None: runs start without reading the load.
    log : callable, optional
        Receives progress lines.
    keep_going : callable, optional
        ``keep_going(item)`` false skips the item's remaining runs (e.g. after
        a failed run).
    on_done : callable, optional
        Called with each run's record as soon as the run has finished.

    Returns
    -------
    list of dict
        One record per run, in the order they ran: ``item``, ``round``,
        ``result`` and the gate record (``load``, ``discarded``, ``over_load``).
    """
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be >= 1, got {n_rounds}")
    records = []
    for k in range(n_rounds):
        for item in round_order(items, k):
            if keep_going is not None and not keep_going(item):
                continue
            if gate is None:
                result, g = run_one(item, k), {"load": None, "discarded": [], "over_load": False}
            else:
                result, g = gate.run(lambda item=item, k=k: run_one(item, k), log=log)
            records.append({"item": item, "round": k, "result": result, **g})
            if on_done is not None:
                on_done(records[-1])
    return records


def ratio_stats(a_by_round: dict, b_by_round: dict) -> dict | None:
    """Median and spread of the per-round ratios ``a / b``.

    Parameters
    ----------
    a_by_round, b_by_round : dict
        Round index -> value of the two simulators (a run missing from either
        side, or a value that is not a positive finite number, drops the round).

    Returns
    -------
    dict or None
        ``median``, ``min``, ``max``, ``q1``, ``q3`` (quartiles by linear
        interpolation between the sorted ratios, ``statistics.quantiles``
        with the inclusive method; both equal the ratio when there is one
        round), ``n`` (rounds used) and ``values`` (the ratios in round
        order); None when no round has both values.
    """
    ratios = {}
    for k in sorted(set(a_by_round) & set(b_by_round)):
        a, b = a_by_round[k], b_by_round[k]
        if _positive(a) and _positive(b):
            ratios[k] = a / b
    if not ratios:
        return None
    vals = list(ratios.values())
    if len(vals) >= 2:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    else:
        q1 = q3 = vals[0]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "q1": q1,
            "q3": q3, "n": len(vals), "values": [ratios[k] for k in sorted(ratios)]}


def _positive(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0
