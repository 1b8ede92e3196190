"""Tiny things the tests build: trainers, models, stand-in networks and datasets in the real on-disk layouts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from apd_lightning.data.io import write_landmarks
from apd_lightning.ops.face_parts import REGIONS

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


# ---- trainers and models ----------------------------------------------------------------------------------
def quiet_trainer(**kwargs):
    """A one-CPU ``lightning.Trainer`` without logger, checkpoints, progress bar, model summary or validation;
    ``kwargs`` add to or override those settings."""
    import lightning as L

    defaults = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "limit_val_batches": 0,
    }
    return L.Trainer(**{**defaults, **kwargs})


def tiny_apdrawinggan(size: int = 64, **kwargs):
    """An APDrawingGAN with width-4 nets and two-layer local discriminators (fits 64 px part crops)."""
    from apd_lightning.models import APDrawingGAN
    from apd_lightning.nets import APDrawingDiscriminators, HierarchicalGenerator

    discriminators = APDrawingDiscriminators(size, 4, local_num_layers=2)
    return APDrawingGAN(HierarchicalGenerator(size, 4, 4, 4), discriminators, **kwargs)


def tiny_qmupd(size: int = 64, **kwargs):
    """A QMUPD with tiny widths and random auxiliaries."""
    from apd_lightning.models.qmupd import QMUPD
    from apd_lightning.nets import QMUPDDiscriminators, ResnetGenerator, StyleGenerator

    kwargs.setdefault("auxiliaries", "random_init")
    kwargs.setdefault("random_auxiliary_width", 4)
    return QMUPD(
        StyleGenerator(base_channels=4, num_blocks=1),
        ResnetGenerator(base_channels=4, num_blocks=1),
        QMUPDDiscriminators(size, base_channels=4),
        **kwargs,
    )


def float_state(module: nn.Module) -> dict[str, Tensor]:
    """A copy of the floating-point entries of ``module``'s state dict."""
    return {k: v.detach().clone() for k, v in module.state_dict().items() if v.is_floating_point()}


def changed(before: dict[str, Tensor], module: nn.Module, prefix: str) -> bool:
    """Whether any entry under ``prefix`` differs from :func:`float_state` ``before``."""
    after = module.state_dict()
    return any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))


def _tensors(output) -> list[Tensor]:
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        return [t for value in output.values() for t in _tensors(value)]
    if isinstance(output, list | tuple):
        return [t for value in output for t in _tensors(value)]
    if hasattr(output, "__dataclass_fields__"):
        return [t for name in output.__dataclass_fields__ for t in _tensors(getattr(output, name))]
    return []


def assert_finite_gradients(named_parameters, nonzero_biases: bool = False) -> None:
    """Every parameter has a finite gradient, every weight (and bias, if asked) a non-zero one."""
    for name, parameter in named_parameters:
        assert parameter.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(parameter.grad).all(), f"{name} got a non-finite gradient"
        if nonzero_biases or not name.endswith("bias"):
            assert parameter.grad.abs().sum() > 0, f"{name} got a zero gradient"


def assert_total_is_the_sum(losses: dict[str, Tensor], names: set[str], total: str) -> None:
    """The loss dict has exactly ``names`` and ``total``, and ``total`` is the sum of the others."""
    assert set(losses) == {*names, total}
    expected = sum(value.item() for key, value in losses.items() if key != total)
    assert abs(losses[total].item() - expected) <= 1e-5 * max(1.0, abs(expected))


def assert_every_parameter_gets_a_finite_gradient(net: nn.Module, forward, *inputs) -> None:
    """Back-propagate the mean square of every tensor ``forward(net, *inputs)`` returns (in training mode): each
    parameter must receive a finite gradient, and every weight a non-zero one (a part that does not reach the
    output, e.g. an unused sub-network, fails). Biases are exempt from the non-zero check: before an affine-free
    instance norm their gradient is zero by construction."""
    torch.manual_seed(0)
    net.train().zero_grad(set_to_none=True)
    outputs = _tensors(forward(net, *inputs))
    assert outputs, "the forward returned no tensor"
    sum(out.float().square().mean() for out in outputs).backward()
    assert_finite_gradients(net.named_parameters())


# ---- stand-ins for the metric networks (no weights on disk, CPU, milliseconds) ----------------------------
class TinyFeatures(nn.Module):
    """A random conv feature extractor: ``(B, 3, H, W)`` in [0, 1] -> ``(B, 8)``."""

    num_features = 8

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(3, 8, 5, stride=4)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator) * 0.3)
            self.conv.bias.copy_(torch.randn(8, generator=generator) * 0.1)

    def forward(self, images: Tensor) -> Tensor:
        return torch.tanh(self.conv(images)).mean(dim=(2, 3)) + images.mean(dim=(1, 2, 3))[:, None]


class TinyLPIPS(nn.Module):
    """LPIPS-shaped stand-in: mean squared difference, ``(B, 1, 1, 1)``."""

    def forward(self, a: Tensor, b: Tensor, normalize: bool = True) -> Tensor:
        return (a - b).square().mean(dim=(1, 2, 3), keepdim=True)


def tiny_features(drawings: Tensor) -> np.ndarray:
    """:class:`TinyFeatures` of ``(B, 1, H, W)`` drawings in [-1, 1], as the metrics compute them, in float64."""
    from apd_lightning.metrics import drawing_to_unit_rgb

    with torch.no_grad():
        return TinyFeatures()(drawing_to_unit_rgb(drawings)).double().numpy()


