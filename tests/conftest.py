"""Shared pytest configuration."""

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# Property tests draw their examples from a fixed seed so that a CI run is
# reproducible; run with --hypothesis-profile=explore to search afresh.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("ci")
