"""Run example scripts as a user would: ``python examples/NAME.py --quick --out DIR``.

One fresh interpreter runs the given scripts in turn (``runpy`` with
``sys.argv`` set as on the command line), so heavy imports (torch, the Numba
kernels) are paid once per call rather than once per script. ``PYTHONPATH``
points at the checkout the tests live in, so that checkout is what runs.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_DRIVER = """
import runpy, sys, time
threads = int(sys.argv[1])
if threads:
    import torch
    torch.set_num_threads(threads)
out = sys.argv[2]
for script in sys.argv[3:]:
    t0 = time.perf_counter()
    sys.argv = [script, "--quick", "--out", out]
    runpy.run_path(script, run_name="__main__")
    print(f"== {script} took {time.perf_counter() - t0:.1f} s", flush=True)
"""


def run_examples(names, out, *, torch_threads=0, timeout=600):
    """Run ``examples/<name>`` for each name with ``--quick --out out``; return stdout.

    ``torch_threads`` > 0 sets torch's thread count first (small networks
    train fastest on one thread). Fails the calling test on a non-zero exit.
    """
    scripts = [str(ROOT / "examples" / name) for name in names]
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(torch_threads), str(out), *scripts],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    check_written_figures(proc.stdout, names, out)
    return proc.stdout


def written_figures(stdout):
    """Map each script's name (without ``.py``) to the paths it printed as ``wrote PATH``.

    The driver prints ``== SCRIPT took ...`` after each script, so the lines
    before it belong to that script.
    """
    figures, current = {}, []
    for line in stdout.splitlines():
        if line.startswith("wrote "):
            current.append(Path(line[len("wrote "):].strip()))
        elif line.startswith("== ") and " took " in line:
            figures[Path(line[3:].split(" took ")[0]).stem] = current
            current = []
    return figures


def check_written_figures(stdout, names, out):
    """Every script printed ``wrote PATH`` for each figure, a PNG in ``out`` named after the script."""
    figures = written_figures(stdout)
    assert sorted(figures) == sorted(Path(n).stem for n in names), stdout[-2000:]
    for stem, paths in figures.items():
        assert paths, f"{stem} printed no 'wrote PATH' line"
        for path in paths:
            assert path.parent == Path(out) and path.name.startswith(stem) and path.suffix == ".png", path
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        written = {p.name for p in paths}
        on_disk = {p.name for p in Path(out).glob(f"{stem}*.png")}
        assert on_disk <= written, f"{stem} wrote {on_disk - written} without saying so"
