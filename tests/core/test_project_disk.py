"""distill.toml edited outside the app while it runs: the workspace sees the
change, picks it up, and a save never writes its stale copy over the edit."""

from __future__ import annotations

import pytest

from distill_tui.core.project import SettingsConflict, Workspace


@pytest.fixture
def ws(tmp_path):
    w = Workspace.create(tmp_path / "p")
    yield w
    w.store.close()


def edit_file(ws: Workspace, old: str, new: str) -> None:
    text = ws.settings_path.read_text(encoding="utf-8")
    assert old in text
    ws.settings_path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_outside_edit_is_seen_and_picked_up(ws):
    assert not ws.settings_changed_on_disk()
    edit_file(ws, "max_tokens = 1024", "max_tokens = 77")
    assert ws.settings_changed_on_disk()
    settings = ws.settings
    assert ws.reload_settings() == ["teacher.max_tokens"]
    assert ws.settings is settings  # in place: screens holding it see the new value
    assert ws.settings.teacher.max_tokens == 77
    assert not ws.settings_changed_on_disk()


def test_a_save_keeps_an_outside_edit_of_another_key(ws):
    edit_file(ws, "max_tokens = 1024", "max_tokens = 77")
    ws.settings.task.name = "from-the-app"  # the app's edit, made on its stale copy
    ws.save_settings()
    text = ws.settings_path.read_text(encoding="utf-8")
    assert "max_tokens = 77" in text and 'name = "from-the-app"' in text
    assert ws.settings.teacher.max_tokens == 77  # taken into the app too
    assert not ws.settings_changed_on_disk()


def test_the_same_key_changed_in_both_places_is_refused_and_the_file_wins(ws):
    edit_file(ws, "max_tokens = 1024", "max_tokens = 77")
    ws.settings.teacher.max_tokens = 5
    with pytest.raises(SettingsConflict, match="teacher.max_tokens"):
        ws.save_settings()
    assert "max_tokens = 77" in ws.settings_path.read_text(encoding="utf-8")
    assert ws.settings_changed_on_disk()  # so the app reloads, and shows the file's value
    assert ws.reload_settings() == ["teacher.max_tokens"]
    assert ws.settings.teacher.max_tokens == 77


def test_a_file_broken_in_an_editor_is_not_overwritten(ws):
    edit_file(ws, "max_tokens = 1024", "max_tokens = ")
    broken = ws.settings_path.read_text(encoding="utf-8")
    ws.settings.task.name = "edited-here"
    with pytest.raises(SettingsConflict, match="not overwritten"):
        ws.save_settings()
    assert ws.settings_path.read_text(encoding="utf-8") == broken


def test_a_save_with_nothing_new_leaves_the_file_alone(ws):
    path = ws.settings_path
    path.write_text("# my notes\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    ws.reload_settings()
    ws.save_settings()
    assert path.read_text(encoding="utf-8").startswith("# my notes\n")
    ws.settings.task.name = "x"
    ws.settings.task.name = ws.root.name  # and back
    ws.save_settings()
    assert path.read_text(encoding="utf-8").startswith("# my notes\n")
