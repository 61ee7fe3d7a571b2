"""The process backend of TrainingRun (cnnlib.training.worker): same results, stops, crashes, fallbacks.

Most TrainingRun tests (test_run.py) already train in a child process, the default; these check what
is particular to it. Models used here are defined at module level, so they can be pickled.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch
from torch import nn

from cnnlib.data import load_dataset
from cnnlib.spec import PRESETS
from cnnlib.training import SlotLimiter, TrainConfig, TrainingRun
from cnnlib.training.worker import backend_default, exit_message


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", train_size=400, test_size=100)


class Boom(nn.Module):
    """Passes the model check, then raises inside the training process."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 4))
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 3:
            raise RuntimeError("kaboom in the child")
        return self.inner(x)


def spec_for(bundle):
    from cnnlib.spec import adapt_to_dataset

    return adapt_to_dataset(PRESETS["TinyCNN"], bundle.input_shape, bundle.num_classes)


def make(model, bundle, backend, slots=None, **cfg) -> TrainingRun:
    cfg.setdefault("num_threads", 1)
    cfg.setdefault("val_fraction", 0.0)
    return TrainingRun(model, bundle, TrainConfig(**cfg), slots=slots or SlotLimiter(2), backend=backend)


def test_process_and_thread_give_the_same_weights(shapes):
    spec = spec_for(shapes)
    runs = {b: make(spec, shapes, b, epochs=2, seed=3).start() for b in ("process", "thread")}
    for r in runs.values():
        assert r.wait(120)
    sp, st = runs["process"].snapshot(), runs["thread"].snapshot()
    assert sp.status == st.status == "finished"
    assert sp.test_accuracy == st.test_accuracy and sp.step == st.step == st.total_steps
    assert runs["process"].backend == "process" and runs["process"].child_pid is not None
    for (k, a), (_, b) in zip(
        runs["process"].model.state_dict().items(), runs["thread"].model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k
    assert not runs["process"].model.training  # back on the CPU, eval mode, as after a thread run
    assert runs["process"].test_probs.shape == (len(shapes.test), shapes.num_classes)


def test_stop_ends_the_child_and_keeps_its_weights(shapes):
    r = make(spec_for(shapes), shapes, "process", epochs=500, batch_size=8)
    before = [p.detach().clone() for p in r.model.parameters()]
    r.start()
    deadline = time.monotonic() + 60
    while r.snapshot().step < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.stop() is True
    assert r.wait(60)  # a guard against a hang; how long a stop takes: benchmarks/bench_limits.py
    s = r.snapshot()
    assert s.status == "stopped" and "Stopped by you" in s.message and 5 <= s.step < s.total_steps
    after = list(r.model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))  # trained weights came back


def test_a_killed_child_fails_the_run_and_frees_its_slot(shapes):
    slots = SlotLimiter(1)
    r = make(spec_for(shapes), shapes, "process", slots=slots, epochs=500, batch_size=8)
    r.start()
    deadline = time.monotonic() + 60
    while r.child_pid is None or r.snapshot().step < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(r.child_pid, signal.SIGKILL)
    assert r.wait(30)
    s = r.snapshot()
    assert s.status == "failed" and "SIGKILL" in s.message and "out of memory" in s.message
    after = make(spec_for(shapes), shapes, "process", slots=slots, epochs=1).start()  # the slot is free
    assert after.wait(60) and after.snapshot().status == "finished"


def test_an_exception_in_the_child_is_reported(shapes):
    r = make(Boom(), shapes, "process", epochs=1).start()
    assert r.wait(60)
    s = r.snapshot()
    assert r.backend == "process" and s.status == "failed" and "kaboom in the child" in s.error and s.message


def test_a_model_that_cannot_be_pickled_trains_in_a_thread(shapes):
    class Local(nn.Module):  # a class defined in a function cannot be pickled
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 4))

        def forward(self, x):
            return self.net(x)

    r = make(Local(), shapes, "process", epochs=1).start()
    assert r.wait(60)
    assert r.snapshot().status == "finished" and r.backend == "thread" and r.child_pid is None


def test_the_child_does_not_run_the_main_script(shapes, tmp_path, monkeypatch):
    """In the web server `__main__` is the last page script; a child must not run it again."""
    import sys
    import types

    marker = tmp_path / "ran.txt"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('ran')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)  # as Streamlit's script runner installs a page: a file, no spec
    monkeypatch.setitem(sys.modules, "__main__", page)
    r = make(spec_for(shapes), shapes, "process", epochs=1).start()
    assert r.wait(60) and r.snapshot().status == "finished" and r.backend == "process"
    assert not marker.exists()
    assert sys.modules["__main__"] is page  # put back after the start


def test_backend_choice(monkeypatch, shapes):
    monkeypatch.setenv("CNN_CLASSROOM_TRAIN_IN", "thread")
    assert backend_default() == "thread"
    monkeypatch.setenv("CNN_CLASSROOM_TRAIN_IN", "process")
    assert backend_default() == "process"  # Linux has forkserver
    monkeypatch.delenv("CNN_CLASSROOM_TRAIN_IN")
    assert backend_default() == "process"
    with pytest.raises(ValueError, match="backend"):
        make(spec_for(shapes), shapes, "gpu-farm")


def test_exit_messages_say_what_happened():
    assert "SIGKILL" in exit_message(-9) and "out of memory" in exit_message(-9)
    assert "SIGSEGV" in exit_message(-11) and "out of memory" not in exit_message(-11)
    assert "exit code 3" in exit_message(3)


@pytest.mark.slow  # two training processes: ~4 s
def test_normalising_once_trains_the_same_weights(shapes, monkeypatch):
    """Without augmentation the loop normalises the images once per run: same weights as per batch."""
    from cnnlib.training import loop

    def weights(limit: int):
        monkeypatch.setattr(loop, "PRENORMALISE_MAX_BYTES", limit)
        r = make(spec_for(shapes), shapes, "thread", epochs=1, seed=5).start()
        assert r.wait(60) and r.snapshot().status == "finished"
        return r.model.state_dict()

    once, per_batch = weights(64 * 2**20), weights(0)
    for k in once:
        assert torch.equal(once[k], per_batch[k]), k
