"""Numba-accelerated simulation of spiking neurons, synapses and networks."""

from spikenet.sim.neurons import HH, LIF

__all__ = ["HH", "LIF"]
