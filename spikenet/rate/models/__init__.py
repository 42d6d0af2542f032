"""Special architectures: Hopfield, autoencoders, VAE, RNN/LSTM, CNN, GAN."""

from spikenet.rate.models.autoencoder import Autoencoder
from spikenet.rate.models.cnn import CNN
from spikenet.rate.models.gan import GAN, GANHistory, ring_of_gaussians
from spikenet.rate.models.hopfield import Hopfield, hamming, perturb, recall_rate
from spikenet.rate.models.rnn import LSTM, RNN, BatchFirst
from spikenet.rate.models.vae import VAE, gaussian_kl

__all__ = [
    "CNN",
    "GAN",
    "LSTM",
    "RNN",
    "VAE",
    "Autoencoder",
    "BatchFirst",
    "GANHistory",
    "Hopfield",
    "gaussian_kl",
    "hamming",
    "perturb",
    "recall_rate",
    "ring_of_gaussians",
]
