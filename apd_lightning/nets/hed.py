"""HED (holistically-nested edge detection), the frozen edge extractor of UPD / QMUPD's relaxed cycle loss.

The layout follows sniklaus/pytorch-hed (the ``network-bsds500.pytorch`` weights the reference loads):
VGG16 conv1–conv5, a 1×1 score conv per stage bilinearly upsampled to the input size, a 1×1 fusion of the
five maps and a sigmoid. :data:`SNIKLAUS_LAYERS` maps this module's names to theirs (``netVggOne.0.weight`` … or
the older ``moduleVggOne.0.weight`` …); :func:`~apd_lightning.nets.pretrained.load_hed` loads the weights frozen.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Caffe BGR means of the BSDS500 HED, on the 0–255 scale.
BGR_MEAN = (104.00698793, 116.66876762, 122.67891434)
_STAGE_NAMES = ("One", "Two", "Thr", "Fou", "Fiv")
_CONVS_PER_STAGE = (2, 2, 3, 3, 3)


class HED(nn.Module):
    """HED edge network.

    Args:
        base_channels: width of the first VGG stage (64 in VGG16; stages use ×1, ×2, ×4, ×8, ×8). Smaller
            widths only make sense for randomly initialised stand-ins in tests.

    Shape:
        ``(B, 3, H, W)`` RGB in [0, 1] -> ``(B, 1, H, W)`` edge probability in (0, 1).
    """

    def __init__(self, base_channels: int = 64) -> None:
        super().__init__()
        widths = [base_channels * m for m in (1, 2, 4, 8, 8)]
        stages, channels = [], 3
        for i, (width, convs) in enumerate(zip(widths, _CONVS_PER_STAGE, strict=True)):
            layers: list[nn.Module] = [nn.MaxPool2d(2, 2)] if i else []
            for _ in range(convs):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
                channels = width
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.side_outputs = nn.ModuleList(nn.Conv2d(w, 1, 1) for w in widths)
        self.fuse = nn.Conv2d(len(widths), 1, 1)
        self.register_buffer("bgr_mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: Tensor) -> Tensor:
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"image must be (B, 3, H, W) RGB in [0, 1], got {tuple(image.shape)}")
        x = image.flip(1) * 255.0 - self.bgr_mean.to(image.dtype)  # RGB [0, 1] -> mean-free BGR [0, 255]
        size = image.shape[-2:]
        sides = []
        for stage, side in zip(self.stages, self.side_outputs, strict=True):
            x = stage(x)
            sides.append(F.interpolate(side(x), size=size, mode="bilinear", align_corners=False))
        return torch.sigmoid(self.fuse(torch.cat(sides, dim=1)))


def _sniklaus_layers() -> dict[str, str]:
    convs = [[(1 if stage else 0) + 2 * k for k in range(n)] for stage, n in enumerate(_CONVS_PER_STAGE)]
    layers = {f"stages.{s}.{i}": f"Vgg{name}.{i}" for s, name in enumerate(_STAGE_NAMES) for i in convs[s]}
    layers |= {f"side_outputs.{s}": f"Score{name}" for s, name in enumerate(_STAGE_NAMES)}
    return layers | {"fuse": "Combine.0"}


#: Our layer paths -> sniklaus/pytorch-hed's without their ``net`` (or older ``module``) prefix:
#: ``stages.2.5`` -> ``VggThr.5``, ``side_outputs.3`` -> ``ScoreFou``, ``fuse`` -> ``Combine.0``. The one key table
#: of both loading (:func:`hed_state_dict_from_sniklaus`) and conversion (``convert-weights --kind hed``).
SNIKLAUS_LAYERS: dict[str, str] = _sniklaus_layers()


def hed_state_dict_from_sniklaus(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename sniklaus/pytorch-hed keys (``net*`` or the older ``module*`` prefix) to :class:`HED` names.

    ``netVggTwo.1.weight`` -> ``stages.1.1.weight``, ``netScoreThr.bias`` -> ``side_outputs.2.bias``,
    ``netCombine.0.weight`` -> ``fuse.weight``. Keys already in :class:`HED` form pass unchanged.
    """
    ours = {official: layer for layer, official in SNIKLAUS_LAYERS.items()}
    out = {}
    for key, value in state.items():
        key = key.removeprefix("module.")  # DataParallel wrapper, if any
        layer, _, name = key.rpartition(".")
        for prefix in ("net", "module"):
            if layer.startswith(prefix) and layer.removeprefix(prefix) in ours:
                key = f"{ours[layer.removeprefix(prefix)]}.{name}"
                break
        out[key] = value
    return out
