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
