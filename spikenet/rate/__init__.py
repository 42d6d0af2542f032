"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import datasets
from spikenet.rate.convert import SpikingModel, SpikingRun, to_spiking
from spikenet.rate.tuning import (
    LIFRate,
    LIFRateFit,
    SoftLIFRate,
    fit_lif_rate,
    lif_rate,
    soft_lif_rate,
    tuning_curve,
)

__all__: list[str] = [
    "LIFRate",
    "LIFRateFit",
    "SoftLIFRate",
    "SpikingModel",
    "SpikingRun",
    "datasets",
    "fit_lif_rate",
    "lif_rate",
    "soft_lif_rate",
    "to_spiking",
    "tuning_curve",
]
