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

    fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=False)
    axes[0].plot(hh.t * 1e3, hh.v[:, 0], lw=0.8)
    axes[0].set(title="Hodgkin-Huxley neuron, 10 uA/cm$^2$ step at 20 ms", xlabel="time (ms)",
                ylabel="V (mV)")
    axes[1].plot(lr.t * 1e3, lr.v[:, 0], lw=0.8)
    for ts in lr.spike_times[0]:
        axes[1].vlines(ts * 1e3, 1.0, 1.3, color="k", lw=0.8)
    axes[1].axhline(lif.v_th, color="gray", ls=":", lw=0.8)
    axes[1].set(title="LIF neuron, J steps from 0.5 to 1.5 at 50 ms (ticks: spikes)",
                xlabel="time (ms)", ylabel="v")
    fig.tight_layout()
    traces = Path(out) / "neuron_traces.png"
    fig.savefig(traces, dpi=100)
    plt.close(fig)

    # --- LIF tuning curve: simulated points on the analytic curve --------
    J_pts = np.linspace(0.5, 6.0, 12 if quick else 23)
    T_tc = 1.0 if quick else 2.0
    tc = simulate(lif, J_pts, T=T_tc, dt=dt)
    sim_rates = tc.rates()
    J_line = np.linspace(0.0, 6.0, 600)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(J_line, lif.rate(J_line), label="analytic $G(J)$")
    ax.plot(J_pts, sim_rates, "o", label=f"simulated (T = {T_tc:g} s, dt = 0.1 ms)")
    ax.set(xlabel="input J", ylabel="rate (Hz)", title="LIF tuning curve")
    ax.legend()
    fig.tight_layout()
    curve = Path(out) / "lif_tuning_curve.png"
    fig.savefig(curve, dpi=100)
    plt.close(fig)
    above = J_pts > 1.2
    err = np.max(np.abs(sim_rates[above] / lif.rate(J_pts[above]) - 1))
    lines.append(f"LIF tuning curve: {len(J_pts)} inputs, simulated rates within {100 * err:.1f}% "
                 f"of G(J) (spike-count estimate over {T_tc:g} s)")
    lines.append(f"figures: {traces.name}, {curve.name}")
    return lines
