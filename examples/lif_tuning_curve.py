"""LIF tuning curve: the analytic rate G(J) and simulated rates.

The steady-state rate of the normalised LIF neuron,
``G(J) = 1 / (tau_ref - tau_m ln(1 - 1/J))`` for ``J > 1``, zero below, for
typical cortical values (tau_ref = 2 ms, tau_m = 20 ms) and two other
refractory periods, with rates measured by simulating the neurons at
dt = 1 ms (points). Saves ``lif_tuning_curve.png`` into ``--out``.

Run: ``python examples/lif_tuning_curve.py [--out DIR] [--quick]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import LIF, simulate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="fewer points, shorter runs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    J_line = np.linspace(0.0, 10.0, 1000)
    J_pts = np.linspace(0.25, 10.0, 14 if args.quick else 40)
    T = 1.0 if args.quick else 5.0
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, tau_ref in enumerate([0.0, 0.002, 0.005]):
        lif = LIF(tau_m=0.02, tau_ref=tau_ref)
        res = simulate(lif, J_pts, T=T, dt=1e-3)
        # Steady-state rate from the inter-spike intervals (skips the start transient).
        rates = np.array([(len(s) - 1) / (s[-1] - s[0]) if len(s) > 1 else 0.0
                          for s in res.spike_times])
        ax.plot(J_line, lif.rate(J_line), color=f"C{i}", label=f"G(J), tau_ref = {tau_ref * 1e3:g} ms")
        ax.plot(J_pts, rates, "o", color=f"C{i}", ms=4)
        above = rates > 0
        err = np.max(np.abs(rates[above] / lif.rate(J_pts[above]) - 1))
        print(f"tau_ref = {tau_ref * 1e3:g} ms: max relative error of simulated rates {err:.2e}")
    ax.set(xlabel="input J", ylabel="firing rate (Hz)",
           title="LIF tuning curves (lines: analytic, points: simulated at dt = 1 ms)")
    ax.legend()
    path = save_figure(fig, args.out / "lif_tuning_curve.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
