"""Random inputs generated inside a network: Poisson shot noise, white noise and spike-source populations.

Three panels:

1. Shot noise: 200 neurons, each driven by its own Poisson source through an
   exponential PSC (``add_input(rate=...)``); the synaptic current's mean and
   variance against Campbell's theorem (mean ``r w``, variance
   ``r w^2 / (2 tau_s)`` as ``dt -> 0``).
2. White noise: the rate of noisy LIF neurons (``add_input(noise=...)``,
   tau_m 10 ms, refractory 5 ms, sigma 0.2, as in Brian2's introductory
   tutorial) against the Siegert formula of the diffusion approximation.
3. Spike sources as populations, changed between runs: a ``PoissonSource``
   active from 0.1 to 0.4 s, a ``SpikeSource`` cue and a Poisson background
   drive a LIF population; after 0.25 s the stimulus rate, the cue's times
   and the background rate are changed (``Network.set``,
   ``Network.set_input``) and the run continues.

Run ``python examples/stochastic_inputs.py [--out DIR] [--quick]``; the
figure goes to ``DIR`` (default ``examples/output/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import integrate, special

from spikenet.plot import save_figure
from spikenet.sim import LIF, Delta, Network, PoissonSource, PSCFilter, SpikeSource

TAU, TAU_REF, SIGMA = 0.01, 0.005, 0.2


def siegert(mu, sigma=SIGMA, tau=TAU, tau_ref=TAU_REF, v_th=1.0, v_reset=0.0):
    """Stationary rate (Hz) of ``tau dv = (mu - v) dt + sigma sqrt(tau) dW`` with threshold and reset."""
    area, _ = integrate.quad(lambda u: special.erfcx(-u), (v_reset - mu) / sigma, (v_th - mu) / sigma,
                             limit=200)
    return 1.0 / (tau_ref + tau * np.sqrt(np.pi) * area)


def shot_noise(ax, quick):
    rate, w, tau_s, dt = 2000.0, 0.01, 0.005, 1e-4
    T = 0.5 if quick else 2.0
    net = Network(dt=dt, seed=0)
    free = LIF(tau_m=0.02, tau_ref=0.0, v_th=1e9, v_reset=0.0)
    a = net.add_population(200, free, name="a")
    net.add_input(a, rate=rate, weights=w, synapse=PSCFilter(tau_s))
    x = net.run(T, record={"a": "I_syn"})["a", "I_syn"][round(0.05 / dt):]
    mean, var = rate * w, rate * w * w / (2 * tau_s)
    # the same on the time grid: counts of mean lam = r dt arrive at step starts, sampled just after
    lam, d = rate * dt, np.exp(-dt / tau_s)
    mean_k, var_k = lam * w / tau_s / (1 - d), lam * (w / tau_s) ** 2 / (1 - d * d)
    print(f"shot noise: mean {x.mean():.3f} (Campbell {mean:.3f}, on the grid {mean_k:.3f}), "
          f"variance {x.var():.3f} (Campbell {var:.3f}, on the grid {var_k:.3f})")
    ax.hist(x.ravel(), bins=60, density=True, color="0.7", label="simulated")
    grid = np.linspace(x.min(), x.max(), 200)
    ax.plot(grid, np.exp(-(grid - mean) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var), "k",
            label="Campbell mean and variance")
    ax.set_xlabel("synaptic current")
    ax.set_ylabel("density")
    ax.set_title("Poisson shot noise (2 kHz, exponential PSC)")
    ax.legend(fontsize=8)


def white_noise(ax, quick):
    mus = np.linspace(0.6, 2.0, 8)
    n, T = (40, 2.0) if quick else (100, 10.0)
    net = Network(dt=1e-4, seed=1)
    pop = net.add_population(len(mus) * n, LIF(tau_m=TAU, tau_ref=TAU_REF), bias=np.repeat(mus, n), name="p")
    net.add_input(pop, noise=SIGMA)
    rates = net.run(T).rates("p").reshape(len(mus), n).mean(axis=1)
    fine = np.linspace(mus[0], mus[-1], 100)
    ax.plot(fine, [siegert(m) for m in fine], "k", label="Siegert formula")
    ax.plot(mus, rates, "o", color="C3", label="network, noise=0.2")
    for m, r in zip(mus, rates):
        print(f"noisy LIF: mu {m:.2f}: {r:.2f} Hz (Siegert {siegert(m):.2f} Hz)")
    ax.set_xlabel("mean drive mu (threshold units)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title("white noise: the noisy tuning curve")
    ax.legend(fontsize=8)


def sources(ax, quick):
    net = Network(dt=1e-4, seed=2)
    stim = net.add_population(50, PoissonSource(40.0, start=0.1, stop=0.4), name="stim")
    cue = net.add_population(1, SpikeSource([[0.05]]), name="cue")
    post = net.add_population(50, LIF(), name="post")
    drive = net.add_input(post, rate=700.0, weights=0.001)  # one Poisson source per neuron
    net.connect(stim, post, 0.001, p=0.3, delay=0.001)
    net.connect(cue, post, 0.5, synapse=Delta(), delay=0.002)
    first = net.run(0.25)
    # between runs: a stronger stimulus, a new cue and a stronger background, from t = 0.25 s on
    net.set(stim, rate=120.0)
    net.set(cue, times=[[0.35, 0.4]])
    net.set_input(drive, rate=1100.0)
    second = net.run(0.25)
    offset = 0
    for pop, color in ((stim, "C0"), (cue, "C2"), (post, "k")):
        for res in (first, second):
            t, i, _ = res.spike_events(pop)
            ax.plot(t, i + offset, "|", color=color, markersize=3, label=pop.name if res is first else None)
        offset += pop.n
    ax.axvline(0.25, color="0.5", lw=0.8, ls="--")
    stim_rates = [len(np.concatenate(r.spike_times["stim"])) / (50 * 0.15) for r in (first, second)]
    cue_times = np.round(second.spike_times["cue"][0], 6).tolist()
    print(f"sources: stim {stim_rates[0]:.1f} Hz in 0.10-0.25 s, {stim_rates[1]:.1f} Hz in 0.25-0.40 s after "
          f"set(rate=120); cue spikes at {cue_times} s after set(times=); post "
          f"{first.rates('post').mean():.1f} Hz, then {second.rates('post').mean():.1f} Hz")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    ax.set_title("sources and inputs changed between runs (dashed)")
    ax.legend(fontsize=8, loc="lower right")


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer neurons")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    shot_noise(axes[0], args.quick)
    white_noise(axes[1], args.quick)
    sources(axes[2], args.quick)
    path = save_figure(fig, args.out / "stochastic_inputs.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
