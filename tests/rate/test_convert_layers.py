"""Tests of the wider conversion: convolutions, pooling, Flatten, folded batch norm, ReLU networks."""

import numpy as np
import pytest
import torch

from spikenet.rate import LIFRate, to_spiking
from spikenet.rate._digits_model import accuracy, load_digits_data, train_classifier
from spikenet.rate.convert import RELU_DRIVE_MAX

RTOL_F64 = 1e-12
# A ReLU layer converted to LIF neurons with tau_ref = 0: G(J) tau_m = 1 / ln(J / (J - 1)) differs
# from the line J - 1/2 by at most 1/(12 J) above J = 2 and is 0 below threshold, so the rate
# network of the conversion follows the ReLU network's outputs to a few percent.
RELU_REL_ERR = 0.05
# Spiking CNN on digits: within 1 percentage point of the CNN.
CNN_MAX_DROP = 0.01


def conv_net(act, seed=0, bn_stats=True):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        act(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 12),
        torch.nn.BatchNorm1d(12),
        act(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(12, 3),
    ).double()
    if bn_stats:  # non-trivial running statistics and affine parameters
        with torch.no_grad():
            for m in net:
                if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                    n = m.num_features
                    m.running_mean.copy_(0.3 * torch.randn(n, generator=gen, dtype=torch.float64))
                    m.running_var.copy_(0.5 + torch.rand(n, generator=gen, dtype=torch.float64))
                    m.weight.copy_(1 + 0.3 * torch.randn(n, generator=gen, dtype=torch.float64))
                    m.bias.copy_(1.5 + 0.3 * torch.rand(n, generator=gen, dtype=torch.float64))
    return net.eval()


def test_conv_pool_flatten_and_batch_norm_unroll_to_the_same_function():
    # with LIF-rate activations the conversion's rate network must be the
    # PyTorch model itself (eval mode), computed through dense unrolled layers
    model = conv_net(lambda: LIFRate(amplitude=0.01))
    x = torch.rand(10, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    snn = to_spiking(model, input_shape=(1, 8, 8), rate_scale=1.0)
    assert snn.sizes == [4 * 8 * 8, 12] and snn.n_in == 64 and snn.n_out == 3
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.ptp(expected) > 0.1
    np.testing.assert_allclose(snn.rate_forward(x.reshape(10, 64)), expected, rtol=1e-10, atol=1e-12)


def test_relu_layers_are_scaled_to_lif_rates_from_the_data():
    model = conv_net(torch.nn.ReLU)
    data = torch.rand(200, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    snn = to_spiking(model, input_shape=(1, 8, 8), data=data)
    # the 99.9th percentile of the first ReLU's input drives its neurons to RELU_DRIVE_MAX
    with torch.no_grad():
        z = model[:2](data).reshape(200, -1).numpy()
    J = data.reshape(200, 64).numpy() @ snn.weights[0].T + snn.biases[0]
    assert np.percentile(J, 99.9) == pytest.approx(RELU_DRIVE_MAX, rel=1e-9)
    np.testing.assert_allclose(J, 0.5 + (RELU_DRIVE_MAX - 0.5) / np.percentile(z, 99.9) * z, rtol=1e-9)
    assert snn.neurons[0].tau_ref == 0.0
    # the conversion's rate network follows the ReLU network
    with torch.no_grad():
        expected = model(data).numpy()
    err = np.abs(snn.rate_forward(data.reshape(200, 64)) - expected).max() / np.abs(expected).max()
    assert err < RELU_REL_ERR


def test_spiking_cnn_on_digits_is_within_one_point_of_the_cnn():
    X_train, y_train, X_test, y_test = load_digits_data(seed=0)
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    train_classifier(cnn, X_train.reshape(-1, 1, 8, 8), y_train, epochs=10, seed=0)
    with torch.no_grad():
        cnn_acc = accuracy(cnn(X_test.reshape(-1, 1, 8, 8)), y_test)
    snn = to_spiking(cnn, input_shape=(1, 8, 8), data=X_train)
    assert cnn_acc > 0.95
    # measured: CNN 96.9%, its LIF-rate version 96.7%, spiking 96.7% at 5 and 25 steps
    assert accuracy(snn.run(X_test, 0.005), y_test) >= cnn_acc - CNN_MAX_DROP
    assert accuracy(snn.run(X_test, 0.025), y_test) >= cnn_acc - CNN_MAX_DROP


def silent_relu_net():
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.fill_(-1.0)
    return net


@pytest.mark.parametrize(
    ("model", "kwargs", "match"),
    [
        (torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), LIFRate(), torch.nn.Flatten(), torch.nn.Linear(72, 2)),
         {}, "input_shape"),
        (torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)), {}, "data"),
        (torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)),
         {"data": np.zeros((5, 3))}, "data"),
        (silent_relu_net(), {"data": np.ones((5, 4))}, "model\\[1\\]"),
        (torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.MaxPool2d(2), LIFRate(), torch.nn.Flatten()),
         {"input_shape": (1, 8, 8)},
         "model\\[1\\]"),
        (torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), LIFRate(), torch.nn.Flatten(), torch.nn.Linear(7, 2)),
         {"input_shape": (1, 8, 8)}, "model\\[3\\]"),
        (torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), LIFRate(), torch.nn.Linear(7, 2)),
         {"input_shape": (0, 8)}, "input_shape"),
    ],
)  # fmt: skip
def test_to_spiking_rejects_unsupported_or_inconsistent_layers(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        to_spiking(model, **kwargs)
