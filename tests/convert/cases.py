"""Fixed-seed parity cases: the reference (original architecture) and our nets with the same converted weights.

``python tests/convert/make_golden.py`` records the reference outputs of these cases under tests/fixtures/.
"""

from __future__ import annotations

import torch
from torch import Tensor

from apd_lightning import convert
from apd_lightning.nets import HierarchicalGenerator, ResnetGenerator, StyleGenerator

from .helpers import fill_plausible
from .reference_nets import RefAPDrawingGenerator, RefResnetGenerator, RefStyle2Generator

#: APDrawingGAN needs 512 px (8-level global U-Net, part boxes at 512); a tiny width keeps it fast on a CPU.
APD_WIDTH = 4
#: The authors' example landmarks (preprocess/example/img_1701_aligned.txt) with the mouth corners moved by one
#: pixel so that their midpoint is an integer (see test_odd_mouth_midpoint_matches_the_original).
LANDMARKS = [[194, 248], [314, 249], [261, 312], [209, 368], [303, 372]]
AUTHORS_LANDMARKS = [[194, 248], [314, 249], [261, 312], [209, 368], [302, 371]]
QMUPD_WIDTH, QMUPD_SIZE = 16, 64  # the key structure does not depend on the width; any side divisible by 4
STYLE = [0.2, 0.7, 0.1]


def apd_inputs(seed: int = 1) -> tuple[Tensor, Tensor]:
    """A random photo in [-1, 1] and a person mask (a head-and-shoulders ellipse plus a block) at 512."""
    photo = torch.rand(1, 3, 512, 512, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    y, x = torch.meshgrid(torch.arange(512.0), torch.arange(512.0), indexing="ij")
    person = (((x - 256) / 170) ** 2 + ((y - 270) / 210) ** 2 <= 1) | (y > 430)
    return photo, person.float()[None, None]


def apd_reference(seed: int = 0) -> RefAPDrawingGenerator:
    return fill_plausible(RefAPDrawingGenerator(APD_WIDTH), seed)


def apd_ours(reference: RefAPDrawingGenerator) -> HierarchicalGenerator:
    """Our generator with the reference's weights, through the converter (official names -> ours)."""
    layout = convert.apdrawinggan_layout(APD_WIDTH, APD_WIDTH, APD_WIDTH, APD_WIDTH)
    state, _ = convert.convert_state(layout, {"gen": convert.flatten_official(reference.official_state(), True)})
    ours = HierarchicalGenerator(512, APD_WIDTH, APD_WIDTH, APD_WIDTH)
    ours.load_state_dict({k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")})
    return ours


def apd_outputs(
    reference: RefAPDrawingGenerator, ours: HierarchicalGenerator, landmarks: list[list[int]] = LANDMARKS
) -> tuple[Tensor, Tensor]:
    photo, person = apd_inputs()
    with torch.no_grad():
        expected = reference(photo, landmarks, person)
        actual = ours(photo, torch.tensor([landmarks], dtype=torch.float32), person).drawing
    return expected, actual


def qmupd_inputs(seed: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """A photo, the style vector and its ``(1, 3, H/4, W/4)`` map (the original's style input), and a drawing."""
    generator = torch.Generator().manual_seed(seed)
    photo = torch.rand(1, 3, QMUPD_SIZE, QMUPD_SIZE, generator=generator) * 2 - 1
    drawing = torch.rand(1, 1, QMUPD_SIZE, QMUPD_SIZE, generator=generator) * 2 - 1
    return photo, torch.tensor([STYLE]), drawing


def qmupd_pair(seed: int = 3) -> tuple[tuple[RefStyle2Generator, RefResnetGenerator], dict[str, torch.nn.Module]]:
    """Reference G_A / G_B with plausible weights and ours loaded through the converter."""
    g_ref = fill_plausible(RefStyle2Generator(QMUPD_WIDTH), seed)
    f_ref = fill_plausible(RefResnetGenerator(QMUPD_WIDTH), seed + 1)
    layout = convert.qmupd_layout("qmupd", QMUPD_WIDTH)
    state, _ = convert.convert_state(layout, {"G_A": g_ref.state_dict(), "G_B": f_ref.state_dict()})
    g, f = StyleGenerator(base_channels=QMUPD_WIDTH), ResnetGenerator(base_channels=QMUPD_WIDTH)
    g.load_state_dict({k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")})
    f.load_state_dict(
        {k.removeprefix("reverse_generator."): v for k, v in state.items() if k.startswith("reverse_generator.")}
    )
    return (g_ref, f_ref), {"generator": g, "reverse_generator": f}


def qmupd_outputs(refs, ours) -> dict[str, tuple[Tensor, Tensor]]:
    """``{"drawing": (reference, ours), "photo": (reference, ours)}``."""
    g_ref, f_ref = refs
    photo, style, drawing = qmupd_inputs()
    style_map = style[:, :, None, None].expand(-1, -1, QMUPD_SIZE // 4, QMUPD_SIZE // 4)
    with torch.no_grad():
        return {
            "drawing": (g_ref(photo, style_map), ours["generator"](photo, style)),
            "photo": (f_ref(drawing), ours["reverse_generator"](drawing)),
        }


def pooled(image: Tensor, size: int = 32) -> Tensor:
    """A small summary of an output for the golden file: mean over ``size × size`` cells."""
    return torch.nn.functional.adaptive_avg_pool2d(image, size)
