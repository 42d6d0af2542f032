"""Demo step: an HH and an LIF neuron under a step input, and the LIF tuning curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def step_input(t, t_on, low, high):
    """Piecewise-constant drive: ``low`` before ``t_on`` (s), ``high`` after."""
    return np.where(t < t_on, low, high)


def step(out: Path, quick: bool) -> list[str]:
    """Simulate HH and LIF under a step input, plot traces and the LIF tuning curve.

    Parameters
    ----------
    out : Path
        Folder for the PNG files.
    quick : bool
        Shorter simulations (for tests).

    Returns
    -------
    list of str
        Summary lines (rates, spike counts, file names).
    """
    import matplotlib.pyplot as plt

    from spikenet import plot
    from spikenet.plot import save_figure
    from spikenet.sim import HH, LIF, simulate

    lines = []
    # --- HH: 0 then 10 uA/cm^2 from 20 ms, dt = 0.01 ms -----------------
    T_hh = 0.06 if quick else 0.1
    dt_hh = 1e-5
    t_hh = np.arange(round(T_hh / dt_hh)) * dt_hh
    J_hh = step_input(t_hh, 0.02, 0.0, 10.0)[:, None]
    hh = simulate(HH(), J_hh, T=T_hh, dt=dt_hh, record=("v",))
    n_hh = int(hh.spike_counts[0])
    rate_hh = n_hh / (T_hh - 0.02)
    lines.append(f"HH, 10 uA/cm^2 step at 20 ms: {n_hh} spikes ({rate_hh:.0f} Hz after the step)")

    # --- LIF: 0.5 then 1.5 from 50 ms, dt = 0.1 ms -----------------------
    lif = LIF()
    T_lif = 0.3 if quick else 0.5
    dt = 1e-4
    t_lif = np.arange(round(T_lif / dt)) * dt
    J_lif = step_input(t_lif, 0.05, 0.5, 1.5)[:, None]
    lr = simulate(lif, J_lif, T=T_lif, dt=dt, record=("v",))
    n_lif = int(lr.spike_counts[0])
    lines.append(f"LIF, J 0.5 -> 1.5 at 50 ms: {n_lif} spikes "
                 f"(analytic steady rate {lif.rate(1.5):.1f} Hz)")

    # Every time axis of the demo is in seconds, the unit of the whole API.
    fig, axes = plt.subplots(2, 1, figsize=(8, 6))
    plot.voltage(hh, ax=axes[0], units="mV")
    axes[0].set_title("Hodgkin-Huxley neuron, 10 uA/cm$^2$ step at t = 0.02 s")
    plot.voltage(lr, ax=axes[1], units="dimensionless")
    axes[1].vlines(lr.spike_times[0], 1.0, 1.3, color="k", lw=0.8)
    axes[1].axhline(lif.v_th, color="gray", ls=":", lw=0.8)
    axes[1].set_title("LIF neuron, J steps from 0.5 to 1.5 at t = 0.05 s (ticks: spikes)")
    traces = save_figure(fig, Path(out) / "neuron_traces.png", quick=quick)

    # --- LIF tuning curve: simulated points on the analytic curve --------
    J_pts = np.linspace(0.5, 6.0, 12 if quick else 23)
    T_tc = 1.0 if quick else 2.0
    tc = simulate(lif, J_pts, T=T_tc, dt=dt)
    sim_rates = tc.rates()
    fig, ax = plt.subplots(figsize=(6, 4))
    plot.tuning_curve(J_pts, sim_rates, analytic=lif, ax=ax, label=f"simulated (T = {T_tc:g} s, dt = 0.1 ms)")
    ax.set_title("LIF tuning curve: simulation on the analytic G(J)")
    curve = save_figure(fig, Path(out) / "lif_tuning_curve.png", quick=quick)
    above = J_pts > 1.2
    err = np.max(np.abs(sim_rates[above] / lif.rate(J_pts[above]) - 1))
    lines.append(f"LIF tuning curve: {len(J_pts)} inputs, simulated rates within {100 * err:.1f}% "
                 f"of G(J) (spike-count estimate over {T_tc:g} s)")
    lines.append(f"figures: {traces.name}, {curve.name}")
    return lines
