"""Minimal, independent references of the ORIGINAL architectures, with the official state-dict nesting.

Written for these tests from the specs (``shared/spec/apdrawinggan.md`` §2, ``qmupd.md`` §2) and the released key
lists (``official_keys.json``), not from apd_lightning's nets: the converted weights must give the same outputs in
our nets as here. Layer lists follow the originals' ``nn.Sequential`` order, so ``state_dict()`` names match the
released files (``model.model.1.model.3...``, ``model0.4.weight``, ``conv_block.6.weight``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


# ---- APDrawingGAN -------------------------------------------------------------------------------------------------
class SkipBlock(nn.Module):
    """pix2pix "U-Net skip-connection block": ``self.model`` = down layers, the inner block, up layers.

    Like the original, the down path's LeakyReLU is in place, so the skip concatenation carries LeakyReLU(x).
    """

    def __init__(
        self,
        outer: int,
        inner: int,
        sub: nn.Module | None = None,
        in_ch: int | None = None,
        outermost: bool = False,
        dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        in_ch = outer if in_ch is None else in_ch
        down_conv = nn.Conv2d(in_ch, inner, 4, 2, 1, bias=False)  # BatchNorm nets: no conv bias
        if outermost:
            layers = [down_conv, sub, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif sub is None:  # innermost
            layers = [
                nn.LeakyReLU(0.2, True),
                down_conv,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False),
                nn.BatchNorm2d(outer),
            ]
        else:
            layers = [
                nn.LeakyReLU(0.2, True),
                down_conv,
                nn.BatchNorm2d(inner),
                sub,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False),
                nn.BatchNorm2d(outer),
            ]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class RefUnet(nn.Module):
    """pix2pix ``UnetGenerator`` (``unet_256`` with 8 downs): ``num_downs − 5`` dropout blocks at 8·ngf."""

    def __init__(self, ngf: int, num_downs: int = 8, in_ch: int = 3, out_ch: int = 1) -> None:
        super().__init__()
        block = SkipBlock(ngf * 8, ngf * 8)
        for _ in range(num_downs - 5):
            block = SkipBlock(ngf * 8, ngf * 8, block, dropout=True)
        for mult in (4, 2, 1):
            block = SkipBlock(ngf * mult, ngf * mult * 2, block)
        self.model = SkipBlock(out_ch, ngf, block, in_ch=in_ch, outermost=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class RefPartUnet(nn.Module):
    """``PartUnet``: three levels, 64-128-256, no dropout (eyes, nose, mouth)."""

    def __init__(self, ngf: int) -> None:
        super().__init__()
        block = SkipBlock(ngf * 2, ngf * 4)
        block = SkipBlock(ngf, ngf * 2, block)
        self.model = SkipBlock(1, ngf, block, in_ch=3, outermost=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class RefPartUnet2(nn.Module):
    """``PartUnet2`` with 4 downs: 64-128-128-128, dropout in the one middle block (hair, background)."""

    def __init__(self, ngf: int) -> None:
        super().__init__()
        block = SkipBlock(ngf * 2, ngf * 2)
        block = SkipBlock(ngf * 2, ngf * 2, block, dropout=True)
        block = SkipBlock(ngf, ngf * 2, block)
        self.model = SkipBlock(1, ngf, block, in_ch=3, outermost=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class RefResBlock(nn.Module):
    """pix2pix ``ResnetBlock``, reflect padding: pad, conv3, norm, ReLU, (dropout), pad, conv3, norm; plus x."""

    def __init__(self, dim: int, norm: type[nn.Module], bias: bool, dropout: bool) -> None:
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm(dim), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class RefCombiner(nn.Module):
    """``Combiner`` (fusion): pad3, conv7 2→ngf, BN, ReLU, 2 dropout ResNet blocks, pad3, conv7 → 1, tanh."""

    def __init__(self, ngf: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(2, ngf, 7, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            RefResBlock(ngf, nn.BatchNorm2d, False, True),
            RefResBlock(ngf, nn.BatchNorm2d, False, True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, 1, 7),
            nn.Tanh(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


#: (height, width) of the part boxes at 512 px: the original's 256-px sizes ×2.
BOXES = {"eyel": (80, 112), "eyer": (80, 112), "nose": (96, 96), "mouth": (80, 128)}


def part_centers(lm: list[list[int]]) -> dict[str, tuple[int, int]]:
    """(x, y) box centres at 512 from integer landmarks, as the original's single-image dataset computes them."""
    return {
        "eyel": (lm[0][0], lm[0][1] - 8),
        "eyer": (lm[1][0], lm[1][1] - 8),
        "nose": (lm[2][0], lm[2][1] - 48 + 32),
        "mouth": (int((lm[3][0] + lm[4][0]) / 2.0), int((lm[3][1] + lm[4][1]) / 2.0)),
    }


