"""PyTorch rate models and the bridge between rate and spiking networks."""

__all__: list[str] = []
