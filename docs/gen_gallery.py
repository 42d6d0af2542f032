"""Build the example gallery of the documentation site: ``docs/gallery/``.

Runs every script in ``examples/`` (by default with ``--quick``, the small
sizes the test suite uses) with ``--out`` pointing at a scratch folder,
shrinks each figure it writes into a small optimised PNG under
``docs/gallery/<script>/``, and writes ``docs/gallery/index.md``: one section
per script with its description (the script's docstring), how to run it and
its figures. The PNGs are committed, so building the site never runs the
examples.

Usage (from the repository root)::

    python docs/gen_gallery.py                 # all examples, --quick
    python docs/gen_gallery.py hh_neuron gan   # only these examples
    python docs/gen_gallery.py --full          # full-size runs (minutes)
    python docs/gen_gallery.py --page-only     # rewrite index.md from the docstrings
                                               # and the PNGs already in docs/gallery

Figures wider than ``--max-width`` pixels are scaled down; a PNG still over
``--max-kb`` is reduced to a 256-colour palette.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GALLERY = ROOT / "docs" / "gallery"


def example_scripts() -> list[Path]:
    """The example scripts, in name order (files starting with ``_`` are helpers)."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _rst_to_markdown(text: str) -> str:
    text = re.sub(r":(?:func|class|meth|attr|mod|obj|data|exc):`~?([^`]+)`", r"`\1`", text)
    text = re.sub(r":math:`([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def describe(script: Path) -> tuple[str, str]:
    """Title (first docstring line) and description (the rest, without its usage line).

    The paragraph that starts with "Run" (the usage line of every example)
    is left out: the gallery prints its own.
    """
    doc = ast.get_docstring(ast.parse(script.read_text())) or script.stem
    title, _, body = doc.partition("\n")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    paragraphs = [p for p in paragraphs if not re.match(r"Run\b", p)]
    return _rst_to_markdown(title.strip().rstrip(".")), _rst_to_markdown("\n\n".join(paragraphs))


def shrink_png(src: Path, dst: Path, max_width: int, max_kb: int) -> None:
    """Copy ``src`` to ``dst`` as an optimised PNG at most ``max_width`` pixels wide."""
    from PIL import Image

    with Image.open(src) as im:
        im = im.convert("RGB")
        if im.width > max_width:
            im = im.resize((max_width, round(im.height * max_width / im.width)), Image.LANCZOS)
        im.save(dst, optimize=True)
        if dst.stat().st_size > max_kb * 1024:
            im.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)


def run_example(script: Path, out: Path, quick: bool, timeout: float) -> float:
    """Run one example with ``--out out`` (and ``--quick``); return its wall time in seconds."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    cmd = [sys.executable, str(script), "--out", str(out), *(["--quick"] if quick else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return time.perf_counter() - t0


def write_page(scripts: list[Path], quick: bool) -> Path:
    """Write ``docs/gallery/index.md`` from the docstrings and the PNGs in ``docs/gallery``."""
    size = "with `--quick` (small sizes, short runs)" if quick else "at full size"
    lines = [
        "# Example gallery",
        "",
        "Every script in `examples/` runs on its own and saves its figures as PNG files",
        "into `examples/output/` (or the folder given with `--out DIR`). `--quick` runs a",
        "smaller version in seconds; the test suite runs every script that way.",
        f"The figures below were made {size} by `python docs/gen_gallery.py`;",
        "the full-size runs draw the same figures with more neurons, longer runs or",
        "more training.",
        "",
    ]
    for script in scripts:
        title, description = describe(script)
        name = script.stem
        lines += [f"## {title} {{#{name}}}", "", f"Script: `examples/{script.name}`", ""]
        if description:
            lines += [description, ""]
        lines += [
            "```bash",
            f"python examples/{script.name}            # full size",
            f"python examples/{script.name} --quick    # small and fast",
            "```",
            "",
        ]
        for png in sorted((GALLERY / name).glob("*.png")):
            lines += [f"![{name}: {png.stem}]({name}/{png.name})", ""]
    page = GALLERY / "index.md"
    page.write_text("\n".join(lines).rstrip() + "\n")
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build docs/gallery from the example scripts.")
    parser.add_argument("names", nargs="*", help="example names (default: all)")
    parser.add_argument("--full", action="store_true", help="run without --quick")
    parser.add_argument("--page-only", action="store_true", help="only rewrite docs/gallery/index.md")
    parser.add_argument("--max-width", type=int, default=1100, help="pixels (default 1100)")
    parser.add_argument("--max-kb", type=int, default=250, help="palette PNG above this size (default 250)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per example")
    args = parser.parse_args(argv)

    scripts = example_scripts()
    known = {s.stem: s for s in scripts}
    unknown = [n for n in args.names if n.removesuffix(".py") not in known]
    if unknown:
        parser.error(f"unknown example(s): {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [known[n.removesuffix(".py")] for n in args.names] or scripts
    if not args.page_only:
        GALLERY.mkdir(parents=True, exist_ok=True)
        for script in chosen:
            with tempfile.TemporaryDirectory() as tmp:
                seconds = run_example(script, Path(tmp), quick=not args.full, timeout=args.timeout)
                pngs = sorted(Path(tmp).rglob("*.png"))
                dest = GALLERY / script.stem
                shutil.rmtree(dest, ignore_errors=True)
                dest.mkdir()
                for png in pngs:
                    shrink_png(png, dest / png.name, args.max_width, args.max_kb)
                kb = sum(p.stat().st_size for p in dest.glob("*.png")) / 1024
                print(f"{script.name}: {len(pngs)} figure(s), {kb:.0f} KB, {seconds:.1f} s", flush=True)
    # drop folders of examples that no longer exist
    for folder in GALLERY.iterdir():
        if folder.is_dir() and folder.name not in known:
            shutil.rmtree(folder)
    page = write_page(scripts, quick=not args.full)
    total = sum(p.stat().st_size for p in GALLERY.rglob("*.png")) / 1024
    print(f"wrote {page.relative_to(ROOT)}; gallery PNGs: {total:.0f} KB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
