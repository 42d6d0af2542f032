"""PyTorch rate models and the bridge between rate and spiking networks."""

from spikenet.rate import activations, adversarial, autodiff, datasets, losses
from spikenet.rate.backprop import mlp_backprop, mlp_forward, numerical_gradient
from spikenet.rate.layers import BatchNorm, Dropout
from spikenet.rate.models import CNN, GAN, LSTM, RNN, VAE, Autoencoder, Hopfield, hamming, perturb
from spikenet.rate.train import History, fit
from spikenet.rate.tuning import LIFRate, SoftLIFRate, lif_rate, soft_lif_rate

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
    "SoftLIFRate",
    "activations",
    "adversarial",
    "autodiff",
    "datasets",
    "fit",
    "hamming",
    "lif_rate",
    "losses",
    "mlp_backprop",
    "mlp_forward",
    "numerical_gradient",
    "perturb",
    "soft_lif_rate",
]
