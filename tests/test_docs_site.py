"""The documentation site builds with ``mkdocs build --strict`` and is complete.

One strict build (in a subprocess, into a temporary folder) is shared by the
tests, which then read the HTML without a browser: every page of the nav is
built, the API reference carries the docstrings of the main entry points,
every image and internal link resolves, and the example gallery shows every
example script.
"""

import html
import inspect
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return out


class _Page(HTMLParser):
    """Collects the ids, links and image sources of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.images = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.images.append(a["src"])
        if tag == "link" and a.get("href"):
            self.links.append(a["href"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _text(path: Path) -> str:
    """Visible text of a page, whitespace collapsed."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return _squash(html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def _squash(text: str) -> str:
    """Collapse whitespace, and drop it before punctuation (where a tag ended)."""
    return re.sub(r"\s+([.,;:)])", r"\1", re.sub(r"\s+", " ", text))


def _nav_pages():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def walk(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    return [p for p in walk(config["nav"]) if p.endswith(".md")]


def _html_of(site: Path, md: str) -> Path:
    """Where MkDocs (directory URLs) writes the page built from ``md``."""
    stem = md[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return site / (stem + ".html")
    return site / stem / "index.html"


def test_every_nav_page_is_built_and_every_page_is_in_the_nav(site):
    nav = _nav_pages()
    assert len(nav) >= 12
    for md in nav:
        assert (DOCS / md).is_file(), md
        assert _html_of(site, md).is_file(), md
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk == set(nav)


def _summary(obj) -> str:
    """First paragraph of a docstring as it reads once rendered (no backticks, one line)."""
    first = inspect.getdoc(obj).split("\n\n")[0]
    return _squash(first.replace("``", "").replace("`", "")).strip()


@pytest.mark.parametrize("page, anchor, qualname", [
    ("api/sim", "spikenet.sim.simulate.simulate", "spikenet.sim:simulate"),
    ("api/sim", "spikenet.sim.Network.run", "spikenet.sim:Network.run"),
    ("api/sim", "spikenet.sim.poisson_spikes", "spikenet.sim:poisson_spikes"),
    ("api/rate", "spikenet.rate.to_spiking", "spikenet.rate:to_spiking"),
    ("api/rate", "spikenet.rate.fit", "spikenet.rate:fit"),
])
def test_api_reference_renders_the_docstring_and_every_parameter(site, page, anchor, qualname):
    import importlib

    module, _, attr = qualname.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    path = site / page / "index.html"
    assert anchor in _parse(path).ids
    text = _text(path)
    section = text[text.index(_summary(obj)):]          # the docstring's summary is on the page
    params = [p for p in inspect.signature(obj).parameters if p != "self"]
    assert params
    table = section[: section.index("Returns")]
    for name in params:                                  # every argument is in its Parameters table
        assert re.search(rf"\b{re.escape(name)}\b", table), (anchor, name)


def test_api_reference_has_no_raw_sphinx_markup(site):
    for page in (site / "api").rglob("index.html"):
        text = _text(page)
        for markup in (":func:", ":class:", ":meth:", ":math:", ".. math::"):
            assert markup not in text, (page, markup)


def test_every_image_and_internal_link_resolves(site):
    pages = sorted(site.rglob("*.html"))
    parsed = {p: _parse(p) for p in pages}
    checked = 0
    for page, info in parsed.items():
        if page.name == "404.html":      # served at any URL, so its links are absolute
            continue
        for ref in info.links + info.images:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//") or not (parts.path or parts.fragment):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(site)} -> {ref}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in parsed[target].ids, f"{page.relative_to(site)} -> {ref}"
            checked += 1
    assert checked > 500


def test_gallery_shows_every_example_with_small_figures(site):
    scripts = sorted(p.stem for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
    gallery = site / "gallery" / "index.html"
    info = _parse(gallery)
    text = _text(gallery)
    for name in scripts:
        assert name in info.ids, f"examples/{name}.py has no gallery section"
        assert f"python examples/{name}.py --quick" in text
        assert any(src.startswith(f"{name}/") for src in info.images), f"no figure for {name}"
    for src in info.images:
        if not urlsplit(src).scheme:
            assert (gallery.parent / src).is_file(), src
    pngs = list((DOCS / "gallery").rglob("*.png"))
    assert all(p.stat().st_size < 300 * 1024 for p in pngs)
    # the repository stays small: on average at most about 125 kB of figures per example
    assert sum(p.stat().st_size for p in pngs) < 125 * 1024 * len(scripts)


USER_PAGES = ["index", "simulation", "running", "networks", "rate_models", "architectures", "bridge",
              "gallery/index", "references", "api/sim", "api/rate", "api/rate_modules", "api/rate_models",
              "plotting", "api/plot"]
INTERNAL = re.compile(r"course notes|notes \d|notes' |issue point|the issue|engineers|our session", re.I)


@pytest.mark.parametrize("page", USER_PAGES)
def test_user_pages_cite_papers_not_internal_documents(site, page):
    text = _text(_html_of(site, page + ".md"))
    assert not INTERNAL.search(text), INTERNAL.search(text).group(0)


def test_readme_names_the_site_commands():
    readme = (ROOT / "README.md").read_text()
    assert "mkdocs serve" in readme and "mkdocs build" in readme
    assert not INTERNAL.search(readme), INTERNAL.search(readme).group(0)


def test_equations_are_typeset_with_mathjax(site):
    page = (site / "simulation" / "index.html").read_text(encoding="utf-8")
    assert page.count('<div class="arithmatex">\\[') >= 3        # LIF solution, crossing time, G(J), HH
    assert "javascripts/mathjax.js" in page and "tex-mml-chtml.js" in page


def test_gallery_description_comes_from_the_docstring_without_its_usage_line(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_gallery", DOCS / "gen_gallery.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    script = tmp_path / "demo.py"
    script.write_text('"""A title.\n\nUses :func:`spikenet.sim.simulate` on ``J``.\n\n'
                      'Run ``python examples/demo.py [--quick]``.\n"""\n')
    assert gen.describe(script) == ("A title", "Uses `spikenet.sim.simulate` on `J`.")
