"""Generative adversarial networks (Goodfellow et al. 2014)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spikenet._validation import as_rng, finite_float, positive_float, positive_int
from spikenet.rate import _threads
from spikenet.rate._arrays import numpy_io

__all__ = ["GAN", "GANHistory", "ring_of_gaussians"]


@dataclass
class GANHistory:
    """Per-epoch mean losses of :meth:`GAN.fit`.

    Attributes
    ----------
    d_loss : list of float
        Discriminator loss ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` (nats).
    g_loss : list of float
        Generator loss ``BCE(D(G(z)), 1)`` (nats).
    """

    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)


def _latent_dim_of(generator: nn.Module) -> int:
    for m in generator.modules():
        if isinstance(m, nn.Linear):
            return m.in_features
    raise ValueError("latent_dim must be given: the generator has no torch.nn.Linear layer to infer it from")


class GAN(nn.Module):
    """A generator and a discriminator trained against each other.

    Parameters
    ----------
    generator : torch.nn.Module
        Maps latent vectors ``z`` (batch, latent_dim) to samples (batch, ...).
    discriminator : torch.nn.Module
        Maps samples (batch, ...) to one **logit** per sample, shape (batch, 1)
        or (batch,): the probability that the sample is real is its logistic,
        ``D(x) = logistic(discriminator(x))`` (working with the logit keeps
        the cross-entropies finite when ``D`` saturates).
    latent_dim : int, optional
        Size of ``z``; by default the ``in_features`` of the generator's first
        ``torch.nn.Linear``.

    Notes
    -----
    With ``t = 1`` for real inputs and ``t = 0`` for fakes
    ``G(z)``, ``z ~ N(0, I)``, each step of :meth:`fit`

    1. trains the discriminator: ``min_theta BCE(D(x), 1) + BCE(D(G(z)), 0)``;
    2. trains the generator like a targeted adversarial attack with target
       1: ``min_phi BCE(D(G(z)), 1)`` (the non-saturating form of
       Goodfellow et al. 2014).

    References
    ----------
    Goodfellow, I. et al. (2014). Generative adversarial nets. NeurIPS.

    Examples
    --------
    >>> import torch
    >>> G = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> D = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    >>> GAN(G, D).sample(5, seed=0).shape
    torch.Size([5, 2])
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, latent_dim: int | None = None):
        super().__init__()
        if not isinstance(generator, nn.Module):
            raise TypeError(f"generator must be a torch.nn.Module, got {type(generator).__name__}")
        if not isinstance(discriminator, nn.Module):
            raise TypeError(f"discriminator must be a torch.nn.Module, got {type(discriminator).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = _latent_dim_of(generator) if latent_dim is None else positive_int("latent_dim",
                                                                                             latent_dim)

    def _dtype(self):
        return next(self.generator.parameters()).dtype

    def _logit(self, x):
        out = self.discriminator(x)
        if out.dim() == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.dim() != 1:
            raise ValueError(
                "the discriminator must return one logit per sample, shape (batch, 1), "
                f"got {tuple(out.shape)}"
            )
        return out

    @numpy_io("z")
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Generated samples ``G(z)`` for latent vectors ``z`` (batch, latent_dim); numpy in, numpy out."""
        return self.generator(z)

    @torch.no_grad()
    def sample(self, n: int, seed=None) -> torch.Tensor:
        """``n`` generated samples from ``z ~ N(0, I)``.

        Parameters
        ----------
        n : int
        seed : None, int or numpy.random.Generator

        Returns
        -------
        torch.Tensor, shape (n, ...)
            The generator's outputs (generator in eval mode during the call).
        """
        n = positive_int("n", n)
        gen = torch.Generator().manual_seed(int(as_rng(seed).integers(2**63)))
        was_training = self.generator.training
        self.generator.eval()
        try:
            z = torch.randn((n, self.latent_dim), generator=gen, dtype=self._dtype())
            return self.generator(z)
        finally:
            self.generator.train(was_training)

    @numpy_io("x")
    @torch.no_grad()
    def discriminate(self, x) -> torch.Tensor:
        """Probability ``D(x)`` that each sample is real, shape (batch,); numpy in, numpy out."""
        return torch.sigmoid(self._logit(torch.as_tensor(x, dtype=self._dtype())))

    def fit(self, data, epochs: int, lr: float = 2e-4, batch_size: int = 64, betas=(0.5, 0.999),
            lr_d: float | None = None, seed=None, progress: bool = False, *,
            threads=None) -> GANHistory:
        """Alternate discriminator and generator steps (Adam) over minibatches of ``data``.

        Parameters
        ----------
        data : array_like or torch.Tensor, shape (n, ...)
            Real samples.
        epochs : int
            Passes over ``data``.
        lr : float
            Generator learning rate (and the discriminator's unless ``lr_d``).
        batch_size : int
            Real samples per step; as many fakes are drawn.
        betas : (float, float)
            Adam's moment decay rates; ``beta1 = 0.5`` is the usual GAN
            setting (Radford et al. 2016).
        lr_d : float, optional
            Discriminator learning rate.
        seed : None, int or numpy.random.Generator
            Seeds the shuffling and the latent draws.
        progress : bool
            Show a tqdm bar over epochs.
        threads : None or int, optional
            PyTorch intra-op threads during the call, restored afterwards; None
            chooses one thread for small networks, as :func:`spikenet.rate.fit`
            does (its docstring explains the choice).

        Returns
        -------
        GANHistory
        """
        epochs = positive_int("epochs", epochs)
        lr = positive_float("lr", lr)
        lr_d = lr if lr_d is None else positive_float("lr_d", lr_d)
        batch_size = positive_int("batch_size", batch_size)
        b1, b2 = (finite_float("betas", b) for b in betas)
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        dtype = self._dtype()
        X = data.detach().to(dtype) if isinstance(data, torch.Tensor) else torch.as_tensor(
            np.asarray(data), dtype=dtype)
        if X.dim() < 1 or X.shape[0] == 0:
            raise ValueError(f"data must be a non-empty array of samples (n, ...), got {tuple(X.shape)}")
        if not torch.isfinite(X).all():
            raise ValueError("data contains NaN or inf")
        rng = as_rng(seed)
        gen = torch.Generator().manual_seed(int(rng.integers(2**63)))
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(b1, b2))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=lr_d, betas=(b1, b2))
        history = GANHistory()
        it = range(epochs)
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, desc="GAN")
        n_threads = _threads.resolve_threads(threads, min(batch_size, X.shape[0]),
                                             _threads.n_parameters(self.generator, self.discriminator))
        with _threads.torch_threads(n_threads):
            self._train(X, it, batch_size, gen, rng, opt_d, opt_g, history)
        return history

    def _train(self, X, it, batch_size, gen, rng, opt_d, opt_g, history):
        dtype = X.dtype
        self.train()
        n = X.shape[0]
        for epoch in it:
            order = torch.from_numpy(rng.permutation(n))
            d_total = g_total = 0.0
            steps = 0
            for start in range(0, n, batch_size):
                real = X[order[start:start + batch_size]]
                m = real.shape[0]
                # 1. discriminator: real -> 1, fake -> 0 (fakes detached: G is not updated here)
                z = torch.randn((m, self.latent_dim), generator=gen, dtype=dtype)
                fake = self.generator(z)
                logit_real = self._logit(real)
                logit_fake = self._logit(fake.detach())
                d_loss = (F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real))
                          + F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake)))
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                # 2. generator: make D call the fakes real (target 1)
                logit_fake = self._logit(fake)
                g_loss = F.binary_cross_entropy_with_logits(logit_fake, torch.ones_like(logit_fake))
                opt_g.zero_grad()
                g_loss.backward()
                opt_g.step()
                d_total += float(d_loss.detach())
                g_total += float(g_loss.detach())
                steps += 1
            if not (np.isfinite(d_total) and np.isfinite(g_total)):
                raise FloatingPointError(f"GAN losses became NaN/inf in epoch {epoch + 1}")
            history.d_loss.append(d_total / steps)
            history.g_loss.append(g_total / steps)
        self.eval()


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05, seed=None):
    """Samples from ``modes`` Gaussians evenly spaced on a circle (a GAN mode-coverage benchmark).

    Parameters
    ----------
    n : int
        Number of samples.
    modes : int
        Number of mixture components, centred at angles ``2 pi k / modes``.
    radius : float
        Radius of the circle.
    std : float
        Standard deviation of each (isotropic) component.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    samples : ndarray, shape (n, 2), float32
    centres : ndarray, shape (modes, 2), float64
    """
    n = positive_int("n", n)
    modes = positive_int("modes", modes)
    radius = positive_float("radius", radius)
    std = positive_float("std", std)
    rng = as_rng(seed)
    angles = 2 * np.pi * np.arange(modes) / modes
    centres = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    which = rng.integers(modes, size=n)
    samples = centres[which] + std * rng.standard_normal((n, 2))
    return samples.astype(np.float32), centres
