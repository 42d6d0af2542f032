"""The Brunel (2000) phase diagram, computed as a parameter sweep on a Dask cluster.

Model A of Brunel (2000) at reduced size (2,000 excitatory and 500 inhibitory
LIF neurons, in-degree 200 + 50, jumps J = 0.5 mV so that J times the
in-degree equals the paper's; delay 1.5 ms), run for 0.5 s at each point of
an 8 x 8 grid of the relative inhibition g and the external rate
nu_ext / nu_thr, as in the paper's Fig. 2. Each point is one call of
``spikenet.sweep.sweep`` on a LocalCluster of worker processes; the map shows
the excitatory rate and the synchrony chi of the population (Golomb 2007:
1/sqrt(N) for independent neurons, 1 for identical ones), with the four regimes of the paper's
Fig. 8 marked. The same grid is then run as a serial loop to state the
speed-up.

Run ``python examples/brunel_phase_diagram.py [--out DIR] [--quick] [--workers N] [--no-serial]``.
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
from spikenet.sim.brunel import REGIMES, brunel_network
from spikenet.sim.stats import synchrony
from spikenet.sweep import sweep

T_TRANSIENT = 0.1  # s left out of the statistics


def brunel_point(g, eta, seed, n_e=2000, c_e=200, T=0.5):
    """Rate (Hz), synchrony and mean ISI CV of the excitatory population at one (g, eta)."""
    from spikenet.sim import cv

    J = 0.1 * 1000 / c_e  # keeps J c_e = 100 mV, as in the paper
    net = brunel_network(g=g, eta=eta, T=T, n_e=n_e, c_e=c_e, J=J, seed=seed)
    res = net.run(T)
    trains = res.spike_times["E"]
    late = [s[s >= T_TRANSIENT] for s in trains]
    rate = sum(s.size for s in late) / (n_e * (T - T_TRANSIENT))
    cvs = [cv(s) for s in late if s.size >= 3]
    return {"rate": rate, "synchrony": synchrony(late, T, t0=T_TRANSIENT),
            "cv_isi": float(np.mean(cvs)) if cvs else float("nan")}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="a 3 x 3 grid of a 400 + 100 neuron network")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster")
    parser.add_argument("--no-serial", action="store_true", help="skip the serial loop (no speed-up)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.quick:
        gs, etas, size = [3.0, 5.0, 7.0], [0.9, 2.0, 4.0], {"n_e": 400, "c_e": 40, "T": 0.3}
    else:
        gs, etas, size = list(np.arange(1.0, 9.0)), list(np.arange(0.5, 4.5, 0.5)), {}
    grid = {"g": gs, "eta": etas}

    def point(g, eta, seed):
        return brunel_point(g, eta, seed, **size)

    t0 = time.perf_counter()
    table = sweep(point, grid, seed=args.seed, n_workers=args.workers, progress=False)
    t_cluster = time.perf_counter() - t0
    failed = table[table["status"] != "ok"]
    print(f"{len(table)} points on {args.workers} workers in {t_cluster:.1f} s, {len(failed)} failed")
    if not args.no_serial:
        t0 = time.perf_counter()
        serial = sweep(point, grid, seed=args.seed, client="serial", progress=False)
        t_serial = time.perf_counter() - t0
        same = np.array_equal(serial["rate"].to_numpy(), table["rate"].to_numpy(), equal_nan=True)
        print(f"serial loop: {t_serial:.1f} s; speed-up {t_serial / t_cluster:.2f}x; same table: {same}")

    rate = table["rate"].to_numpy().reshape(len(gs), len(etas))
    sync = table["synchrony"].to_numpy().reshape(len(gs), len(etas))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, data, label, cmap in ((axes[0], rate, "excitatory rate (Hz)", "viridis"),
                                  (axes[1], sync, "synchrony chi", "magma")):
        im = ax.pcolormesh(etas, gs, data, shading="nearest", cmap=cmap)
        fig.colorbar(im, ax=ax, label=label)
        for name, (g, eta) in REGIMES.items():
            ax.plot(eta, g, "o", mfc="none", mec="w", ms=9)
            ax.annotate(name, (eta, g), textcoords="offset points", xytext=(6, 6), color="w", fontsize=8)
        ax.set_xlabel(r"$\nu_{ext} / \nu_{thr}$")
        ax.set_ylabel("g (relative inhibition)")
    n_e = size.get("n_e", 2000)
    fig.suptitle(f"Brunel (2000) model A, {n_e} + {n_e // 4} neurons: {len(table)}-point sweep")
    path = save_figure(fig, args.out / "brunel_phase_diagram.png", quick=args.quick, dpi=90)
    for name, (g, eta) in REGIMES.items():
        if g in gs and eta in etas:
            row = table[(table["g"] == g) & (table["eta"] == eta)].iloc[0]
            print(f"{name} (g={g:g}, eta={eta:g}): rate {row['rate']:.1f} Hz, "
                  f"synchrony {row['synchrony']:.2f}, ISI CV {row['cv_isi']:.2f}")
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
