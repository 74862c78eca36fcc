"""Teachers that write completions: Anthropic, OpenAI-compatible, local MLX.

Provider modules are imported only when chosen, so a project using a local
teacher does not import the HTTP clients and vice versa.
"""

from __future__ import annotations

from distill_tui.core.config import Teacher as TeacherSettings
from distill_tui.engine.generate.teachers.base import Teacher


def make_teacher(settings: TeacherSettings) -> Teacher:
    timeout = settings.request_timeout_s
    if settings.provider == "anthropic":
        from distill_tui.engine.generate.teachers.anthropic import AnthropicTeacher

        return AnthropicTeacher(settings, timeout=timeout)
    if settings.provider == "openai":
        from distill_tui.engine.generate.teachers.openai_compat import OpenAITeacher

        return OpenAITeacher(settings, timeout=timeout)
    from distill_tui.engine.generate.teachers.mlx_local import MLXTeacher

    return MLXTeacher(settings)
