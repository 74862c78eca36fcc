"""The safety net patches a private Textual method (ui/safety.py): this pins
the shape it relies on, so a Textual upgrade that changes it fails here rather
than silently turning the net off. CI also runs it at the Textual floor."""

from __future__ import annotations

from textual.message_pump import MessagePump

from distill_tui.ui import safety


def test_textual_still_dispatches_every_message_through_the_patched_method():
    assert safety.check_contract() == []


def test_install_replaces_the_dispatch_and_keeps_the_original_callable():
    safety.install()
    assert MessagePump._dispatch_message is safety._safe_dispatch
    assert safety._original_dispatch is not safety._safe_dispatch


def test_textual_still_has_the_key_handling_keys_in_order_replaces():
    from distill_tui.ui import keys_in_order

    assert keys_in_order.check_contract() == []
