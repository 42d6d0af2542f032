"""The ahead-of-time compiled network kernel: same results as Numba's, no Numba import."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, Network, PSCFilter, aot

REPO = Path(__file__).resolve().parents[2]


def small_network(dtype=np.float64):
    """Two LIF populations, uniform-weight and per-synapse-weight sparse connections."""
    net = Network(dt=1e-4, seed=3, dtype=dtype)
    rng = np.random.default_rng(3)
    E = net.add_population(160, LIF(tau_ref=0.002), bias=1.15, init={"v": rng.random(160)}, name="E")
    I = net.add_population(40, LIF(tau_ref=0.002), bias=1.1, init={"v": rng.random(40)}, name="I")
    net.connect(E, E, 0.02 * 0.005, synapse=PSCFilter(0.005), p=0.1)
    net.connect(E, I, 0.02 * 0.005, synapse=PSCFilter(0.005), p=0.1)
    w = -sp.random(200, 40, density=0.1, random_state=1, format="csr") * 0.1 * 0.01
    net.connect(I, E, w[:160], synapse=PSCFilter(0.01))
    net.connect(I, I, w[160:], synapse=PSCFilter(0.01))
    return net


RECORD = {"E": "v"}


def run_small(dtype=np.float64):
    net = small_network(dtype)
    return net, net.run(0.3, record=RECORD)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aot")
    mp = pytest.MonkeyPatch()
    mp.setenv(aot.ENV_VAR, "")  # the reference run: Numba's kernel
    try:
        net, res = run_small()
        aot.build([net], folder)
    finally:
        mp.undo()
    return folder, net._kernel_key, res


def test_compiled_kernel_gives_numbas_results_bitwise(built, monkeypatch):
    folder, key, ref = built
    monkeypatch.setenv(aot.ENV_VAR, str(folder))
    assert aot.lookup(key) is not None
    net, res = run_small()
    assert net._kernel_key == key  # the run was served by the compiled module
    np.testing.assert_array_equal(res["E", "v"], ref["E", "v"])
    for pop in ("E", "I"):
        assert len(res.spike_times[pop]) == len(ref.spike_times[pop])
        for a, b in zip(res.spike_times[pop], ref.spike_times[pop]):
            np.testing.assert_array_equal(a, b)
    assert sum(len(t) for t in ref.spike_times["E"]) > 100


def test_process_running_a_compiled_configuration_never_imports_numba(built):
    folder, _, ref = built
    code = (
        "import sys, numpy as np\n"
        "from tests.sim.test_aot import run_small\n"
        "net, res = run_small()\n"
        "print('numba' in sys.modules, float(np.asarray(res['E', 'v'], dtype=np.float64).sum()),\n"
        "      sum(len(t) for t in res.spike_times['E']))\n"
    )
    env = dict(os.environ, **{aot.ENV_VAR: str(folder), "PYTHONPATH": str(REPO)})
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(REPO), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    numba_loaded, vsum, n_spikes = out.stdout.split()
    assert numba_loaded == "False"
    assert float(vsum) == float(np.asarray(ref["E", "v"], dtype=np.float64).sum())
    assert int(n_spikes) == sum(len(t) for t in ref.spike_times["E"])


def test_other_configurations_fall_back_to_numba(built, monkeypatch):
    folder, key, _ = built
    monkeypatch.setenv(aot.ENV_VAR, str(folder))
    net, res = run_small(np.float32)
    assert net._kernel_key != key and aot.lookup(net._kernel_key) is None
    assert sum(len(t) for t in res.spike_times["E"]) > 100


def test_module_built_from_other_kernel_sources_is_ignored(built, tmp_path):
    folder, key, _ = built
    for f in folder.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    assert aot.lookup(key, tmp_path) is not None
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["fingerprint"] = "0" * 24  # as after an edit of spikenet/sim/kernels
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert aot.lookup(key, tmp_path) is None


def test_empty_variable_switches_the_module_off(built, monkeypatch):
    _, key, _ = built
    monkeypatch.setenv(aot.ENV_VAR, "")
    assert aot.aot_dir() is None and aot.lookup(key) is None
    with pytest.raises(ValueError, match="folder"):
        aot.build()


def test_build_refuses_networks_that_have_not_run_or_are_batched(built):
    folder, _, _ = built
    with pytest.raises(ValueError, match="networks"):
        aot.build([small_network()], folder)
    batched = Network(dt=1e-4, batch=2)
    batched.add_population(3, LIF(), bias=1.5)
    batched.run(1e-3)
    with pytest.raises(ValueError, match="networks"):
        aot.build([batched], folder)


def test_build_refuses_a_network_split_over_threads(built):
    folder, _, _ = built
    split = Network(dt=1e-4, threads=2)
    split.add_population(3, LIF(), bias=1.5)
    split.run(1e-3)
    assert split.kernel_key is None
    with pytest.raises(ValueError, match="one thread"):
        aot.build([split], folder)


def test_running_a_network_does_not_import_the_builder():
    """The network needs only the lookup half: no import cycle between the network and the builder."""
    code = ("import sys\n"
            "from spikenet.sim import LIF, Network\n"
            "net = Network(dt=1e-4)\n"
            "net.add_population(3, LIF(), bias=1.5)\n"
            "net.run(1e-3)\n"
            "assert net.kernel_key is not None\n"
            "print('spikenet.sim.aot' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
