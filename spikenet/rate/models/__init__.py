"""Special architectures: Hopfield, autoencoders, VAE, RNN/LSTM, CNN, GAN (notes ch. 7-12)."""

from spikenet.rate.models.hopfield import Hopfield, hamming, perturb, recall_rate

__all__ = [
    "Hopfield",
    "hamming",
    "perturb",
    "recall_rate",
]
