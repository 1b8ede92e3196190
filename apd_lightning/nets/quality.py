"""The drawing-quality regressor M of QMUPD: a drawing in, a scalar "higher is better" score out.

Pure torch (no Lightning). :class:`QualityNet` is what :class:`~apd_lightning.models.quality.QualityRegressor`
trains and what QMUPD's quality loss and the ``QualityScore`` metric load, frozen, with
:func:`~apd_lightning.nets.pretrained.load_quality_net`.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import inception_v3

from ..weights import load_state_dict, resolve_weights

Backbone = Literal["inception_v3", "small"]


def _small_trunk(width: int) -> nn.Sequential:
    """Four stride-2 conv/BN/LeakyReLU stages (width, 2w, 4w, 8w) and a global average pool."""
    layers: list[nn.Module] = []
    channels = 1
    for stage in range(4):
        out = width * 2**stage
        layers += [
            nn.Conv2d(channels, out, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(out),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


class QualityNet(nn.Module):
    """Drawing-quality regressor (QMUPD's metric M): ``(B, 1, H, W)`` drawing → ``(B,)`` score, no sigmoid.

    ``inception_v3`` is the reference architecture: torchvision Inception-v3 with ``transform_input=True``, no
    auxiliary head and ``fc`` 2048→1; the drawing in [-1, 1] is bilinearly resized to 299² and repeated to 3
    channels, fed as is (like the reference code, which never applied ImageNet normalisation before the
    ``transform_input`` step). ``small`` is a 4-stage CNN for tests and CPU; its input is resized
    (anti-aliased) to ``input_size``². Either way the score does not depend on the caller's resolution.

    Args:
        backbone: ``"inception_v3"`` (reference) or ``"small"``.
        width: channels of the small backbone's first stage (ignored by ``inception_v3``).
        pretrained_path: ImageNet Inception-v3 weights (torchvision ``inception_v3_google-0cc3c7bd.pth``) to
            initialise the trunk; ``None`` = random initialisation. Only for ``inception_v3``.
        input_size: side the drawing is resized to; ``None`` = 299 for ``inception_v3`` (the reference) and
            64 for ``small``.

    Shape:
        - drawing: ``(B, 1, H, W)`` in [-1, 1], any size.
        - output: ``(B,)``.

    Example:
        >>> net = QualityNet("small", width=8)
        >>> net(torch.zeros(2, 1, 64, 64)).shape
        torch.Size([2])
    """

    def __init__(
        self,
        backbone: Backbone = "inception_v3",
        width: int = 32,
        pretrained_path: str | None = None,
        input_size: int | None = None,
    ) -> None:
        super().__init__()
        if backbone not in ("inception_v3", "small"):
            raise ValueError(f"backbone must be 'inception_v3' or 'small', got {backbone!r}")
        if pretrained_path is not None and backbone != "inception_v3":
            raise ValueError("pretrained_path is only supported for the inception_v3 backbone")
        self.backbone = backbone
        self.width = width
        self.input_size = input_size or (299 if backbone == "inception_v3" else 64)
        if backbone == "inception_v3":
            self.trunk = inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=True)
            if pretrained_path is not None:
                self._load_imagenet(pretrained_path)
            self.trunk.fc = nn.Linear(2048, 1)
        else:
            self.trunk = nn.Sequential(_small_trunk(width), nn.Linear(width * 8, 1))

    def _load_imagenet(self, path: str) -> None:
        state = load_state_dict(resolve_weights("inception_imagenet", path))
        state = {k: v for k, v in state.items() if not k.startswith(("AuxLogits.", "fc."))}
        missing, unexpected = self.trunk.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if not k.startswith("fc.")]:
            raise ValueError(
                f"{path} is not a torchvision Inception-v3 state dict "
                f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
            )

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this architecture (stored in regressor checkpoints)."""
        return {"backbone": self.backbone, "width": self.width, "input_size": self.input_size}

    def forward(self, drawing: Tensor) -> Tensor:
        if drawing.ndim != 4 or drawing.shape[1] != 1:
            raise ValueError(f"drawing must be (B, 1, H, W) in [-1, 1], got {tuple(drawing.shape)}")
        size = (self.input_size, self.input_size)
        if self.backbone == "inception_v3":  # the reference resize: plain bilinear, 3 channels
            drawing = F.interpolate(drawing, size=size, mode="bilinear", align_corners=False)
            drawing = drawing.expand(-1, 3, -1, -1)
        elif drawing.shape[-2:] != size:  # antialiased resize has no bf16 CPU kernel: float32, autocast off
            with torch.autocast(device_type=drawing.device.type, enabled=False):
                drawing = F.interpolate(
                    drawing.float(), size=size, mode="bilinear", align_corners=False, antialias=True
                )
        return self.trunk(drawing).squeeze(1)
