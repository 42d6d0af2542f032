"""Depressing and facilitating synapses: Tsodyks-Markram short-term plasticity.

A presynaptic neuron fires a regular train of eight spikes at 20 Hz and, half
a second later, one test spike; the postsynaptic potentials it evokes through
a depressing synapse (U = 0.5, tau_rec = 0.8 s; Tsodyks & Markram 1997) shrink
along the train and have partly recovered by the test spike, while through a
facilitating one (U = 0.03, tau_rec = 0.13 s, tau_facil = 0.53 s; Markram et
al. 1998) they grow. A second panel follows the amplitude at the steady state
of long regular trains versus their rate: the simulation reaches the
closed-form fixed point ``u* x* / U`` of the Tsodyks-Markram recursion.

Run ``python examples/stp_synapses.py [--out DIR] [--quick]``; figures go to
``DIR`` (default ``examples/output/``).
"""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import LIF, Delta, Network, PSCFilter, TsodyksMarkram
from spikenet.sim.stp import steady_state

DT = 1e-4
TAU_M = 0.05  # membrane, s (Tsodyks & Markram 1997)
TAU_S = 0.003  # synaptic current, s
RULES = {
    "depressing": TsodyksMarkram(U=0.5, tau_rec=0.8),
    "facilitating": TsodyksMarkram(U=0.03, tau_rec=0.13, tau_facil=0.53),
}


def _driven(net, raster):
    """Population whose neuron i fires at the end of step k where ``raster[k, i]`` (a large jump)."""
    n = raster.shape[1]
    pop = net.add_population(n, LIF(tau_m=TAU_M, tau_ref=0.0), name="pre")
    net.add_input(pop, spikes=raster, weights=2.0 * np.eye(n), synapse=Delta())
    return pop


def epsp_trains():
    """Voltage of a passive neuron (never fires) behind each synapse: ``(t, {name: v}, spike times)``."""
    T = 1.0
    steps = round(T / DT)
    raster = np.zeros((steps, 1), bool)
    train = 0.1 + 0.05 * np.arange(8)
    raster[np.rint(np.append(train, train[-1] + 0.5) / DT).astype(int), 0] = True
    net = Network(dt=DT)
    pre = _driven(net, raster)
    posts = {}
    for name, rule in RULES.items():
        posts[name] = net.add_population(1, LIF(tau_m=TAU_M, v_th=1e6), name=name)
        # the same first amplitude w U for both synapses
        net.connect(pre, posts[name], 0.005 / rule.U, synapse=PSCFilter(TAU_S), delay=DT, plasticity=rule)
    res = net.run(T, record=dict.fromkeys(posts.values(), "v"))
    times = np.append(train, train[-1] + 0.5)
    return res.t, {name: res[pop, "v"][:, 0] for name, pop in posts.items()}, times


def epsp_peaks(t, v, times):
    """Peak of each EPSP above the voltage just before its spike (V_pre), one per spike time."""
    edges = np.searchsorted(t, [*times, t[-1] + 1])
    return np.array([v[a:b].max() - v[a] for a, b in itertools.pairwise(edges)])


def steady_ratios(rates, T):
    """Simulated amplitude of the last spike over the first, for regular trains at ``rates`` (Hz)."""
    steps = round(T / DT)
    raster = np.zeros((steps, len(rates)), bool)
    for i, r in enumerate(rates):
        raster[:steps - 10:round(1 / r / DT), i] = True
    net = Network(dt=DT)
    pre = _driven(net, raster)
    out = {}
    for name, rule in RULES.items():
        post = net.add_population(len(rates), LIF(tau_m=TAU_M, v_th=1e6), name=name)
        # one-to-one, as a dense matrix: the same compiled kernel as the network above
        net.connect(pre, post, np.eye(len(rates)), synapse=Delta(), delay=DT, plasticity=rule)
        out[name] = post
    res = net.run(T, record=dict.fromkeys(out.values(), "v"))
    ratios = {}
    a = math.exp(-DT / TAU_M)
    for name, post in out.items():
        v = res[post, "v"]
        jumps = v[1:] - a * v[:-1]  # the jump arriving in each step (the neuron is passive)
        ratios[name] = np.array([jumps[np.abs(jumps[:, i]) > 1e-12, i][[0, -1]] for i in range(len(rates))])
    return {name: r[:, 1] / r[:, 0] for name, r in ratios.items()}


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="fewer rates, shorter trains")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    t, volt, times = epsp_trains()
    rates = np.array([10.0, 20.0, 40.0] if args.quick else [5.0, 10.0, 20.0, 40.0, 80.0])
    ratios = steady_ratios(rates, 6.0 if args.quick else 20.0)

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")
    for ax, (name, v) in zip(axes[:2], volt.items()):
        peaks = epsp_peaks(t, v, times)
        print(f"{name}: EPSP peaks " + ", ".join(f"{p:.5f}" for p in peaks))
        ax.plot(t, v, color="C0" if name == "depressing" else "C3")
        ax.set_title(f"{name} synapse (U = {RULES[name].U:g})")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("v (threshold units)")
    fine = np.geomspace(rates[0] / 2, rates[-1] * 1.5, 200)
    for name, color in (("depressing", "C0"), ("facilitating", "C3")):
        rule = RULES[name]
        exact = np.array([np.prod(steady_state(rule, r)) / rule.U for r in fine])
        axes[2].plot(fine, exact, color=color, label=f"{name}: u* x* / U")
        axes[2].plot(rates, ratios[name], "o", color=color, label=f"{name}: simulated")
        for r, sim in zip(rates, ratios[name]):
            ana = np.prod(steady_state(rule, r)) / rule.U
            print(f"{name} at {r:g} Hz: steady/first amplitude simulated {sim:.8f} analytic {ana:.8f} "
                  f"relative error {abs(sim / ana - 1):.2e}")
    axes[2].set_xscale("log")
    axes[2].set_xticks(rates, [f"{r:g}" for r in rates])
    axes[2].minorticks_off()
    axes[2].set_yscale("log")
    axes[2].set_xlabel("presynaptic rate (Hz)")
    axes[2].set_ylabel("steady amplitude / first amplitude")
    axes[2].legend(fontsize=8)
    paths = [save_figure(fig, args.out / "stp_synapses.png", quick=args.quick, dpi=100)]
    for p in paths:
        print(f"wrote {p}")
    return paths


if __name__ == "__main__":
    main()
