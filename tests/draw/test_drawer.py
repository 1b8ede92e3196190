"""Drawer: the contract the web server codes against, the drawing in the photo's frame, styles, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from apd_lightning.draw import (
    DEFAULT_MAX_PIXELS,
    Drawer,
    DrawError,
    DrawResult,
    FaceDrawing,
    ImageTooLargeError,
    NoFaceError,
    StyleError,
    UnreadableImageError,
    read_photo,
)

from .conftest import place, textured
from .test_photo import png_header_only


@pytest.fixture(scope="module")
def apd(checkpoints):
    with Drawer(checkpoints["apdrawinggan"]) as drawer:
        yield drawer


@pytest.fixture(scope="module")
def qmupd(checkpoints):
    with Drawer(checkpoints["qmupd"]) as drawer:
        yield drawer


def test_the_contract_names_and_attributes(apd, qmupd, checkpoints):
    assert issubclass(NoFaceError, DrawError) and issubclass(UnreadableImageError, DrawError)
    assert issubclass(ImageTooLargeError, DrawError) and DEFAULT_MAX_PIXELS == 50_000_000
    assert (apd.kind, apd.image_size, apd.style_names) == ("apdrawinggan", 128, ())
    assert (qmupd.kind, qmupd.image_size, qmupd.style_names) == ("qmupd", 64, ("style1", "style2", "style3"))
    assert apd.source == str(checkpoints["apdrawinggan"])
    with pytest.raises(ValueError, match="exactly one"):
        Drawer()
    with pytest.raises(ValueError, match="exactly one"):
        Drawer(checkpoints["apdrawinggan"], onnx="model.onnx")


@pytest.mark.parametrize("name", ["wide.jpg", "exif.jpg", "small.png"])
def test_the_drawing_keeps_the_photos_frame_and_matches_the_aligned_drawing(apd, photos, name):
    width, height = Image.open(photos[name]).size
    if name == "exif.jpg":
        width, height = height, width  # EXIF orientation 6: the stored image is turned
    result = apd.draw(photos[name])
    assert isinstance(result, DrawResult) and result.size == (width, height)
    assert {"decode", "detect", "align", "mask", "model", "warp", "total"} <= set(result.timings)
    assert all(v >= 0 for v in result.timings.values()) and result.timings["total"] >= result.timings["model"]
    assert set(result.cpu_timings) == set(result.timings)
    (face,) = result.faces
    assert isinstance(face, FaceDrawing) and list(face.drawings) == ["drawing"]
    full = face.drawings["drawing"]
    assert full.shape == (height, width) and full.dtype == np.uint8
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and (x1 - x0) > 50
    aligned = apd.draw(photos[name], frame="aligned").faces[0].drawings["drawing"]
    assert aligned.shape == (128, 128) and aligned.std() > 5  # a drawing with structure, not a flat grey
    ys, xs = np.mgrid[0:height, 0:width]
    coords = np.stack([xs, ys], -1) @ face.matrix[:, :2].T + face.matrix[:, 2]  # aligned (x, y) of every pixel
    inside = ((coords >= 4) & (coords <= 123)).all(axis=-1)
    outside = ((coords < -2) | (coords > 129)).any(axis=-1)  # beyond the bicubic support of the square
    # the aligned drawing warped back by an independent, plain implementation: one bicubic warp of the whole frame
    expected = cv2.warpAffine(
        aligned, cv2.invertAffineTransform(face.matrix), (width, height), flags=cv2.INTER_CUBIC, borderValue=255
    )
    assert inside.mean() > 0.01 and np.abs(full[inside].astype(int) - expected[inside]).mean() <= 2.0
    assert outside.mean() > 0.3 and (full[outside] == 255).all()


def test_arrays_pil_images_paths_and_bytes_give_the_same_drawing(apd, photos):
    path = photos["small.png"]
    expected = apd.draw(path).faces[0].drawings["drawing"]
    for source in (read_photo(path), Image.open(path), path.read_bytes(), str(path)):
        result = apd.draw(source)
        np.testing.assert_array_equal(result.faces[0].drawings["drawing"], expected)
    assert "decode" not in apd.draw(read_photo(path)).timings  # nothing to decode for an array


def test_no_face_unreadable_too_large_and_bad_arguments(apd, photos):
    with pytest.raises(NoFaceError, match="noface.png: no face found"):
        apd.draw(photos["noface.png"])
    with pytest.raises(UnreadableImageError):
        apd.draw(b"not an image")
    with pytest.raises(ImageTooLargeError):
        apd.draw(png_header_only(9000, 9000))
    with pytest.raises(StyleError, match="single style"):
        apd.draw(photos["small.png"], "1,2")
    with pytest.raises(ValueError, match="frame"):
        apd.draw(photos["small.png"], frame="square")
    with pytest.raises(ValueError, match="uint8 RGB"):
        apd.draw(np.zeros((10, 10), np.uint8))


def test_all_faces_are_drawn_largest_first(apd, astronaut):
    group = place(place(textured(560, 1000, 5), astronaut, 0, 20, 1.0), astronaut, 150, 560, 0.7)
    result = apd.draw(group, all_faces=True)
    assert len(result.faces) == 2
    big, small = (f.box for f in result.faces)
    assert (big[2] - big[0]) > (small[2] - small[0]) and big[0] < 500 < small[0]
    assert len(apd.draw(group).faces) == 1 and apd.draw(group).faces[0].box == result.faces[0].box


def test_qmupd_styles_one_hot_numbers_vectors_and_names(qmupd, photos):
    result = qmupd.draw(photos["small.png"])
    drawings = result.faces[0].drawings
    assert list(drawings) == ["style1", "style2", "style3"] and qmupd.segmenter is None  # no person mask
    assert all(d.shape == (460, 400) for d in drawings.values())
    assert np.abs(drawings["style1"].astype(int) - drawings["style3"]).mean() > 0  # the style reaches G
    named = qmupd.draw(photos["small.png"], "1,0.5:0.5:0", frame="aligned").faces[0].drawings
    assert list(named) == ["style1", "mix_0.5_0.5_0"] and named["style1"].shape == (64, 64)
    assert list(qmupd.draw(photos["small.png"], [[0, 0, 1]]).faces[0].drawings) == ["mix_0_0_1"]
    as_dict = qmupd.draw(photos["small.png"], {"ink": [0, 0, 1]}).faces[0].drawings
    np.testing.assert_array_equal(as_dict["ink"], drawings["style3"])
    for bad in ("4", "0.5:0.5", {"x": [1, 0]}, "a,b"):
        with pytest.raises(StyleError):
            qmupd.draw(photos["small.png"], bad)


def test_converted_weights_draw_at_their_own_size(checkpoints, photos):
    with Drawer(checkpoints["converted_upd"]) as drawer:
        result = drawer.draw(photos["exif.jpg"], "2", frame="aligned")
    assert drawer.image_size == 512 and result.faces[0].drawings["style2"].shape == (512, 512)


def test_bf16_mixed_draws_close_to_float32(checkpoints, photos, apd):
    expected = apd.draw(photos["small.png"], frame="aligned").faces[0].drawings["drawing"].astype(int)
    with Drawer(checkpoints["apdrawinggan"], precision="bf16-mixed") as drawer:
        bf16 = drawer.draw(photos["small.png"], frame="aligned").faces[0].drawings["drawing"]
    assert 0 < np.abs(bf16 - expected).mean() < 4
    with pytest.raises(ValueError, match="precision"):
        Drawer(checkpoints["apdrawinggan"], precision="16-mixed")
