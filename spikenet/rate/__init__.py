"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import datasets
from spikenet.rate.tuning import LIFRate, SoftLIFRate, lif_rate, soft_lif_rate

__all__: list[str] = [
    "LIFRate",
    "SoftLIFRate",
    "datasets",
    "lif_rate",
    "soft_lif_rate",
]
