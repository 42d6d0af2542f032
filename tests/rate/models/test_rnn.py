"""RNN with hand-written BPTT, next-element prediction, and LSTM vs RNN on delayed recall (notes 10)."""

import numpy as np
import pytest
import torch

from spikenet.rate import fit
from spikenet.rate.models import LSTM, RNN, BatchFirst

# Tolerances and thresholds (one place):
# - BPTT vs autograd in float64: the two differ only in summation order, so agreement to
#   1e-12 relative (a few hundred ulps) is expected.
BPTT_RTOL = 1e-10
BPTT_ATOL = 1e-12
# - Next-element prediction of arithmetic sequences (start in [-1, 1], step d in [-0.3, 0.3]):
#   copying the last element errs by |d| (mean 0.15); the trained RNN measured a mean error of
#   0.015-0.026 from the third element on. Asserted: below a quarter of the copying error.
NEXT_ELEMENT_FRACTION = 0.25
# - 0, 2, 4, 6 -> 8: the prediction must round to 8 (measured 8.1-8.3).
NEXT_NUMBER_ATOL = 0.5


def _random_rnn(activation, output_activation, seed):
    torch.manual_seed(seed)
    return RNN(3, 5, 2, activation=activation, output_activation=output_activation).double()


@pytest.mark.parametrize("activation, output_activation", [
    ("tanh", "identity"), ("logistic", "logistic"), ("tanh", "tanh"),
])
def test_hand_written_bptt_equals_autograd(activation, output_activation):
    net = _random_rnn(activation, output_activation, seed=0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(7, 4, 3, generator=g, dtype=torch.float64)
    t = torch.randn(7, 4, 2, generator=g, dtype=torch.float64)
    alpha = torch.rand(7, generator=g, dtype=torch.float64)
    h0 = torch.randn(4, 5, generator=g, dtype=torch.float64)
    for a, h in ((None, None), (alpha, h0)):
        loss, grads = net.bptt(x, t, alpha=a, h0=h)
        net.zero_grad()
        auto = net.sequence_loss(net(x, h), t, a)
        auto.backward()
        assert loss == pytest.approx(auto.item(), rel=1e-14)
        for name, p in net.named_parameters():
            torch.testing.assert_close(grads[name], p.grad, rtol=BPTT_RTOL, atol=BPTT_ATOL, msg=name)


def test_rnn_forward_matches_the_notes_recurrence():
    net = _random_rnn("tanh", "identity", seed=2)
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    h = torch.zeros(2, 5, dtype=torch.float64)
    ys = []
    for k in range(4):
        h = torch.tanh(x[k] @ net.U + h @ net.W + net.b)
        ys.append(h @ net.V + net.c)
    torch.testing.assert_close(net(x), torch.stack(ys))


def test_rnn_matches_torch_rnn_with_copied_weights():
    # torch.nn.RNN computes h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): an independent implementation.
    torch.manual_seed(3)
    net = RNN(3, 6, 1).double()
    ref = torch.nn.RNN(3, 6).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(net.U.T)
        ref.weight_hh_l0.copy_(net.W.T)
        ref.bias_ih_l0.copy_(net.b)
        ref.bias_hh_l0.zero_()
    x = torch.randn(9, 2, 3, dtype=torch.float64)
    _, H = net.run(x)
    torch.testing.assert_close(H, ref(x)[0])


def _arithmetic_sequences(n, length, rng):
    start = rng.uniform(-1, 1, n)
    step = rng.uniform(-0.3, 0.3, n)
    s = start[None, :] + step[None, :] * np.arange(length + 1)[:, None]
    return s[:-1, :, None].astype(np.float32), s[1:, :, None].astype(np.float32), step


def test_rnn_learns_next_element_of_arithmetic_sequences():
    x, t, _ = _arithmetic_sequences(256, 6, np.random.default_rng(0))
    torch.manual_seed(0)
    net = RNN(1, 32, 1)
    # Full batch: fit slices the first axis, which is time here, so batch_size stays None.
    fit(net, (x, t), RNN.sequence_loss, epochs=800, lr=1e-2, optimizer="adam", progress=False)
    xv, tv, step = _arithmetic_sequences(1000, 6, np.random.default_rng(1))
    with torch.no_grad():
        y = net(torch.from_numpy(xv)).numpy()
    err = np.abs(y - tv)[2:].mean()
    assert err < NEXT_ELEMENT_FRACTION * np.abs(step).mean()
    # The notes' example 0, 2, 4, 6 (scaled by 1/10): the next number is 8.
    with torch.no_grad():
        nxt = float(net(torch.tensor([0.0, 0.2, 0.4, 0.6])[:, None, None])[-1]) * 10
    assert nxt == pytest.approx(8.0, abs=NEXT_NUMBER_ATOL)


def test_lstm_gates_match_torch_lstm_with_copied_weights():
    # torch.nn.LSTM orders its gates (i, f, g, o) and splits [x, h] weights; map ours onto it.
    torch.manual_seed(4)
    net = LSTM(3, 5, 2).double()
    ref = torch.nn.LSTM(3, 5).double()
    H = 5
    with torch.no_grad():
        for k, gate in enumerate("ifco"):
            W = getattr(net, f"W_{gate}")
            ref.weight_hh_l0[k * H:(k + 1) * H].copy_(W[:H].T)
            ref.weight_ih_l0[k * H:(k + 1) * H].copy_(W[H:].T)
            ref.bias_ih_l0[k * H:(k + 1) * H].copy_(getattr(net, f"b_{gate}"))
        ref.bias_hh_l0.zero_()
    x = torch.randn(8, 4, 3, dtype=torch.float64)
    _, Hs, Cs = net.run(x)
    out, (_, c_n) = ref(x)
    torch.testing.assert_close(Hs, out)
    torch.testing.assert_close(Cs[-1], c_n[0])


def test_sequence_models_reject_batch_first_or_wrong_width_input():
    with pytest.raises(ValueError, match="time first"):
        RNN(2, 4, 1)(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"\(steps, batch, 2\)"):
        LSTM(2, 4, 1)(torch.zeros(5, 3, 3))
    with pytest.raises(TypeError, match=r"x must be a numeric array"):
        RNN(2, 4, 1)(np.array([["a", "b"]]))
    y = RNN(2, 4, 1)(np.zeros((5, 3, 2)))  # numpy in, numpy out
    assert isinstance(y, np.ndarray) and y.shape == (5, 3, 1)


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="activation"):
        RNN(1, 4, 1, activation="relu6")
    with pytest.raises(ValueError, match="hidden_dim"):
        LSTM(1, 0, 1)