class RefAPDrawingGenerator(nn.Module):
    """The released ``*_net_gen.pt`` nets as attributes named like its keys, and the test-time forward."""

    NETS = ("G", "GLEyel", "GLEyer", "GLNose", "GLMouth", "GLHair", "GLBG", "GCombine")

    def __init__(self, ngf: int = 64) -> None:
        super().__init__()
        self.G = RefUnet(ngf)
        self.GLEyel, self.GLEyer, self.GLNose, self.GLMouth = (RefPartUnet(ngf) for _ in range(4))
        self.GLHair, self.GLBG = RefPartUnet2(ngf), RefPartUnet2(ngf)
        self.GCombine = RefCombiner(ngf)

    def load_official(self, gen: dict[str, dict[str, Tensor]]) -> None:
        for name in self.NETS:
            getattr(self, name).load_state_dict(gen[name], strict=True)

    def official_state(self) -> dict[str, dict[str, Tensor]]:
        return {name: getattr(self, name).state_dict() for name in self.NETS}

    def forward(self, photo: Tensor, landmarks: list[list[int]], person: Tensor) -> Tensor:
        """One photo ``(1, 3, 512, 512)`` in [-1, 1], 5 integer landmarks, person mask ``(1, 1, 512, 512)``."""
        centers = part_centers(landmarks)
        size = photo.shape[-1]
        crops, mask = {}, torch.ones_like(person)
        for part, (h, w) in BOXES.items():
            x, y = centers[part]
            crops[part] = photo[:, :, y - h // 2 : y + h // 2, x - w // 2 : x + w // 2]
            mask[:, :, y - h // 2 : y + h // 2, x - w // 2 : x + w // 2] = 0
        mask2 = (person >= 0.5).float()
        hair_a = (photo / 2 + 0.5) * mask * mask2 * 2 - 1
        bg_a = (photo / 2 + 0.5) * (1 - mask2) * 2 - 1
        global_drawing = self.G(photo)  # the original runs G first
        local = {
            p: getattr(self, n)(crops[p])
            for p, n in (("eyel", "GLEyel"), ("eyer", "GLEyer"), ("nose", "GLNose"), ("mouth", "GLMouth"))
        }
        hair, bg = self.GLHair(hair_a), self.GLBG(bg_a)
        # compositing with comb_op=1: parts padded white, hair/bg white outside their masks, pixelwise min
        maskh, maskb = mask * mask2, 1 - mask2
        layers = [((hair / 2 + 0.5) * maskh + (1 - maskh)) * 2 - 1, ((bg / 2 + 0.5) * maskb + (1 - maskb)) * 2 - 1]
        for part, (h, w) in BOXES.items():
            x, y = centers[part]
            pad = (x - w // 2, size - (x + w // 2), y - h // 2, size - (y + h // 2))
            layers.append(F.pad(local[part], pad, value=1.0))
        composite = layers[2]
        for layer in layers[3:] + layers[:2]:
            composite = torch.min(composite, layer)
        return self.GCombine(torch.cat([global_drawing, composite], 1))


class RefPatchD(nn.Module):
    """pix2pix ``NLayerDiscriminator`` (3 layers): conv4 s2, LReLU, 2×(conv4 s2, norm, LReLU), conv4 s1, norm,
    LReLU, conv4 s1 → 1, plus APDrawingGAN's final Sigmoid."""

    def __init__(self, in_ch: int, ndf: int, norm: type[nn.Module] = nn.BatchNorm2d, sigmoid: bool = True) -> None:
        super().__init__()
        bias = norm is not nn.BatchNorm2d
        layers = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for cin, cout, stride in ((ndf, ndf * 2, 2), (ndf * 2, ndf * 4, 2), (ndf * 4, ndf * 8, 1)):
            layers += [nn.Conv2d(cin, cout, 4, stride, 1, bias=bias), norm(cout), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * 8, 1, 4, 1, 1))
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


# ---- UPD / QMUPD --------------------------------------------------------------------------------------------------
def _instance_norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


def _encoder(in_ch: int, ngf: int) -> list[nn.Module]:
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_ch, ngf, 7), _instance_norm(ngf), nn.ReLU(True)]
    for mult in (1, 2):
        layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1), _instance_norm(ngf * mult * 2), nn.ReLU(True)]
    return layers


