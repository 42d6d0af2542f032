"""Izhikevich (2003) network: 1,000 randomly coupled neurons with alpha and gamma rhythms.

The network of Izhikevich's "Simple model of spiking neurons" (IEEE
Transactions on Neural Networks 14(6), 2003, Fig. 3): 800 excitatory
neurons, regular spiking with a random share of chattering
(``r`` uniform in [0, 1]: a = 0.02, b = 0.2, c = -65 + 15 r^2, d = 8 - 6 r^2),
and 200 inhibitory neurons between fast spiking and low-threshold spiking
(a = 0.02 + 0.08 r, b = 0.25 - 0.05 r, c = -65, d = 2), given neuron by
neuron with ``add_population(..., params=)``. All-to-all weights, 0.5 r from
excitatory and -r from inhibitory neurons, and a random thalamic input
drawn every millisecond (5 n for excitatory, 2 n for inhibitory neurons,
``n`` standard normal).

Choices. The paper's MATLAB code advances v by two forward-Euler half steps
of 0.5 ms per 1-ms step, and a neuron that fired adds its weights to the
input current of the next 1-ms step: a current pulse of 1 ms, so a weight
``w`` moves the voltage by about ``w`` mV. Here the neurons are integrated
accurately (spikenet's RK4 with substeps) at dt = 0.5 ms, and each spike
delivers the same charge, ``w`` x 1 ms, through an exponential current of
time constant 1 ms (``PSCFilter(0.001)``) that starts with the next step:
the same amount and time scale of input, without the box's sharp end. The
thalamic input is held for 1 ms (two steps), as in the paper. The rhythms
do not depend on these details: the population rate shows the alpha (about
10 Hz) and gamma (about 40 Hz) oscillations of the paper's Fig. 3.

Run ``python examples/izhikevich_network.py [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import Izhikevich, Network, PSCFilter

N_E, N_I = 800, 200
DT = 5e-4  # s
HOLD = 2  # steps of one thalamic input value (1 ms)


def build(T, seed=0, n_e=N_E, n_i=N_I):
    """The network and its populations ``("E", "I")`` for a run of ``T`` seconds."""
    rng = np.random.default_rng(seed)
    re, ri = rng.random(n_e), rng.random(n_i)
    net = Network(dt=DT, seed=seed)
    exc = net.add_population(n_e, Izhikevich(), name="E",
                             params={"c": -65.0 + 15.0 * re**2, "d": 8.0 - 6.0 * re**2})
    inh = net.add_population(n_i, Izhikevich(), name="I",
                             params={"a": 0.02 + 0.08 * ri, "b": 0.25 - 0.05 * ri, "d": np.full(n_i, 2.0)})
    syn = PSCFilter(0.001)
    ms = 1e-3  # a weight w (mV-like units) as the charge of a 1-ms pulse
    for post in (exc, inh):
        net.connect(exc, post, 0.5 * rng.random((post.n, n_e)) * ms, synapse=syn)
        net.connect(inh, post, -rng.random((post.n, n_i)) * ms, synapse=syn)
    steps = round(T / DT)
    for pop, scale in ((exc, 5.0), (inh, 2.0)):
        held = scale * rng.standard_normal((-(-steps // HOLD), pop.n))
        net.add_input(pop, current=np.repeat(held, HOLD, axis=0)[:steps])
    return net


def population_rate(result, pop, T, bin_s=1e-3):
    """The population's rate in Hz per neuron in bins of ``bin_s``: (T / bin_s,)."""
    times = np.concatenate(result.spike_times[pop])
    counts, _ = np.histogram(times, bins=round(T / bin_s), range=(0.0, T))
    return counts / (len(result.spike_times[pop]) * bin_s)


def spectral_peak(rate, bin_s=1e-3, band=(5.0, 80.0)):
    """Frequency (Hz) of the largest peak of the rate's power spectrum within ``band``."""
    x = rate - rate.mean()
    power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freq = np.fft.rfftfreq(x.size, bin_s)
    sel = (freq >= band[0]) & (freq <= band[1])
    return float(freq[sel][np.argmax(power[sel])]), freq, power


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="0.5 s instead of 1 s")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    T = 0.5 if args.quick else 1.0
    net = build(T)
    res = net.run(T)
    rate_e = population_rate(res, "E", T)
    rate_i = population_rate(res, "I", T)
    peak, freq, power = spectral_peak(rate_e)
    print(f"E: {res.rates('E').mean():.1f} Hz, I: {res.rates('I').mean():.1f} Hz per neuron; "
          f"E population rate peaks at {peak:.1f} Hz")

    fig, axes = plt.subplots(3, 1, figsize=(9, 8), gridspec_kw={"height_ratios": [3, 1, 1]})
    for name, color, off in (("E", "tab:blue", 0), ("I", "tab:red", N_E)):
        ts, ids, _ = res.spike_events(name)
        axes[0].plot(ts * 1e3, ids + off, ".", ms=1, color=color, label=name)
    axes[0].set_xlabel("time (ms)")
    axes[0].set_ylabel("neuron")
    axes[0].set_xlim(0, T * 1e3)
    axes[0].legend(loc="upper right", markerscale=8)
    axes[0].set_title("Izhikevich (2003) network: 800 excitatory, 200 inhibitory neurons")
    t_ms = np.arange(rate_e.size) + 0.5
    axes[1].plot(t_ms, rate_e, lw=0.8, color="tab:blue", label="E")
    axes[1].plot(t_ms, rate_i, lw=0.8, color="tab:red", label="I")
    axes[1].set_xlim(0, T * 1e3)
    axes[1].set_xlabel("time (ms)")
    axes[1].set_ylabel("rate (Hz)")
    axes[1].legend(loc="upper right")
    sel = (freq > 0) & (freq <= 100)
    axes[2].plot(freq[sel], power[sel], color="tab:blue")
    axes[2].axvline(peak, ls="--", color="gray")
    axes[2].set_xlabel("frequency (Hz)")
    axes[2].set_ylabel("power (E rate)")
    fig.tight_layout()
    path = save_figure(fig, args.out / "izhikevich_network.png", quick=args.quick, dpi=90)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
