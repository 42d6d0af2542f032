"""Numba kernels: the only place in spikenet that imports numba."""
