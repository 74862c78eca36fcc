"""Every binding has an id, so the terminal tests can name the one they press
(the whole-session check that each was pressed is in tests/conftest.py)."""

from __future__ import annotations

from support.bindings import declared_bindings


def test_every_binding_has_an_id():
    declared = declared_bindings()
    assert len(declared) > 50
    assert not [b for b in declared if b.startswith("<no id")]
