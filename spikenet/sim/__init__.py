"""Numba-accelerated simulation of spiking neurons, synapses and networks."""

from spikenet.sim.models import AdEx, Izhikevich, NeuronModel
from spikenet.sim.network import Network, Population
from spikenet.sim.network_results import NetworkResult
from spikenet.sim.neurons import HH, LIF
from spikenet.sim.plasticity import STDP, TripletSTDP
from spikenet.sim.results import Result
from spikenet.sim.simulate import simulate
from spikenet.sim.spikes import (
    cv,
    firing_rate,
    isi,
    poisson_spikes,
    raster_to_spike_times,
    regular_spikes,
    spike_times_to_raster,
)
from spikenet.sim.synapses import Delta, PSCFilter

__all__ = [
    "HH",
    "LIF",
    "STDP",
    "AdEx",
    "Delta",
    "Izhikevich",
    "Network",
    "NetworkResult",
    "NeuronModel",
    "PSCFilter",
    "Population",
    "Result",
    "TripletSTDP",
    "cv",
    "firing_rate",
    "isi",
    "poisson_spikes",
    "raster_to_spike_times",
    "regular_spikes",
    "simulate",
    "spike_times_to_raster",
]
