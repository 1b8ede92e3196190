"""Pure-torch networks (no Lightning imports)."""

from .blocks import LAYER_ALIASES, ResnetBlock, init_weights, resolve_layer, resolve_norm
from .discriminators import PatchDiscriminator
from .hierarchical import APDrawingDiscriminators, FusionNet, GeneratorOutput, HierarchicalGenerator, RegionLayout
from .unet import UNetGenerator

__all__ = [
    "APDrawingDiscriminators",
    "FusionNet",
    "GeneratorOutput",
    "HierarchicalGenerator",
    "PatchDiscriminator",
    "RegionLayout",
    "ResnetBlock",
    "UNetGenerator",
    "LAYER_ALIASES",
    "init_weights",
    "resolve_layer",
    "resolve_norm",
]

# QMUPD / UPD
from .hed import HED, SNIKLAUS_LAYERS, hed_state_dict_from_sniklaus  # noqa: E402
from .qmupd_discriminators import QMUPDDiscriminators, StyleDiscriminator, masked_region  # noqa: E402
from .resnet import ResnetGenerator, StyleGenerator  # noqa: E402

__all__ += [
    "HED",
    "SNIKLAUS_LAYERS",
    "QMUPDDiscriminators",
    "ResnetGenerator",
    "StyleDiscriminator",
    "StyleGenerator",
    "hed_state_dict_from_sniklaus",
    "masked_region",
]

# quality regressor (QMUPD's M)
from .quality import QualityNet  # noqa: E402

__all__ += ["QualityNet"]

# the frozen pretrained networks (HED, LPIPS, M, FID Inception) and the QMUPD losses' set of them
from .inception import FIDInceptionV3  # noqa: E402
from .pretrained import (  # noqa: E402
    Frozen,
    FrozenAuxiliaries,
    build_auxiliaries,
    build_lpips,
    freeze,
    load_hed,
    load_inception_features,
    load_quality_net,
)

__all__ += [
    "FIDInceptionV3",
    "Frozen",
    "FrozenAuxiliaries",
    "build_auxiliaries",
    "build_lpips",
    "freeze",
    "load_hed",
    "load_inception_features",
    "load_quality_net",
]

# the independent style judge (scores style control; trained on true drawings only)
from .style_judge import StyleJudge, train_style_judge  # noqa: E402

__all__ += ["StyleJudge", "train_style_judge"]
