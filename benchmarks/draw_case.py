"""``draw_photo``: one 12-megapixel JPEG end to end through :class:`~apd_lightning.draw.Drawer`, per stage.

Stages: decode, detect, align, mask, model, warp (the drawer's own timings) and encode (the PNG that ``draw``
writes). The photo is skimage's astronaut enlarged into a 4000×3000 frame over a textured background with sensor-
like noise, saved as a quality-90 JPEG (about the size of a phone photo). Models have the paper widths at 512²
with random weights (their speed does not depend on the weights); the ONNX file is exported once per data dir.
"""

from __future__ import annotations

import io
import statistics
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image

from apd_lightning.draw import Drawer
from apd_lightning.draw.cli import PNG_COMPRESS_LEVEL
from apd_lightning.models.spec import MODEL_SPEC_KEY, model_spec

STAGES = ("decode", "detect", "align", "mask", "model", "warp", "encode")


def twelve_megapixel_jpeg(path: Path) -> Path:
    """A 4000×3000 JPEG (quality 90) with one face about 900 px wide."""
    if path.is_file():
        return path
    from skimage.data import astronaut

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:3000, 0:4000].astype(np.float32)
    frame = np.stack([x / 4000 * 180 + 40, y / 3000 * 160 + 50, np.full_like(x, 110)], axis=-1)
    frame += cv2.resize(rng.normal(0, 25, (300, 400, 3)).astype(np.float32), (4000, 3000))  # blotches
    face = cv2.resize(astronaut(), (2400, 2400), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    frame[300:2700, 800:3200] = face
    frame += rng.normal(0, 4, frame.shape).astype(np.float32)  # sensor noise
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


def paper_checkpoint(kind: str, path: Path) -> Path:
    """A checkpoint in ``fit``'s format with the paper's generator (512², widths 64, 9 blocks), random weights."""
    if path.is_file():
        return path
    from apd_lightning.nets import HierarchicalGenerator, StyleGenerator

    torch.manual_seed(0)
    generator = HierarchicalGenerator(512) if kind == "apdrawinggan" else StyleGenerator()
    state = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, MODEL_SPEC_KEY: model_spec(kind, generator, 512)}, path)
    return path


def cpu_has_bf16() -> bool:
    """Whether /proc/cpuinfo lists AVX512-BF16 or AMX (elsewhere torch runs bf16 convolutions in slow reference
    kernels: minutes per 512² drawing). Unknown (no /proc) counts as yes."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return True
    return "avx512_bf16" in flags or "amx_bf16" in flags


def model_file(spec: dict[str, Any], device: str, data_dir: Path) -> dict[str, Any]:
    """``Drawer`` arguments of a row: the checkpoint (torch rows) or its export (``onnx`` rows)."""
    if spec["backend"] == "torch-bf16-mixed" and device == "cpu" and not cpu_has_bf16():
        from cases import Skip

        raise Skip("this CPU has neither AVX512-BF16 nor AMX: torch's bf16 convolutions would take minutes")
    ckpt = paper_checkpoint(spec["model"], data_dir / "draw" / f"{spec['model']}.ckpt")
    if spec["backend"] != "onnx":
        return {"ckpt": ckpt, "precision": spec["backend"].removeprefix("torch-"), "device": device}
    from apd_lightning.draw.export import export_onnx

    onnx = data_dir / "draw" / f"{spec['model']}.onnx"
    if not onnx.is_file():
        export_onnx(ckpt, onnx)
    return {"onnx": onnx, "device": device}


def encode(drawing: np.ndarray) -> int:
    buffer = io.BytesIO()
    Image.fromarray(drawing, "L").save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.tell()


def draw_photo_case(spec: dict[str, Any], repeats: int, device: str, data_dir: Path) -> dict[str, Any]:
    """Seconds per photo, end to end, with each stage's median wall and CPU seconds and share of the total."""
    photo = twelve_megapixel_jpeg(data_dir / "draw" / "photo_12mp.jpg")
    styles = "1" if spec["model"] != "apdrawinggan" else None
    with Drawer(**model_file(spec, device, data_dir)) as drawer:
        runs = []
        for _ in range(spec.get("warmup", 1) + repeats):
            result = drawer.draw(photo, styles)
            wall, cpu = dict(result.timings), dict(result.cpu_timings)
            start_wall, start_cpu = _now()
            encoded = encode(next(iter(result.faces[0].drawings.values())))
            end_wall, end_cpu = _now()
            wall["encode"], cpu["encode"] = end_wall - start_wall, end_cpu - start_cpu
            runs.append((wall, cpu))
    runs = runs[spec.get("warmup", 1) :]
    wall = {s: statistics.median(r[0].get(s, 0.0) for r in runs) for s in STAGES}
    cpu = {s: statistics.median(r[1].get(s, 0.0) for r in runs) for s in STAGES}
    total = [sum(r[0].get(s, 0.0) for s in STAGES) for r in runs]
    total_cpu = [sum(r[1].get(s, 0.0) for s in STAGES) for r in runs]
    non_network = [t - r[0]["model"] for t, r in zip(total, runs, strict=True)]
    non_network_cpu = [t - r[1]["model"] for t, r in zip(total_cpu, runs, strict=True)]
    return {
        "median_s": round(statistics.median(total), 4),
        "median_cpu_s": round(statistics.median(total_cpu), 4),
        "non_network_s": round(statistics.median(non_network), 4),
        "non_network_cpu_s": round(statistics.median(non_network_cpu), 4),
        "stage_s": {s: round(v, 4) for s, v in wall.items()},
        "stage_cpu_s": {s: round(v, 4) for s, v in cpu.items()},
        "stage_share": {s: round(v / max(sum(wall.values()), 1e-9), 3) for s, v in wall.items()},
        "repeats": len(runs),
        "photo": "4000x3000 JPEG q90",
        "photo_mb": round(photo.stat().st_size / 2**20, 2),
        "png_mb": round(encoded / 2**20, 2),
        "image_size": drawer.image_size,
    }


def _now() -> tuple[float, float]:
    import time

    return time.perf_counter(), time.process_time()
