"""Neuron models beyond LIF and HH, each one file on the :class:`NeuronModel` interface."""

from spikenet.sim.models.adex import AdEx
from spikenet.sim.models.base import NeuronModel
from spikenet.sim.models.izhikevich import Izhikevich

__all__ = ["AdEx", "Izhikevich", "NeuronModel"]
