"""Recurrent networks: a plain RNN with hand-written BPTT, and an LSTM.

Sequences are time first: inputs ``(steps, batch, input_dim)``, outputs
``(steps, batch, output_dim)``, as in ``torch.nn.RNN``'s default layout and
the rest of spikenet. Methods that take sequences accept numpy arrays too and
then return numpy arrays, computed without gradients. Vectors are rows and weights
multiply from the right (``x U``), so ``U`` has shape ``(input_dim, hidden_dim)``.
"""

from __future__ import annotations

import torch
from torch import nn

from spikenet._validation import choice, positive_int
from spikenet.rate._arrays import as_float_tensor, numpy_io

__all__ = ["LSTM", "RNN", "BatchFirst"]


def _logistic_prime_from_value(y):
    return y * (1 - y)


# name -> (function, derivative expressed through the function's value)
_HIDDEN = {
    "tanh": (torch.tanh, lambda y: 1 - y * y),
    "logistic": (torch.sigmoid, _logistic_prime_from_value),
}
_OUTPUT = {
    "identity": (lambda z: z, lambda y: torch.ones_like(y)),
    "logistic": (torch.sigmoid, _logistic_prime_from_value),
    "tanh": (torch.tanh, lambda y: 1 - y * y),
}


def _check_sequence(x: torch.Tensor, input_dim: int, name: str = "x") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 3 or x.shape[2] != input_dim:
        raise ValueError(
            f"{name} must have shape (steps, batch, {input_dim}) (time first), got {tuple(x.shape)}"
        )
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _uniform(shape, bound):
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class RNN(nn.Module):
    """Elman recurrent network (Elman 1990).

    ``s^k = x^k U + h^{k-1} W + b``, ``h^k = sigma(s^k)``,
    ``z^k = h^k V + c``, ``y^k = tau(z^k)``, with ``h^0 = 0`` unless given.

    Parameters
    ----------
    input_dim, hidden_dim, output_dim : int
        Sizes of ``x``, ``h`` and ``y``.
    activation : {"tanh", "logistic"}
        Hidden nonlinearity ``sigma``.
    output_activation : {"identity", "logistic", "tanh"}
        Output nonlinearity ``tau`` (identity: a linear read-out for
        regression targets such as the next number of a sequence).

    Attributes
    ----------
    U : Parameter, shape (input_dim, hidden_dim)
    W : Parameter, shape (hidden_dim, hidden_dim)
    V : Parameter, shape (hidden_dim, output_dim)
    b : Parameter, shape (hidden_dim,)
    c : Parameter, shape (output_dim,)

    Examples
    --------
    >>> import torch
    >>> net = RNN(1, 8, 1)
    >>> net(torch.zeros(5, 3, 1)).shape
    torch.Size([5, 3, 1])
    """

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, activation: str = "tanh",
                 output_activation: str = "identity"):
        super().__init__()
        self.input_dim = positive_int("input_dim", input_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.output_dim = positive_int("output_dim", output_dim)
        self.activation = choice("activation", activation, _HIDDEN)
        self.output_activation = choice("output_activation", output_activation, _OUTPUT)
        k = hidden_dim ** -0.5  # torch.nn.RNN's initialisation scale
        self.U = _uniform((input_dim, hidden_dim), k)
        self.W = _uniform((hidden_dim, hidden_dim), k)
        self.b = _uniform((hidden_dim,), k)
        self.V = _uniform((hidden_dim, output_dim), k)
        self.c = _uniform((output_dim,), k)

    @numpy_io("x", "h0")
    def run(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """Outputs and hidden states for a batch of sequences.

        Parameters
        ----------
        x : torch.Tensor, shape (steps, batch, input_dim)
        h0 : torch.Tensor, shape (batch, hidden_dim), optional
            Initial hidden state (zeros by default).

        Returns
        -------
        y : torch.Tensor, shape (steps, batch, output_dim)
        h : torch.Tensor, shape (steps, batch, hidden_dim)
        """
        x = _check_sequence(x, self.input_dim)
        sigma = _HIDDEN[self.activation][0]
        tau = _OUTPUT[self.output_activation][0]
        h = x.new_zeros((x.shape[1], self.hidden_dim)) if h0 is None else h0
        hs = []
        for xk in x:
            h = sigma(xk @ self.U + h @ self.W + self.b)
            hs.append(h)
        H = torch.stack(hs)
        return tau(H @ self.V + self.c), H

    @numpy_io("x", "h0")
    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs ``y`` (steps, batch, output_dim) for inputs ``x`` (steps, batch, input_dim)."""
        return self.run(x, h0)[0]

    @staticmethod
    def sequence_loss(y: torch.Tensor, t: torch.Tensor, alpha=None) -> torch.Tensor:
        """``E = sum_k alpha_k L(y^k, t^k)`` with ``L`` the batch mean of ``0.5 ||y^k - t^k||^2``.

        Parameters
        ----------
        y, t : torch.Tensor or ndarray, shape (steps, batch, output_dim)
        alpha : array_like, shape (steps,), optional
            Weight of each time step; ones by default, e.g.
            ``[0, ..., 0, 1]`` scores only the last step.

        Returns
        -------
        torch.Tensor or float
            A scalar tensor for tensor ``y``; a float (float64 arithmetic) for
            numpy ``y``.
        """
        if not isinstance(y, torch.Tensor):
            y = as_float_tensor("y", y, torch.float64)
            t = as_float_tensor("t", t, torch.float64)
            return float(RNN.sequence_loss(y, t, alpha))
        if not isinstance(t, torch.Tensor):
            t = as_float_tensor("t", t, y.dtype)
        if y.shape != t.shape:
            raise ValueError(f"t must have the shape of the outputs {tuple(y.shape)}, got {tuple(t.shape)}")
        per_step = 0.5 * ((y - t) ** 2).sum(dim=2).mean(dim=1)
        if alpha is None:
            return per_step.sum()
        alpha = torch.as_tensor(alpha, dtype=y.dtype)
        if alpha.shape != per_step.shape:
            raise ValueError(f"alpha must have shape ({y.shape[0]},), got {tuple(alpha.shape)}")
        return (alpha * per_step).sum()

    @numpy_io("x", "t", "h0")
    @torch.no_grad()
    def bptt(self, x: torch.Tensor, t: torch.Tensor, alpha=None, h0: torch.Tensor | None = None):
        """Loss and gradients by hand-written backpropagation through time.

        Going backwards from the last step ``tau``:

        - ``dE/dz^k = alpha_k dL/dy^k * tau'(z^k)``
        - ``dE/dh^k = dE/dz^k V^T + dE/ds^{k+1} W^T`` (the second term absent at ``k = tau``)
        - ``dE/ds^k = dE/dh^k * sigma'(s^k)``

        and the parameter gradients sum over steps: ``dE/dV = sum_k h^k^T dE/dz^k``,
        ``dE/dU = sum_k x^k^T dE/ds^k``, ``dE/dW = sum_k h^{k-1}^T dE/ds^k``,
        ``dE/db = sum_k dE/ds^k``, ``dE/dc = sum_k dE/dz^k`` (sums also over the batch).

        Parameters
        ----------
        x : torch.Tensor, shape (steps, batch, input_dim)
        t : torch.Tensor, shape (steps, batch, output_dim)
        alpha : array_like, shape (steps,), optional
            Step weights of :meth:`sequence_loss`.
        h0 : torch.Tensor, shape (batch, hidden_dim), optional

        Returns
        -------
        loss : float
            :meth:`sequence_loss` of the outputs.
        grads : dict of str to torch.Tensor
            ``{"U", "W", "V", "b", "c"}``, each shaped like its parameter.
        """
        y, H = self.run(x, h0)
        loss = float(self.sequence_loss(y, t, alpha))
        steps, batch = x.shape[0], x.shape[1]
        a = torch.ones(steps, dtype=y.dtype) if alpha is None else torch.as_tensor(alpha, dtype=y.dtype)
        dsigma = _HIDDEN[self.activation][1]
        dtau = _OUTPUT[self.output_activation][1]
        h_prev_all = torch.cat([(x.new_zeros((batch, self.hidden_dim)) if h0 is None else h0)[None], H[:-1]])
        dZ = a[:, None, None] * (y - t) / batch * dtau(y)
        grads = {name: torch.zeros_like(p) for name, p in self.named_parameters()}
        grads["V"] = torch.einsum("kbh,kbo->ho", H, dZ)
        grads["c"] = dZ.sum(dim=(0, 1))
        ds_next = None
        for k in range(steps - 1, -1, -1):
            dh = dZ[k] @ self.V.T
            if ds_next is not None:
                dh = dh + ds_next @ self.W.T
            ds = dh * dsigma(H[k])
            grads["U"] += x[k].T @ ds
            grads["W"] += h_prev_all[k].T @ ds
            grads["b"] += ds.sum(dim=0)
            ds_next = ds
        return loss, grads


class LSTM(nn.Module):
    """Long short-term memory network (Hochreiter & Schmidhuber 1997) with a forget gate.

    With ``u_t = [h_{t-1}  x_t]`` (a row of hidden_dim + input_dim entries):

    - forget gate ``f_t = sigma(u_t W_f + b_f)``
    - input gate ``i_t = sigma(u_t W_i + b_i)``
    - candidate ``c~_t = tanh(u_t W_c + b_c)``
    - cell ``c_t = f_t * c_{t-1} + i_t * c~_t``
    - output gate ``o_t = sigma(u_t W_o + b_o)``
    - hidden ``h_t = o_t * tanh(c_t)``
    - read-out ``y_t = tau(h_t V + d)``

    Parameters
    ----------
    input_dim, hidden_dim, output_dim : int
    output_activation : {"identity", "logistic", "tanh"}
        ``tau``.
    forget_bias : float
        Initial value of ``b_f``; 1 (Gers et al. 2000) lets the cell keep its
        content from the start of training.

    Attributes
    ----------
    W_f, W_i, W_c, W_o : Parameter, shape (hidden_dim + input_dim, hidden_dim)
    b_f, b_i, b_c, b_o : Parameter, shape (hidden_dim,)
    V : Parameter, shape (hidden_dim, output_dim)
    d : Parameter, shape (output_dim,)

    Examples
    --------
    >>> import torch
    >>> net = LSTM(2, 8, 1)
    >>> net(torch.zeros(5, 3, 2)).shape
    torch.Size([5, 3, 1])
    """

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int,
                 output_activation: str = "identity", forget_bias: float = 1.0):
        super().__init__()
        self.input_dim = positive_int("input_dim", input_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.output_dim = positive_int("output_dim", output_dim)
        self.output_activation = choice("output_activation", output_activation, _OUTPUT)
        k = hidden_dim ** -0.5  # torch.nn.LSTM's initialisation scale
        n_in = hidden_dim + input_dim
        for gate in "fico":
            setattr(self, f"W_{gate}", _uniform((n_in, hidden_dim), k))
            setattr(self, f"b_{gate}", _uniform((hidden_dim,), k))
        with torch.no_grad():
            self.b_f.fill_(float(forget_bias))
        self.V = _uniform((hidden_dim, output_dim), k)
        self.d = _uniform((output_dim,), k)

    @numpy_io("x", "state")
    def run(self, x: torch.Tensor, state=None):
        """Outputs, hidden states and cell states.

        Parameters
        ----------
        x : torch.Tensor, shape (steps, batch, input_dim)
        state : tuple (h0, c0) of torch.Tensor, each (batch, hidden_dim), optional
            Zeros by default.

        Returns
        -------
        y : torch.Tensor, shape (steps, batch, output_dim)
        h, c : torch.Tensor, shape (steps, batch, hidden_dim)
        """
        x = _check_sequence(x, self.input_dim)
        batch = x.shape[1]
        if state is None:
            h = x.new_zeros((batch, self.hidden_dim))
            c = x.new_zeros((batch, self.hidden_dim))
        else:
            h, c = state
        W = torch.cat([self.W_f, self.W_i, self.W_c, self.W_o], dim=1)
        bias = torch.cat([self.b_f, self.b_i, self.b_c, self.b_o])
        hs, cs = [], []
        for xk in x:
            f, i, g, o = (torch.cat([h, xk], dim=1) @ W + bias).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            hs.append(h)
            cs.append(c)
        H = torch.stack(hs)
        tau = _OUTPUT[self.output_activation][0]
        return tau(H @ self.V + self.d), H, torch.stack(cs)

    @numpy_io("x", "state")
    def forward(self, x: torch.Tensor, state=None) -> torch.Tensor:
        """Outputs ``y`` (steps, batch, output_dim) for inputs ``x`` (steps, batch, input_dim)."""
        return self.run(x, state)[0]


class BatchFirst(nn.Module):
    """Wrap a time-first sequence model so that it takes and returns batch-first tensors.

    :func:`spikenet.rate.fit` draws minibatches along axis 0; wrapping an
    :class:`RNN` or :class:`LSTM` lets it shuffle whole sequences:
    ``fit(BatchFirst(net), (X, T), ...)`` with ``X`` of shape
    (batch, steps, input_dim).

    Parameters
    ----------
    net : torch.nn.Module
        Maps (steps, batch, ...) to (steps, batch, ...).
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    @numpy_io("x")
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (batch, steps, output_dim) for inputs (batch, steps, input_dim)."""
        if x.dim() != 3:
            raise ValueError(f"x must have shape (batch, steps, features), got {tuple(x.shape)}")
        return self.net(x.transpose(0, 1)).transpose(0, 1)
