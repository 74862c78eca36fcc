import threading

import pytest

from distill_tui.engine.mlx_thread import MLXBusy, MLXThread


def test_every_call_runs_on_one_thread_whoever_submits():
    t = MLXThread(name="test-mlx")
    seen = []

    def work():
        import mlx.core as mx

        seen.append(threading.get_ident())
        return float(mx.sum(mx.ones((4,))).item())

    callers = [threading.Thread(target=lambda: t.call(work)) for _ in range(4)]
    for c in callers:
        c.start()
    for c in callers:
        c.join()
    assert t.call(work) == 4.0
    assert set(seen) == {t.ident}
    assert {ident for _, ident in t.calls} == {t.ident}
    t.shutdown()


def test_errors_reach_the_caller():
    t = MLXThread()
    with pytest.raises(ZeroDivisionError):
        t.call(lambda: 1 / 0)
    assert t.call(lambda: 2) == 2  # the thread survives
    t.shutdown()


def test_second_heavy_job_is_refused_with_a_reason():
    t = MLXThread()
    with t.lease("training"):
        with pytest.raises(MLXBusy, match="training is running"):
            with t.lease("the local teacher"):
                pass
    with t.lease("the local teacher"):
        assert t.holder == "the local teacher"
    assert t.holder is None
    t.shutdown()
