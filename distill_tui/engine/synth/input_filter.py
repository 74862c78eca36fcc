"""The filter every teacher-written input passes before it is queued
(core/synth/candidates.py), built for a project: its store's inputs, and its
student's tokenizer for the length rule when the student is on this machine
(else about four characters a token)."""

from __future__ import annotations

from distill_tui.core.project import Workspace
from distill_tui.core.synth.candidates import CandidateFilter, too_long_rule
from distill_tui.engine.generate.token_estimates import approx_tokens, student_counter


def make_filter(ws: Workspace) -> CandidateFilter:
    count, _basis = student_counter(ws.root, ws.settings.student.model)
    return CandidateFilter.for_store(ws.store, too_long_rule(ws.settings, count or approx_tokens))
