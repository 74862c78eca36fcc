"""The estimate shown before a run: tokens and cost for the pending rows.

Input tokens are counted with the student's tokenizer when it is on this
machine, and an Anthropic teacher's shared prefix with its free
`count_tokens` (see token_estimates); otherwise about four characters a
token, and the estimate says which. Output length comes from the answers
already received, else the task's examples, else a guess that is labelled as
one. The upper bound assumes every answer hits max_tokens and no prompt
caching.
"""

from __future__ import annotations

from dataclasses import dataclass

from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pricing import Usage, cost, price_for
from distill_tui.core.project import Workspace
from distill_tui.engine.generate.teachers.base import system_text
from distill_tui.engine.generate.token_estimates import (
    anthropic_prefix_tokens,
    approx_tokens,
    student_counter,
)

TURN_OVERHEAD = 8  # role markers and message framing per turn


@dataclass(frozen=True)
class Estimate:
    rows: int
    model: str
    prefix_tokens: int
    input_tokens: int
    output_tokens: int
    output_basis: str  # "earlier answers" | "examples" | "guess"
    cost_usd: float | None  # None when the model's price is unknown
    cost_usd_max: float | None
    batch: bool
    input_basis: str = "about 4 characters a token"  # how each row's input was counted
    prefix_basis: str = "about 4 characters a token"  # how the shared prefix was counted

    def describe(self) -> str:
        if self.cost_usd is None or self.cost_usd_max is None:
            money = f"cost unknown: no price for {self.model!r} (set one on the Task screen, 1)"
        else:
            money = f"about ${self.cost_usd:.4f} (at most ${self.cost_usd_max:.4f})"
        mode = " with Message Batches (half price)" if self.batch else ""
        return (
            f"{self.rows} row(s) for {self.model}{mode}: ~{self.input_tokens:,} input tokens "
            f"({self.prefix_tokens:,} shared prefix per row, cached), ~{self.output_tokens:,} "
            f"output tokens (from {self.output_basis}); {money}. Counted: inputs with "
            f"{self.input_basis}, prefix with {self.prefix_basis}"
        )


def estimate(ws: Workspace, limit: int | None = None, *, batch: bool | None = None) -> Estimate:
    s = ws.settings
    t = s.teacher
    use_batch = t.use_batches if batch is None else batch
    inputs = q.pending_inputs(ws.store, limit)
    n = len(inputs)
    counter, input_basis = student_counter(ws.root, s.student.model)
    count = counter or approx_tokens
    prefix, prefix_basis = None, input_basis
    has_prefix = bool(s.task.instructions or s.task.examples)
    if has_prefix and t.provider == "anthropic" and n:
        prefix = anthropic_prefix_tokens(s)
        prefix_basis = "Anthropic's count_tokens" if prefix is not None else input_basis
    if prefix is None:
        prefix = count(system_text(s.task)) if s.task.instructions else 0
        for e in s.task.examples:
            prefix += count(e.input) + count(e.output) + 2 * TURN_OVERHEAD
    own = sum(count(x) + TURN_OVERHEAD for x in inputs)
    mean_out = q.mean_output_tokens(ws.store)
    if mean_out is not None:
        per_row, basis = mean_out, "earlier answers"
    elif s.task.examples:
        per_row = sum(count(e.output) for e in s.task.examples) / len(s.task.examples)
        basis = "examples"
    else:
        per_row, basis = min(t.max_tokens, 256) / 2, "guess"
    per_row = min(per_row, t.max_tokens)
    out_tokens = int(per_row * n)
    price = price_for(t.model, t.prices, provider=t.provider, base_url=t.base_url)
    usd = usd_max = None
    if price is not None and n:
        # Priced per request, as they are billed: long-context tiers apply to
        # one request's prompt, never to the run's total.
        row_in = round(own / n) + prefix
        row_out = round(per_row)
        first = Usage(input_tokens=row_in, output_tokens=row_out, cache_write_tokens=prefix)
        rest = Usage(input_tokens=row_in, output_tokens=row_out, cache_read_tokens=prefix)
        worst = Usage(input_tokens=row_in, output_tokens=t.max_tokens)
        c_first, c_rest = cost(first, price, batch=use_batch), cost(rest, price, batch=use_batch)
        c_worst = cost(worst, price, batch=use_batch)
        if c_first is not None and c_rest is not None and c_worst is not None:
            usd, usd_max = c_first + (n - 1) * c_rest, n * c_worst
    elif price is not None:
        usd = usd_max = 0.0
    return Estimate(
        rows=n,
        model=t.model,
        prefix_tokens=prefix,
        input_tokens=own + prefix * n,
        output_tokens=out_tokens,
        output_basis=basis,
        cost_usd=usd,
        cost_usd_max=usd_max,
        batch=use_batch,
        input_basis=input_basis,
        prefix_basis=prefix_basis,
    )
