"""The Chat screen at 80x24 on the tiny model: streaming replies, Escape,
base vs adapter panes with one base load, saving a row, eval view, fuse."""

from __future__ import annotations

from support.adapter_helpers import make_run, write_split
from support.ui_helpers import screen_text, wait_until

from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.base import ChatWithRun
from distill_tui.ui.screens.chat.eval import EvalScreen
from distill_tui.ui.screens.chat.screen import ChatScreen
from distill_tui.ui.widgets.chat_pane import ChatPane

SIZE = (80, 24)


def _app(workspace, tiny_model, seen=None):
    make_run(workspace, tiny_model)
    app = DistillApp(root=workspace.root, workspace=workspace)
    hook = (lambda m: seen.append(type(m).__name__)) if seen is not None else None
    return app, hook


async def _open_chat(app, pilot) -> ChatScreen:
    await pilot.press("5")
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
    screen = app.screen
    screen.settings.max_tokens = 8
    return screen


async def test_streamed_reply_then_side_by_side_with_one_base_load(workspace, tiny_model):
    seen: list[str] = []
    app, hook = _app(workspace, tiny_model, seen)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await _open_chat(app, pilot)
        assert screen.target.label == "run-1:best"
        # best ends every reply at once (an end token first); latest says something.
        screen.query_one("#chat-target").value = "run-1:latest"
        await pilot.pause()
        await pilot.press(*"charged twice", "enter")
        pane_a = screen.query_one("#chat-pane-a", ChatPane)
        await wait_until(pilot, lambda: pane_a.history and not screen.streaming)
        assert "ReplyFinished" in seen and "RepliesEnded" in seen
        assert "tok/s" in screen_text(app) and "TTFT" in screen_text(app)
        first = pane_a.history[0][1]
        assert first
        # Side by side: same prompt to the base model, same seed and settings.
        await pilot.press("ctrl+b")
        assert screen.has_class("compare")
        await pilot.press(*"charged twice", "enter")
        pane_b = screen.query_one("#chat-pane-b", ChatPane)
        await wait_until(pilot, lambda: len(pane_a.history) == 2 and pane_b.history)
        await wait_until(pilot, lambda: not screen.streaming)
        assert pane_b.history[0][1] != pane_a.history[1][1]
        assert screen.host.loads == 1
        # Save the adapter's exchange as a hand-written row for the curator.
        await pilot.press("ctrl+s")
        row = workspace.store.conn.execute(
            "SELECT origin, status, decision FROM rows WHERE input = 'charged twice'"
        ).fetchone()
        assert tuple(row) == ("chat", "done", None)


async def test_escape_stops_a_reply(workspace, tiny_model):
    app, _ = _app(workspace, tiny_model)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        screen.settings.max_tokens = 100_000
        # Side by side with the base model, which greedily writes newlines
        # and never an end token: a reply that is sure to be running.
        await pilot.press("ctrl+b")
        pane = screen.query_one("#chat-pane-b", ChatPane)
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: screen.streaming and pane.reply_text, 30)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.streaming)
        assert "stopped" in screen_text(app)


async def test_eval_view_and_failures_to_curator(workspace, tiny_model):
    write_split(workspace, "valid", [("I was charged twice", "billing"), ("crash", "bug")])
    workspace.store.add_inputs([("I was charged twice", None)])
    with workspace.store.tx() as c:
        c.execute("UPDATE rows SET status='done', output='billing', decision='accepted'")
    app, _ = _app(workspace, tiny_model)
    async with app.run_test(size=SIZE) as pilot:
        await _open_chat(app, pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, EvalScreen))
        view = app.screen
        assert "none yet" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: view.result is not None and not view.running, 30)
        # The table is drawn a frame after the result lands (later under load).
        await wait_until(pilot, lambda: "exact_match" in screen_text(app), 10)
        text = screen_text(app)
        assert "exact_match" in text and "adapter wrong on 2" in text
        await pilot.press("c")
        await wait_until(pilot, lambda: workspace.store.counts()["unreviewed"] == 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_fuse_key_adds_the_fused_model_as_a_target(workspace, tiny_model):
    app, _ = _app(workspace, tiny_model)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FuseDialog")
        assert "this qwen2 model" in screen_text(app)  # the tiny student is a Qwen2
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: any(k.startswith("fused:") for k in screen.picker.targets), 30
        )
        await wait_until(pilot, lambda: not screen.fuser.running)
        assert (workspace.root / "fused" / "run-1-best" / "config.json").is_file()


