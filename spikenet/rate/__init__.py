"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import datasets

__all__: list[str] = ["datasets"]
