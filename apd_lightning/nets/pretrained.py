"""The frozen pretrained networks: HED, the LPIPS network, the quality regressor M and the FID Inception.

One builder each, loading offline from an explicit path or the torch hub cache (a missing file raises
:class:`~apd_lightning.weights.MissingWeightsError` naming it and its source; nothing is downloaded), and one
wrapper, :class:`Frozen`, that makes a network a fixed function. The QMUPD losses (:func:`build_auxiliaries`), the
metrics and the weight converter all take them from here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torchmetrics.functional.image.lpips import _NoTrainLpips

from ..weights import load_state_dict, resolve_weights, state_dict_problems
from .hed import HED, hed_state_dict_from_sniklaus
from .inception import FIDInceptionV3
from .quality import QualityNet


class Frozen(nn.Module):
    """A pretrained network used as a fixed function: no parameter takes a gradient, and it stays in eval mode
    whatever its parents' mode (no dropout, BatchNorm running statistics never updated). It stays differentiable
    with respect to its inputs, as a loss needs.

    Calls go to the wrapped network ``net``, and so do reads of attributes the wrapper does not have (e.g. the
    FID Inception's ``num_features``, a HED's ``fuse``).
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net.requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True) -> Frozen:
        return super().train(False)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.net(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules", {})
            if "net" not in modules:
                raise
            return getattr(modules["net"], name)


def freeze(net: nn.Module) -> Frozen:
    """``net`` as a :class:`Frozen` network (a network already frozen is returned as is)."""
    return net if isinstance(net, Frozen) else Frozen(net)


# ---- HED -------------------------------------------------------------------------------------------------------
def load_hed(path: str | os.PathLike | None = None) -> Frozen:
    """The BSDS500 HED from ``path`` (sniklaus names or ours; ``None``: ``network-bsds500.pytorch`` in the torch
    hub cache), frozen.

    Raises:
        MissingWeightsError: the file is missing (the message names it and where to download it).
    """
    net = HED()
    net.load_state_dict(hed_state_dict_from_sniklaus(load_state_dict(resolve_weights("hed", path))))
    return freeze(net)


# ---- LPIPS -----------------------------------------------------------------------------------------------------
def lpips_linear_shapes() -> dict[str, torch.Size]:
    """Names and shapes of LPIPS v0.1's AlexNet linear layers (``lin<k>.model.1.weight``, the official names)."""
    with torch.device("meta"):
        net = _NoTrainLpips(net="alex", pretrained=False, pnet_rand=True)
    return {k: v.shape for k, v in net.state_dict().items() if k.startswith("lin") and not k.startswith("lins.")}


def _load_alexnet(net: nn.Module, alexnet: str | os.PathLike | Mapping[str, Tensor] | None) -> None:
    """Fill LPIPS's AlexNet slices from a torchvision AlexNet state dict: ``slice2.3.weight`` is torchvision's
    ``features.3.weight``; the classifier is not needed."""
    if isinstance(alexnet, Mapping):
        state, source = alexnet, "the given state dict"
    else:
        path = resolve_weights("alexnet", alexnet)
        state, source = load_state_dict(path), str(path)
    backbone = {}
    for name, _ in net.net.named_parameters():
        key = "features." + name.split(".", 1)[1]
        if key not in state:
            raise ValueError(f"{source} is not a torchvision AlexNet state dict: '{key}' is missing")
        backbone[name] = state[key]
    net.net.load_state_dict(backbone)


def build_lpips(
    alexnet: str | os.PathLike | Mapping[str, Tensor] | None = None,
    lpips_path: str | os.PathLike | None = None,
    random_init: bool = False,
) -> Frozen:
    """LPIPS v0.1 (AlexNet, ``net-lin``), torchmetrics' network built offline, frozen.

    Args:
        alexnet: torchvision ImageNet AlexNet weights: a file (``alexnet-owt-7be5be79.pth``), a state dict, or
            ``None`` for the file in the torch hub cache.
        lpips_path: LPIPS v0.1 linear layers (``alex.pth``), checked against the official names and shapes
            (torchmetrics would load it non-strictly); ``None`` uses the copy shipped with torchmetrics.
        random_init: keep a randomly initialised AlexNet instead of loading one (tests and CPU demos only; the
            linear layers are still loaded).

    Returns:
        A module ``(img1, img2, normalize=False) -> (B, 1, 1, 1)`` distances for ``(B, 3, H, W)`` images in
        [-1, 1] (in [0, 1] with ``normalize=True``).

    Raises:
        MissingWeightsError: a weights file is missing (the message names it and where it comes from).
        ValueError: a file does not hold what it should.
    """
    lin_weights = None if lpips_path is None else str(resolve_weights("lpips_alex", lpips_path))
    if lin_weights is not None:
        if problems := state_dict_problems(lpips_linear_shapes(), load_state_dict(lin_weights)):
            raise ValueError(f"{lin_weights} is not an LPIPS v0.1 AlexNet linear-layer file:\n" + "\n".join(problems))
    # torchmetrics' network: linear layers from lin_weights (None: its own copy), AlexNet random until loaded
    net = _NoTrainLpips(pretrained=True, net="alex", pnet_rand=True, model_path=lin_weights)
    if not random_init:
        _load_alexnet(net, alexnet)
    return freeze(net)


# ---- quality regressor M -----------------------------------------------------------------------------------------
def load_quality_net(path: str | os.PathLike | None = None, **kwargs: Any) -> Frozen:
    """A trained :class:`~apd_lightning.nets.quality.QualityNet`, frozen.

    Args:
        path: a ``QualityRegressor`` Lightning checkpoint (the architecture is read from it) or a plain
            ``QualityNet`` state dict (give the architecture in ``kwargs``); ``None`` looks for
            ``quality.ckpt`` in the torch hub cache. Loaded with ``weights_only=True``.
        **kwargs: :class:`QualityNet` arguments; they override those stored in a checkpoint.

    Raises:
        MissingWeightsError: the file is missing; train one with ``configs/quality.yaml``.
    """
    path = resolve_weights("quality", path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path} is not a state dict or a Lightning checkpoint")
    config: dict[str, Any] = {}
    state = checkpoint
    if isinstance(checkpoint.get("state_dict"), dict):  # a QualityRegressor checkpoint
        config = dict(checkpoint.get("hyper_parameters", {}).get("net_config") or {})
        state = {k.removeprefix("net."): v for k, v in checkpoint["state_dict"].items() if k.startswith("net.")}
    net = QualityNet(**{**config, **kwargs, "pretrained_path": None})
    try:
        net.load_state_dict(state)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:300]
        raise ValueError(f"{path} does not fit QualityNet({net.config}): {detail}") from error
    return freeze(net)


