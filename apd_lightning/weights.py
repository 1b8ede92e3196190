"""Where pretrained weights come from, and loading them offline.

Nothing here downloads: every asset is read from an explicit path or the torch hub cache (``$TORCH_HOME``), and a
missing file raises :class:`MissingWeightsError` naming the file and its public source.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor


@dataclass(frozen=True)
class WeightSource:
    """A pretrained file: its usual file name and where to get it."""

    name: str
    filename: str
    source: str


SOURCES: dict[str, WeightSource] = {
    "inception_fid": WeightSource(
        "FID Inception-v3 (pytorch-fid port)",
        "pt_inception-2015-12-05-6726825d.pth",
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    ),
    "alexnet": WeightSource(
        "torchvision ImageNet AlexNet",
        "alexnet-owt-7be5be79.pth",
        "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    ),
    "lpips_alex": WeightSource(
        "LPIPS v0.1 linear layers (AlexNet)",
        "alex.pth",
        "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth",
    ),
    "hed": WeightSource(
        "HED edge network (BSDS500)",
        "network-bsds500.pytorch",
        "http://content.sniklaus.com/github/pytorch-hed/network-bsds500.pytorch (or the QMUPD/UPD pretrained "
        "folder of yiranran/Unpaired-Portrait-Drawing)",
    ),
    "inception_imagenet": WeightSource(
        "torchvision ImageNet Inception-v3",
        "inception_v3_google-0cc3c7bd.pth",
        "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
    ),
    "quality": WeightSource(
        "QMUPD quality regressor",
        "quality.ckpt",
        "train it with `python -m apd_lightning fit -c configs/quality.yaml` (the authors never released theirs)",
    ),
}


class MissingWeightsError(FileNotFoundError):
    """A pretrained file is not on disk; the message says which file and where it comes from."""


def hub_checkpoint_dir() -> Path:
    """The torch hub checkpoint cache (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def resolve_weights(key: str, path: str | os.PathLike | None = None) -> Path:
    """Find a pretrained file: the explicit ``path`` if given, else the hub cache; never downloads.

    Raises:
        MissingWeightsError: the file is missing; the message names it and its source.
    """
    source = SOURCES[key]
    candidate = Path(path) if path else hub_checkpoint_dir() / source.filename
    if not candidate.is_file():
        where = f"at {candidate}" if path else f"in the torch hub cache {candidate.parent}"
        raise MissingWeightsError(
            f"{source.name} weights not found {where}. Download '{source.filename}' from {source.source} and "
            f"pass its path{'' if path else f' (or put it in {candidate.parent})'}; nothing is downloaded at run time."
        )
    return candidate


def load_state_dict(path: str | os.PathLike, key: str | None = None) -> dict:
    """``torch.load(..., weights_only=True)`` on CPU, unwrapping Lightning checkpoints (``state_dict``)."""
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(f"weights file not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if key is not None:
        state = state[key]
    return state


def listing(label: str, items: list[str], limit: int = 12) -> str:
    """One indented line ``label (n): a, b, ... and k more`` of an error message."""
    more = f", ... and {len(items) - limit} more" if len(items) > limit else ""
    return f"  {label} ({len(items)}): {', '.join(items[:limit])}{more}"


def state_dict_problems(expected: Mapping[str, torch.Size], given: Mapping[str, object]) -> list[str]:
    """The lines listing what in ``given`` differs from the ``expected`` names and shapes: missing, unexpected,
    not tensors, wrong shape. Empty when it fits exactly."""
    lines = [
        listing(label, keys)
        for label, keys in (
            ("missing", [k for k in expected if k not in given]),
            ("unexpected", [k for k in given if k not in expected]),
            (
                "not tensors",
                [f"{k} ({type(v).__name__})" for k, v in given.items() if k in expected and not isinstance(v, Tensor)],
            ),
            (
                "wrong shape",
                [
                    f"{k} {tuple(v.shape)} instead of {tuple(expected[k])}"
                    for k, v in given.items()
                    if k in expected and isinstance(v, Tensor) and v.shape != expected[k]
                ],
            ),
        )
        if keys
    ]
    return lines
