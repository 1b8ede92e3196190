"""``python -m apd_lightning export --ckpt CKPT --out MODEL.onnx``: the drawing generator as one ONNX graph.

* APDrawingGAN: the whole hierarchical generator (global U-Net, six part U-Nets, the min-composite, the fusion
  net) with inputs ``photo (N, 3, S, S)``, ``landmarks (N, 5, 2)``, ``background_mask (N, 1, S, S)``. The part
  boxes are computed from ``landmarks`` inside the graph (gathers whose indices follow the input), so the crops
  move with the face at run time.
* QMUPD / UPD: the style generator with inputs ``photo (N, 3, H, W)`` (H, W dynamic, multiples of 4) and
  ``style (N, 3)``.

The output is ``drawing (N, 1, ·, ·)`` in [-1, 1]. The file's metadata holds the model kind, image size, input
ranges and style names (what :class:`~apd_lightning.draw.Drawer` reads with ``onnx=``). Every export is checked
against PyTorch with ONNX Runtime (eval mode, float32) before the file is moved into place.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .model_file import ModelSpec, read_checkpoint
from .runners import INPUT_NAMES, INPUT_RANGES, OUTPUT_NAME, OnnxRunner, build_generator

#: Largest |ONNX Runtime − PyTorch| accepted by the export check (drawings in [-1, 1]).
TOLERANCE = 1e-3


@dataclass
class ExportReport:
    """What an export wrote and how well ONNX Runtime agreed with PyTorch (max |Δ| per checked input)."""

    path: Path
    kind: str
    image_size: int
    seconds: float
    max_abs_diff: dict[str, float]


def graph_module(spec: ModelSpec, generator):
    """The generator with the exported input names and a single tensor output."""
    from torch import Tensor, nn

    class HierarchicalDrawing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.generator = generator

        def forward(self, photo: Tensor, landmarks: Tensor, background_mask: Tensor) -> Tensor:
            return self.generator(photo, landmarks, background_mask).drawing

    class StyleDrawing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.generator = generator

        def forward(self, photo: Tensor, style: Tensor) -> Tensor:
            return self.generator(photo, style)

    return HierarchicalDrawing() if spec.kind == "apdrawinggan" else StyleDrawing()


def template_landmarks(size: int, shift: tuple[float, float] = (0.0, 0.0), angle: float = 0.0) -> np.ndarray:
    """``(5, 2)`` float32 template landmarks at ``size``, rotated by ``angle`` degrees about the centre, shifted."""
    from ..faces.align import template_points

    points = template_points(size)
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    centre = np.array([size / 2, size / 2])
    return ((points - centre) @ rotation.T + centre + np.asarray(shift)).astype(np.float32)


def check_inputs(spec: ModelSpec, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Named input sets for the check: APDrawingGAN with two landmark sets (the crops must move) and a batch of
    two; QMUPD / UPD at the model's size and at a non-square size, with one-hot and mixed styles."""
    rng = np.random.default_rng(seed)
    size = spec.image_size

    def photo(n: int, height: int = size, width: int = size) -> np.ndarray:
        return rng.uniform(-1, 1, (n, 3, height, width)).astype(np.float32)

    if spec.kind == "apdrawinggan":
        mask = np.ones((1, 1, size, size), np.float32)
        mask[..., : size // 8, :] = 0  # a background band above the head
        moved = template_landmarks(size, (size / 16, -size / 24), 8.0)
        same = photo(1)
        return {
            "landmarks A": {"photo": same, "landmarks": template_landmarks(size)[None], "background_mask": mask},
            "landmarks B": {"photo": same, "landmarks": moved[None], "background_mask": mask},
            "batch of 2": {
                "photo": photo(2),
                "landmarks": np.stack([template_landmarks(size), moved]),
                "background_mask": np.concatenate([mask, np.ones_like(mask)]),
            },
        }
    eye = np.eye(spec.style_dim, dtype=np.float32)
    mix = np.full((1, spec.style_dim), 1 / spec.style_dim, np.float32)
    return {
        "square, style1": {"photo": photo(1), "style": eye[:1]},
        "non-square, mix": {"photo": photo(1, size, size * 3 // 4 // 4 * 4), "style": mix},
        "batch of 2": {"photo": photo(2), "style": eye[1:3] if spec.style_dim >= 3 else eye[:2]},
    }


def torch_reference(generator, spec: ModelSpec, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """PyTorch's drawings ``(N, H, W)`` for the same named inputs."""
    import torch

    module = graph_module(spec, generator)
    with torch.inference_mode():
        return module(*(torch.from_numpy(inputs[n]) for n in INPUT_NAMES[spec.kind]))[:, 0].numpy()


def _example(spec: ModelSpec):
    """Batch-of-two example inputs (a batch of one would be specialised to a fixed size) and dynamic dims."""
    import torch

    dynamic = torch.export.Dim.DYNAMIC
    inputs = check_inputs(spec)["batch of 2"]
    tensors = tuple(torch.from_numpy(inputs[n]) for n in INPUT_NAMES[spec.kind])
    if spec.kind == "apdrawinggan":
        shapes = {"photo": {0: dynamic}, "landmarks": {0: dynamic}, "background_mask": {0: dynamic}}
    else:
        shapes = {"photo": {0: dynamic, 2: dynamic, 3: dynamic}, "style": {0: dynamic}}
    return tensors, shapes


def metadata(spec: ModelSpec, source: str) -> dict[str, str]:
    """The file's metadata: what the drawer needs, plus human-readable input ranges."""
    from .. import __version__

    names = INPUT_NAMES[spec.kind]
    return {
        "apd_lightning": __version__,
        "kind": spec.kind,
        "image_size": str(spec.image_size),
        "style_names": json.dumps(list(spec.style_names)),
        "inputs": json.dumps({n: INPUT_RANGES[n] for n in names}),
        "output": f"{OUTPUT_NAME}: {INPUT_RANGES[OUTPUT_NAME]}",
        "spec": json.dumps({**asdict(spec), "inference_norm": "eval"}),
        "source": Path(source).name,
    }


def _quiet_export(module, spec: ModelSpec, opset: int | None):
    import torch

    tensors, shapes = _example(spec)
    kwargs = {} if opset is None else {"opset_version": opset}
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        return torch.onnx.export(
            module,
            tensors,
            dynamo=True,
            input_names=list(INPUT_NAMES[spec.kind]),
            output_names=[OUTPUT_NAME],
            dynamic_shapes=shapes,
            verbose=False,
            **kwargs,
        )


def check_export(path: Path, generator, spec: ModelSpec, tolerance: float = TOLERANCE) -> dict[str, float]:
    """Max |ONNX Runtime − PyTorch| per input set of :func:`check_inputs`.

    Raises:
        RuntimeError: a difference above ``tolerance``, or (APDrawingGAN) identical drawings for the two
            landmark sets, which would mean that the crops were frozen at export time.
    """
    runner = OnnxRunner(path)
    diffs, outputs = {}, {}
    for name, inputs in check_inputs(spec).items():
        outputs[name] = runner(inputs)
        diffs[name] = float(np.abs(outputs[name] - torch_reference(generator, spec, inputs)).max())
    if bad := {k: v for k, v in diffs.items() if not v <= tolerance}:
        raise RuntimeError(f"ONNX Runtime differs from PyTorch by more than {tolerance}: {bad}")
    if spec.kind == "apdrawinggan" and np.array_equal(outputs["landmarks A"], outputs["landmarks B"]):
        raise RuntimeError("the exported graph ignores the landmarks (frozen part crops)")
    return diffs


def export_onnx(
    ckpt: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False, opset: int | None = None
) -> ExportReport:
    """Export a checkpoint's drawing generator to ONNX and check it (see the module docstring).

    The file is written next to ``out`` as ``out.part`` and moved into place only once the check passed.

    Raises:
        ModelFileError: the checkpoint is missing, unreadable or not a drawing model.
        FileExistsError / IsADirectoryError: ``out`` exists (without ``overwrite``) or is a folder.
        RuntimeError: the check failed (nothing is left at ``out``).
    """
    start = time.perf_counter()
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a folder; give a file name such as model.onnx")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    spec, state = read_checkpoint(ckpt)
    generator = build_generator(spec, state).eval()
    # Without gradients the nets' gradient-layout helpers are identities; exported with them, their eager
    # strides would be baked into the graph and scramble the channels-last part crops.
    generator.requires_grad_(False)
    program = _quiet_export(graph_module(spec, generator).eval(), spec, opset)
    program.model.metadata_props.update(metadata(spec, str(ckpt)))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    try:
        program.save(str(partial))
        diffs = check_export(partial, generator, spec)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportReport(out, spec.kind, spec.image_size, time.perf_counter() - start, diffs)


def main(argv: Sequence[str] | None = None) -> int:
    """Export a checkpoint's drawing generator to ONNX (checked against PyTorch with ONNX Runtime)."""
    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning export",
        description="Export the drawing generator of a checkpoint (fit or convert-weights; no config needed) to "
        "one ONNX graph, with its kind, size and input ranges in the file's metadata, checked against PyTorch "
        f"with ONNX Runtime (max |Δ| <= {TOLERANCE}).",
        epilog="examples:\n"
        "  python -m apd_lightning export --ckpt runs/apdrawinggan/checkpoints/last.ckpt --out apd.onnx\n"
        "  python -m apd_lightning draw photos/ --onnx apd.onnx --out drawings/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--ckpt", required=True, help="checkpoint from `fit` or `convert-weights`")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: torch's)")
    args = parser.parse_args(argv)
    try:
        report = export_onnx(args.ckpt, args.out, args.overwrite, args.opset)
    except (ModelFileError, FileExistsError, IsADirectoryError, RuntimeError) as error:
        print(f"export: error: {error}", file=sys.stderr)
        return 1
    worst = max(report.max_abs_diff.values())
    print(
        f"exported {report.kind} ({report.image_size} px) -> {report.path} "
        f"({report.path.stat().st_size / 2**20:.1f} MiB) in {report.seconds:.0f} s; ONNX Runtime vs PyTorch: "
        f"max |Δ| {worst:.1e} over {len(report.max_abs_diff)} checks\n  use: python -m apd_lightning draw PHOTOS "
        f"--onnx {report.path} --out DIR"
    )
    return 0
