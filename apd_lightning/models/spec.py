"""What a checkpoint holds besides weights: which model it is and how to rebuild its drawing generator.

``fit`` checkpoints carry a :data:`MODEL_SPEC_KEY` entry written by the LightningModules' ``on_save_checkpoint``:
the model kind, its image size, the generator's class path and constructor arguments, and the inference settings.
For checkpoints without it (written before it existed, or by ``convert-weights``) the same entry is inferred from
the generator's state-dict key names and shapes (:func:`infer_generator`). Pure torch; nothing here imports
Lightning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

#: Top-level checkpoint key of the model description (a plain dict of str / int / float / bool / lists).
MODEL_SPEC_KEY = "apd_lightning_model"
#: The model kinds a drawing can be made with.
KINDS = ("apdrawinggan", "qmupd", "upd")
GENERATOR_CLASSES = {
    "apdrawinggan": "apd_lightning.nets.HierarchicalGenerator",
    "qmupd": "apd_lightning.nets.StyleGenerator",
    "upd": "apd_lightning.nets.StyleGenerator",
}


def _norm_of(state: Mapping[str, Tensor], default: str) -> str:
    """``batch`` when the nets keep running statistics; otherwise the kind's parameter-free default."""
    return "batch" if any(k.endswith("running_mean") for k in state) else default


def hierarchical_generator_args(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """Constructor arguments of :class:`~apd_lightning.nets.HierarchicalGenerator` from its state dict.

    The global U-Net's depth gives the image size (``2 ** (levels + 1)``); the first convolutions give the widths.
    ``dropout`` leaves no trace in the weights and is reported as the default (``True``).

    Args:
        state: the generator's own state dict (keys ``global_net.*``, ``part_nets.*``, ``fusion.*``).

    Raises:
        KeyError: a key the generator always has is absent.
    """
    levels = max(k.count("submodule.") for k in state if k.startswith("global_net.model.")) + 1
    return {
        "image_size": 2 ** (levels + 1),
        "global_channels": int(state["global_net.model.down.0.weight"].shape[0]),
        "part_channels": int(state["part_nets.nose.model.down.0.weight"].shape[0]),
        "fusion_channels": int(state["fusion.model.1.weight"].shape[0]),
        "norm_layer": _norm_of(state, "instance"),
        "dropout": True,
    }


def style_generator_args(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """Constructor arguments of :class:`~apd_lightning.nets.StyleGenerator` from its state dict.

    Args:
        state: the generator's own state dict (keys ``model0.*``, ``model.*``).

    Raises:
        KeyError: a key the generator always has is absent.
    """
    first = state["model0.1.weight"]  # reflection pad, then the 7×7 conv: (base, in, 7, 7)
    base = int(first.shape[0])
    blocks = {m[1] for k in state if (m := re.match(r"model\.(\d+)\.conv_block\.", k))}
    last_conv = max((k for k in state if re.fullmatch(r"model\.\d+\.weight", k)), key=lambda k: int(k.split(".")[1]))
    return {
        "in_channels": int(first.shape[1]),
        "out_channels": int(state[last_conv].shape[0]),
        "base_channels": base,
        "num_blocks": len(blocks),
        "style_dim": int(state["model.0.weight"].shape[1]) - 4 * base,
        "norm_layer": _norm_of(state, "instance"),
        "style_modulation": "style_modulation.weight" in state,
        "decoder_modulation": "decoder_modulation.0.weight" in state,
        # resize upsampling is an (upsample, conv) Sequential: its conv weights are model.<i>.1.weight
        "upsampling": "resize" if any(re.fullmatch(r"model\.\d+\.1\.weight", k) for k in state) else "transposed",
    }


def infer_generator(kind: str, state: Mapping[str, Tensor]) -> dict[str, Any]:
    """``{"class_path", "init_args"}`` of the generator of ``kind`` from its state dict (see the two functions
    above)."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    args = hierarchical_generator_args(state) if kind == "apdrawinggan" else style_generator_args(state)
    return {"class_path": GENERATOR_CLASSES[kind], "init_args": args}


def has_dropout(net: nn.Module) -> bool:
    """Whether any dropout layer of ``net`` has a non-zero rate."""
    return any(isinstance(m, nn.Dropout) and m.p > 0 for m in net.modules())


def model_spec(
    kind: str,
    generator: nn.Module,
    image_size: int,
    inference_norm: str = "eval",
    styles: Mapping[str, list[float]] | None = None,
) -> dict[str, Any]:
    """The :data:`MODEL_SPEC_KEY` entry of a checkpoint.

    Args:
        kind: ``apdrawinggan``, ``qmupd`` or ``upd``.
        generator: the live photo→drawing generator (its arguments are read from its weights and layers).
        image_size: the side the model was trained at (aligned square photos).
        inference_norm: ``eval`` or ``train`` (APDrawingGAN's BatchNorm / dropout at inference).
        styles: QMUPD / UPD: the named style vectors ``predict`` draws by default.

    Returns:
        A dict of plain values that ``torch.load(weights_only=True)`` reads back.
    """
    state = {k: v for k, v in generator.state_dict().items()}
    spec = infer_generator(kind, state)
    if kind == "apdrawinggan":
        spec["init_args"]["dropout"] = has_dropout(generator)
    return {
        "kind": kind,
        "image_size": int(image_size),
        "generator": spec,
        "inference_norm": inference_norm,
        "styles": {str(k): [float(x) for x in v] for k, v in (styles or {}).items()},
    }
