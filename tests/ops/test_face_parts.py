import pytest
import torch

from apd_lightning.ops.face_parts import (
    BOX_PARTS,
    FacePart,
    boxes_mask,
    composite_parts,
    crop_box,
    crop_parts,
    part_box_size,
    part_boxes,
    paste_box,
    region_image,
)

LANDMARKS_512 = torch.tensor([[[194.0, 248], [314, 249], [261, 312], [209, 368], [302, 371]]])


def test_paper_box_sizes_at_512_and_scaled_to_multiples_of_8():
    assert part_box_size(FacePart.EYE_LEFT, 512) == (80, 112)
    assert part_box_size(FacePart.NOSE, 512) == (96, 96)
    assert part_box_size(FacePart.MOUTH, 512) == (80, 128)
    assert part_box_size(FacePart.EYE_LEFT, 256) == (40, 56)
    for size in (64, 128, 256):
        for part in BOX_PARTS:
            h, w = part_box_size(part, size)
            assert h % 8 == 0 and w % 8 == 0 and h > 0


def test_box_centres_follow_the_paper():
    boxes = part_boxes(LANDMARKS_512, 512)
    # eye centre 8 px above the landmark: rows 240-40 .. 240+40, cols 194-56 ..
    assert boxes[FacePart.EYE_LEFT].tolist() == [[200, 138]]
    assert boxes[FacePart.NOSE].tolist() == [[296 - 48, 261 - 48]]
    assert boxes[FacePart.MOUTH].tolist() == [[369 - 40, 255 - 64]]  # midpoint (255.5, 369.5) rounds down


def test_boxes_are_shifted_inside_the_image():
    landmarks = torch.tensor([[[2.0, 2], [126, 2], [64, 64], [0, 127], [127, 127]]])
    for part, corner in part_boxes(landmarks, 128).items():
        h, w = part_box_size(part, 128)
        top, left = corner[0].tolist()
        assert 0 <= top <= 128 - h and 0 <= left <= 128 - w


def test_vectorised_crop_equals_per_sample_slicing_and_paste_round_trips():
    images = torch.randn(3, 2, 64, 64)
    corners = torch.tensor([[0, 0], [10, 20], [40, 30]])
    crops = crop_box(images, corners, (24, 32))
    for b, (top, left) in enumerate(corners.tolist()):
        assert torch.equal(crops[b], images[b, :, top : top + 24, left : left + 32])
    assert torch.equal(paste_box(images, crops, corners), images)
    pasted = paste_box(torch.zeros_like(images), crops, corners)
    assert torch.equal(crop_box(pasted, corners, (24, 32)), crops)
    assert pasted.abs().sum() == pytest.approx(crops.abs().sum().item(), rel=1e-5)


def test_crop_and_paste_are_differentiable():
    images = torch.randn(2, 1, 32, 32, requires_grad=True)
    corners = torch.tensor([[1, 2], [3, 4]])
    crop_box(images, corners, (8, 8)).sum().backward()
    assert images.grad.sum().item() == 2 * 64
    crops = torch.randn(2, 1, 8, 8, requires_grad=True)
    paste_box(torch.zeros(2, 1, 32, 32), crops, corners).pow(2).sum().backward()
    assert torch.allclose(crops.grad, 2 * crops.detach())


def test_boxes_mask_and_region_image():
    boxes = part_boxes(LANDMARKS_512 / 4, 128)
    mask = boxes_mask(boxes, 128, torch.zeros(1, 1, 128, 128))
    covered = sum(h * w for h, w in (part_box_size(p, 128) for p in BOX_PARTS))
    assert mask.shape == (1, 1, 128, 128)
    assert (1 - mask).sum().item() <= covered and (1 - mask).sum().item() > covered * 0.5
    images = torch.rand(1, 3, 128, 128) * 2 - 1
    region = region_image(images, mask)
    assert torch.all(region[mask.expand_as(region) == 0] == -1)
    assert torch.allclose(region[mask.expand_as(region) == 1], images[mask.expand_as(images) == 1])


def test_composite_takes_the_darkest_stroke_and_pads_white():
    size = 64
    landmarks = LANDMARKS_512 / 8
    boxes = part_boxes(landmarks, size)
    parts = {p: torch.ones(1, 1, *part_box_size(p, size)) for p in BOX_PARTS}
    parts[FacePart.NOSE] = -torch.ones(1, 1, *part_box_size(FacePart.NOSE, size))
    parts[FacePart.HAIR] = torch.full((1, 1, size, size), 0.5)
    parts[FacePart.BACKGROUND] = torch.full((1, 1, size, size), -0.5)
    hair = torch.zeros(1, 1, size, size)
    hair[..., :10, :] = 1
    background = torch.zeros(1, 1, size, size)
    background[..., -5:, :] = 1
    out = composite_parts(parts, boxes, hair, background)
    nose = crop_parts(out, {FacePart.NOSE: boxes[FacePart.NOSE]}, size)[FacePart.NOSE]
    assert torch.all(nose == -1)
    assert torch.all(out[..., :5, :] == 0.5)  # hair region, no box there
    assert torch.all(out[..., -5:, :] == -0.5)
    assert out.max() == 1.0  # untouched pixels are white
