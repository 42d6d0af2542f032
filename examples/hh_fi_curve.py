"""Hodgkin-Huxley f-I curve measured by simulation, with its best LIF rate fit.

An HH neuron (Hodgkin & Huxley 1952) fires regularly, and faster, as the input
current grows; how close does an LIF tuning curve come? The HH neuron's
steady-state rate for constant input (uA/cm^2), measured with
:func:`spikenet.rate.tuning_curve` at dt = 10 us, shows the type II onset of
repetitive firing near 6.2 uA/cm^2 (a jump from 0 to about 50 Hz) and a slow
rise above it. :func:`spikenet.rate.fit_lif_rate` fits the LIF tuning curve
``lif_rate(gain * I + bias, tau_ref, tau_m)`` to it; the figure shows how
close an LIF rate model comes and prints the fit error.

Run ``python examples/hh_fi_curve.py [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.rate import fit_lif_rate, tuning_curve
from spikenet.sim import HH


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="coarser grid, 0.4 s runs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.quick:
        currents = np.concatenate([np.arange(0, 6, 1.0), np.arange(6.0, 6.6, 0.1), np.arange(7, 41, 3.0)])
        T = 0.4
    else:
        currents = np.concatenate(
            [np.arange(0, 6, 0.25), np.arange(6.0, 6.6, 0.02), np.arange(6.6, 40.5, 0.5)]
        )
        T = 1.0
    rates = tuning_curve(HH(), currents, T=T, dt=1e-5)
    onset = currents[np.argmax(rates > 10)]
    fit = fit_lif_rate(currents, rates)
    first_rate = rates[currents == onset][0]
    print(f"HH onset of repetitive firing: {onset:.2f} uA/cm^2 (rate there {first_rate:.1f} Hz)")
    print(
        f"LIF fit: gain {fit.gain:.4g} cm^2/uA, bias {fit.bias:.4g}, tau_ref {fit.tau_ref * 1e3:.3g} ms, "
        f"tau_m {fit.tau_m * 1e3:.3g} ms, threshold {fit.threshold:.2f} uA/cm^2"
    )
    print(
        f"fit error: rmse {fit.rmse:.2f} Hz ({100 * fit.rel_rmse:.1f}% of the top rate), "
        f"max {fit.max_error:.2f} Hz"
    )

    dense = np.linspace(currents.min(), currents.max(), 2000)
    fig, (ax, ax_res) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, height_ratios=(3, 1))
    ax.plot(currents, rates, "o", ms=3, label="HH, simulated (dt = 10 us)")
    ax.plot(dense, fit.rate(dense), "-", label=f"LIF fit (rmse {fit.rmse:.1f} Hz)")
    ax.axvline(onset, ls=":", c="gray")
    ax.text(onset + 0.3, 5, f"onset {onset:.2f}", color="gray")
    ax.set(ylabel="rate (Hz)", title="Hodgkin-Huxley f-I curve and its LIF rate fit")
    ax.legend()
    ax_res.plot(currents, fit.rate(currents) - rates, "o", ms=3)
    ax_res.axhline(0, c="k", lw=0.5)
    ax_res.set(xlabel="input current (uA/cm^2)", ylabel="fit - HH (Hz)")
    path = save_figure(fig, args.out / "hh_fi_curve.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
