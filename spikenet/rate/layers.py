r"""Regularising layers for rate models: dropout and batch normalisation.

Dropout follows Srivastava et al. (2014), batch normalisation Ioffe & Szegedy (2015).

Both are ``torch.nn.Module`` s that behave differently in training and in
evaluation (``model.train()`` / ``model.eval()``; :func:`spikenet.rate.fit`
switches them for you).
"""

from __future__ import annotations

import torch

from spikenet._validation import positive_float, positive_int
from spikenet.rate._arrays import numpy_io

__all__ = ["BatchNorm", "Dropout"]


class Dropout(torch.nn.Module):
    r"""Inverted dropout: drop each unit with probability ``p`` and rescale the survivors.

    Parameters
    ----------
    p : float, optional
        Drop probability :math:`\alpha` in [0, 1).
    generator : torch.Generator, optional
        Source of the drop masks. Default: torch's global generator (which
        :func:`spikenet.rate.fit` seeds from its ``seed`` inside a forked RNG
        state).

    Notes
    -----
    In training mode the layer computes

    .. math:: d(h) = \frac{1}{1 - \alpha} \{h\}_\alpha, \qquad
              \{h\}_\alpha = 0 \text{ with prob. } \alpha, \; h \text{ otherwise,}

    so the expected output equals the input and the next layer receives the
    same expected input current with or without dropout. The gradient is
    :math:`1/(1-\alpha)` through kept units and 0 through dropped ones. In
    evaluation mode the layer is the identity.

    Input shape: (N, ...) any; output shape: the same.

    References
    ----------
    Hinton et al. (2012), "Improving neural networks by preventing
    co-adaptation of feature detectors", arXiv:1207.0580.

    Examples
    --------
    >>> layer = Dropout(0.5).eval()
    >>> layer(torch.ones(2, 3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        p = positive_float("p", p, allow_zero=True)
        if not p < 1:
            raise ValueError(f"p must be in [0, 1), got {p}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        self.p = p
        self.generator = generator

    @numpy_io("h", keep_dtype=True)
    def forward(self, h):
        """Apply dropout (training) or pass ``h`` through (evaluation); numpy in, numpy out."""
        if not self.training or self.p == 0.0:
            return h
        # draw on the generator's device (a CPU generator may serve a GPU tensor)
        device = h.device if self.generator is None else self.generator.device
        keep = (torch.rand(h.shape, generator=self.generator, dtype=h.dtype, device=device) >= self.p).to(
            h.device
        )
        return h * keep.to(h.dtype) / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


class BatchNorm(torch.nn.Module):
    r"""Batch normalisation of each unit over a mini-batch, with learnable scale and shift.

    Parameters
    ----------
    num_features : int
        Number of units ``n`` (inputs have shape (N, n)).
    eps : float, optional
        :math:`\epsilon` added to the variance (> 0).
    momentum : float, optional
        Weight of the newest batch in the running averages, in (0, 1].

    Attributes
    ----------
    gamma, beta : torch.nn.Parameter, shape (n,)
        Scale (init 1) and shift (init 0).
    running_mean, running_var : torch.Tensor, shape (n,)
        Exponential running averages of the batch means and (unbiased)
        variances, updated in training mode and used in evaluation mode.

    Notes
    -----
    Training mode, for a batch of D samples:

    .. math::

        \mu_i = \frac{1}{D}\sum_d h_i^{(d)}, \quad
        \sigma_i^2 = \frac{1}{D}\sum_d (h_i^{(d)} - \mu_i)^2, \quad
        y_i^{(d)} = \gamma_i \frac{h_i^{(d)} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}} + \beta_i

    and the running statistics move towards the batch's:
    ``running <- (1 - momentum) * running + momentum * batch`` (with the
    unbiased variance :math:`\sigma_i^2 D/(D-1)`, as ``torch.nn.BatchNorm1d``).
    Evaluation mode uses the running mean and variance in place of
    :math:`\mu_i, \sigma_i^2`, so a single sample can be processed.

    Examples
    --------
    >>> bn = BatchNorm(2)
    >>> y = bn(torch.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> [round(v, 3) for v in y[:, 1].tolist()]
    [-1.0, 1.0]
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features = positive_int("num_features", num_features)
        self.eps = positive_float("eps", eps)
        momentum = positive_float("momentum", momentum)
        if momentum > 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum}")
        self.momentum = momentum
        self.gamma = torch.nn.Parameter(torch.ones(self.num_features))
        self.beta = torch.nn.Parameter(torch.zeros(self.num_features))
        self.register_buffer("running_mean", torch.zeros(self.num_features))
        self.register_buffer("running_var", torch.ones(self.num_features))

    @numpy_io("h")
    def forward(self, h):
        """Normalise ``h`` (N, n) with batch statistics (training) or running ones (evaluation).

        A numpy ``h`` gives a numpy result in the layer's dtype (the running
        statistics still update in training mode).
        """
        if h.dim() != 2 or h.shape[1] != self.num_features:
            raise ValueError(f"input must have shape (N, {self.num_features}), got {tuple(h.shape)}")
        if self.training:
            n = h.shape[0]
            if n < 2:
                raise ValueError("BatchNorm needs at least 2 samples per batch in training mode")
            mean = h.mean(dim=0)
            var = h.var(dim=0, unbiased=False)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean.detach().to(self.running_mean.dtype))
                unbiased = var.detach() * n / (n - 1)
                self.running_var.mul_(1 - m).add_(m * unbiased.to(self.running_var.dtype))
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (h - mean) / torch.sqrt(var + self.eps) + self.beta

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