def test_sequence_loss_shape_mismatch_raises():
    with pytest.raises(ValueError, match="t must have the shape"):
        RNN.sequence_loss(torch.zeros(3, 2, 1), torch.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="alpha"):
        RNN.sequence_loss(torch.zeros(3, 2, 1), torch.zeros(3, 2, 1), alpha=[1.0, 1.0])


def _delayed_recall(n, delay, rng):
    """Remember a +-1 bit shown at step 0 through `delay` steps of distractor noise."""
    bits = rng.choice([-1.0, 1.0], size=n)
    x = np.zeros((n, delay + 1, 2), np.float32)
    x[:, 0, 0] = bits
    x[:, :, 1] = rng.standard_normal((n, delay + 1))  # distractors on a second channel
    return x, bits[:, None].astype(np.float32)


def _last_step_loss(y, t):
    return 0.5 * ((y[:, -1] - t) ** 2).sum(1).mean()


# - Delayed recall over 40 steps, 100 Adam steps of 64 fresh sequences, 8 hidden units: the LSTM
#   (forget gate initialised open, b_f = 3) measured 0.997-1.0 held-out accuracy, the plain tanh
#   RNN 0.49-0.51 (chance), over seeds 0 and 1 (and 0.3-0.5 with 16 units and 200 steps).
#   1000 held-out sequences: s.e. of an accuracy <= 0.016.
DELAY = 40
LSTM_MIN_ACCURACY = 0.95
RNN_MAX_ACCURACY = 0.65


def test_lstm_learns_delayed_recall_where_plain_rnn_fails(seed=0):
    X, T = _delayed_recall(64 * 100, DELAY, np.random.default_rng(seed))
    Xv, Tv = _delayed_recall(1000, DELAY, np.random.default_rng(1))
    acc = {}
    for name, make in (("lstm", lambda: LSTM(2, 8, 1, forget_bias=3.0)), ("rnn", lambda: RNN(2, 8, 1))):
        torch.manual_seed(seed)
        model = BatchFirst(make())
        fit(model, (X, T), _last_step_loss, epochs=1, lr=1e-2, optimizer="adam", batch_size=64, seed=seed,
            progress=False)
        with torch.no_grad():
            y = model(torch.from_numpy(Xv))[:, -1]
        acc[name] = float(np.mean(np.sign(y.numpy()) == Tv))
    print(f"delayed recall over {DELAY} steps: {acc}")
    assert acc["lstm"] >= LSTM_MIN_ACCURACY
    assert acc["rnn"] <= RNN_MAX_ACCURACY


@pytest.mark.slow
def test_lstm_versus_rnn_holds_for_another_seed():
    test_lstm_learns_delayed_recall_where_plain_rnn_fails(seed=1)


def test_batch_first_wrapper_transposes_both_ways():
    torch.manual_seed(0)
    net = RNN(2, 4, 3)
    x = torch.randn(5, 7, 2)  # (batch, steps, features)
    torch.testing.assert_close(BatchFirst(net)(x), net(x.transpose(0, 1)).transpose(0, 1))
    with pytest.raises(ValueError, match="batch, steps"):
        BatchFirst(net)(torch.zeros(5, 2))
