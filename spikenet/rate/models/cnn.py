"""A small convolutional network for square grey-scale images."""

from __future__ import annotations

import math

import torch
from torch import nn

from spikenet._validation import positive_int
from spikenet.rate._arrays import numpy_io

__all__ = ["CNN"]


class CNN(nn.Module):
    """Convolution-ReLU-max-pool blocks followed by a linear read-out.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` of the images, in pixels; default the 8x8 digits.
    n_classes : int
        Number of output logits.
    channels : tuple of int
        Feature maps of each convolution block. Each block is a
        ``kernel_size`` convolution (zero padding keeps the size), a ReLU and
        a 2x2 max pool (the size halves, rounding down).
    kernel_size : int
        Odd side length of the square convolution kernels.

    Notes
    -----
    ``forward`` accepts flat images ``(batch, height*width)`` (as returned by
    :func:`spikenet.rate.datasets.digits`) or ``(batch, 1, height, width)``
    and returns logits ``(batch, n_classes)`` (numpy images give numpy
    logits, computed without gradients); train it with a cross-entropy
    loss. Each feature map is a retinotopic layer: a unit sees only a
    ``kernel_size`` square patch of the layer below, and all units of a map
    share one kernel, so the block has ``c_in*c_out*k^2 + c_out`` weights
    whatever the image size.

    Examples
    --------
    >>> import torch
    >>> net = CNN()
    >>> net(torch.zeros(5, 64)).shape
    torch.Size([5, 10])
    """

    def __init__(self, image_shape=(8, 8), n_classes: int = 10, channels=(16, 32), kernel_size: int = 3):
        super().__init__()
        if len(image_shape) != 2:
            raise ValueError(f"image_shape must be (height, width), got {image_shape!r}")
        h, w = (positive_int("image_shape", s) for s in image_shape)
        n_classes = positive_int("n_classes", n_classes)
        kernel_size = positive_int("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (to keep the image size), got {kernel_size}")
        channels = tuple(positive_int("channels", c) for c in channels)
        if not channels:
            raise ValueError("channels must name at least one convolution block")
        if min(h, w) < 2 ** len(channels):
            raise ValueError(
                f"image_shape {image_shape} is too small for {len(channels)} 2x2 pooling blocks"
            )
        self.image_shape = (h, w)
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, kernel_size, padding=kernel_size // 2), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
            h, w = h // 2, w // 2
        self.features = nn.Sequential(*layers)
        self.readout = nn.Linear(c_in * h * w, n_classes)

    @numpy_io("x")
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)`` for images ``(batch, H*W)`` or ``(batch, 1, H, W)``."""
        h, w = self.image_shape
        if x.dim() == 2:
            if x.shape[1] != h * w:
                raise ValueError(f"x must have {h * w} = {h}x{w} columns, got shape {tuple(x.shape)}")
            x = x.reshape(-1, 1, h, w)
        elif x.dim() != 4 or tuple(x.shape[1:]) != (1, h, w):
            raise ValueError(
                f"x must have shape (batch, {h * w}) or (batch, 1, {h}, {w}), got {tuple(x.shape)}"
            )
        return self.readout(self.features(x).flatten(1))

    def n_parameters(self) -> int:
        """Number of trainable scalars."""
        return sum(math.prod(p.shape) for p in self.parameters())
