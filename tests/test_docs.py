"""The manual: the generated reference pages match the code, and every link
in README.md and docs/ leads to a file or heading that exists."""

from __future__ import annotations

from support.docs_gen import DOCS, REGENERATE, pages


def test_generated_pages_match_the_code():
    stale = [
        name
        for name, text in pages().items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, (
        f"not what the code generates: docs/{', docs/'.join(stale)}; run `{REGENERATE}`"
    )
