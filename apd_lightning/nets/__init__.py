"""Pure-torch networks (no Lightning imports)."""

from .blocks import ResnetBlock, init_weights, resolve_norm
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
    "init_weights",
    "resolve_norm",
]

# QMUPD / UPD
from .hed import HED, hed_state_dict_from_sniklaus, load_hed  # noqa: E402
from .qmupd_discriminators import QMUPDDiscriminators, StyleDiscriminator, masked_region  # noqa: E402
from .resnet import ResnetGenerator, StyleGenerator  # noqa: E402

__all__ += [
    "HED",
    "QMUPDDiscriminators",
    "ResnetGenerator",
    "StyleDiscriminator",
    "StyleGenerator",
    "hed_state_dict_from_sniklaus",
    "load_hed",
    "masked_region",
]

# quality regressor (QMUPD's M)
from .quality import QualityNet, load_quality_net  # noqa: E402

__all__ += ["QualityNet", "load_quality_net"]

# the independent style judge (scores style control; trained on true drawings only)
from .style_judge import StyleJudge, train_style_judge  # noqa: E402

__all__ += ["StyleJudge", "train_style_judge"]
