"""The measured cases. Each takes one row spec (``name``, ``size``, options) and returns the row's fields.

A case measures the step and not the setup: models, data and inputs are built before the clock starts, and
the first call(s) are a warm-up.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch
from helpers import Stopwatch, build_datamodule, build_model, demo_roots, summary, time_calls
from torch.utils.flop_counter import FlopCounterMode

MODELS = {"apdrawinggan": "apdrawinggan", "qmupd": "qmupd"}  # row prefix -> config name


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

    times = time_calls(step, repeats, warmup=spec.get("warmup", 1), device=device)
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
    if prefix == "qmupd":  # no pretrained files offline: HED at VGG16 width, random weights (same compute)
        return {"auxiliaries": "random_init", "random_auxiliary_width": 64, "quality_path": None}
    return {"dt_backend": spec["dt_backend"]} if spec.get("dt_backend") else {}


def _root(prefix: str, data_dir: Path) -> Path:
    paired, unpaired = demo_roots(data_dir)
    return paired if prefix == "apdrawinggan" else unpaired


def train_iter_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """``<model>_train_iter``: one manual-optimization ``training_step`` (D and G updates) under a Trainer.

    Batches are loaded into memory first and a callback times ``on_train_batch_start`` to
    ``on_train_batch_end``, so data loading and Trainer setup are outside the clock.
    """
    import lightning as L
    from torch.utils.data import DataLoader

    prefix = spec["name"].removesuffix("_train_iter")
    _import_model(prefix)
    model = build_model(MODELS[prefix], spec["size"], **_model_overrides(prefix, spec))
    datamodule = build_datamodule(MODELS[prefix], _root(prefix, data_dir), spec["size"])
    datamodule.setup("fit")
    warmup = spec.get("warmup", 1)
    source = iter(datamodule.train_dataloader())
    batches = [next(source) for _ in range(min(warmup + repeats, len(datamodule.datasets["train"])))]
    batches = [batches[i % len(batches)] for i in range(warmup + repeats)]

    class StepTimer(L.Callback):
        """Times every step; counts the first (warm-up) step's floating-point operations."""

        def __init__(self) -> None:
            self.times: list = []
            self.flops = FlopCounterMode(display=False)

        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            if batch_idx == 0:
                self.flops.__enter__()
            self.watch = Stopwatch(device).__enter__()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            self.watch.__exit__(None, None, None)
            self.times.append(self.watch.timing)
            if batch_idx == 0:
                self.flops.__exit__(None, None, None)

    timer = StepTimer()
    trainer = L.Trainer(
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        devices=1,
        precision=spec["precision"],
        max_epochs=1,
        limit_train_batches=warmup + repeats,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
        default_root_dir=str(data_dir / "trainer"),
    )
    trainer.fit(model, train_dataloaders=DataLoader(batches, batch_size=None))
    row = summary(timer.times[warmup:])
    if prefix == "apdrawinggan":  # the distance transform the loss really used
        row["dt_backend_used"] = model.distance_transform.backend
    return {**row, "batch_size": 1, **_throughput(timer.flops.get_total_flops(), row["median_s"])}


def predict_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """``<model>_predict``: seconds per photo of ``predict_step`` in eval mode (batch 1, inference mode)."""
    prefix = spec["name"].removesuffix("_predict")
    _import_model(prefix)
    model = build_model(MODELS[prefix], spec["size"], **_model_overrides(prefix, spec)).to(device).eval()
    model.on_predict_start()  # what the Trainer calls first (channels-last weights, inference norm mode)
    datamodule = build_datamodule(MODELS[prefix], _root(prefix, data_dir), spec["size"])
    datamodule.setup("predict")
    batch = next(iter(datamodule.predict_dataloader()))
    batch = type(batch)(
        **{key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in vars(batch).items()}
    )
    autocast = spec["precision"] == "bf16-mixed"

    device_type = torch.device(device).type

    def step() -> None:
        with torch.inference_mode(), torch.autocast(device_type, torch.bfloat16, enabled=autocast):
            model.predict_step(batch, 0)

    with FlopCounterMode(display=False) as flops:
        step()  # the first warm-up call, counted
    times = time_calls(step, repeats, warmup=spec.get("warmup", 1) - 1, device=device)
    extra = {"drawings_per_photo": len(model.predict_styles)} if prefix == "qmupd" else {}
    row = summary(times)
    return {**row, "batch_size": 1, **extra, **_throughput(flops.get_total_flops(), row["median_s"])}


def sample_load_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """``paired_sample_load`` / ``unpaired_sample_load``: one ``Dataset.__getitem__`` (read, augment, tensors;
    paired: plus the two exact ground-truth distance maps), cycling over the demo training samples."""
    prefix = {"paired_sample_load": "apdrawinggan", "unpaired_sample_load": "qmupd"}[spec["name"]]
    module = {"apdrawinggan": "apd_lightning.data.paired", "qmupd": "apd_lightning.data.unpaired"}[prefix]
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise Skip(f"{module} does not import: {error}") from error
    datamodule = build_datamodule(MODELS[prefix], _root(prefix, data_dir), spec["size"])
    datamodule.setup("fit")
    dataset = datamodule.datasets["train"]
    counter = iter(range(10**9))

    def step() -> None:
        dataset[next(counter) % len(dataset)]

    times = time_calls(step, repeats, warmup=spec.get("warmup", 1), device="cpu")
    return {**summary(times), "samples": len(dataset), "source_size": 512}
