"""distill.toml's mode is kept, a read-only one is never written, and a
deleted one is written again only when asked (issue 17, item 10)."""

from __future__ import annotations

import stat

import pytest

from distill_tui.core.project import SettingsDeleted, SettingsReadOnly, Workspace


@pytest.fixture
def ws(tmp_path):
    w = Workspace.create(tmp_path / "p")
    yield w
    w.store.close()


def _mode(ws) -> int:
    return stat.S_IMODE(ws.settings_path.stat().st_mode)


def test_a_save_keeps_the_files_mode(ws):
    ws.settings_path.chmod(0o600)
    ws.settings.task.name = "private"
    ws.save_settings()
    assert _mode(ws) == 0o600 and 'name = "private"' in ws.settings_path.read_text()


def test_a_read_only_file_is_refused_and_left_alone(ws):
    ws.settings_path.chmod(0o444)
    before = ws.settings_path.read_text()
    ws.settings.task.name = "not-saved"
    with pytest.raises(SettingsReadOnly, match=r"^distill.toml is read-only: this change is not"):
        ws.save_settings()
    assert ws.settings_path.read_text() == before and _mode(ws) == 0o444
    ws.settings_path.chmod(0o644)  # made writable again: the change is saved
    ws.save_settings()
    assert 'name = "not-saved"' in ws.settings_path.read_text()


def test_a_deleted_file_is_written_again_only_when_asked(ws):
    ws.settings_path.unlink()
    assert ws.settings_deleted()
    ws.settings.task.name = "after-delete"
    with pytest.raises(SettingsDeleted, match="^distill.toml was deleted"):
        ws.save_settings()
    assert not ws.settings_path.exists()
    ws.save_settings(recreate=True)
    assert 'name = "after-delete"' in ws.settings_path.read_text()
    assert not ws.settings_deleted()