async def test_a_fuse_stopped_by_quitting_keeps_no_half_written_model(workspace, tiny_model):
    # SIGTERM and ctrl+q's "stop it and quit" stop the fuse job between stages.
    app, _ = _app(workspace, tiny_model)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FuseDialog")
        stopped: list[list[str]] = []
        # The moment the job is registered, as a quit would: it must be stoppable.
        app.jobs.on_change.append(lambda: stopped.append(app.jobs.stop_all()))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(stopped), 30)
        assert stopped[0] == []  # nothing that runs to its end regardless
        await wait_until(pilot, lambda: not screen.fuser.running and not app.jobs.running, 30)
        assert not (workspace.root / "fused" / "run-1-best").exists()
        assert not any(k.startswith("fused:") for k in screen.picker.targets)


def test_model_text_is_shown_literally_without_control_characters():
    from distill_tui.ui.widgets.chat_pane import safe_text

    text = safe_text("[/] [bold]x\x1b[31m\ty\n")
    assert text.plain == "[/] [bold]x\u241b[31m\ty\n"  # ESC shown as ␛
    assert not text.spans  # no markup was interpreted


async def test_failure_browser_sends_similar_inputs_and_judges(workspace, tiny_model, monkeypatch):
    from support.llm_server import FakeLLM

    from distill_tui.core.evaluate import evals, metrics

    items = []
    for n, (inp, ref, ans) in enumerate([("printer jams", "bug", "billing"), ("ok", "bug", "x")]):
        item = evals.EvalItem(n, None, inp, ref, {"adapter": ans})
        item.scores["adapter"] = metrics.score(ans, ref)
        items.append(item)
    evals.save(workspace.store, evals.EvalResult("run-1", "best", "valid", "text", items))
    workspace.settings.teacher.model = "claude-haiku-4-5"
    workspace.settings.teacher.requests_per_minute = 0

    def reply(text: str) -> str:
        if "<answer>" in text:
            return '{"pass": true, "reason": "close enough"}'
        return "- [/]new ticket one\n- new ticket two"

    with FakeLLM(reply=reply) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        app, _ = _app(workspace, tiny_model)
        async with app.run_test(size=SIZE) as pilot:
            await _open_chat(app, pilot)
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: isinstance(app.screen, EvalScreen))
            view = app.screen
            footer = screen_text(app).splitlines()[-1]
            assert "Similar inputs" in footer and "Judge" in footer and "Stop/close" in footer
            await pilot.press("s")
            await wait_until(pilot, lambda: workspace.store.counts()["pending"] == 2)
            await wait_until(pilot, lambda: not view.asking)
            assert "2 new input(s) in the queue" in screen_text(app)
            origins = {r[0] for r in workspace.store.conn.execute("SELECT origin FROM rows")}
            assert origins == {"similar"}
            await pilot.press("j")
            await wait_until(pilot, lambda: view.result.judge is not None and not view.asking)
            text = screen_text(app)
            assert "judge" in text and "judged 2/2" in text
            assert evals.latest(workspace.store).summary("adapter")["judge"] == 1.0


