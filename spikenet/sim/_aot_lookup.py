"""Finding the ahead-of-time compiled network kernel (see :mod:`spikenet.sim.aot`).

The half of the ahead-of-time machinery that :class:`~spikenet.sim.network.Network`
needs at run time: the configuration key of a kernel call and the lookup of
a compiled function for it in the manifest. It imports neither Numba nor the
network module; :mod:`spikenet.sim.aot`, which builds the module, imports it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np

from spikenet.sim.kernels.args import CORE_GROUPS

__all__ = ["ENV_VAR", "aot_dir", "jit_only", "kernel_key", "lookup"]

_MANIFEST = "manifest.json"
_KERNELS = Path(__file__).resolve().parent / "kernels"


#: Environment variable naming the folder of the compiled module ("" switches it off).
ENV_VAR = "SPIKENET_AOT_DIR"
_MANIFEST = "manifest.json"
_KERNELS = Path(__file__).resolve().parent / "kernels"


def aot_dir() -> Path | None:
    """Folder of the compiled module: ``$SPIKENET_AOT_DIR`` or the default; None when switched off."""
    env = os.environ.get(ENV_VAR)
    if env is None:
        return _KERNELS / "__pycache__" / "aot"
    return Path(env) if env else None


@functools.lru_cache(maxsize=1)
def _fingerprint() -> str:
    """Hash of every kernel source file: a module built from other sources is ignored."""
    h = hashlib.sha256()
    for path in sorted(_KERNELS.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:24]


def _arg_key(a) -> str:
    # The type Numba would infer for the argument, written as _type_key writes it.
    if a is None:
        return "none"
    if isinstance(a, tuple) and hasattr(a, "_fields"):  # a NamedTuple argument: the keys of its fields
        return f"{type(a).__name__}({','.join(_arg_key(x) for x in a)})"
    if isinstance(a, np.ndarray):
        layout = "C" if a.flags.c_contiguous else "F" if a.flags.f_contiguous else "A"
        return f"{a.dtype.name}:{a.ndim}{layout}{'' if a.flags.writeable else 'r'}"
    if isinstance(a, (bool, np.bool_)):
        return "bool"
    if isinstance(a, np.generic):
        return a.dtype.name
    if isinstance(a, int):
        return "int64"
    if isinstance(a, float):
        return "float64"
    return f"?{type(a).__name__}"


def jit_only(key: str) -> bool:
    """Whether a configuration passes a feature's NamedTuple: served by Numba's kernel, not the module.

    The kernel's own argument groups (:data:`spikenet.sim.kernels.args.CORE_GROUPS`)
    are NamedTuples too; every other NamedTuple entry is a feature's.
    """
    return any("(" in e and e.partition("(")[0] not in CORE_GROUPS for e in key.split("|"))


def kernel_key(args) -> str:
    """The configuration key of the network kernel's arguments (without the copy and part indices).

    Parameters
    ----------
    args : sequence
        The arguments :func:`spikenet.sim.kernels.network.run_network` receives.

    Returns
    -------
    str
        One entry per argument (dtype, dimensions and layout of arrays; None;
        scalar types), the key of the manifest.
    """
    return "|".join(_arg_key(a) for a in args)


@functools.lru_cache(maxsize=8)
def _load_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_manifest(folder: Path) -> dict | None:
    """The folder's manifest if it matches the kernel sources (parsed once per file version)."""
    path = folder / _MANIFEST
    try:
        st = path.stat()
    except OSError:
        return None
    return _parse_manifest(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _parse_manifest(path: str, mtime_ns: int, size: int) -> dict | None:
    # Network.run looks the kernel up at every call: a run of one step at a
    # time must not parse the file each time.
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("fingerprint") == _fingerprint() else None


def lookup(key: str, folder: Path | None = None):
    """The compiled kernel for the configuration ``key``, or None.

    Parameters
    ----------
    key : str
        From :func:`kernel_key`.
    folder : Path, optional
        Where the module lives (default: :func:`aot_dir`).

    Returns
    -------
    callable or None
        ``f(b, t, *args)`` (``b`` the batch copy and ``t`` the part, both 0), or None when there is no
        module, it is stale, or it lacks this configuration.
    """
    folder = aot_dir() if folder is None else folder
    if folder is None:
        return None
    data = _read_manifest(folder)
    entry = None if data is None else data["kernels"].get(key)
    if entry is None:
        return None
    try:
        module = _load_module(str(folder / entry["file"]), entry["module"])
    except (ImportError, OSError):
        return None
    return getattr(module, entry["function"], None)
