"""Chunked time loops that stop cleanly on Ctrl-C.

A compiled kernel cannot be interrupted: Python handles a signal only when
the kernel returns. The run loops of :func:`~spikenet.sim.simulate` and
:meth:`~spikenet.sim.Network.run` therefore call their kernel on chunks of
steps sized by wall time (:class:`ChunkClock`: about ``TARGET_SECONDS`` each,
so a Ctrl-C is seen within that time, at a cost of a few kernel calls per
second), and catch the first Ctrl-C of a run as a flag
(:class:`StopOnInterrupt`) that the loop checks between chunks, so that the
state is always that of a whole step and the steps done can be returned.
"""

from __future__ import annotations

import math
import signal
import threading
import time

__all__ = ["TARGET_SECONDS", "ChunkClock", "StopOnInterrupt"]

#: Wall time a chunk should last (s): the delay before a Ctrl-C is seen.
TARGET_SECONDS = 0.1
# A chunk is at most this many times longer than the one before (the first
# calls include compilation and the work per step can change over a run).
_GROWTH = 8


class ChunkClock:
    """Chooses chunk lengths (steps) so that each kernel call lasts about ``target`` seconds.

    Parameters
    ----------
    first : int
        Steps of the first chunk (>= 1): a guess that should take well under
        ``target``.
    target : float
        Wanted wall time of a chunk in seconds.
    most : int, optional
        Upper bound on a chunk's steps (e.g. set by the memory of per-step
        buffers).
    clock : callable, optional
        Time source in seconds (``time.perf_counter``); tests pass their own.

    Notes
    -----
    After a chunk of ``n`` steps that took ``s`` seconds the next has
    ``n * target / s`` steps, at most ``8 n``. The chunk lengths change the
    number of kernel calls only, never the results (the kernels carry their
    whole state from one call to the next).
    """

    def __init__(self, first, target=None, most=None, clock=time.perf_counter):
        self.size = max(1, int(first))
        self.target = TARGET_SECONDS if target is None else float(target)
        self.most = None if most is None else max(1, int(most))
        if self.most is not None:
            self.size = min(self.size, self.most)
        self.clock = clock
        self.calls = 0
        self._t0 = None

    def start(self, left):
        """Start timing a chunk; returns its length in steps (at most ``left``)."""
        self._t0 = self.clock()
        return max(1, min(self.size, int(left)))

    def done(self, steps):
        """Record that the chunk started by :meth:`start` ran ``steps`` steps."""
        self.calls += 1
        seconds = self.clock() - self._t0
        grow = self.size * _GROWTH if steps >= self.size else self.size  # a short tail says little
        want = grow if seconds <= 0 else steps * self.target / seconds
        if not math.isfinite(want):
            want = grow
        size = max(1, min(int(want), grow))
        self.size = size if self.most is None else min(size, self.most)


class StopOnInterrupt:
    """Context manager that turns the first Ctrl-C (SIGINT) of a run into a flag.

    Inside the ``with`` block the first SIGINT sets :attr:`hit` instead of
    raising ``KeyboardInterrupt``; the run loop checks it between chunks and
    returns what it has. A second Ctrl-C raises ``KeyboardInterrupt`` as
    usual. The handler is installed only in the main thread and only when
    Python's default handler is in place (a program with its own SIGINT
    handler keeps it); a run inside another one's block shares its flag.
    """

    def __init__(self):
        self._hit = False
        self._old = None
        self._outer = None

    @property
    def hit(self):
        """True once a Ctrl-C has been caught (here or by an enclosing run)."""
        return self._hit or (self._outer is not None and self._outer.hit)

    def stop(self):
        """Set the flag (as a Ctrl-C would)."""
        self._hit = True

    def _handler(self, signum, frame):
        if self.hit:
            raise KeyboardInterrupt
        self._hit = True

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        current = signal.getsignal(signal.SIGINT)
        owner = getattr(current, "__self__", None)
        if isinstance(owner, StopOnInterrupt):
            self._outer = owner
        elif current is signal.default_int_handler:
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None
        return False
