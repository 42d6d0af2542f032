"""Griffe extension for the API reference: Sphinx markup in docstrings to Markdown.

spikenet's docstrings follow numpydoc and use a little Sphinx markup:
cross-reference roles (``:func:`~spikenet.rate.fit```), inline maths
(``:math:`\\tau_m```) and ``.. math::`` blocks. mkdocstrings renders
docstrings as Markdown, so before rendering this extension turns the roles
into code spans (``~`` keeps the last component, as in Sphinx) and the maths
into ``$...$`` / ``$$...$$`` for ``pymdownx.arithmatex`` (MathJax).
Loaded by ``mkdocs.yml`` (``plugins: mkdocstrings: ... extensions``).
"""

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|obj|data|exc|const|ref|doc):`([^`]+)`")
_MATH = re.compile(r":math:`([^`]+)`")


def _role(match: re.Match) -> str:
    target = match.group(1).strip()
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


def _math_blocks(text: str) -> str:
    """Replace each ``.. math::`` directive (and its indented body) by a ``$$`` block."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(".. math::"):
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(stripped)
        body = [stripped[len(".. math::"):].strip()]
        i += 1
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        pad = " " * indent
        out += [pad + "$$", *(pad + b for b in body if b), pad + "$$", ""]
    return "\n".join(out)


def sphinx_to_markdown(text: str) -> str:
    """Convert the Sphinx markup of one docstring to Markdown with arithmatex maths."""
    text = _math_blocks(text)
    text = _MATH.sub(lambda m: f"${m.group(1)}$", text)
    return _ROLE.sub(_role, text)


class SphinxMarkup(griffe.Extension):
    """Rewrite every loaded docstring with :func:`sphinx_to_markdown`."""

    def on_instance(self, *, obj, **kwargs) -> None:  # griffe also passes node and agent
        """Convert ``obj``'s docstring in place, before mkdocstrings parses it."""
        if obj.docstring is not None:
            obj.docstring.value = sphinx_to_markdown(obj.docstring.value)
