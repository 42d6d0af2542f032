"""Convolutional network on the 8x8 digits (notes 7.3)."""

import numpy as np
import pytest
import torch

from spikenet.rate import datasets, fit
from spikenet.rate.models import CNN

# Issue 5, point 5: at least 97% test accuracy. Measured with this recipe (25 Adam epochs, split
# seed 0): 0.980, 0.978, 0.980 for initialisation seeds 0, 1, 2 (15 epochs: 0.973).
CNN_MIN_ACCURACY = 0.97


def test_cnn_reaches_97_percent_on_digits():
    Xtr, ytr, Xte, yte = datasets.digits(seed=0)
    torch.manual_seed(0)
    net = CNN()
    fit(net, (Xtr, ytr), "cross_entropy", epochs=25, lr=3e-3, optimizer="adam", batch_size=64, seed=0,
        progress=False)
    with torch.no_grad():
        acc = np.mean(net(torch.from_numpy(Xte)).argmax(1).numpy() == yte)
    print(f"CNN test accuracy {acc:.4f}")
    assert acc >= CNN_MIN_ACCURACY


def test_cnn_is_a_convolution_translation_equivariant_before_pooling():
    # Shifting an image (with empty borders) shifts the first feature map: weight sharing.
    torch.manual_seed(0)
    net = CNN(image_shape=(8, 8), channels=(4,))
    img = torch.zeros(1, 1, 8, 8)
    img[0, 0, 2:4, 2:4] = torch.rand(2, 2)
    shifted = torch.roll(img, shifts=(2, 2), dims=(2, 3))
    conv = net.features[0]
    torch.testing.assert_close(torch.roll(conv(img), (2, 2), (2, 3))[..., 3:7, 3:7],
                               conv(shifted)[..., 3:7, 3:7])


def test_flat_and_image_inputs_agree():
    net = CNN()
    x = torch.rand(3, 64)
    torch.testing.assert_close(net(x), net(x.reshape(3, 1, 8, 8)))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="x must have 64"):
        CNN()(torch.zeros(2, 63))
    with pytest.raises(ValueError, match="kernel_size"):
        CNN(kernel_size=4)
    with pytest.raises(ValueError, match="image_shape"):
        CNN(image_shape=(2, 2), channels=(4, 4))
