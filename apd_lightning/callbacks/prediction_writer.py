"""Writes predicted drawings as PNG files, refusing to overwrite unless the datamodule allows it."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
from PIL import Image
from torch import Tensor


def drawing_to_uint8(drawing: Tensor) -> np.ndarray:
    """``(1, H, W)`` drawing in [-1, 1] -> ``(H, W)`` uint8 grayscale."""
    return ((drawing[0].detach().float().cpu().clamp(-1, 1) + 1) * 127.5 + 0.5).byte().numpy()


class DrawingWriter(L.Callback):
    """Saves ``<output_dir>/<name>.png`` for every ``{"name", "drawing"}`` a ``predict_step`` returns.

    Args:
        output_dir: target folder; defaults to the datamodule's ``predict_output_dir``.
        overwrite: replace existing files; defaults to the datamodule's ``overwrite``.
    """

    def __init__(self, output_dir: str | None = None, overwrite: bool | None = None) -> None:
        self.output_dir = Path(output_dir) if output_dir else None
        self.overwrite = overwrite
        self.written: list[Path] = []

    def _settings(self, trainer) -> tuple[Path, bool]:
        datamodule = trainer.datamodule
        output_dir = self.output_dir or Path(getattr(datamodule, "predict_output_dir", "predictions"))
        overwrite = self.overwrite if self.overwrite is not None else bool(getattr(datamodule, "overwrite", False))
        return output_dir, overwrite

    def on_predict_start(self, trainer, pl_module) -> None:
        output_dir, overwrite = self._settings(trainer)
        names = datamodule_predict_names(trainer.datamodule)
        existing = [output_dir / f"{n}.png" for n in names if (output_dir / f"{n}.png").exists()]
        if existing and not overwrite:
            raise FileExistsError(
                f"{len(existing)} prediction file(s) already exist in {output_dir} (e.g. {existing[0].name}); "
                "pass --data.overwrite true to replace them or choose another --data.predict_output_dir"
            )
        output_dir.mkdir(parents=True, exist_ok=True)
        self.written = []

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        output_dir, overwrite = self._settings(trainer)
        names, drawings = outputs["name"], outputs["drawing"]
        if isinstance(drawings, dict):  # several styles: {style_name: (B, 1, H, W)}
            items = [(f"{n}_{style}", d[i]) for style, d in drawings.items() for i, n in enumerate(names)]
        else:
            items = [(n, drawings[i]) for i, n in enumerate(names)]
        for name, drawing in items:
            path = output_dir / f"{name}.png"
            if path.exists() and not overwrite and path not in self.written:
                raise FileExistsError(f"{path} exists; pass --data.overwrite true to replace it")
            Image.fromarray(drawing_to_uint8(drawing), "L").save(path)
            self.written.append(path)

    def on_predict_end(self, trainer, pl_module) -> None:
        output_dir, _ = self._settings(trainer)
        if trainer.is_global_zero:
            print(f"wrote {len(self.written)} drawing(s) to {output_dir}")


def datamodule_predict_names(datamodule) -> list[str]:
    """File stems the datamodule will predict (empty if it does not say)."""
    dataset = getattr(datamodule, "datasets", {}).get("predict") if datamodule is not None else None
    return [record.name for record in getattr(dataset, "records", [])]
