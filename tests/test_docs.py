"""The manual: the generated reference pages match the code, and every link
in README.md and docs/ leads to a file or heading that exists."""

from __future__ import annotations

import re
from pathlib import Path

from support.docs_gen import DOCS, REGENERATE, ROOT, pages


def test_generated_pages_match_the_code():
    stale = [
        name
        for name, text in pages().items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, (
        f"not what the code generates: docs/{', docs/'.join(stale)}; run `{REGENERATE}`"
    )


def test_every_link_in_the_manual_resolves():
    """Relative links in README.md and docs/*.md name a file that exists and,
    after a #, a heading in it (GitHub's anchors)."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    broken = []
    for page in pages:
        for target in links(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not dest.exists():
                broken.append(f"{where}: no file {path}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{where}: no heading #{anchor} in {dest.name}")
    assert len(pages) > 2 and not broken, "\n".join(broken)


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def links(text: str) -> list[str]:
    """The targets of the Markdown links in `text`, code left out."""
    return _LINK.findall(_CODE.sub("", _FENCE.sub("", text)))


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of `page`: lower case, spaces to
    hyphens, punctuation dropped, a repeated one numbered."""
    found: set[str] = set()
    for line in _FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))  # a link: its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n, base = 0, slug
        while slug in found:
            n += 1
            slug = f"{base}-{n}"
        found.add(slug)
    return found
