"""Reading a drawing model from a checkpoint without a config file: which model, which size, which generator.

Three kinds of checkpoint are understood, all read with ``torch.load(weights_only=True)``:

* ``fit`` checkpoints with the :data:`~apd_lightning.models.spec.MODEL_SPEC_KEY` entry (written since the
  entry exists);
* older ``fit`` checkpoints: the kind comes from the state-dict names (``generator.global_net.*`` is
  APDrawingGAN, ``generator.model0.*`` QMUPD / UPD, told apart by ``use_quality_loss``), the generator's
  arguments from its shapes, the image size from the generator (APDrawingGAN), the style head's kernel or the
  datamodule's saved ``image_size`` (QMUPD / UPD);
* ``convert-weights`` checkpoints (the ``apd_lightning_conversion`` entry names the kind; APDrawingGAN then
  draws with BatchNorm in training mode, as the authors did).
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models.spec import KINDS, MODEL_SPEC_KEY, infer_generator
from .errors import ModelFileError

CONVERSION_KEY = "apd_lightning_conversion"  # the converter's entry (apd_lightning.convert.METADATA_KEY)


@dataclass(frozen=True)
class ModelSpec:
    """A drawing model as a checkpoint or ONNX file describes it.

    Attributes:
        kind: ``apdrawinggan``, ``qmupd`` or ``upd``.
        image_size: side of the aligned square the model draws.
        generator: ``{"class_path", "init_args"}`` of the photo→drawing generator.
        inference_norm: ``eval`` or ``train`` (APDrawingGAN: BatchNorm batch statistics and dropout on).
        styles: QMUPD / UPD: the named style vectors drawn by default (the one-hot styles when empty).
    """

    kind: str
    image_size: int
    generator: dict[str, Any]
    inference_norm: str = "eval"
    styles: dict[str, list[float]] = field(default_factory=dict)

    @property
    def style_dim(self) -> int:
        """Length of a style vector (0 for APDrawingGAN)."""
        return 0 if self.kind == "apdrawinggan" else int(self.generator["init_args"].get("style_dim", 3))

    @property
    def style_names(self) -> tuple[str, ...]:
        """``()`` for APDrawingGAN, ``("style1", "style2", "style3")`` for QMUPD / UPD."""
        return tuple(f"style{k + 1}" for k in range(self.style_dim))


def _load(path: Path) -> Any:
    import torch

    if not path.is_file():
        raise ModelFileError(f"{path.name}: no such checkpoint file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Unsupported global" in str(error):  # weights_only refused an object: nothing in the file ran
            raise ModelFileError(
                f"{path.name}: refused (it holds Python objects beyond weights, so it was not read); "
                "use a checkpoint written by `fit` or `convert-weights`"
            ) from None
        raise ModelFileError(f"{path.name}: not a PyTorch checkpoint") from None
    except Exception as error:  # noqa: BLE001 - any parse failure means the same thing to the user
        reason = type(error).__name__
        raise ModelFileError(
            f"{path.name}: not a PyTorch checkpoint ({reason}; truncated or another format?)"
        ) from None


def _class_name(checkpoint: Mapping) -> str:
    hparams = checkpoint.get("hyper_parameters") or {}
    return str(hparams.get("_class_path", "")).rsplit(".", 1)[-1]


def _kind_from_state(checkpoint: Mapping, state: Mapping, name: str) -> str:
    if any(k.startswith("generator.global_net.") for k in state):
        return "apdrawinggan"
    if any(k.startswith("generator.model0.") for k in state):
        hparams = checkpoint.get("hyper_parameters") or {}
        return "qmupd" if hparams.get("use_quality_loss", True) else "upd"
    other = _class_name(checkpoint) or ("the quality regressor" if any(k.startswith("net.") for k in state) else "")
    what = f" (it is a {other} checkpoint)" if other else ""
    raise ModelFileError(f"{name}: holds no drawing model (APDrawingGAN, QMUPD or UPD){what}")


def _qmupd_image_size(checkpoint: Mapping, state: Mapping) -> int:
    """The style head's kernel is ``image_size / 32``; else the datamodule's saved size; else the papers' 512."""
    heads = [k for k in state if re.fullmatch(r"discriminators\.drawing\.model2\.\d+\.weight", k)]
    if heads:
        kernel = int(state[max(heads, key=lambda k: int(k.split(".")[-2]))].shape[-1])
        if kernel > 1:
            return 32 * kernel
    data = checkpoint.get("datamodule_hyper_parameters") or {}
    return int(data.get("image_size", 512))


def _inferred_spec(checkpoint: Mapping, state: Mapping, generator_state: Mapping, name: str) -> ModelSpec:
    conversion = checkpoint.get(CONVERSION_KEY)
    if isinstance(conversion, Mapping) and conversion.get("kind") in KINDS:
        kind = str(conversion["kind"])
    else:
        kind = _kind_from_state(checkpoint, state, name)
    try:
        generator = infer_generator(kind, generator_state)
    except (KeyError, ValueError):
        raise ModelFileError(f"{name}: the {kind} generator's weights are incomplete") from None
    hparams = checkpoint.get("hyper_parameters") or {}
    if kind == "apdrawinggan":
        size = generator["init_args"]["image_size"]
        norm = "train" if isinstance(conversion, Mapping) else str(hparams.get("inference_norm", "eval"))
    else:
        size, norm = _qmupd_image_size(checkpoint, state), "eval"
    styles = hparams.get("predict_styles") or {}
    return ModelSpec(kind, size, generator, norm, {str(k): list(map(float, v)) for k, v in styles.items()})


def read_checkpoint(path: str | os.PathLike) -> tuple[ModelSpec, dict]:
    """The model description and the generator's state dict (keys without the ``generator.`` prefix).

    Raises:
        ModelFileError: missing or unreadable file, or a checkpoint of something else (one line, file name).
    """
    path = Path(path)
    checkpoint = _load(path)
    name = path.name
    if not isinstance(checkpoint, Mapping) or not isinstance(checkpoint.get("state_dict"), Mapping):
        raise ModelFileError(
            f"{name}: not a Lightning checkpoint (no state_dict); use one from `fit` or `convert-weights`"
        )
    state = checkpoint["state_dict"]
    generator_state = {k[len("generator.") :]: v for k, v in state.items() if k.startswith("generator.")}
    entry = checkpoint.get(MODEL_SPEC_KEY)
    if isinstance(entry, Mapping) and entry.get("kind") in KINDS:
        spec = ModelSpec(
            str(entry["kind"]),
            int(entry["image_size"]),
            dict(entry["generator"]),
            str(entry.get("inference_norm", "eval")),
            dict(entry.get("styles") or {}),
        )
    else:
        spec = _inferred_spec(checkpoint, state, generator_state, name)
    if not generator_state:
        raise ModelFileError(f"{name}: the checkpoint holds no generator weights")
    return spec, generator_state