def tiny_quality_net(seed: int = 0):
    """A frozen width-4 ``small`` QualityNet."""
    from apd_lightning.nets import QualityNet, freeze

    torch.manual_seed(seed)
    return freeze(QualityNet("small", width=4))


def sniklaus_hed_shapes(prefix: str) -> dict[str, list[int]]:
    """sniklaus/pytorch-hed's network-bsds500.pytorch names (``net`` or the older ``module`` prefix) and shapes in
    the file's order: VGG16 stages, 5 score convs, combine. Written out independently of ``nets/hed.py``."""
    convs = {
        "One": [(0, 3, 64), (2, 64, 64)],
        "Two": [(1, 64, 128), (3, 128, 128)],
        "Thr": [(1, 128, 256), (3, 256, 256), (5, 256, 256)],
        "Fou": [(1, 256, 512), (3, 512, 512), (5, 512, 512)],
        "Fiv": [(1, 512, 512), (3, 512, 512), (5, 512, 512)],
    }
    shapes = {}
    for stage, layers in convs.items():
        for index, cin, cout in layers:
            shapes[f"{prefix}Vgg{stage}.{index}.weight"] = [cout, cin, 3, 3]
            shapes[f"{prefix}Vgg{stage}.{index}.bias"] = [cout]
    for stage, layers in convs.items():
        shapes |= {f"{prefix}Score{stage}.weight": [1, layers[-1][2], 1, 1], f"{prefix}Score{stage}.bias": [1]}
    return shapes | {f"{prefix}Combine.0.weight": [1, 5, 1, 1], f"{prefix}Combine.0.bias": [1]}


# ---- datasets in the on-disk layouts ----------------------------------------------------------------------
def save_image(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def write_paired_sample(
    root: Path, split: str, name: str, size: int = 64, seed: int = 0, rgb_mask: bool = False
) -> np.ndarray:
    """Write one A|B pair, its landmark file and mask in the APDrawing layout; return the landmarks."""
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    drawing = np.full((size, size), 255, np.uint8)
    drawing[size // 2, :] = 0  # one horizontal line
    drawing[:, size // 4] = 0  # one vertical line
    pair = np.concatenate([photo, np.repeat(drawing[..., None], 3, 2)], axis=1)
    save_image(pair, root / "data" / split / f"{name}.png")
    s = size / 128
    landmarks = np.array([[50, 62], [78, 62], [64, 78], [52, 93], [76, 93]], np.float64) * s
    write_landmarks(root / "landmark" / "ALL" / f"{name}.txt", landmarks)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 8 :, size // 8 : size - size // 8] = 255
    save_image(np.repeat(mask[..., None], 3, 2) if rgb_mask else mask, root / "mask" / "ALL" / f"{name}.png")
    return np.round(landmarks)


def region_mask(size: int, region: int) -> np.ndarray:
    """A soft square mask (bicubic-like ramp at the edges) for region 0, 1 or 2."""
    mask = np.zeros((size, size), np.float64)
    top = size // 4 + region * size // 6
    mask[top : top + size // 6, size // 4 : 3 * size // 4] = 255
    mask[top - 1, size // 4 : 3 * size // 4] = 128
    return mask.astype(np.uint8)


def write_unpaired_root(
    root: Path,
    photos: int = 3,
    drawings: int = 4,
    size: int = 48,
    styles: str = "npy",
    test_photos: int = 2,
    seed: int = 0,
) -> Path:
    """Write ``root/train/{A,B,A_*,B_*}``, styles (``npy``, ``csv`` or ``both``) and ``root/test/A``."""
    rng = np.random.default_rng(seed)
    train = root / "train"
    for i in range(photos):
        save_image(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), train / "A" / f"photo_{i}.png")
        for k, region in enumerate(REGIONS):
            save_image(region_mask(size, k), train / f"A_{region}" / f"photo_{i}.png")
    rows = []
    for i in range(drawings):
        drawing = np.full((size, size), 255, np.uint8)
        drawing[size // 2, :] = 0
        save_image(drawing, train / "B" / f"drawing_{i}.png")
        for k, region in enumerate(REGIONS):
            save_image(region_mask(size, k), train / f"B_{region}" / f"drawing_{i}.png")
        label = i % 3
        if styles in ("npy", "both"):
            (train / "B_feat").mkdir(parents=True, exist_ok=True)
            vector = np.full(3, 0.1, np.float32)
            vector[label] = 0.8
            np.save(train / "B_feat" / f"drawing_{i}.npy", vector)
        rows.append((f"drawing_{i}.png", (label + 1) % 3 if styles == "both" else label))
    if styles in ("csv", "both"):
        with (train / "styles.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows([("name", "style"), *rows])
    for i in range(test_photos):
        save_image(rng.integers(0, 255, (size + 8 * i, size, 3), dtype=np.uint8), root / "test" / "A" / f"test_{i}.png")
    return root


def random_drawing(rng: np.random.Generator, size: int) -> np.ndarray:
    """White page with a few dark strokes, uint8 ``(size, size)``."""
    image = np.full((size, size), 255, np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        row, col = rng.integers(0, size - 8, 2)
        image[row : row + int(rng.integers(2, 8)), col : col + int(rng.integers(8, size // 2))] = 0
    return image


def write_drawings(folder: Path, count: int, size: int = 32, seed: int = 0, prefix: str = "img") -> list[Path]:
    """``count`` random drawings ``<prefix>_<i>.png`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}_{i:02d}.png"
        Image.fromarray(random_drawing(rng, size), "L").save(path)
        paths.append(path)
    return paths
