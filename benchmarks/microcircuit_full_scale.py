"""The full-scale microcircuit (77,169 neurons, 3 x 10^8 synapses) in spikenet: build, loop, memory, rates.

Builds :func:`spikenet.sim.microcircuit.microcircuit_network` at full scale
(DC background, float32 state), runs 1 s in steps of 0.1 s and prints the
build time, the loop time, the peak resident memory and the rate of each
population. A watchdog thread ends the process when its resident memory
passes ``--limit-gb`` (default 12), so that a shared machine is not pushed
into swapping.

Run ``python -m benchmarks.microcircuit_full_scale [--T 1.0] [--limit-gb 12] [--seed 1] [--n-scale 1]``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=float, default=1.0)
    parser.add_argument("--limit-gb", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-scale", type=float, default=1.0, help="fraction of the neurons (for trials)")
    args = parser.parse_args(argv)
    peak = [0]

    def watch():
        while True:
            rss = _rss_bytes()
            peak[0] = max(peak[0], rss)
            if rss > args.limit_gb * 1e9:
                print(f"stopped: resident memory {rss / 1e9:.2f} GB > {args.limit_gb} GB", flush=True)
                os._exit(3)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    import numpy as np

    from spikenet.sim.microcircuit import POPULATIONS, microcircuit_network

    t0 = time.perf_counter()
    net = microcircuit_network(n_scale=args.n_scale, k_scale=1.0, background="dc", seed=args.seed,
                               dtype=np.float32)
    t1 = time.perf_counter()
    print(f"network built in {t1 - t0:.1f} s ({len(net.connections)} connections), "
          f"peak {peak[0] / 1e9:.2f} GB", flush=True)
    dt = net.dt
    results = [net.run(dt)]  # builds the kernel's arrays
    t2 = time.perf_counter()
    print(f"kernel arrays and one step in {t2 - t1:.1f} s, peak {peak[0] / 1e9:.2f} GB", flush=True)
    done = dt
    while done < args.T - 1e-9:
        boundary = min(args.T, (np.floor(done / 0.1 + 1e-9) + 1) * 0.1)
        results.append(net.run(round((boundary - done) / dt) * dt))
        done += results[-1].T
        print(f"t = {done:.4f} s, loop {time.perf_counter() - t2:.1f} s, peak {peak[0] / 1e9:.2f} GB",
              flush=True)
    loop = time.perf_counter() - t2
    print(f"loop {loop:.1f} s for {done - dt:.4f} s of biological time; peak resident memory "
          f"{peak[0] / 1e9:.2f} GB", flush=True)
    for p in net.populations:
        n = sum(sum(len(t) for t in r.spike_times[p.name]) for r in results)
        print(f"{p.name}: {n / p.n / done:.3f} Hz", flush=True)
    assert [p.name for p in net.populations] == list(POPULATIONS)


if __name__ == "__main__":
    main()