# ---- FID Inception -----------------------------------------------------------------------------------------------
def load_inception_features(path: str | os.PathLike | None = None) -> Frozen:
    """The FID Inception with its weights, from ``path`` or the torch hub cache, frozen.

    Raises:
        MissingWeightsError: ``pt_inception-2015-12-05-6726825d.pth`` is not there; the message says where
            to download it.
    """
    state = load_state_dict(resolve_weights("inception_fid", path))
    net = FIDInceptionV3()
    try:
        net.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(
            f"{path or 'the hub-cache file'} is not the FID Inception-v3 state dict "
            f"(pt_inception-2015-12-05): {str(error).splitlines()[0]}"
        ) from error
    return freeze(net)


# ---- the auxiliaries of the QMUPD losses -------------------------------------------------------------------------
class FrozenAuxiliaries(nn.Module):
    """The fixed networks of UPD / QMUPD's losses, each :class:`Frozen`.

    Attributes:
        edges: ``(B, 3, H, W)`` RGB in [0, 1] -> ``(B, 1, H, W)`` edge map in [0, 1] (HED).
        perceptual: ``(a, b)`` images in [-1, 1] -> ``(B, ...)`` distances (LPIPS).
        quality: ``(B, 1, H, W)`` drawings in [-1, 1] -> ``(B,)`` scores, higher is better (M); ``None`` for UPD.
    """

    def __init__(self, edges: nn.Module, perceptual: nn.Module, quality: nn.Module | None = None) -> None:
        super().__init__()
        self.edges, self.perceptual = freeze(edges), freeze(perceptual)
        self.quality = None if quality is None else freeze(quality)


