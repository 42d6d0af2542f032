"""Hodgkin-Huxley neuron under negative, zero, small and large input.

The Hodgkin & Huxley (1952) model under a stepped input: the input current
steps through a negative value (the membrane hyperpolarises towards about
-120 mV), zero (rest near -65 mV), a small positive value (a single spike, then
a depolarised rest) and larger values (repetitive firing whose rate grows
with the input). Saves ``hh_neuron.png`` into ``--out``.

Run: ``python examples/hh_neuron.py [--out DIR] [--quick]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet import plot
from spikenet.plot import save_figure
from spikenet.sim import HH, simulate

# (start in ms, input in uA/cm^2)
SEGMENTS = [(0, -20.0), (50, 0.0), (100, 3.0), (150, 10.0), (200, 40.0)]


def drive(t_ms):
    """Input current (uA/cm^2) at times ``t_ms`` (ms), piecewise constant."""
    J = np.zeros_like(t_ms)
    for start, value in SEGMENTS:
        J[t_ms >= start] = value
    return J


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="coarser step (0.025 ms)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    dt = 2.5e-5 if args.quick else 1e-5
    T = 0.25
    t_ms = np.arange(round(T / dt)) * dt * 1e3
    J = drive(t_ms)
    res = simulate(HH(), J[:, None], T=T, dt=dt, record=("v", "m", "h", "n"))

    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True,
                             gridspec_kw={"height_ratios": [1, 3, 2]})
    axes[0].plot(t_ms, J, color="C3")
    axes[0].set_ylabel("J (uA/cm$^2$)")
    plot.voltage(res, ax=axes[1], units="mV", time_unit="ms")
    axes[1].set_xlabel("")
    for name in "mhn":
        axes[2].plot(t_ms, getattr(res, name)[:, 0], lw=0.8, label=name)
    axes[2].set(xlabel="time (ms)", ylabel="gates")
    axes[2].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[0].set_title("Hodgkin-Huxley neuron: negative, zero, small and large input")
    path = save_figure(fig, args.out / "hh_neuron.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")

    spikes_ms = res.spike_times[0] * 1e3
    for (start, value), (end, _) in zip(SEGMENTS, [*SEGMENTS[1:], (T * 1e3, None)]):
        n = int(np.sum((spikes_ms >= start) & (spikes_ms < end)))
        seg = (t_ms >= start) & (t_ms < end)
        print(f"J = {value:6.1f} uA/cm^2 ({start:3d}-{end:3.0f} ms): {n:2d} spikes, "
              f"V min {res.v[seg, 0].min():7.1f} mV")


if __name__ == "__main__":
    main()