def _decoder(ngf: int, out_ch: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for mult in (4, 2):
        layers += [
            nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1),
            _instance_norm(ngf * mult // 2),
            nn.ReLU(True),
        ]
    return layers + [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_ch, 7), nn.Tanh()]


class RefStyle2Generator(nn.Module):
    """``ResnetStyle2Generator`` (``resnet_style2_9blocks``, model0_res = 0): ``model0`` encodes to 1/4; the
    3-channel style map is concatenated AFTER the features, then ``model`` = conv3 259→256 (zero padding 1), IN,
    ReLU, 9 ResNet blocks, decoder."""

    def __init__(self, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        self.model0 = nn.Sequential(*_encoder(3, ngf))
        blocks = [RefResBlock(ngf * 4, _instance_norm, True, False) for _ in range(n_blocks)]
        self.model = nn.Sequential(
            nn.Conv2d(ngf * 4 + 3, ngf * 4, 3, 1, 1), _instance_norm(ngf * 4), nn.ReLU(True), *blocks, *_decoder(ngf, 1)
        )

    def forward(self, photo: Tensor, style_map: Tensor) -> Tensor:
        """``style_map``: ``(B, 3, H/4, W/4)``, the style vector repeated over the feature grid."""
        return self.model(torch.cat([self.model0(photo), style_map], 1))


class RefResnetGenerator(nn.Module):
    """CycleGAN ``ResnetGenerator`` (``resnet_9blocks``, IN, no dropout): QMUPD's drawing → photo G_B."""

    def __init__(self, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        blocks = [RefResBlock(ngf * 4, _instance_norm, True, False) for _ in range(n_blocks)]
        self.model = nn.Sequential(*_encoder(1, ngf), *blocks, *_decoder(ngf, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class RefClsDiscriminator(nn.Module):
    """``NLayerDiscriminatorCls`` (``basic_cls``): trunk ``model0``, patch head ``model1``, style head ``model2``
    ending in a 16×16 conv (512-px inputs only)."""

    def __init__(self, ndf: int = 64, n_class: int = 3) -> None:
        super().__init__()

        def conv(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 4, stride, 1), _instance_norm(cout), nn.LeakyReLU(0.2, True)]

        self.model0 = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True), *conv(ndf, ndf * 2, 2), *conv(ndf * 2, ndf * 4, 2)
        )
        self.model1 = nn.Sequential(*conv(ndf * 4, ndf * 8, 1), nn.Conv2d(ndf * 8, 1, 4, 1, 1))
        self.model2 = nn.Sequential(
            *conv(ndf * 4, ndf * 8, 2), *conv(ndf * 8, ndf * 8, 2), nn.Conv2d(ndf * 8, n_class, 16)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features = self.model0(x)
        return self.model1(features), self.model2(features).view(x.shape[0], -1)
