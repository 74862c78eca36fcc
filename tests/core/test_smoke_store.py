from distill_tui.core.store import SCHEMA_VERSION, Store


def test_store_migrates_and_dedupes(tmp_path):
    s = Store(tmp_path / "d.db")
    assert s.version == SCHEMA_VERSION
    r = s.add_inputs([("a", "f:1"), ("b", None), ("a", "g:2")])
    assert (r.added, r.duplicates) == (2, 1)
    assert s.counts()["pending"] == 2
