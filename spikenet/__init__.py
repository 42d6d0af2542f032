"""spikenet: spiking and rate neural networks from Python.

``spikenet.sim`` simulates LIF and Hodgkin-Huxley neurons, synapses and
networks with Numba kernels; ``spikenet.rate`` holds PyTorch rate models and
the bridge between the two. This top-level module imports neither torch nor
brian2.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