AuxiliaryMode = Literal["pretrained", "classical", "random_init"]


def pretrained_auxiliaries(
    use_quality: bool,
    hed_path: str | None = None,
    alexnet_path: str | None = None,
    lpips_path: str | None = None,
    quality_path: str | None = None,
    **_: Any,
) -> FrozenAuxiliaries:
    """The papers' networks from their files; every missing file is named in one error."""
    from ..weights import MissingWeightsError

    loaders: dict[str, Callable[[], nn.Module | None]] = {
        "edges": lambda: load_hed(hed_path),
        "perceptual": lambda: build_lpips(alexnet_path, lpips_path),
        "quality": (lambda: load_quality_net(quality_path)) if use_quality else (lambda: None),
    }
    nets, errors = {}, []
    for key, load in loaders.items():
        try:
            nets[key] = load()
        except MissingWeightsError as error:
            errors.append(str(error))
    if errors:
        listed = "\n  - ".join(errors)
        raise MissingWeightsError(
            f"QMUPD training needs its frozen auxiliary networks:\n  - {listed}\n"
            "(to test without them set model.init_args.auxiliaries: random_init)"
        )
    return FrozenAuxiliaries(**nets)


def classical_auxiliaries(use_quality: bool, quality_path: str | None = None, **_: Any) -> FrozenAuxiliaries:
    """Fixed operators in place of HED and LPIPS (multi-scale Sobel edges, multi-scale 1 − SSIM), no files; the
    quality net, when used, is still loaded from its file."""
    from ..losses.structure import MultiScaleStructuralDistance  # a fixed distance: its home is losses/
    from ..ops.edges import MultiScaleEdges

    quality = load_quality_net(quality_path) if use_quality else None
    return FrozenAuxiliaries(MultiScaleEdges(), MultiScaleStructuralDistance(), quality)


def random_auxiliaries(
    use_quality: bool, lpips_path: str | None = None, random_width: int = 8, **_: Any
) -> FrozenAuxiliaries:
    """Small randomly initialised stand-ins (HED and M of width ``random_width``, a random AlexNet); warns."""
    warnings.warn(
        "model.auxiliaries=random_init: HED, the LPIPS AlexNet and the quality regressor are random stand-ins, "
        "so the cycle and quality losses are not the papers'; for tests and demos only",
        UserWarning,
        stacklevel=3,
    )
    quality = QualityNet("small", width=random_width) if use_quality else None
    return FrozenAuxiliaries(HED(random_width), build_lpips(lpips_path=lpips_path, random_init=True), quality)


#: How each ``auxiliaries`` mode builds the networks; every builder takes the arguments of
#: :func:`build_auxiliaries` and ignores those it does not use.
AUXILIARY_BUILDERS: dict[str, Callable[..., FrozenAuxiliaries]] = {
    "pretrained": pretrained_auxiliaries,
    "classical": classical_auxiliaries,
    "random_init": random_auxiliaries,
}


def check_auxiliary_mode(mode: str) -> None:
    """Raise ``ValueError`` unless ``mode`` is a key of :data:`AUXILIARY_BUILDERS`."""
    if mode not in AUXILIARY_BUILDERS:
        raise ValueError(f"auxiliaries must be one of {', '.join(map(repr, AUXILIARY_BUILDERS))}, got {mode!r}")


def build_auxiliaries(
    mode: AuxiliaryMode,
    use_quality: bool,
    hed_path: str | None = None,
    alexnet_path: str | None = None,
    lpips_path: str | None = None,
    quality_path: str | None = None,
    random_width: int = 8,
) -> FrozenAuxiliaries:
    """The frozen networks of the QMUPD losses in ``mode`` (a key of :data:`AUXILIARY_BUILDERS`).

    Raises:
        ValueError: an unknown mode.
        MissingWeightsError: ``pretrained`` and one or more files are missing; the message lists each.
    """
    check_auxiliary_mode(mode)
    return AUXILIARY_BUILDERS[mode](
        use_quality,
        hed_path=hed_path,
        alexnet_path=alexnet_path,
        lpips_path=lpips_path,
        quality_path=quality_path,
        random_width=random_width,
    )
