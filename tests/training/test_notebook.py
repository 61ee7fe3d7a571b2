"""The exported notebook: valid nbformat 4, and executed with nbclient it repeats the app's run.

The app's run is a `TrainingRun` in this process (the same code the Training page starts); the
notebook runs in a fresh Jupyter kernel (ipykernel) beside its `data.npz`, with no cnnlib, and
must reach the test accuracy the app reported within 2 points (on the CPU it is the same run).
"""

from __future__ import annotations

import io
import json
import zipfile

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from cnnlib.data import load_dataset
from cnnlib.spec import ModelSpec, build_model
from cnnlib.training import (
    MAX_EXPORT_BYTES,
    NOTEBOOK_NAME,
    ConfigError,
    SlotLimiter,
    TrainConfig,
    TrainingRun,
    notebook_zip,
)
from cnnlib.training import notebook as notebook_module

SMALL_SPEC = {
    "input_shape": [3, 32, 32],
    "layers": [
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "AdaptiveAvgPool2d", "output_size": 1},
        {"type": "Flatten"},
        {"type": "Dropout", "p": 0.2},
        {"type": "Linear", "out_features": 4},
    ],
}


def _unzip(data: bytes, where) -> nbformat.NotebookNode:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["data.npz", NOTEBOOK_NAME]
        z.extractall(where)
    nb = nbformat.read(where / NOTEBOOK_NAME, as_version=4)
    nbformat.validate(nb)
    return nb


def _app_run(spec, bundle, cfg: TrainConfig) -> float:
    run = TrainingRun(spec, bundle, cfg, slots=SlotLimiter(2)).start()
    assert run.wait(600)
    assert run.status in ("finished", "early-stopped"), run.snapshot().message
    return float(run.snapshot().test_accuracy)


@pytest.mark.slow
@pytest.mark.parametrize(
    "cfg",
    [
        dict(epochs=3, batch_size=64, optimizer="adam", lr=3e-3, augment=("shift", "flip"), seed=3),
        dict(
            epochs=4,
            batch_size=50,
            optimizer="sgd",
            lr=0.05,
            scheduler="onecycle",
            train_size=300,
            label_noise=0.1,
            patience=2,
            weight_decay=1e-4,
            seed=1,
        ),
    ],
    ids=["adam-augment", "sgd-onecycle-subset-noise-early-stop"],
)
def test_the_notebook_executes_and_repeats_the_apps_run(cfg, tmp_path):
    bundle = load_dataset("shapes")
    config = TrainConfig(num_threads=1, **cfg)
    reported = _app_run(SMALL_SPEC, bundle, config)
    nb = _unzip(notebook_zip(SMALL_SPEC, bundle, config, title="Shapes", reported=reported), tmp_path)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    got = json.loads((tmp_path / "results.json").read_text())
    assert abs(got["test_accuracy"] - reported) <= 0.02, (got["test_accuracy"], reported)
    assert len(got["history"]) >= 1
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "Test accuracy" in outputs and "Traceback" not in outputs


def test_the_notebooks_model_starts_from_the_apps_weights(tmp_path):
    """The model cell, run with the run's seed, builds build_model's weights bit for bit."""
    spec = ModelSpec.from_dict(SMALL_SPEC)
    cells = notebook_module.notebook_cells(spec, TrainConfig(seed=5), "t")
    model_cell = next(c["source"] for c in cells if c["cell_type"] == "code" and "class Net" in c["source"])
    scope: dict = {"SETTINGS": {"seed": 5}}
    exec(model_cell.replace("print(", "(lambda *a, **k: None)("), scope)  # noqa: S102 - our own generated code
    torch.manual_seed(5)
    ref = build_model(spec)
    got = scope["model"].layers.state_dict()
    assert list(got) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert torch.equal(got[k], v), k


def test_the_data_is_the_split_the_loop_trains_on(tmp_path):
    bundle = load_dataset("shapes")
    cfg = TrainConfig(train_size=100, label_noise=0.5, seed=7)
    _unzip(notebook_zip(SMALL_SPEC, bundle, cfg), tmp_path)
    d = np.load(tmp_path / "data.npz")
    assert d["train_idx"].shape == (100,) and d["val_idx"].shape == (round(2000 * 0.1),)
    assert not set(d["train_idx"]) & set(d["val_idx"])
    assert d["images"].dtype == np.uint8 and d["images"].shape == (2000, 3, 32, 32)
    changed = d["labels"] != bundle.train_labels.numpy()
    assert changed[d["val_idx"]].sum() == 0, "validation labels are never noised"
    assert changed[d["train_idx"]].sum() > 0
    assert list(d["classes"]) == bundle.classes


def test_augmentation_cell_only_when_the_run_augments():
    spec = ModelSpec.from_dict(SMALL_SPEC)
    plain = notebook_module.notebook_cells(spec, TrainConfig(), "t")
    aug = notebook_module.notebook_cells(spec, TrainConfig(augment=("rotate",)), "t")
    assert not any("def augment_batch" in c["source"] for c in plain)
    assert sum("def augment_batch" in c["source"] for c in aug) == 1


def test_a_dataset_too_big_is_refused_with_a_message(monkeypatch):
    monkeypatch.setattr(notebook_module, "MAX_EXPORT_BYTES", 1000)
    with pytest.raises(ConfigError, match="too big") as e:
        notebook_zip(SMALL_SPEC, load_dataset("shapes"), TrainConfig())
    assert e.value.field == "dataset"
    assert MAX_EXPORT_BYTES >= 16 * 2**20


@pytest.mark.slow
def test_a_run_with_dropout_repeats_itself():
    """The training process seeds dropout's generator with the run's seed: same seed, same run."""
    bundle = load_dataset("shapes")
    cfg = TrainConfig(epochs=1, batch_size=100, train_size=400, seed=4, num_threads=1)
    runs = [
        TrainingRun(SMALL_SPEC, bundle, cfg, slots=SlotLimiter(2), backend="process").start()
        for _ in range(2)
    ]
    for run in runs:
        assert run.wait(600) and run.status == "finished", run.snapshot().message
    a, b = (r.record().state_dict for r in runs)
    for k in a:
        assert torch.equal(a[k], b[k]), k
