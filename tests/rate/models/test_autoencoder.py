"""Autoencoder: tied weights, binary_world reproduced bit-exact, denoising (notes 7.1)."""

import numpy as np
import pytest
import torch

from spikenet.rate import datasets, fit
from spikenet.rate.models import Autoencoder

# Thresholds (one place):
# - binary_world: 500 Adam epochs at lr 0.05 bring the BCE to about 0.07 (untied) / 0.09 (tied),
#   every output within 0.5 of its bit (measured over seeds 0-2); the claim itself is exact.
AE_EPOCHS = 500
# - Denoising at noise 0.3: thresholding the noisy input at 0.5 gets 4.3% of bits and 30% of
#   patterns wrong; the denoising autoencoder measured 1.2% of bits and 6% of patterns on 1000
#   fresh noisy patterns. Asserted: at most half the bit errors of thresholding, and at least
#   85% of patterns restored exactly (s.e. at n = 1000 is below 0.01).
NOISE = 0.3
DENOISE_PATTERNS_MIN = 0.85


def _noisy_copies(copies, rng):
    pairs = [datasets.binary_world(noise=NOISE, seed=rng) for _ in range(copies)]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def test_tied_model_has_input_times_latent_fewer_parameters():
    untied, tied = Autoencoder(8, 3), Autoencoder(8, 3, tied=True)
    assert untied.n_parameters() - tied.n_parameters() == 8 * 3
    assert untied.n_parameters() == 2 * 8 * 3 + 8 + 3
    assert len(list(tied.parameters())) == 3  # one weight, two biases


def test_tied_decoder_uses_transpose_of_the_encoder_weight():
    torch.manual_seed(0)
    ae = Autoencoder(8, 3, tied=True)
    x = torch.rand(4, 8)
    h = torch.sigmoid(x @ ae.weight.T + ae.encoder_bias)
    y = torch.sigmoid(h @ ae.weight + ae.decoder_bias)
    torch.testing.assert_close(ae.encode(x), h)
    torch.testing.assert_close(ae(x), y)
    # One Parameter: the decoder's gradient lands on the encoder weight.
    ae(x).sum().backward()
    assert ae.weight.grad is not None and ae.decoder_weight is None


def test_untied_layers_match_linear_layers():
    torch.manual_seed(1)
    ae = Autoencoder(6, 2, activation="tanh")
    x = torch.randn(5, 6)
    h = torch.tanh(torch.nn.functional.linear(x, ae.weight, ae.encoder_bias))
    torch.testing.assert_close(ae(x), torch.tanh(torch.nn.functional.linear(h, ae.decoder_weight,
                                                                            ae.decoder_bias)))


@pytest.mark.parametrize("tied", [False, True])
def test_binary_world_reproduced_bit_exact(tied):
    X, T = datasets.binary_world()
    torch.manual_seed(0)
    ae = Autoencoder(8, 3, tied=tied)
    fit(ae, (X, T), "bce", epochs=AE_EPOCHS, lr=0.05, optimizer="adam", seed=0, progress=False)
    with torch.no_grad():
        y = ae(torch.from_numpy(X)).numpy()
        codes = ae.encode(torch.from_numpy(X)).numpy()
    np.testing.assert_array_equal(np.round(y), T)
    assert codes.shape == (5, 3)
    # Five different patterns need five different codes.
    assert len({tuple(np.round(c, 1)) for c in codes}) == 5


def test_denoising_autoencoder_cleans_noisy_patterns():
    X, T = _noisy_copies(40, np.random.default_rng(0))
    torch.manual_seed(0)
    ae = Autoencoder(8, 3)
    fit(ae, (X, T), "bce", epochs=150, lr=0.02, optimizer="adam", batch_size=50, seed=0, progress=False)
    Xv, Tv = _noisy_copies(200, np.random.default_rng(1))
    with torch.no_grad():
        y = np.round(ae(torch.from_numpy(Xv)).numpy())
    bit_errors = np.mean(y != Tv)
    threshold_errors = np.mean((Xv > 0.5) != Tv)
    assert bit_errors <= 0.5 * threshold_errors
    assert np.mean(np.all(y == Tv, axis=1)) >= DENOISE_PATTERNS_MIN


def test_state_dict_round_trip_without_pickle(tmp_path):
    ae = Autoencoder(8, 3, tied=True)
    torch.save(ae.state_dict(), tmp_path / "ae.pt")
    other = Autoencoder(8, 3, tied=True)
    other.load_state_dict(torch.load(tmp_path / "ae.pt", weights_only=True))
    x = torch.rand(2, 8)
    torch.testing.assert_close(other(x), ae(x))


def test_bad_sizes_and_activation_raise():
    with pytest.raises(ValueError, match="latent_dim"):
        Autoencoder(8, 0)
    with pytest.raises(ValueError, match="activation"):
        Autoencoder(8, 3, activation="sigmoidal")
    with pytest.raises(TypeError, match="tied"):
        Autoencoder(8, 3, tied="yes")


def test_input_of_wrong_width_raises():
    with pytest.raises(ValueError, match="x must have 8 columns"):
        Autoencoder(8, 3)(torch.zeros(2, 7))
