"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import activations, adversarial, autodiff, datasets, losses
from spikenet.rate.backprop import mlp_backprop, mlp_forward, numerical_gradient
from spikenet.rate.convert import SpikingModel, SpikingRun, poisson_encode, to_spiking
from spikenet.rate.layers import BatchNorm, Dropout
from spikenet.rate.models import CNN, GAN, LSTM, RNN, VAE, Autoencoder, Hopfield, hamming, perturb
from spikenet.rate.snn import SpikingMLP, SpikingMLPRun, fast_sigmoid_spike, fit_spiking
from spikenet.rate.train import History, fit
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
    "CNN",
    "GAN",
    "LSTM",
    "RNN",
    "VAE",
    "Autoencoder",
    "BatchNorm",
    "Dropout",
    "History",
    "Hopfield",
    "LIFRate",
    "LIFRateFit",
    "SoftLIFRate",
    "SpikingMLP",
    "SpikingMLPRun",
    "SpikingModel",
    "SpikingRun",
    "activations",
    "adversarial",
    "autodiff",
    "datasets",
    "fast_sigmoid_spike",
    "fit",
    "fit_lif_rate",
    "fit_spiking",
    "hamming",
    "lif_rate",
    "losses",
    "mlp_backprop",
    "mlp_forward",
    "numerical_gradient",
    "perturb",
    "poisson_encode",
    "soft_lif_rate",
    "to_spiking",
    "tuning_curve",
]
