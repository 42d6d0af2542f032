"""Where the CUBA loop's time goes: the network timed on variants that switch parts off.

Run as ``python -m benchmarks.profile_cuba_parts 64000`` (``NUMBA_NUM_THREADS=1`` for the
1-thread figures). Prints the best of two ``Network.run`` loop times for

- ``cuba``: the benchmark network;
- ``no-spikes``: the same with the bias lowered to 0.5 (the update passes alone);
- ``5.7Hz w=0 connected``: zero weights and a bias that fires at about the CUBA rate,
  so the synaptic delivery runs (adding zeros) with about the same number of spikes;
- ``5.7Hz ~unconnected``: the same bias with almost no synapses (event code only).

The differences give the cost of the update passes, of the spike events and of the
synaptic delivery (quoted in ``benchmarks/analysis.md``).
"""

from __future__ import annotations

import sys
import time


def _network(sn, cases, n, w_scale, bias, p_scale=1.0):
    import numpy as np

    net = sn.Network(dt=1e-4, seed=1)
    n_e, n_i, p = cases.cuba_sizes(n)
    lif = sn.LIF(tau_m=cases.CUBA_TAU_M, tau_ref=cases.CUBA_TAU_REF)
    v0 = np.random.default_rng(1).random(n)
    E = net.add_population(n_e, lif, bias=bias, init={"v": v0[:n_e]}, name="E")
    I = net.add_population(n_i, lif, bias=bias, init={"v": v0[n_e:]}, name="I")
    syn_e, syn_i = sn.PSCFilter(cases.CUBA_TAU_E), sn.PSCFilter(cases.CUBA_TAU_I)
    for pre, w, syn in ((E, cases.CUBA_JUMP_E * cases.CUBA_TAU_E * w_scale, syn_e),
                        (I, cases.CUBA_JUMP_I * cases.CUBA_TAU_I * w_scale, syn_i)):
        for post in (E, I):
            net.connect(pre, post, w, synapse=syn, p=p * p_scale)
    return net, E, I


def main(argv=None) -> int:
    """Print the loop time of each variant; see the module docstring."""
    import numpy as np

    import spikenet.sim as sn
    from benchmarks import cases

    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 64000
    # constant drive whose LIF rate (tau_ref 5 ms, tau_m 20 ms) is 5.7 Hz
    j_57 = 1.0 / (1.0 - np.exp(-(1 / 5.7 - cases.CUBA_TAU_REF) / cases.CUBA_TAU_M))
    variants = [("cuba", 1.0, cases.CUBA_BIAS, 1.0), ("no-spikes", 1.0, 0.5, 1.0),
                ("5.7Hz w=0 connected", 0.0, j_57, 1.0), ("5.7Hz ~unconnected", 0.0, j_57, 1e-9)]
    for label, w_scale, bias, p_scale in variants:
        best = float("inf")
        for _ in range(2):
            net, E, I = _network(sn, cases, n, w_scale, bias, p_scale)
            net.run(1e-4)  # builds the kernel's data structures (not timed, as in the benchmark)
            t0 = time.perf_counter()
            res = net.run(1.0 - 1e-4)
            best = min(best, time.perf_counter() - t0)
        spikes = sum(len(s) for s in res.spike_times[E]) + sum(len(s) for s in res.spike_times[I])
        print(f"{label:22s} loop {best:.3f} s, rate {spikes / n:.2f} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
