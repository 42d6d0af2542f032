"""spikenet: spiking and rate neural networks from Python.

``spikenet.sim`` simulates LIF and Hodgkin-Huxley neurons, synapses and
networks with Numba kernels; ``spikenet.rate`` holds PyTorch rate models and
the bridge between the two. This top-level module imports neither torch nor
brian2.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _metadata_version

try:
    __version__ = _metadata_version("spikenet")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
