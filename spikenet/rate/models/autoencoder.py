"""Autoencoders with optionally tied weights."""

from __future__ import annotations

import math

import torch
from torch import nn

from spikenet._validation import choice, positive_int
from spikenet.rate._arrays import numpy_io

__all__ = ["Autoencoder"]

_ACTIVATIONS = {
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
}


class Autoencoder(nn.Module):
    """One-hidden-layer autoencoder ``x -> h = g(x W^T + b) -> y = g(h M^T + c)``.

    Parameters
    ----------
    input_dim : int
        Size of the input and of the reconstruction.
    latent_dim : int
        Size of the code layer ``h``.
    tied : bool
        If True the decoder weight is the transpose of the encoder's single
        weight Parameter (``M = W^T``), so the model has
        ``input_dim * latent_dim`` fewer parameters; each layer keeps its own
        bias.
    activation : {"logistic", "tanh", "relu", "identity"}
        Nonlinearity ``g`` of both layers (logistic by default, so that
        outputs lie in (0, 1) and suit a cross-entropy loss).

    Attributes
    ----------
    weight : torch.nn.Parameter, shape (latent_dim, input_dim)
        Encoder weight ``W`` (post, pre), like ``torch.nn.Linear.weight``.
    encoder_bias : torch.nn.Parameter, shape (latent_dim,)
    decoder_weight : torch.nn.Parameter or None, shape (input_dim, latent_dim)
        ``M``; None when tied.
    decoder_bias : torch.nn.Parameter, shape (input_dim,)

    ``encode``, ``decode`` and ``forward`` accept numpy arrays too and then
    return numpy arrays, computed without gradients.

    Examples
    --------
    >>> import torch
    >>> ae = Autoencoder(8, 3, tied=True)
    >>> ae(torch.zeros(5, 8)).shape
    torch.Size([5, 8])
    """

    def __init__(self, input_dim: int, latent_dim: int, tied: bool = False, activation: str = "logistic"):
        super().__init__()
        self.input_dim = positive_int("input_dim", input_dim)
        self.latent_dim = positive_int("latent_dim", latent_dim)
        if not isinstance(tied, bool):
            raise TypeError(f"tied must be True or False, got {tied!r}")
        self.activation = choice("activation", activation, _ACTIVATIONS)
        self._g = _ACTIVATIONS[self.activation]
        self.tied = tied
        # Same initialisation as torch.nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        enc = nn.Linear(input_dim, latent_dim)
        dec = nn.Linear(latent_dim, input_dim)
        self.weight = nn.Parameter(enc.weight.detach().clone())
        self.encoder_bias = nn.Parameter(enc.bias.detach().clone())
        self.decoder_weight = None if tied else nn.Parameter(dec.weight.detach().clone())
        self.decoder_bias = nn.Parameter(dec.bias.detach().clone())

    def _decoder_matrix(self) -> torch.Tensor:
        return self.weight.t() if self.tied else self.decoder_weight

    @numpy_io("x")
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code ``h = g(x W^T + b)``, shape (batch, latent_dim), for ``x`` (batch, input_dim)."""
        if x.shape[-1] != self.input_dim:
            raise ValueError(f"x must have {self.input_dim} columns, got shape {tuple(x.shape)}")
        return self._g(x @ self.weight.t() + self.encoder_bias)

    @numpy_io("h")
    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``g(h M^T + c)``, shape (batch, input_dim), for codes (batch, latent_dim)."""
        if h.shape[-1] != self.latent_dim:
            raise ValueError(f"h must have {self.latent_dim} columns, got shape {tuple(h.shape)}")
        return self._g(h @ self._decoder_matrix().t() + self.decoder_bias)

    @numpy_io("x")
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x``, shape (batch, input_dim)."""
        return self.decode(self.encode(x))

    def n_parameters(self) -> int:
        """Number of trainable scalars (a tied weight counted once)."""
        return sum(math.prod(p.shape) for p in self.parameters())
