"""The demo's figures show time in seconds throughout and say when they come from a quick run."""

import pytest

import spikenet.plot


@pytest.fixture
def saved(monkeypatch):
    """Record (x labels, suptitle) of every figure the demo saves, then save it as usual."""
    records = []
    original = spikenet.plot.save_figure

    def spy(fig, path, **kw):
        path = original(fig, path, **kw)
        records.append(([ax.get_xlabel() for ax in fig.axes], fig.get_suptitle(), path.name))
        return path

    monkeypatch.setattr(spikenet.plot, "save_figure", spy)
    return records


@pytest.mark.parametrize("module", ["neurons", "network"])
def test_demo_time_axes_are_in_seconds_and_quick_figures_say_so(module, saved, tmp_path):
    import importlib

    step = importlib.import_module(f"spikenet._demo_steps.{module}").step
    step(tmp_path, quick=True)
    assert saved
    for xlabels, suptitle, name in saved:
        time_labels = [label for label in xlabels if label.startswith("time")]
        assert all(label == "time (s)" for label in time_labels), (name, xlabels)
        assert "quick run" in suptitle, name
