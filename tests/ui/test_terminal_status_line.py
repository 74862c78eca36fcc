"""The status line before a project exists (issue 35 item 6), at 80x24: it
ended at "│ app 57.5 MB," with the free memory cut off."""

from __future__ import annotations

import re


def test_the_status_line_fits_before_a_project_exists(terminal, tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    t = terminal(str(root))
    t.wait_for("no project yet")
    t.wait_until(
        lambda: any(
            re.search(r"no project yet.*│ app .*B, .*B free", line)
            for line in t.text().splitlines()
        ),
        "the whole status line, memory free included",
    )
    assert t.quit() == 0
