"""Test helpers for the curator and export tests: rows with teacher answers,
written through the queue's own `complete` so they look like real ones."""

from __future__ import annotations

from distill_tui.core.generate import queue
from distill_tui.core.generate.pricing import Usage
from distill_tui.core.store import Store


def add_answered(
    store: Store, pairs: list[tuple[str, str]], stop_reason: str | None = "end_turn"
) -> list[int]:
    """Add (input, output) rows as answered by a teacher; returns their ids."""
    store.add_inputs((i, None) for i, _ in pairs)
    ids = []
    for inp, out in pairs:
        row_id = store.conn.execute("SELECT id FROM rows WHERE input = ?", (inp,)).fetchone()[0]
        store.conn.execute("UPDATE rows SET status = 'running' WHERE id = ?", (row_id,))
        queue.complete(
            store,
            row_id,
            queue.GenerationRecord(
                output=out,
                teacher="anthropic:test-model",
                prompt_hash="p" * 8,
                usage=Usage(input_tokens=10, output_tokens=max(1, len(out) // 4)),
                cost_usd=0.001,
                latency_s=0.1,
                stop_reason=stop_reason,
            ),
        )
        ids.append(row_id)
    return ids