async def test_two_checkpoints_side_by_side_with_one_base_load(workspace, tiny_model):
    app, _ = _app(workspace, tiny_model)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        assert screen.target.label == "run-1:best"
        await pilot.press("ctrl+b")
        # Pick the run's latest checkpoint in the "vs" box with the keyboard.
        screen.query_one("#chat-versus").focus()
        await pilot.press("enter", "down", "enter")
        await wait_until(pilot, lambda: screen.versus.label == "run-1:latest")
        assert "vs run-1 latest" in screen_text(app)
        pane_a = screen.query_one("#chat-pane-a", ChatPane)
        pane_b = screen.query_one("#chat-pane-b", ChatPane)
        assert pane_b.border_title == "run-1:latest"
        screen.query_one("#chat-input").focus()
        await pilot.press(*"charged twice", "enter")
        await wait_until(pilot, lambda: pane_a.history and pane_b.history, 30)
        await wait_until(pilot, lambda: not screen.streaming)
        # Same prompt, seed and settings; the two adapters answer differently.
        assert pane_a.history[0][0] == pane_b.history[0][0] == "charged twice"
        assert pane_a.history[0][1] != pane_b.history[0][1]
        assert screen.host.loads == 1


async def test_fused_models_on_disk_are_listed_at_start(workspace, tiny_model):
    import shutil

    fused = workspace.root / "fused" / "run-0-best"
    shutil.copytree(tiny_model, fused)
    (workspace.root / "fused" / "half-written").mkdir()  # no weights yet: not listed
    app, _ = _app(workspace, tiny_model)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        key = f"fused:{fused.resolve()}"
        assert [k for k in screen.picker.targets if k.startswith("fused:")] == [key]
        screen.query_one("#chat-target").value = key
        await pilot.pause()
        assert screen.check_action("compare", ()) is None  # no adapter to compare
        screen.query_one("#chat-input").focus()
        await pilot.press(*"hello", "enter")
        pane = screen.query_one("#chat-pane-a", ChatPane)
        await wait_until(pilot, lambda: pane.history and not screen.streaming, 30)
        assert screen.host.model_path == str(fused.resolve())


async def test_a_run_asked_for_by_another_screen_is_picked(workspace, tiny_model):
    app, _ = _app(workspace, tiny_model)  # run-1
    make_run(workspace, tiny_model, run_id="run-2", seed=2)  # newer: listed first
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # What the Train screen's runs list posts for "chat with this run".
        app.screen.post_message(ChatWithRun("run-1"))
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        screen = app.screen
        # The newest run is shown first, then the one asked for.
        await wait_until(pilot, lambda: screen.target and screen.target.label == "run-1:best")
        # Back on another screen and again to Chat: the choice stays, no loop.
        await pilot.press("1")
        await pilot.press("5")
        await pilot.pause()
        assert screen.target.label == "run-1:best"


async def test_a_failed_reply_says_why_in_the_pane(workspace, tiny_model):
    app, _ = _app(workspace, tiny_model)
    (workspace.root / "runs" / "run-1" / "best" / "adapters.safetensors").write_bytes(b"broken")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: "failed: cannot read checkpoint" in screen_text(app))
        await wait_until(pilot, lambda: not screen.streaming)
        assert "run-1:best" in screen_text(app)


async def test_a_failed_evaluation_says_why_in_the_view(workspace, tiny_model):
    app, _ = _app(workspace, tiny_model)  # no exported split
    async with app.run_test(size=SIZE) as pilot:
        await _open_chat(app, pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, EvalScreen))
        await pilot.press("r")
        await wait_until(pilot, lambda: "evaluation failed:" in screen_text(app))
        assert "no valid split yet" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_the_base_model_answers_before_any_run(workspace, tiny_model):
    """A project with a student and no runs: the picker offers the base model
    alone, and a message gets its reply (there was nothing to talk to)."""
    workspace.settings.student.model = str(tiny_model)
    workspace.save_settings()
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_chat(app, pilot)
        await wait_until(pilot, lambda: screen.target is not None)
        assert screen.target.checkpoint is None and screen.target.model == str(tiny_model)
        assert "base model" in screen_text(app) and "no runs yet" not in screen_text(app)
        assert screen.check_action("evaluate", ()) is None  # nothing to evaluate
        await pilot.press(*"hello", "enter")
        pane = screen.query_one("#chat-pane-a", ChatPane)
        await wait_until(pilot, lambda: pane.history and not screen.streaming, 30)
        assert pane.history[0][1] and screen.host.model_path == str(tiny_model)
