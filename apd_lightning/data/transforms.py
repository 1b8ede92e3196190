"""Albumentations pipelines shared by the datamodules."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations calls the network on import otherwise

import albumentations as A  # noqa: E402


def paired_transform(flip_prob: float = 0.5) -> A.Compose:
    """Joint augmentation of photo (``image``), drawing, person mask (``mask``) and landmarks (``keypoints``).

    Only the paper's horizontal flip. Keypoints are kept even when they leave the image; the caller swaps the
    left/right landmarks when ``applied_transforms`` reports a flip.
    """
    return A.Compose(
        [A.HorizontalFlip(p=flip_prob)],
        keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
        additional_targets={"drawing": "image"},
        save_applied_params=True,
        strict=False,
    )
