"""Numba-accelerated simulation of spiking neurons, synapses and networks."""

from spikenet.sim.inputs import Input
from spikenet.sim.models import AdEx, Izhikevich, NeuronModel
from spikenet.sim.network import Network, Population
from spikenet.sim.network_results import NetworkResult
from spikenet.sim.neurons import HH, LIF
from spikenet.sim.plasticity import STDP, TripletSTDP
from spikenet.sim.results import Result
from spikenet.sim.simulate import simulate
from spikenet.sim.sources import PoissonSource, SpikeSource
from spikenet.sim.spikes import (
    cv,
    firing_rate,
    isi,
    poisson_spikes,
    raster_to_spike_times,
    regular_spikes,
    spike_times_to_raster,
)
from spikenet.sim.stp import TsodyksMarkram
from spikenet.sim.synapses import Conductance, Delta, PSCFilter

__all__ = [
    "HH",
    "LIF",
    "STDP",
    "AdEx",
    "Conductance",
    "Delta",
    "Input",
    "Izhikevich",
    "Network",
    "NetworkResult",
    "NeuronModel",
    "PSCFilter",
    "PoissonSource",
    "Population",
    "Result",
    "SpikeSource",
    "TripletSTDP",
    "TsodyksMarkram",
    "cv",
    "firing_rate",
    "isi",
    "poisson_spikes",
    "raster_to_spike_times",
    "regular_spikes",
    "simulate",
    "spike_times_to_raster",
]
