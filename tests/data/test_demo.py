"""Tests for the procedural demo portraits (apd_lightning.data.demo)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PIL import Image

from apd_lightning.data.demo import (
    STYLE_NAMES,
    TEMPLATE,
    DemoSummary,
    Portrait,
    make_demo_data,
    render_portrait,
)
from apd_lightning.ops.face_parts import BOX_PARTS, FacePart


def _render(seed: int, size: int = 128, style: int | None = 0) -> Portrait:
    return render_portrait(np.random.default_rng(seed), size, style)


def _darkness(drawing: np.ndarray) -> np.ndarray:
    return 255.0 - drawing.astype(np.float64)


def _gradient_magnitude(photo: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(photo.astype(np.float64).mean(axis=2))
    return np.hypot(gx, gy)


def _assert_same(a: Portrait, b: Portrait) -> None:
    for name in ("photo", "drawing", "landmarks", "background_mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for part in BOX_PARTS:
        np.testing.assert_array_equal(a.part_masks[part], b.part_masks[part], err_msg=part)
    assert a.style == b.style


def test_render_is_deterministic_and_seed_dependent() -> None:
    _assert_same(_render(5, style=None), _render(5, style=None))
    a, b = _render(5), _render(6)
    assert not np.array_equal(a.photo, b.photo)
    assert not np.array_equal(a.drawing, b.drawing)
    assert not np.allclose(a.landmarks, b.landmarks)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_portrait_shapes_dtypes_and_landmark_order(size: int) -> None:
    for seed in range(3):
        p = _render(seed, size, style=None)
        assert STYLE_NAMES[p.style] in STYLE_NAMES and p.style in (0, 1, 2)
        assert p.photo.shape == (size, size, 3) and p.photo.dtype == np.uint8
        assert p.drawing.shape == (size, size) and p.drawing.dtype == np.uint8
        assert p.background_mask.shape == (size, size) and p.background_mask.dtype == np.uint8
        assert set(np.unique(p.background_mask)) <= {0, 255}
        assert set(p.part_masks) == set(BOX_PARTS)
        for mask in p.part_masks.values():
            assert mask.shape == (size, size) and mask.dtype == np.uint8
            assert set(np.unique(mask)) == {0, 255}
        assert p.photo.std() > 20  # not blank
        lm = p.landmarks
        assert lm.shape == (5, 2) and lm.dtype == np.float64
        assert np.all(lm >= 0) and np.all(lm <= size - 1)
        (lex, ley), (rex, rey), (nx, ny), (mlx, mly), (mrx, mry) = lm
        assert lex < nx < rex and mlx < mrx
        assert max(ley, rey) < ny < min(mly, mry)
        # near-aligned to the template: within the pose jitter (scale 6%, rotation 6 deg, shift 3%)
        assert np.abs(lm / size - TEMPLATE).max() < 0.07


def test_invalid_style_rejected() -> None:
    with pytest.raises(ValueError):
        _render(0, 64, style=3)


def test_drawing_content_and_masks() -> None:
    for seed in range(4):
        p = _render(seed, 128, style=0)
        assert (p.drawing > 200).mean() > 0.7
        assert p.drawing[:4, :4].min() == 255 and p.drawing[:4, -4:].min() == 255  # white background
        for x, y in p.landmarks[:2]:  # dark eye lines / iris within a few px of each eye landmark
            xi, yi = int(round(x)), int(round(y))
            assert p.drawing[yi - 3 : yi + 4, xi - 3 : xi + 4].min() < 100
        cx, cy = p.landmarks.mean(axis=0).round().astype(int)
        assert p.background_mask[cy - 2 : cy + 3, cx - 2 : cx + 3].min() == 255
        assert p.background_mask[:3, :3].max() == 0 and p.background_mask[:3, -3:].max() == 0
        assert 0.2 < (p.background_mask > 0).mean() < 0.8
        # part masks cover their own landmarks and not the other features
        lm = p.landmarks.round().astype(int)
        own = {FacePart.EYE_LEFT: [0], FacePart.EYE_RIGHT: [1], FacePart.NOSE: [2], FacePart.MOUTH: [3, 4]}
        for part, idx in own.items():
            mask = p.part_masks[part]
            for j in range(5):
                assert (mask[lm[j, 1], lm[j, 0]] == 255) == (j in idx), (seed, part, j)
            assert (mask > 0).mean() < 0.1


def test_drawing_lines_follow_photo_edges() -> None:
    for size in (64, 128):
        for seed in range(3):
            p = _render(seed, size, style=0)
            mag = _gradient_magnitude(p.photo)
            high, low = mag > np.quantile(mag, 0.95), mag <= np.quantile(mag, 0.5)
            dark = _darkness(p.drawing)
            aligned = dark[high].mean()
            assert aligned > 2 * dark[low].mean() and aligned > 100
            # pixel-exact: a 2-px shift of the drawing or another face's drawing matches much worse
            assert aligned > 1.5 * _darkness(np.roll(p.drawing, (2, 2), axis=(0, 1)))[high].mean()
            assert aligned > 1.5 * _darkness(_render(seed + 50, size, 0).drawing)[high].mean()


def test_styles_share_the_face_and_differ_in_darkness() -> None:
    for seed in range(3):
        thin, bold, hatched = (_render(seed, 128, style=s) for s in range(3))
        np.testing.assert_array_equal(thin.photo, bold.photo)
        np.testing.assert_array_equal(thin.photo, hatched.photo)
        np.testing.assert_array_equal(thin.landmarks, hatched.landmarks)
        d = [_darkness(p.drawing).mean() for p in (thin, bold, hatched)]
        assert d[1] > 1.3 * d[0] and d[2] > 1.3 * d[0], d
        assert [p.style for p in (thin, bold, hatched)] == [0, 1, 2]


def _tree(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_make_demo_data_layouts(tmp_path) -> None:
    size, count, seed = 64, 12, 3
    summary = make_demo_data(tmp_path / "a", size=size, count=count, seed=seed, progress=False)
    assert isinstance(summary, DemoSummary)
    n_test = math.ceil(count * 0.15)
    assert (summary.train_count, summary.test_count, summary.size) == (count - n_test, n_test, size)
    assert summary.seconds > 0 and summary.root == tmp_path / "a"
    pr, ur = summary.paired_root, summary.unpaired_root
    assert pr == tmp_path / "a" / "apdrawing" and ur == tmp_path / "a" / "unpaired"
    stems = [f"demo_{i:05d}" for i in range(count)]
    train, test = stems[: count - n_test], stems[count - n_test :]

    assert sorted(p.stem for p in (pr / "data" / "train").iterdir()) == train
    assert sorted(p.stem for p in (pr / "data" / "test").iterdir()) == test
    for i, stem in enumerate(stems):
        split = "train" if stem in train else "test"
        with Image.open(pr / "data" / split / f"{stem}.png") as im:
            assert im.mode == "RGB" and im.size == (2 * size, size)
            pair = np.asarray(im)
        expected = render_portrait(np.random.default_rng([seed, i]), size, 1)  # paired_style default
        np.testing.assert_array_equal(pair[:, :size], expected.photo)
        np.testing.assert_array_equal(pair[:, size:, 0], expected.drawing)
        assert np.array_equal(pair[:, size:, 0], pair[:, size:, 2])
        lines = (pr / "landmark" / "ALL" / f"{stem}.txt").read_text().splitlines()
        assert len(lines) == 5
        values = np.array([[int(v) for v in line.split()] for line in lines])
        np.testing.assert_array_equal(values, np.round(expected.landmarks).astype(int))
        for sub in ("ALL", *(part.value for part in BOX_PARTS)):
            with Image.open(pr / "mask" / sub / f"{stem}.png") as im:
                assert im.mode == "L" and im.size == (size, size)
    for stem in test:
        for folder in (pr / "test_single", ur / "test" / "A"):
            with Image.open(folder / f"{stem}.png") as im:
                assert im.mode == "RGB" and im.size == (size, size)
    assert len(list((pr / "test_single").iterdir())) == n_test
    with open(pr / "styles.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["name", "style"]
    assert rows[1:] == [[f"{s}.png", "1"] for s in stems]  # one style in the paired layout

    n_a = (count - n_test) // 2
    n_b = count - n_test - n_a
    a_names = sorted(p.name for p in (ur / "train" / "A").iterdir())
    b_names = sorted(p.name for p in (ur / "train" / "B").iterdir())
    assert a_names == [f"photo_{i:05d}.png" for i in range(n_a)]
    assert b_names == [f"drawing_{i:05d}.png" for i in range(n_b)]
    for side, names, mode in (("A", a_names, "RGB"), ("B", b_names, "L")):
        for name in names:
            with Image.open(ur / "train" / side / name) as im:
                assert im.mode == mode and im.size == (size, size)
            for part in ("nose", "eyes", "lips"):
                with Image.open(ur / "train" / f"{side}_{part}" / name) as im:
                    assert im.mode == "L" and im.size == (size, size)
                    assert np.asarray(im).max() == 255
    with open(ur / "train" / "styles.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["name", "style"] and [r[0] for r in rows[1:]] == b_names
    for name, style in rows[1:]:
        feat = np.load(ur / "train" / "B_feat" / name.replace(".png", ".npy"))
        assert feat.shape == (3,) and feat.dtype == np.float32
        assert int(np.argmax(feat)) == int(style) and feat.sum() == pytest.approx(1.0)
    assert len(list((ur / "test" / "A").iterdir())) == n_test

    # same bytes on a second run (fresh folder and re-run into the same folder)
    make_demo_data(tmp_path / "b", size=size, count=count, seed=seed, progress=False)
    first = _tree(tmp_path / "a")
    assert first == _tree(tmp_path / "b")
    make_demo_data(tmp_path / "a", size=size, count=count, seed=seed, progress=False)
    assert _tree(tmp_path / "a") == first
    make_demo_data(tmp_path / "c", size=size, count=count, seed=seed + 1, progress=False)
    other = _tree(tmp_path / "c")
    assert other.keys() == first.keys() and other != first


def test_make_demo_data_writes_the_true_drawings_of_the_test_photos_in_every_style(tmp_path) -> None:
    size, count, seed = 64, 12, 3
    summary = make_demo_data(tmp_path, size=size, count=count, seed=seed, progress=False)
    truth = summary.unpaired_root / "test" / "B_true"
    test = [i for i in range(count) if i >= summary.train_count]
    assert sorted(p.name for p in truth.iterdir()) == [f"demo_{i:05d}_{k}.png" for i in test for k in (1, 2, 3)]
    for i in test:
        stem = f"demo_{i:05d}"
        with Image.open(summary.unpaired_root / "test" / "A" / f"{stem}.png") as im:
            photo = np.asarray(im)
        drawings = []
        for k in (1, 2, 3):
            with Image.open(truth / f"{stem}_{k}.png") as im:
                assert im.mode == "L" and im.size == (size, size)
                drawings.append(np.asarray(im))
            expected = render_portrait(np.random.default_rng([seed, i]), size, k - 1)  # style k-1: --model.styles k
            np.testing.assert_array_equal(drawings[-1], expected.drawing)
            np.testing.assert_array_equal(photo, expected.photo)  # the same face in every style
        with Image.open(summary.paired_root / "data" / "test" / f"{stem}.png") as im:
            np.testing.assert_array_equal(np.asarray(im)[:, size:, 0], drawings[1])  # paired layout: style 2
        assert not np.array_equal(drawings[0], drawings[1]) and not np.array_equal(drawings[0], drawings[2])
    assert not (summary.unpaired_root / "train" / "B_true").exists()  # ground truth of the test photos only
