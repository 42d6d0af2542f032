"""Ahead-of-time compiled network kernel: networks that start without Numba.

Even with every kernel in Numba's cache, a process that runs a network spends
about a second before its first step importing Numba and setting up its
compiler (the cached machine code needs Numba's type system and JIT linker to
load). :func:`build` compiles the network kernel ahead of time, with
``numba.pycc``, for the network configurations already run in the building
process, into a plain extension module. Afterwards, an unbatched network whose
kernel arguments match one of those configurations (same state dtype, same
code paths: recording or not, dense or sparse connections, HH populations or
not, ...) calls the compiled module directly, and the process never imports
Numba. Anything else falls back to Numba's just-in-time kernel, as without a
build.

The module and a manifest live in a folder: ``$SPIKENET_AOT_DIR`` if that
variable is set (set it to an empty string to switch the compiled module
off), else ``spikenet/sim/kernels/__pycache__/aot``. The manifest records a
fingerprint of the kernel sources; after an edit of any file in
``spikenet/sim/kernels`` the module is ignored until it is built again.

Examples
--------
From the shell, for the built-in set of common configurations (LIF networks,
float64 and float32, with and without recording, sparse or dense
connections)::

    spikenet aot

From Python, for the networks a script has just run::

    net.run(0.01)
    from spikenet.sim import aot
    aot.build([net])
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sysconfig
import tempfile
import warnings
from pathlib import Path

import numpy as np

# the run-time half, re-exported
from spikenet.sim._aot_lookup import (
    _MANIFEST,
    ENV_VAR,
    _fingerprint,
    _parse_manifest,
    _read_manifest,
    aot_dir,
    jit_only,
    kernel_key,
    lookup,
)

__all__ = ["ENV_VAR", "aot_dir", "build", "build_common", "kernel_key", "lookup"]


def _type_key(t) -> str:
    from numba.core import types

    if isinstance(t, types.NoneType):
        return "none"
    if isinstance(t, types.Array):
        return f"{t.dtype}:{t.ndim}{t.layout}{'' if t.mutable else 'r'}"
    if isinstance(t, types.Boolean):
        return "bool"
    if isinstance(t, types.BaseNamedTuple):  # as _arg_key writes a NamedTuple argument
        return f"{t.instance_class.__name__}({','.join(_type_key(x) for x in t.types)})"
    return str(t)


def _output_folder(folder) -> Path:
    """``folder``, or :func:`aot_dir`; a ValueError when that is switched off."""
    folder = aot_dir() if folder is None else Path(folder)
    if folder is None:
        raise ValueError(f"folder: ${ENV_VAR} is empty (compiled module switched off); pass a folder")
    return folder


def build(networks=None, folder: Path | None = None, *, verbose: bool = False) -> Path:
    """Compile the network kernel ahead of time for configurations run in this process.

    Parameters
    ----------
    networks : sequence of Network, optional
        Unbatched networks that have run in this process: their configurations
        are compiled. Default: every configuration the network kernel has been
        compiled for in this process.
    folder : Path, optional
        Output folder (default: :func:`aot_dir`). Configurations already in a
        current module there are kept.
    verbose : bool
        Print what is compiled.

    Returns
    -------
    Path
        The folder holding the module and its manifest.

    Raises
    ------
    ValueError
        If no configuration qualifies (no network has run, a network is
        batched or has not run yet), or the folder is switched off.
    """
    from numba.core import types

    from spikenet.sim.kernels.network import _run_copy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc is pending deprecation
        from numba.pycc import CC

    folder = _output_folder(folder)
    wanted = None
    if networks is not None:
        wanted = set()
        for net in networks:
            key = net.kernel_key
            if key is None:
                raise ValueError("networks: each must be an unbatched Network that has run in this process "
                                 "on one thread (threads=1), the only kind the compiled module serves "
                                 f"(got {net!r})")
            if jit_only(key):
                raise ValueError(f"networks: {net!r} uses features (NeuronModel populations, per-neuron "
                                 "parameters, plasticity, conductances, in-kernel inputs) that run on "
                                 "Numba's kernel only")
            wanted.add(key)
    current = _read_manifest(folder)
    old = {"kernels": dict(current["kernels"]) if current else {}}  # a copy: the parse is cached
    sigs = {}
    for sig in _run_copy.signatures:
        if not isinstance(sig[-1], types.NoneType):
            continue  # gen (NeuronModel populations, per-neuron parameters): Numba's kernel only
        key = "|".join(_type_key(t) for t in sig[2:])  # without the copy and part indices
        if jit_only(key):
            continue
        if wanted is None or key in wanted:
            sigs[key] = sig
    if wanted is None and not sigs:
        raise ValueError("networks: no network kernel configuration to compile (run the networks first)")
    # A configuration served by the compiled module has no just-in-time signature.
    missing = (wanted or set()) - set(sigs) - set(old["kernels"])
    if missing:
        raise ValueError(f"networks: {len(missing)} configuration(s) not compiled in this process")
    todo = {k: s for k, s in sigs.items() if k not in old["kernels"]}
    folder.mkdir(parents=True, exist_ok=True)
    if todo:
        name = "_spikenet_network_aot_" + hashlib.sha256("\n".join(sorted(todo)).encode()).hexdigest()[:12]
        cc = CC(name)
        import llvmlite.binding as llvm

        cc.target_cpu = llvm.get_host_cpu_name()
        # as Numba's kernel (_nrt=False, see kernels/network.py): no reference
        # counting, so the compiled module runs the same code
        cc.use_nrt = False
        cc.verbose = verbose
        kernels = {}
        for i, (key, sig) in enumerate(sorted(todo.items())):
            fn = f"run_copy_{i}"
            cc.export(fn, types.void(*sig))(_run_copy.py_func)
            kernels[key] = {"module": name, "file": name + sysconfig.get_config_var("EXT_SUFFIX"),
                            "function": fn}
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            cc.output_dir = tmp
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numba.pycc is pending deprecation
                cc.compile()
            target = folder / kernels[next(iter(kernels))]["file"]
            target.unlink(missing_ok=True)
            shutil.move(str(Path(tmp) / target.name), str(target))
        old["kernels"].update(kernels)
    keep = {e["file"] for e in old["kernels"].values()}
    for path in folder.glob("_spikenet_network_aot_*"):
        if path.name not in keep:
            path.unlink()  # modules of other kernel sources
    manifest = {"fingerprint": _fingerprint(), "kernels": old["kernels"]}
    (folder / _MANIFEST).write_text(json.dumps(manifest, indent=1))
    _parse_manifest.cache_clear()
    return folder


def _common_networks(dtype):
    """Small LIF networks covering the common kernel configurations, run once each."""
    import scipy.sparse as sp

    from spikenet.sim.network import Network
    from spikenet.sim.neurons import LIF
    from spikenet.sim.synapses import PSCFilter

    nets = []
    for record in (None, {"E": "v"}):
        for kind in ("uniform", "sparse", "dense"):
            net = Network(dt=1e-4, seed=0, dtype=dtype)
            E = net.add_population(20, LIF(), bias=1.1, name="E")
            I = net.add_population(5, LIF(), bias=1.1, name="I")
            syn = PSCFilter(0.005)
            for pre, post in ((E, E), (E, I), (I, E), (I, I)):
                if kind == "uniform":
                    net.connect(pre, post, 0.01, synapse=syn, p=0.5)
                elif kind == "sparse":
                    w = sp.random(post.n, pre.n, density=0.5, random_state=0, format="csr") * 0.01
                    net.connect(pre, post, w, synapse=syn)
                else:
                    net.connect(pre, post, np.full((post.n, pre.n), 0.001), synapse=syn)
            net.run(1e-3, record=record)
            nets.append(net)
    return nets


def build_common(folder: Path | None = None, dtypes=("float64", "float32"), *, verbose: bool = False) -> Path:
    """Build the module for a set of common configurations (see the module docstring).

    Parameters
    ----------
    folder : Path, optional
        Output folder (default: :func:`aot_dir`).
    dtypes : sequence of str
        State dtypes to cover.
    verbose : bool
        Print what is compiled.

    Returns
    -------
    Path
        The folder holding the module.
    """
    bad = [d for d in dtypes if d not in ("float64", "float32")]
    if bad or not dtypes:
        raise ValueError(f"dtypes: expected 'float64' and/or 'float32', got {list(dtypes)!r}")
    folder = _output_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)  # fail before compiling anything
    nets = []
    for d in dtypes:
        nets += _common_networks(np.dtype(d))
    return build(nets, folder, verbose=verbose)
