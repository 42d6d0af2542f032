r"""A small reverse-mode automatic-differentiation engine.

The expression graph is made of two kinds of objects:

- :class:`Var` holds a value (a float64 numpy array, scalars as 0-d arrays),
  the accumulated derivative ``grad`` of the final expression with respect
  to it, and ``creator``: the :class:`Op` that produced it (``None`` for a
  leaf such as an input or a weight matrix).
- :class:`Op` subclasses hold references to their argument ``Var`` s,
  compute their value (``forward``) and pass derivatives down
  (``backward``).

Building an expression evaluates it at once; :meth:`Var.evaluate`
re-evaluates the graph after leaf values have changed, so a
graph can be built once and reused.
:meth:`Var.backward` seeds the top with ``s = 1`` and sends derivatives down
the graph, each ``Op`` multiplying by its local derivative.
Instead of a plain recursion (which revisits shared sub-expressions once
per path) the nodes are processed once each in reverse topological order;
the accumulated gradients are identical.

Shapes follow numpy broadcasting: adding a bias row ``(1, K)`` or ``(K,)`` to
a batch ``(N, K)`` works, and the gradient reaching the bias is summed over
the broadcast axes so it always has the bias's shape.

Examples
--------
For example :math:`f = \sin(x) + x y`:

>>> x, y = Var(1.0), Var(2.0)
>>> f = sin(x) + x * y
>>> f.backward()
>>> round(float(x.grad), 6), float(y.grad)   # cos(1) + y, x
(2.540302, 1.0)
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "Op",
    "Var",
    "exp",
    "log",
    "logistic",
    "matmul",
    "mean",
    "relu",
    "sin",
    "sum",
    "tanh",
    "transpose",
]


def _as_value(name, x):
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric, got {type(x).__name__}") from exc
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _unbroadcast(g, shape):
    """Sum ``g`` over the axes along which an argument of ``shape`` was broadcast."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.reshape(shape)


def _wrap(x):
    return x if isinstance(x, Var) else Var(x, requires_grad=False)


