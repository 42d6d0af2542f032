"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import datasets
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
    "datasets",
    "fit_lif_rate",
    "lif_rate",
    "soft_lif_rate",
    "tuning_curve",
]
