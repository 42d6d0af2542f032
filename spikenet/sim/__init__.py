"""Numba-accelerated simulation of spiking neurons, synapses and networks."""

from spikenet.sim.neurons import HH, LIF
from spikenet.sim.results import Result
from spikenet.sim.simulate import simulate

__all__ = ["HH", "LIF", "Result", "simulate"]
