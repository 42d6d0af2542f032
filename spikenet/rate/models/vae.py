"""Variational autoencoder (Kingma & Welling 2014)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spikenet._validation import as_rng, positive_float, positive_int
from spikenet.rate._arrays import as_float_tensor, numpy_io, to_numpy

__all__ = ["VAE", "gaussian_kl"]


def gaussian_kl(mu, logvar):
    """Closed-form ``KL(N(mu, diag(sigma^2)) || N(0, I))`` per row.

    ``1/2 sum_k (sigma_k^2 + mu_k^2 - ln sigma_k^2 - 1)``.

    Parameters
    ----------
    mu, logvar : torch.Tensor or ndarray, shape (batch, latent_dim)
        Mean and log-variance ``ln sigma^2`` of the approximate posterior.

    Returns
    -------
    torch.Tensor or ndarray, shape (batch,)
        The divergence in nats; numpy (float64) when ``mu`` is numpy.
    """
    if not isinstance(mu, torch.Tensor):
        mu, logvar = (as_float_tensor(n, v, torch.float64) for n, v in (("mu", mu), ("logvar", logvar)))
        return to_numpy(gaussian_kl(mu, logvar))
    return 0.5 * (logvar.exp() + mu.pow(2) - logvar - 1.0).sum(dim=-1)


class VAE(nn.Module):
    """Variational autoencoder with Gaussian latents and a Bernoulli decoder.

    Encoder: ``x -> relu(x W1 + b1) -> (mu, ln sigma^2)``; reparameterisation
    ``z = mu + eps * sigma`` with ``eps ~ N(0, I)``; decoder:
    ``z -> relu(z W3 + b3) -> logistic(... W4 + b4) = x_hat``.

    Parameters
    ----------
    input_dim : int
        Size of ``x``; inputs are intensities in [0, 1].
    latent_dim : int
        Size of ``z``.
    hidden_dim : int
        Hidden units in the encoder and in the decoder.
    beta : float
        Weight of the KL term (``beta = 1`` is the ELBO; larger values give
        the beta-VAE of Higgins et al. 2017).

    Notes
    -----
    ``loss(x)`` is the mean over the batch of

    ``-E_q[ln p(x | z)] + beta KL(q(z | x) || N(0, I))``

    with the reconstruction term the binary cross-entropy summed over the
    input dimensions (Bernoulli ``p(x | z)``) evaluated at one sample of
    ``z``; for ``beta = 1`` it is the negative evidence lower bound (ELBO)
    in nats per example.

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-encoding variational Bayes. ICLR.

    Every method that takes data accepts numpy arrays too and then returns
    numpy arrays (scalars as floats), computed without gradients; tensors in
    give tensors out, differentiable.

    Examples
    --------
    >>> import torch
    >>> vae = VAE(64, 2)
    >>> vae.sample(3, seed=0).shape
    torch.Size([3, 64])
    """

    def __init__(self, input_dim: int, latent_dim: int, hidden_dim: int = 64, beta: float = 1.0):
        super().__init__()
        self.input_dim = positive_int("input_dim", input_dim)
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.beta = positive_float("beta", beta, allow_zero=True)
        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU())
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim)
        )

    def _check(self, x: torch.Tensor, dim: int, name: str) -> None:
        if x.dim() != 2 or x.shape[1] != dim:
            raise ValueError(f"{name} must have shape (batch, {dim}), got {tuple(x.shape)}")

    @numpy_io("x")
    def encode(self, x: torch.Tensor):
        """Posterior parameters ``(mu, logvar)``, each (batch, latent_dim), for ``x`` (batch, input_dim)."""
        self._check(x, self.input_dim, "x")
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    @numpy_io("z")
    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder pre-activations (Bernoulli logits), shape (batch, input_dim)."""
        self._check(z, self.latent_dim, "z")
        return self.decoder(z)

    @numpy_io("z")
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded means ``x_hat`` in (0, 1), shape (batch, input_dim), for ``z`` (batch, latent_dim)."""
        return torch.sigmoid(self.decode_logits(z))

    @numpy_io("mu", "logvar")
    def reparameterize(self, mu, logvar, generator=None):
        """``z = mu + eps * exp(logvar / 2)`` with ``eps ~ N(0, I)``; differentiable in mu and logvar."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    @numpy_io("x")
    def forward(self, x: torch.Tensor, generator=None):
        """Reconstruction from one posterior sample, with the posterior parameters.

        Returns
        -------
        x_hat : torch.Tensor, shape (batch, input_dim)
        mu, logvar : torch.Tensor, shape (batch, latent_dim)
        """
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return self.decode(z), mu, logvar

    @numpy_io("output", "x")
    def criterion(self, output, x: torch.Tensor) -> torch.Tensor:
        """``reconstruction + beta * KL`` averaged over the batch, from ``forward``'s output.

        Written as ``loss(y, t)`` so that :func:`spikenet.rate.fit` trains a
        VAE directly: ``fit(vae, (X, X), vae.criterion, ...)``.

        Parameters
        ----------
        output : tuple (x_hat, mu, logvar)
            What :meth:`forward` returns.
        x : torch.Tensor, shape (batch, input_dim)
            The inputs, in [0, 1] (the reconstruction targets).

        Returns
        -------
        torch.Tensor
            Scalar, in nats per example.
        """
        recon, kl = self._terms(output, x)
        return (recon + self.beta * kl).mean()

    @staticmethod
    def _terms(output, x):
        x_hat, mu, logvar = output
        if x_hat.shape != x.shape:
            raise ValueError(f"x must have the shape of the reconstruction {tuple(x_hat.shape)}, "
                             f"got {tuple(x.shape)}")
        # Bernoulli log-likelihood; torch clamps the logarithms at -100, so x_hat of exactly
        # 0 or 1 gives a finite loss.
        recon = F.binary_cross_entropy(x_hat, x, reduction="none").sum(dim=1)
        return recon, gaussian_kl(mu, logvar)

    @numpy_io("x")
    def loss(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """Mean over the batch of ``reconstruction + beta * KL`` (a scalar tensor).

        Parameters
        ----------
        x : torch.Tensor, shape (batch, input_dim)
            Inputs in [0, 1].
        generator : torch.Generator, optional
            Source of the reparameterisation noise (torch's global RNG by default).
        """
        if not torch.isfinite(x).all():
            raise ValueError("x contains NaN or inf")
        return self.criterion(self(x, generator), x)

    @numpy_io("x")
    @torch.no_grad()
    def elbo(self, x: torch.Tensor, n_samples: int = 1, seed=None) -> float:
        """Evidence lower bound per example (nats), averaged over ``n_samples`` draws.

        Independent of ``beta`` (always the KL weight 1).

        Parameters
        ----------
        x : torch.Tensor or ndarray, shape (batch, input_dim)
            Inputs in [0, 1].
        n_samples : int
            Posterior samples per example.
        seed : None, int or numpy.random.Generator
            Seeds the posterior samples.

        Returns
        -------
        float
        """
        n_samples = positive_int("n_samples", n_samples)
        gen = torch.Generator().manual_seed(int(as_rng(seed).integers(2**63)))
        vals = []
        for _ in range(n_samples):
            recon, kl = self._terms(self(x, gen), x)
            vals.append(float((-(recon + kl)).mean()))
        return float(np.mean(vals))

    @torch.no_grad()
    def sample(self, n: int, seed=None) -> torch.Tensor:
        """Decode ``n`` draws from the prior ``N(0, I)``.

        Parameters
        ----------
        n : int
            Number of samples.
        seed : None, int or numpy.random.Generator

        Returns
        -------
        torch.Tensor, shape (n, input_dim)
            Decoded means in (0, 1).
        """
        n = positive_int("n", n)
        gen = torch.Generator().manual_seed(int(as_rng(seed).integers(2**63)))
        dtype = self.to_mu.weight.dtype
        z = torch.randn((n, self.latent_dim), generator=gen, dtype=dtype)
        return self.decode(z)
