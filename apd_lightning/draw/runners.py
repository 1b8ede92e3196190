"""The network step of drawing, behind one call: PyTorch (a checkpoint) or ONNX Runtime (an exported file).

A runner takes the model's named inputs as numpy arrays and returns the drawings:

* APDrawingGAN: ``photo (N, 3, S, S)`` float32 RGB in [-1, 1], ``landmarks (N, 5, 2)`` float32 aligned pixel
  ``(x, y)``, ``background_mask (N, 1, S, S)`` float32 in [0, 1] (1 = person);
* QMUPD / UPD: ``photo (N, 3, H, W)`` float32 in [-1, 1] (H, W multiples of 4) and ``style (N, 3)`` float32;

and returns ``(N, H, W)`` float32 drawings in [-1, 1] (1 = white).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .model_file import ModelSpec, read_checkpoint

PRECISIONS = ("32-true", "32", "bf16-mixed")
#: Input names of the exported graphs, per kind.
INPUT_NAMES = {
    "apdrawinggan": ("photo", "landmarks", "background_mask"),
    "qmupd": ("photo", "style"),
    "upd": ("photo", "style"),
}
OUTPUT_NAME = "drawing"
#: What the metadata of an exported file says about its inputs and output.
INPUT_RANGES = {
    "photo": "float32 RGB in [-1, 1] (pixel / 127.5 - 1), aligned to the template of face_align_512.m",
    "landmarks": "float32 (x, y) pixels in the aligned image: image-left eye, image-right eye, nose tip, "
    "image-left and image-right mouth corners",
    "background_mask": "float32 in [0, 1], 1 = person",
    "style": "float32 style vector: one-hot [1, 0, 0] = style1 ... or any mix",
    "drawing": "float32 in [-1, 1], 1 = white (pixel = (x + 1) * 127.5)",
}


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; other names pass through."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build_generator(spec: ModelSpec, state: dict | None = None):
    """Instantiate the generator a :class:`ModelSpec` describes and load ``state`` into it (strictly)."""
    module, _, name = spec.generator["class_path"].rpartition(".")
    if not module.startswith("apd_lightning."):
        raise ModelFileError(f"unexpected generator class {spec.generator['class_path']!r} in the model file")
    generator = getattr(importlib.import_module(module), name)(**spec.generator["init_args"])
    if state is not None:
        try:
            generator.load_state_dict(state)
        except RuntimeError as error:
            first = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else str(error)
            raise ModelFileError(f"the generator's weights do not fit its description ({first})") from None
    return generator


class TorchRunner:
    """The generator of a checkpoint, run by PyTorch.

    Args:
        ckpt: checkpoint path (``fit`` or ``convert-weights``).
        device: ``cpu``, ``cuda``, ``cuda:1``, ... or ``auto``.
        precision: ``32-true`` or ``bf16-mixed`` (autocast to bfloat16: CPUs with AVX512-BF16/AMX, GPUs).
        inference_norm: ``eval`` or ``train``; ``None`` uses the checkpoint's (``train`` for the authors'
            converted APDrawingGAN weights). In ``train`` mode each call draws with a fixed seed, so a photo
            always gives the same drawing.
    """

    def __init__(
        self,
        ckpt: str | os.PathLike,
        device: str = "cpu",
        precision: str = "32-true",
        inference_norm: str | None = None,
    ) -> None:
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.spec, state = read_checkpoint(ckpt)
        self.source = str(ckpt)
        self.device = torch.device(resolve_device(device))
        self.precision = precision
        self.inference_norm = inference_norm or self.spec.inference_norm
        generator = build_generator(self.spec, state).to(self.device)
        generator.requires_grad_(False).train(self.inference_norm == "train")
        self.generator = generator.to(memory_format=torch.channels_last)

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).to(self.device) for k, v in inputs.items()}
        tensors["photo"] = tensors["photo"].contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast(self.device.type, torch.bfloat16, enabled=self.precision == "bf16-mixed")
        with torch.inference_mode(), autocast, torch.random.fork_rng(devices=[] if self.device.type == "cpu" else None):
            torch.manual_seed(0)  # train-mode dropout draws the same masks for every photo
            if self.spec.kind == "apdrawinggan":
                out = self.generator(tensors["photo"], tensors["landmarks"], tensors["background_mask"]).drawing
            else:
                out = self.generator(tensors["photo"], tensors["style"])
        return out[:, 0].float().cpu().numpy()


def spec_from_metadata(metadata: dict[str, str], name: str) -> ModelSpec:
    """The :class:`ModelSpec` stored in an exported file's metadata (see :mod:`apd_lightning.draw.export`)."""
    if "apd_lightning" not in metadata or "spec" not in metadata:
        raise ModelFileError(f"{name}: an ONNX model that `python -m apd_lightning export` did not write (no metadata)")
    spec = json.loads(metadata["spec"])
    if spec.get("kind") not in INPUT_NAMES:
        raise ModelFileError(f"{name}: an ONNX model of kind {spec.get('kind')!r}, not a drawing model")
    return ModelSpec(**spec)


class OnnxRunner:
    """An exported generator run by ONNX Runtime (CPU; CUDA when ``device`` is ``cuda`` and available).

    Args:
        onnx: path of a file written by ``python -m apd_lightning export``.
        device: ``cpu``, ``cuda`` or ``auto``.
    """

    precision = "32-true"

    def __init__(self, onnx: str | os.PathLike, device: str = "cpu") -> None:
        import torch

        try:
            import onnxruntime as ort
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("drawing with --onnx needs ONNX Runtime: pip install 'apd_lightning[export]'") from error
        path = Path(onnx)
        if not path.is_file():
            raise ModelFileError(f"{path.name}: no such ONNX file")
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") or device == "auto":
            providers = [p for p in ("CUDAExecutionProvider",) if p in ort.get_available_providers()] + providers
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: constant folding notes are not the user's concern
        # As many threads as torch uses, and idle threads sleep instead of spinning (spinning costs CPU time
        # that other processes on a shared machine, or the next photo's decode, would use).
        options.intra_op_num_threads = torch.get_num_threads()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelFileError(f"{path.name}: not a readable ONNX model") from None
        self.spec = spec_from_metadata(self.session.get_modelmeta().custom_metadata_map, path.name)
        expected = INPUT_NAMES[self.spec.kind]
        if tuple(i.name for i in self.session.get_inputs()) != expected:
            raise ModelFileError(f"{path.name}: its inputs are not the {self.spec.kind} drawing model's {expected}")
        self.source, self.inference_norm = str(path), "eval"

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feeds = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in inputs.items()}
        return self.session.run([OUTPUT_NAME], feeds)[0][:, 0]
