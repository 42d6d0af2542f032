"""Steps of ``spikenet demo``, one module per topic."""