class Var:
    """A node of the expression graph: a value, its gradient and its creator.

    Parameters
    ----------
    val : float or array_like
        The value; stored as a float64 array (0-d for scalars).
    requires_grad : bool, optional
        Whether ``backward`` should accumulate a gradient here. Constants
        wrapped automatically (e.g. the ``2`` in ``2 * x``) use False.
    name : str, optional
        Label shown in ``repr``.

    Attributes
    ----------
    val : ndarray
        Current value.
    grad : ndarray
        Derivative of the expression on which ``backward`` was last called
        (summed over calls until :meth:`zero_grad`), same shape as ``val``.
    creator : Op or None
        The operation that produced this variable.
    """

    __array_priority__ = 100  # so ndarray + Var dispatches to Var.__radd__

    def __init__(self, val, requires_grad=True, name=None, *, _creator=None):
        self.val = _as_value("val", val)
        self.grad = np.zeros_like(self.val)
        self.creator = _creator
        self.requires_grad = bool(requires_grad) or _creator is not None
        self.name = name

    # ----------------------------------------------------------------- basics
    @property
    def shape(self):
        """Shape of the value."""
        return self.val.shape

    @property
    def ndim(self):
        """Number of dimensions of the value."""
        return self.val.ndim

    def __repr__(self):
        label = f"{self.name}, " if self.name else ""
        op = type(self.creator).__name__ if self.creator else "leaf"
        return f"Var({label}{op}, shape={self.val.shape})"

    def _graph(self):
        """Nodes below (and including) self in topological order, inputs first."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            if node.creator is not None:
                for arg in node.creator.args:
                    if id(arg) not in seen:
                        stack.append((arg, False))
        return order

    def evaluate(self):
        """Recompute every value in the graph from its leaves.

        Returns
        -------
        ndarray
            The new value of this variable.
        """
        for node in self._graph():
            if node.creator is not None:
                node.val = node.creator.forward(*(a.val for a in node.creator.args))
                if node.grad.shape != node.val.shape:
                    node.grad = np.zeros_like(node.val)
        return self.val

    def zero_grad(self):
        """Set ``grad`` to zero on this variable and every variable below it."""
        for node in self._graph():
            node.grad = np.zeros_like(node.val)

    def backward(self, s=None):
        """Accumulate derivatives of this expression into every ``grad`` below.

        Parameters
        ----------
        s : float or array_like, optional
            Derivative of the final scalar with respect to this variable,
            shape of ``val``. Default 1 (for a non-scalar value this is the
            gradient of ``sum(self)``).

        Notes
        -----
        Gradients add up (``+=``) across calls; call :meth:`zero_grad` first
        for a fresh gradient.
        """
        seed = np.ones_like(self.val) if s is None else _as_value("s", s)
        if seed.shape != self.val.shape:
            seed = np.broadcast_to(seed, self.val.shape).copy()
        order = self._graph()
        pending = {id(n): np.zeros_like(n.val) for n in order}
        pending[id(self)] = pending[id(self)] + seed
        for node in reversed(order):
            g = pending[id(node)]
            if node.requires_grad:
                node.grad = node.grad + g
            if node.creator is not None:
                for arg, ga in zip(node.creator.args, node.creator.backward(g)):
                    if ga is not None and arg.requires_grad:
                        pending[id(arg)] = pending[id(arg)] + _unbroadcast(ga, arg.val.shape)

    # -------------------------------------------------------------- operators
    def __add__(self, other):
        return Add()(self, _wrap(other))

    def __radd__(self, other):
        return Add()(_wrap(other), self)

    def __sub__(self, other):
        return Sub()(self, _wrap(other))

    def __rsub__(self, other):
        return Sub()(_wrap(other), self)

    def __mul__(self, other):
        return Mul()(self, _wrap(other))

    def __rmul__(self, other):
        return Mul()(_wrap(other), self)

    def __truediv__(self, other):
        return Div()(self, _wrap(other))

    def __rtruediv__(self, other):
        return Div()(_wrap(other), self)

    def __matmul__(self, other):
        return MatMul()(self, _wrap(other))

    def __rmatmul__(self, other):
        return MatMul()(_wrap(other), self)

    def __neg__(self):
        return Neg()(self)

    def __pow__(self, p):
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"exponent must be a real number, got {type(p).__name__}")
        return Pow(float(p))(self)

    @property
    def T(self):
        """Transpose (reverses the axes)."""
        return Transpose()(self)


class Op:
    """Base class of operations: holds its arguments and creates its output.

    Subclasses implement ``forward(*values) -> ndarray`` and
    ``backward(s) -> tuple`` of derivatives, one per argument, each
    ``s * d(output)/d(arg)`` before un-broadcasting (``None`` for none).
    """

    def __call__(self, *args):
        self.args = tuple(_wrap(a) for a in args)
        value = self.forward(*(a.val for a in self.args))
        self.out = Var(value, _creator=self)
        return self.out

    def forward(self, *values):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, s):  # pragma: no cover - abstract
        raise NotImplementedError

    def _vals(self):
        return tuple(a.val for a in self.args)


def _check_finite_result(name, value):
    if value.size and not np.all(np.isfinite(value)):
        raise ValueError(f"{name} produced NaN or inf; check its argument's domain")
    return value


class Add(Op):
    """``a + b`` with broadcasting."""

    def forward(self, a, b):
        return a + b

    def backward(self, s):
        return s, s


class Sub(Op):
    """``a - b`` with broadcasting."""

    def forward(self, a, b):
        return a - b

    def backward(self, s):
        return s, -s


class Mul(Op):
    """Element-wise ``a * b`` with broadcasting."""

    def forward(self, a, b):
        return a * b

    def backward(self, s):
        a, b = self._vals()
        return s * b, s * a


class Div(Op):
    """Element-wise ``a / b`` with broadcasting."""

    def forward(self, a, b):
        if np.any(b == 0):
            raise ValueError("division by zero in autodiff Div")
        return a / b

    def backward(self, s):
        a, b = self._vals()
        return s / b, -s * a / b**2


class Neg(Op):
    """``-a``."""

    def forward(self, a):
        return -a

    def backward(self, s):
        return (-s,)


class Pow(Op):
    """``a ** p`` for a constant real exponent ``p``."""

    def __init__(self, p):
        self.p = p

    def forward(self, a):
        return _check_finite_result("pow", np.power(a, self.p))

    def backward(self, s):
        (a,) = self._vals()
        return (s * self.p * np.power(a, self.p - 1),)


class MatMul(Op):
    """Matrix product ``A @ B``: gradients ``s B^T`` and ``A^T s``."""

    def forward(self, a, b):
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError(f"matmul needs two 2-D arguments, got shapes {a.shape} and {b.shape}")
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul shapes {a.shape} and {b.shape} do not align")
        return a @ b

    def backward(self, s):
        a, b = self._vals()
        return s @ b.T, a.T @ s


class Transpose(Op):
    """Transpose (reverse all axes)."""

    def forward(self, a):
        return a.T.copy()

    def backward(self, s):
        return (s.T,)


class Sin(Op):
    """Element-wise sine."""

    def forward(self, a):
        return np.sin(a)

    def backward(self, s):
        return (s * np.cos(self._vals()[0]),)


class Exp(Op):
    """Element-wise exponential."""

    def forward(self, a):
        return _check_finite_result("exp", np.exp(a))

    def backward(self, s):
        return (s * self.out.val,)


class Log(Op):
    """Element-wise natural logarithm (arguments must be > 0)."""

    def forward(self, a):
        if np.any(a <= 0):
            raise ValueError("log needs positive arguments")
        return np.log(a)

    def backward(self, s):
        return (s / self._vals()[0],)


class Logistic(Op):
    """Element-wise logistic sigmoid; derivative ``y (1 - y)``."""

    def forward(self, a):
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def backward(self, s):
        y = self.out.val
        return (s * y * (1.0 - y),)


class Tanh(Op):
    """Element-wise hyperbolic tangent; derivative ``1 - y^2``."""

    def forward(self, a):
        return np.tanh(a)

    def backward(self, s):
        return (s * (1.0 - self.out.val**2),)


class ReLU(Op):
    """Element-wise ``max(0, a)``; derivative 1 for ``a > 0``, else 0."""

    def forward(self, a):
        return np.maximum(a, 0.0)

    def backward(self, s):
        return (s * (self._vals()[0] > 0),)


class Sum(Op):
    """Sum over ``axis`` (all axes when None)."""

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, a):
        return np.asarray(a.sum(axis=self.axis))

    def backward(self, s):
        (a,) = self._vals()
        if self.axis is not None:
            s = np.expand_dims(s, self.axis)
        return (np.broadcast_to(s, a.shape).copy(),)


class Mean(Op):
    """Mean over ``axis`` (all axes when None)."""

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, a):
        if a.size == 0:
            raise ValueError("mean of an empty Var")
        return np.asarray(a.mean(axis=self.axis))

    def backward(self, s):
        (a,) = self._vals()
        n = a.size if self.axis is None else a.shape[self.axis]
        if self.axis is not None:
            s = np.expand_dims(s, self.axis)
        return (np.broadcast_to(s / n, a.shape).copy(),)


def _axis(axis, x):
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be None or an integer, got {type(axis).__name__}")
    nd = _wrap(x).ndim
    if not -nd <= axis < nd:
        raise ValueError(f"axis {axis} is out of range for a Var with {nd} dimension(s)")
    return int(axis) % nd


def sin(x):
    """Element-wise sine of a :class:`Var`."""
    return Sin()(x)


def exp(x):
    """Element-wise exponential of a :class:`Var`."""
    return Exp()(x)


def log(x):
    """Element-wise natural logarithm of a :class:`Var` (values must be > 0)."""
    return Log()(x)


def logistic(x):
    """Element-wise logistic sigmoid of a :class:`Var`."""
    return Logistic()(x)


def tanh(x):
    """Element-wise tanh of a :class:`Var`."""
    return Tanh()(x)


def relu(x):
    """Element-wise ReLU of a :class:`Var`."""
    return ReLU()(x)


def sum(x, axis=None):
    """Sum of a :class:`Var` over ``axis`` (all entries when None)."""
    return Sum(_axis(axis, x))(x)


def mean(x, axis=None):
    """Mean of a :class:`Var` over ``axis`` (all entries when None)."""
    return Mean(_axis(axis, x))(x)


def matmul(a, b):
    """Matrix product of two 2-D :class:`Var` s."""
    return MatMul()(a, b)


def transpose(x):
    """Transpose of a :class:`Var`."""
    return Transpose()(x)
