from distill_tui.core.generate.importer import ImportOptions, import_inputs
from distill_tui.core.store import Store


def inputs(store):
    return sorted(r[0] for r in store.conn.execute("SELECT input FROM rows"))


def test_folder_is_read_recursively_with_glob_and_size_filter(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("first note")
    (corpus / "sub" / "b.txt").write_text("second note\nwith two lines")
    (corpus / "sub" / "c.md").write_text("markdown is not matched by the glob")
    (corpus / "big.txt").write_text("x" * 5000)
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "h.txt").write_text("hidden")
    store = Store(tmp_path / "d.db")
    report = import_inputs(store, [corpus], ImportOptions(glob="*.txt", max_bytes=1000))
    assert inputs(store) == ["first note", "second note\nwith two lines"]
    assert report.added == 2
    assert any("big.txt" in s and "over the 1,000-byte limit" in s for s in report.skipped)


def test_binary_and_invalid_utf8_are_skipped_with_reason(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "latin.txt").write_bytes(b"ok line\ncaf\xe9\n")
    (tmp_path / "good.txt").write_text("fine")
    store = Store(tmp_path / "d.db")
    report = import_inputs(
        store, [tmp_path / "bin.txt", tmp_path / "latin.txt", tmp_path / "good.txt"]
    )
    assert inputs(store) == ["fine"]
    reasons = "\n".join(report.skipped)
    assert "bin.txt: binary file" in reasons
    assert "latin.txt:2: not valid UTF-8" in reasons


def test_jsonl_reports_bad_lines_and_imports_the_rest(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text(
        '{"prompt": "one"}\n'
        "not json\n"
        '{"input": "two"}\n'
        "\n"
        '["a list"]\n'
        '{"other": "x"}\n'
        '{"prompt": 5}\n'
        '{"prompt": "one"}\n'
    )
    store = Store(tmp_path / "d.db")
    report = import_inputs(store, [f])
    assert inputs(store) == ["one", "two"]
    assert report.duplicates == 1
    skipped = "\n".join(report.skipped)
    assert f"{f}:2: malformed JSON" in skipped
    assert f"{f}:5: expected a JSON object" in skipped
    assert f"{f}:6: no 'prompt'" in skipped
    assert f"{f}:7: field is int" in skipped


def test_jsonl_with_a_named_field(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text('{"ticket": "printer on fire", "prompt": "ignored"}\n')
    store = Store(tmp_path / "d.db")
    import_inputs(store, [f], ImportOptions(field="ticket"))
    assert inputs(store) == ["printer on fire"]


def test_plain_text_one_input_per_line(tmp_path):
    f = tmp_path / "lines.txt"
    f.write_text("alpha\n\nbeta\nalpha\n[/] \x1b[31mred\x1b[0m\n")
    store = Store(tmp_path / "d.db")
    report = import_inputs(store, [f], ImportOptions(mode="lines"))
    assert inputs(store) == ["[/] \x1b[31mred\x1b[0m", "alpha", "beta"]
    assert (report.added, report.duplicates) == (3, 1)
    sources = {r[0] for r in store.conn.execute("SELECT source FROM rows")}
    assert f"{f}:3" in sources


def test_missing_path_is_reported_not_fatal(tmp_path):
    store = Store(tmp_path / "d.db")
    (tmp_path / "ok.txt").write_text("fine")
    report = import_inputs(store, [tmp_path / "nope", tmp_path / "ok.txt"])
    assert report.added == 1
    assert any("no such file or folder" in s for s in report.skipped)


def test_jsonl_with_a_bom_and_unicode_separators_keeps_every_line(tmp_path):
    corpus = tmp_path / "c.jsonl"
    text = '{"prompt": "first"}\n{"prompt": "a\u2028b\u2029c\x85d"}\r\n{"prompt": "\\ud800"}\n'
    corpus.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    store = Store(tmp_path / "d.db")
    report = import_inputs(store, [corpus])
    assert inputs(store) == ["a\u2028b\u2029c\x85d", "first"]
    assert report.skipped == [
        f"{corpus}:3: malformed JSON (text that is not valid Unicode (a lone surrogate escape))"
    ]


def test_file_names_with_control_characters_are_shown_escaped(tmp_path):
    (tmp_path / "evil\x1b[2J.txt").write_bytes(b"\x00binary")
    store = Store(tmp_path / "d.db")
    report = import_inputs(store, [tmp_path])
    [line] = [s for s in report.skipped if "evil" in s]
    assert "\x1b" not in line and "evil\\x1b[2J.txt: binary file" in line
