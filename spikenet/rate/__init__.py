"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import adversarial, datasets
from spikenet.rate.models import Hopfield, hamming, perturb
from spikenet.rate.tuning import LIFRate, SoftLIFRate, lif_rate, soft_lif_rate

__all__: list[str] = [
    "Hopfield",
    "LIFRate",
    "SoftLIFRate",
    "adversarial",
    "datasets",
    "hamming",
    "lif_rate",
    "perturb",
    "soft_lif_rate",
]
