"""Competitive Hebbian learning through STDP (Song, Miller & Abbott 2000): bimodal weights, regulated rate.

One LIF neuron receives 1,000 excitatory Poisson inputs (15 Hz) through
plastic synapses with additive, all-to-all pair STDP whose depression slightly
outweighs potentiation (``a_pre = 0.01 w_max``, ``a_post = -1.05 a_pre``, equal
time constants of 20 ms, as in Brian2's STDP example), hard bounds
``[0, w_max]``. Starting from uniform random weights, the synapses compete:
the weight distribution moves towards the two bounds (after the full 100 s,
seed 0: 22 % of the weights below 0.1 w_max and 18 % above 0.9 w_max,
against 10 % and 10 % at the start; Brian2's version of the model, with its
own Poisson inputs, ends at 21 % and 19 %) while the output rate is regulated
down (39 Hz in the first second, 17 Hz in the last). The neuron and synapse parameters are those of Brian2's
STDP example (membrane 10 ms, synapse 5 ms, reset 14/20 of the way from rest
to threshold), with current-based synapses: a spike delivers the charge
``w`` (the example's conductance times a driving force of 54 mV). The input
spikes come from a ``PoissonSource`` population generated inside the kernel;
one network runs the whole time, one second per ``run`` call (a run continues
where the previous one stopped, traces included). ``--quick`` runs 50 s with
2x larger steps.
Saves the paper's Fig. 1-style panels: weight histogram, final weight versus
input, output rate over time. ``--brian2`` also runs Brian2's version of the
same model and prints both wall times.

Run ``python examples/song_stdp.py [--out DIR] [--quick] [--seed S] [--brian2]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import LIF, STDP, Network, PoissonSource, PSCFilter

DT = 1e-4
N_IN = 1000
RATE = 15.0  # Hz per input
TAU_M, TAU_S = 0.010, 0.005
V_RESET = 14.0 / 20.0  # (v_r - E_l) / (v_t - E_l) of the paper's -60, -74 and -54 mV
# w_max: Brian2's gmax = 0.01 times tau_s times a driving force of 2.7 thresholds (54 mV)
W_MAX = 0.01 * TAU_S * 2.7
SEGMENT = 1.0  # s per run call (one point of the rate curve)


def stdp_rule(speed=1.0):
    """Song et al.'s rule with ``w_max`` in this model's charge units (``speed`` scales the steps)."""
    return STDP(tau_pre=0.02, tau_post=0.02, a_pre=0.01 * speed * W_MAX, a_post=-0.0105 * speed * W_MAX,
                w_min=0.0, w_max=W_MAX)


def build(W0, rule, seed):
    """The network: N_IN Poisson sources -> one LIF neuron through plastic current synapses."""
    net = Network(dt=DT, seed=seed)
    inputs = net.add_population(N_IN, PoissonSource(RATE), name="inputs")
    out = net.add_population(1, LIF(tau_m=TAU_M, tau_ref=0.0, v_reset=V_RESET), name="out")
    conn = net.connect(inputs, out, W0, synapse=PSCFilter(TAU_S), delay=DT, plasticity=rule)
    return net, conn


def song_brian2(W, T, rule, seed):
    """Brian2's version of the same model (Poisson inputs, event-driven STDP), for timing; returns W."""
    import brian2 as b2

    b2.start_scope()
    b2.seed(seed)
    b2.defaultclock.dt = DT * b2.second
    ns = {"tau_m": TAU_M * b2.second, "tau_s": TAU_S * b2.second, "taupre": rule.tau_pre * b2.second,
          "taupost": rule.tau_post * b2.second, "dApre": rule.a_pre, "dApost": rule.a_post,
          "wmax": rule.w_max, "v_reset": V_RESET, "tau_s_num": TAU_S}
    inputs = b2.PoissonGroup(N_IN, rates=RATE * b2.Hz)
    neuron = b2.NeuronGroup(1, """dv/dt = (I - v) / tau_m : 1
                                  dI/dt = -I / tau_s : 1""", threshold="v >= 1", reset="v = v_reset",
                            method="exact", namespace=ns)
    S = b2.Synapses(inputs, neuron, """w : 1
                    dApre/dt = -Apre / taupre : 1 (event-driven)
                    dApost/dt = -Apost / taupost : 1 (event-driven)""",
                    on_pre="""I += w / tau_s_num
                              Apre += dApre
                              w = clip(w + Apost, 0, wmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, wmax)""", namespace=ns)
    S.connect()
    S.w = W[0]
    b2.run(T * b2.second)
    return np.asarray(S.w)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="50 s with 2x larger STDP steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--brian2", action="store_true", help="also time Brian2's version of the model")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    T, speed = (50.0, 2.0) if args.quick else (100.0, 1.0)
    rule = stdp_rule(speed)
    rng = np.random.default_rng(args.seed)
    W0 = rng.uniform(0.0, W_MAX, (1, N_IN))
    net, conn = build(W0, rule, args.seed)
    n_seg = round(T / SEGMENT)
    rate = np.zeros(n_seg)
    t0 = time.perf_counter()
    for s in range(n_seg):
        res = net.run(SEGMENT)
        rate[s] = len(res.spike_times["out"][0]) / SEGMENT
    W = conn.weights
    elapsed = time.perf_counter() - t0
    w = W[0] / W_MAX
    low, high = np.mean(w < 0.1), np.mean(w > 0.9)
    print(f"spikenet: {T:g} s simulated in {elapsed:.1f} s")
    print(f"weights: {low:.0%} below 0.1 w_max, {high:.0%} above 0.9 w_max (bimodal: {low + high:.0%})")
    print(f"output rate: first {SEGMENT:g} s {rate[0]:.1f} Hz, last {SEGMENT:g} s {rate[-1]:.1f} Hz")
    if args.brian2:
        t1 = time.perf_counter()
        wb = song_brian2(W0, T, rule, args.seed) / W_MAX
        tb = time.perf_counter() - t1
        print(f"brian2 (runtime, {T:g} s): {tb:.1f} s; its weights {np.mean(wb < 0.1):.0%} below 0.1, "
              f"{np.mean(wb > 0.9):.0%} above 0.9 w_max")

    fig, (ax_h, ax_w, ax_r) = plt.subplots(1, 3, figsize=(13, 3.8))
    ax_h.hist(w, bins=20, range=(0, 1), color="tab:blue")
    ax_h.set_xlabel("weight / w_max")
    ax_h.set_ylabel("synapses")
    ax_h.set_title(f"final weights ({low + high:.0%} at the bounds)")
    ax_w.plot(np.arange(N_IN), w, ".", ms=2, color="k")
    ax_w.set_xlabel("input")
    ax_w.set_ylabel("weight / w_max")
    ax_w.set_title("weight versus input")
    ax_r.plot((np.arange(n_seg) + 0.5) * SEGMENT, rate, "-o", ms=3)
    ax_r.set_xlabel("time (s)")
    ax_r.set_ylabel("output rate (Hz)")
    ax_r.set_title("output rate per second")
    fig.suptitle(f"STDP with {N_IN} Poisson inputs at {RATE:g} Hz (Song, Miller & Abbott 2000)")
    path = save_figure(fig, args.out / "song_stdp.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
