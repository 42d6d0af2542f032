"""Contract between the two entry points: simulate equals a one-population Network, model by model.

A model joins by adding an entry to CASES (a factory, its drives, a step and a
duration): the built-in models and the model defined outside spikenet in
``extending_example.py`` are listed.
"""

import numpy as np
import pytest

from spikenet.sim import HH, LIF, AdEx, Izhikevich, Network, simulate
from tests.sim.extending_example import PerfectIF

RNG = np.random.default_rng(0)
CASES = {
    "LIF": (LIF, RNG.uniform(0.8, 4.0, 40), 1e-4, 0.3),
    "LIF, refractory period of 5 steps": (lambda: LIF(tau_ref=5e-4), RNG.uniform(1.1, 6.0, 40), 1e-4, 0.3),
    "HH": (HH, RNG.uniform(0.0, 20.0, 12), 1e-5, 0.05),
    "Izhikevich": (Izhikevich, RNG.uniform(3.0, 15.0, 12), 1e-4, 0.3),
    "Izhikevich, fast spiking": (lambda: Izhikevich(a=0.1, d=2.0), RNG.uniform(3.0, 15.0, 12), 1e-4, 0.3),
    "AdEx": (AdEx, RNG.uniform(600.0, 1500.0, 12), 1e-4, 0.3),
    "PerfectIF (defined outside spikenet)": (PerfectIF, RNG.uniform(5.0, 40.0, 12), 1e-4, 0.3),
}
SPIKE_ATOL = 1e-12  # s: the two engines round differently in the last bits
# Each model class is a kernel of its own (about 10 s of compile on an empty
# cache): the default run keeps a subset, the slow run checks every case.
SLOW = {"AdEx", "PerfectIF (defined outside spikenet)/stepped"}


def _cases(kind):
    slow = [n in SLOW or f"{n}/{kind}" in SLOW for n in CASES]
    return [pytest.param(n, marks=pytest.mark.slow) if s else n for n, s in zip(CASES, slow, strict=True)]


def _network(neuron, dt, **add):
    net = Network(dt=dt)
    net.add_population(add.pop("n"), neuron, name="p", **add)
    return net


def _same_spikes(a, b):
    assert sum(len(x) for x in a) > 0
    for x, y in zip(a, b, strict=True):
        assert len(x) == len(y)
        np.testing.assert_allclose(x, y, rtol=0, atol=SPIKE_ATOL)


@pytest.mark.parametrize("name", _cases("constant"))
def test_simulate_with_a_constant_drive_equals_a_one_population_network(name):
    make, J, dt, T = CASES[name]
    res = simulate(make(), J, T=T, dt=dt)
    net = _network(make(), dt, n=len(J), bias=J).run(T)
    _same_spikes(res.spike_times, net.spike_times["p"])


@pytest.mark.parametrize("name", _cases("stepped"))
def test_simulate_with_a_stepped_drive_equals_a_network_current_input(name):
    make, J, dt, T = CASES[name]
    steps = round(T / dt)
    drive = J * (1.0 + 0.3 * np.sin(np.arange(steps) * dt * 40.0))[:, None]  # (steps, n)
    res = simulate(make(), drive, T=T, dt=dt, record=("spikes", "v"))
    net = _network(make(), dt, n=len(J))
    net.add_input("p", current=drive)
    out = net.run(T, record={"p": "v"})
    _same_spikes(res.spike_times, out.spike_times["p"])
    np.testing.assert_allclose(res.v, out["p", "v"], rtol=0, atol=1e-9)
