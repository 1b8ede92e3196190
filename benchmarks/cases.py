"""The measured cases. Each takes one row spec (``name``, ``size``, options) and returns the row's fields.

A case measures the step and not the setup: models, data and inputs are built before the clock starts, and
the first call(s) are a warm-up.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch
from helpers import CleanPolicy, CleanTimes, Stopwatch, build_datamodule, build_model, demo_roots, summary, time_calls
from torch.utils.flop_counter import FlopCounterMode

MODELS = {"apdrawinggan": "apdrawinggan", "qmupd": "qmupd"}  # row prefix -> config name
# QMUPD training rows run at this (0-based) epoch: the truncated cycle, whose weight is 0 only in epoch 0, is on.
QMUPD_EPOCH = 100


class Skip(Exception):
    """The row cannot run here (e.g. a model not written yet); the reason goes into the JSON row."""


def sparse_mask(size: int, device: str, density: float = 0.01, channels: int = 1) -> torch.Tensor:
    """A reproducible sparse binary ``(1, channels, size, size)`` line map (about 1 % ink)."""
    generator = torch.Generator().manual_seed(0)
    return (torch.rand(1, channels, size, size, generator=generator) < density).float().to(device)


def dt_case(spec: dict[str, Any], repeats: int, device: str) -> dict[str, Any]:
    """``dt_forward`` / ``dt_forward_backward``: one distance transform of a sparse binary map."""
    from apd_lightning.ops import distance_transform

    image = sparse_mask(spec["size"], device, channels=spec.get("channels", 1))
    impl = spec["impl"]
    if spec["name"] == "dt_forward":

        def step() -> None:
            with torch.no_grad():
                distance_transform(image, backend=impl)
    else:
        image.requires_grad_(True)

        def step() -> None:
            distance_transform(image, backend=impl).sum().backward()
            image.grad = None

    times = time_calls(step, repeats, spec.get("warmup", 1), device, CleanPolicy.from_spec(spec))
    return {**summary(times), "shape": list(image.shape), "input": "binary, 1% ink"}


def _throughput(flops: int, seconds: float) -> dict[str, float]:
    """``gflop`` (convolutions and matrix products of one call, as torch's FlopCounterMode counts them) and
    ``gflops_per_s`` (that divided by the median time): how close a row runs to the machine's arithmetic peak."""
    return {"gflop": round(flops / 1e9, 1), "gflops_per_s": round(flops / 1e9 / seconds, 1)}


def _import_model(prefix: str) -> None:
    module = f"apd_lightning.models.{prefix}"
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise Skip(f"{module} does not import: {error}") from error


def _model_overrides(prefix: str, spec: dict[str, Any]) -> dict[str, Any]:
    overrides: dict[str, Any] = {"compile": True} if spec.get("compile") else {}
    if "channels_last" in spec:
        overrides["channels_last"] = spec["channels_last"]
    if spec.get("dt_backend"):  # APDrawingGAN's distance-transform backend, a constructor argument
        overrides["dt_backend"] = spec["dt_backend"]
    if prefix == "qmupd":  # no pretrained files offline: HED at VGG16 width, random weights (same compute)
        overrides.update(auxiliaries="random_init", random_auxiliary_width=64, quality_path=None)
        if spec.get("styles"):  # draw only the first `styles` one-hot styles per photo
            overrides["predict_styles"] = {
                f"style{k + 1}": [float(i == k) for i in range(3)] for k in range(spec["styles"])
            }
    return overrides


def at_epoch(model, epoch: int):
    """``model`` with ``current_epoch`` fixed to ``epoch`` (a one-epoch benchmark Trainer would say 0)."""
    model.__class__ = type(type(model).__name__, (type(model),), {"current_epoch": property(lambda self: epoch)})
    return model


def build_training(spec: dict[str, Any], device: str, data_dir: Path, batches: int):
    """The row's model (paper widths; QMUPD at :data:`QMUPD_EPOCH`) and ``batches`` training batches in memory."""
    prefix = spec["name"].removesuffix("_train_iter")
    _import_model(prefix)
    model = build_model(MODELS[prefix], spec["size"], **_model_overrides(prefix, spec))
    if prefix == "qmupd":
        model = at_epoch(model, spec.get("epoch", QMUPD_EPOCH))
    datamodule = build_datamodule(MODELS[prefix], _root(prefix, data_dir, spec), spec["size"])
    datamodule.setup("fit")
    source = iter(datamodule.train_dataloader())
    loaded = [next(source) for _ in range(min(batches, len(datamodule.datasets["train"])))]
    return model, [loaded[i % len(loaded)] for i in range(batches)]


def quiet_trainer(device: str, precision: str, batches: int, callbacks: list, root: Path):
    """A one-epoch Lightning Trainer over ``batches`` batches: no logger, checkpoints, progress bar or validation."""
    import lightning as L

    return L.Trainer(
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        devices=1,
        precision=precision,
        max_epochs=1,
        limit_train_batches=batches,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        default_root_dir=str(root / "trainer"),
    )


def _root(prefix: str, data_dir: Path, spec: dict[str, Any]) -> Path:
    """The demo data root, rendered at ``spec["data_size"]`` (512 unless set; the datamodules resize it)."""
    paired, unpaired = demo_roots(data_dir, spec.get("data_size", 512))
    return paired if prefix == "apdrawinggan" else unpaired


def train_iter_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """``<model>_train_iter``: one manual-optimization ``training_step`` (D and G updates) under a Trainer.

    Batches are loaded into memory first and a callback times ``on_train_batch_start`` to
    ``on_train_batch_end``, so data loading and Trainer setup are outside the clock. Unclean steps (see
    ``cpu_share.py``) are discarded and repeated, up to ``max_discards``; the Trainer stops once ``repeats``
    steps are kept.
    """
    import lightning as L
    from torch.utils.data import DataLoader

    warmup, policy = spec.get("warmup", 1), CleanPolicy.from_spec(spec)
    model, batches = build_training(spec, device, data_dir, warmup + repeats + policy.max_discards)

    class StepTimer(L.Callback):
        """Times every step; counts the first (warm-up) step's floating-point operations."""

        def __init__(self) -> None:
            self.times = CleanTimes(policy)
            self.flops = FlopCounterMode(display=False)

        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            if batch_idx == 0:
                self.flops.__enter__()
            self.watch = Stopwatch(device).__enter__()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            self.watch.__exit__(None, None, None)
            if batch_idx == 0:
                self.flops.__exit__(None, None, None)
            if batch_idx >= warmup:
                self.times.offer(self.watch.timing)
            trainer.should_stop = len(self.times) >= repeats

    timer = StepTimer()
    trainer = quiet_trainer(device, spec["precision"], len(batches), [timer], data_dir)
    trainer.fit(model, train_dataloaders=DataLoader(batches, batch_size=None))
    row = summary(timer.times)
    if spec["name"].startswith("apdrawinggan"):  # the distance transform the loss really used
        row["dt_backend_used"] = model.distance_transform.backend
    return {**row, "batch_size": 1, **_throughput(timer.flops.get_total_flops(), row["median_s"])}


def build_prediction(spec: dict[str, Any], device: str, data_dir: Path):
    """The row's model in eval mode after ``on_predict_start`` and a ``step()`` that draws one photo."""
    prefix = spec["name"].removesuffix("_predict")
    _import_model(prefix)
    model = build_model(MODELS[prefix], spec["size"], **_model_overrides(prefix, spec)).to(device).eval()
    model.on_predict_start()  # what the Trainer calls first (channels-last weights, inference norm mode)
    datamodule = build_datamodule(MODELS[prefix], _root(prefix, data_dir, spec), spec["size"])
    datamodule.setup("predict")
    batch = next(iter(datamodule.predict_dataloader()))
    batch = type(batch)(
        **{key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in vars(batch).items()}
    )
    autocast, device_type = spec["precision"] == "bf16-mixed", torch.device(device).type

    def step() -> None:
        with torch.inference_mode(), torch.autocast(device_type, torch.bfloat16, enabled=autocast):
            model.predict_step(batch, 0)

    return model, step


def predict_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """``<model>_predict``: seconds per photo of ``predict_step`` in eval mode (batch 1, inference mode)."""
    model, step = build_prediction(spec, device, data_dir)
    with FlopCounterMode(display=False) as flops:
        step()  # the first warm-up call, counted
    times = time_calls(step, repeats, spec.get("warmup", 1) - 1, device, CleanPolicy.from_spec(spec))
    extra = {"drawings_per_photo": len(model.predict_styles)} if spec["name"].startswith("qmupd") else {}
    row = summary(times)
    return {**row, "batch_size": 1, **extra, **_throughput(flops.get_total_flops(), row["median_s"])}


def record_prediction(spec: dict[str, Any], device: str, data_dir: Path, mode) -> None:
    """One ``predict_step`` under the dispatch ``mode`` (e.g. the ``conv_peak`` recorder)."""
    _, step = build_prediction(spec, device, data_dir)
    with mode:
        step()


def record_training_step(spec: dict[str, Any], device: str, data_dir: Path, mode) -> None:
    """One ``training_step`` under a Trainer, inside the dispatch ``mode`` (e.g. the ``conv_peak`` recorder)."""
    import lightning as L
    from torch.utils.data import DataLoader

    model, batches = build_training(spec, device, data_dir, 1)

    class Record(L.Callback):
        def on_train_batch_start(self, *args) -> None:
            mode.__enter__()

        def on_train_batch_end(self, *args) -> None:
            mode.__exit__(None, None, None)

    trainer = quiet_trainer(device, spec["precision"], 1, [Record()], data_dir)
    trainer.fit(model, train_dataloaders=DataLoader(batches, batch_size=None))


def sample_load_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """``paired_sample_load`` / ``unpaired_sample_load``: one ``Dataset.__getitem__`` (read, augment, tensors;
    paired: plus the two exact ground-truth distance maps), cycling over the demo training samples."""
    prefix = {"paired_sample_load": "apdrawinggan", "unpaired_sample_load": "qmupd"}[spec["name"]]
    module = {"apdrawinggan": "apd_lightning.data.paired", "qmupd": "apd_lightning.data.unpaired"}[prefix]
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise Skip(f"{module} does not import: {error}") from error
    datamodule = build_datamodule(MODELS[prefix], _root(prefix, data_dir, spec), spec["size"])
    datamodule.setup("fit")
    dataset = datamodule.datasets["train"]
    counter = iter(range(10**9))

    def step() -> None:
        dataset[next(counter) % len(dataset)]

    times = time_calls(step, repeats, spec.get("warmup", 1), "cpu", CleanPolicy.from_spec(spec))
    return {**summary(times), "samples": len(dataset), "source_size": 512}
