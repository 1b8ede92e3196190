"""Any photo in, a drawing out: detect the face, align it, mask it, draw it, put the drawing back in the photo."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

from ..data.io import _flatten_alpha, _to_8bit
from ..faces.align import AlignedFace, transform_points
from ..faces.masks import aligned_person_mask
from .errors import DrawError, NoFaceError
from .framing import align, compose, detection_copy, invert, scaling, segmentation_view, warp_back
from .photo import DEFAULT_MAX_PIXELS, Photo, open_photo

Frame = Literal["original", "aligned"]
StyleSpec = str | Sequence[Sequence[float]] | Mapping[str, Sequence[float]] | None
STAGES = ("decode", "detect", "align", "mask", "model", "warp")


class StyleError(DrawError, ValueError):
    """Styles that the model cannot take (a style for APDrawingGAN, a malformed vector, ...)."""


@dataclass
class FaceDrawing:
    """One face of a photo and its drawings.

    Attributes:
        box: ``(x0, y0, x1, y1)`` of the face in photo pixels (the face mesh's extent).
        drawings: style name -> ``(H, W)`` uint8 grayscale drawing, photo-sized with ``frame="original"`` (white
            where the aligned square did not reach), ``image_size²`` with ``frame="aligned"``. The name is
            ``"drawing"`` for APDrawingGAN, the style's name for QMUPD / UPD (``style1``, ``mix_0.5_0.5_0``).
        landmarks: ``(5, 2)`` float64 landmarks in photo pixels.
        matrix: ``(2, 3)`` photo→aligned similarity.
    """

    box: tuple[int, int, int, int]
    drawings: dict[str, np.ndarray]
    landmarks: np.ndarray | None = None
    matrix: np.ndarray | None = None


@dataclass
class DrawResult:
    """What :meth:`Drawer.draw` returns.

    Attributes:
        size: ``(width, height)`` of the photo after EXIF orientation.
        faces: the faces drawn, largest first (exactly one unless ``all_faces``).
        timings: seconds per stage: ``detect``, ``align``, ``mask``, ``model``, ``warp``, ``total`` and
            ``decode`` when the drawer decoded the input.
        cpu_timings: the same keys: CPU seconds of this process (all threads) per stage.
    """

    size: tuple[int, int]
    faces: list[FaceDrawing]
    timings: dict[str, float] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)


class _Timer:
    """Wall and process CPU seconds per stage (CPU time is the steadier figure on a busy machine)."""

    def __init__(self) -> None:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
            self.cpu[stage] = self.cpu.get(stage, 0.0) + time.process_time() - cpu

    def _result(self, seconds: dict[str, float], total: float) -> dict[str, float]:
        timings = {stage: seconds.get(stage, 0.0) for stage in STAGES if stage != "decode"}
        if "decode" in seconds:
            timings = {"decode": seconds["decode"], **timings}
        return {**timings, "total": total}

    def result(self) -> tuple[dict[str, float], dict[str, float]]:
        """``(wall seconds, CPU seconds)`` per stage, plus ``total``."""
        return (
            self._result(self.seconds, time.perf_counter() - self.start),
            self._result(self.cpu, time.process_time() - self.cpu_start),
        )


def as_photo(image, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[Photo, bool]:
    """A :class:`Photo` from an array, a PIL image, a path or bytes; and whether it had to be decoded."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB array, got {image.dtype} {image.shape}")
        return Photo(np.ascontiguousarray(image), (image.shape[1], image.shape[0])), False
    if isinstance(image, Image.Image):
        rgb = np.asarray(_flatten_alpha(_to_8bit(ImageOps.exif_transpose(image))).convert("RGB"))
        return Photo(rgb, (rgb.shape[1], rgb.shape[0])), True
    return open_photo(image, max_pixels), True


def to_uint8(drawing: np.ndarray) -> np.ndarray:
    """Drawings in [-1, 1] -> uint8 (``(x + 1) · 127.5``, rounded), any shape."""
    return np.clip((drawing + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


class Drawer:
    """Draws faces in photos with one model; loads the model and the MediaPipe face tools once.

    Not thread-safe: callers serialise calls per drawer.

    Args:
        ckpt: a checkpoint from ``fit`` or ``convert-weights`` (run by PyTorch). Exactly one of ``ckpt`` /
            ``onnx``.
        onnx: a file from ``python -m apd_lightning export`` (run by ONNX Runtime).
        device: ``cpu``, ``cuda``, ``cuda:1``, ... or ``auto``.
        precision: ``32-true`` or ``bf16-mixed`` (PyTorch only).
        max_pixels: largest photo accepted (width × height), checked before decoding.
        max_faces: most faces found per photo (``all_faces``).
        inference_norm: APDrawingGAN ``eval`` / ``train``; ``None`` = the checkpoint's (PyTorch only).

    Attributes:
        kind: ``apdrawinggan``, ``qmupd`` or ``upd``.
        image_size: side of the model's aligned square.
        style_names: ``()`` for APDrawingGAN, ``("style1", "style2", "style3")`` for QMUPD / UPD.
        source: the checkpoint or ONNX path.

    Example:
        >>> drawer = Drawer("last.ckpt")  # doctest: +SKIP
        >>> result = drawer.draw("photo.jpg")  # doctest: +SKIP
        >>> Image.fromarray(result.faces[0].drawings["drawing"]).save("drawing.png")  # doctest: +SKIP
    """

    def __init__(
        self,
        ckpt: str | os.PathLike | None = None,
        *,
        onnx: str | os.PathLike | None = None,
        device: str = "cpu",
        precision: str = "32-true",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_faces: int = 5,
        inference_norm: str | None = None,
    ) -> None:
        from ..faces import MediaPipeLandmarker, MediaPipeSegmenter
        from .runners import OnnxRunner, TorchRunner

        if (ckpt is None) == (onnx is None):
            raise ValueError("give exactly one of ckpt (a checkpoint) and onnx (an exported model)")
        if onnx is not None:
            if precision not in ("32-true", "32"):
                raise ValueError(f"ONNX models run in float32; precision {precision!r} needs a checkpoint")
            if inference_norm == "train":
                raise ValueError("ONNX models run in eval mode; inference_norm 'train' needs a checkpoint")
            self.runner = OnnxRunner(onnx, device)
        else:
            self.runner = TorchRunner(ckpt, device, precision, inference_norm)
        spec = self.runner.spec
        self.kind, self.image_size, self.style_names = spec.kind, spec.image_size, spec.style_names
        self.source, self.max_pixels = self.runner.source, max_pixels
        self.landmarker = MediaPipeLandmarker(max_faces=max_faces)
        self.segmenter = MediaPipeSegmenter() if self.kind == "apdrawinggan" else None

    # ---- styles -------------------------------------------------------------------------------------------
    def styles(self, styles: StyleSpec = None) -> dict[str, list[float]]:
        """Named style vectors from the ``styles`` argument of :meth:`draw` (``{"drawing": []}`` for
        APDrawingGAN)."""
        if self.kind == "apdrawinggan":
            if styles is not None:
                raise StyleError("APDrawingGAN has a single style: draw without styles")
            return {"drawing": []}
        from ..models.qmupd import parse_styles

        dim = len(self.style_names)
        if styles is None:
            return {name: [float(i == k) for i in range(dim)] for k, name in enumerate(self.style_names)}
        if isinstance(styles, Mapping):
            named = {str(k): [float(x) for x in v] for k, v in styles.items()}
            if bad := [k for k, v in named.items() if len(v) != dim or not k or "/" in k]:
                raise StyleError(f"styles {bad} must be {dim}-vectors with file-name friendly names")
            return named
        try:
            return parse_styles(styles, dim)
        except (ValueError, TypeError) as error:
            raise StyleError(f"bad styles {styles!r}: {error}") from None

    # ---- the stages ---------------------------------------------------------------------------------------
    def detect(self, photo: Photo) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
        """Faces as ``(landmarks (5, 2), box)`` in photo pixels, largest first."""
        copy, factor = detection_copy(photo.image)
        sx, sy = photo.scale
        to_photo = invert(scaling(sx * factor, sy * factor))
        faces = []
        for face in self.landmarker.detect(copy):
            corners = transform_points(np.reshape(face.box, (2, 2)), to_photo)
            box = tuple(int(round(v)) for v in corners.reshape(-1))
            faces.append((transform_points(face.points5, to_photo), box))
        return faces

    def person_mask(self, photo: Photo, aligned: AlignedFace) -> np.ndarray:
        """``(S, S)`` float32 person mask in [0, 1] of an aligned face, made as ``preprocess`` makes the training
        masks (:func:`~apd_lightning.faces.aligned_person_mask`: MediaPipe selfie segmentation of the photo before
        the warp, warped into the aligned frame and cleaned)."""
        to_aligned = compose(aligned.matrix, invert(scaling(*photo.scale)))  # the decoded image -> aligned
        view, to_aligned = segmentation_view(photo.image, to_aligned, self.image_size)
        mask = aligned_person_mask(view, to_aligned, self.image_size, self.segmenter)
        return mask.astype(np.float32) / 255.0

    def model_inputs(self, aligned: AlignedFace, mask: np.ndarray | None) -> dict[str, np.ndarray]:
        """The network's inputs for one aligned face (batch of one)."""
        photo = (aligned.image.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        if self.kind != "apdrawinggan":
            return {"photo": photo}
        return {
            "photo": photo,
            "landmarks": aligned.landmarks.astype(np.float32)[None],
            "background_mask": mask[None, None],
        }

    def _draw_face(self, photo: Photo, points, box, styles, frame: Frame, timer: _Timer) -> FaceDrawing:
        with timer("align"):
            aligned = align(photo, points, self.image_size)
        with timer("mask"):
            mask = self.person_mask(photo, aligned) if self.segmenter is not None else None
        inputs = self.model_inputs(aligned, mask)
        drawings = {}
        for name, vector in styles.items():
            if vector:
                inputs["style"] = np.asarray([vector], np.float32)
            with timer("model"):
                drawing = to_uint8(self.runner(inputs)[0])
            with timer("warp"):
                drawings[name] = drawing if frame == "aligned" else warp_back(drawing, aligned.matrix, *photo.size)
        return FaceDrawing(box, drawings, points, aligned.matrix)

    def draw(
        self, image, styles: StyleSpec = None, *, all_faces: bool = False, frame: Frame = "original"
    ) -> DrawResult:
        """Draw the largest face (or every face) of a photo.

        Args:
            image: ``(H, W, 3)`` uint8 RGB array, a PIL image, a path or the file's bytes.
            styles: QMUPD / UPD only: ``"1,3"``, ``"0.5:0.5:0"``, ``"2,0.2:0.3:0.5"`` (as ``predict
                --model.styles``), a list of vectors or ``{name: vector}``; ``None``: the one-hot styles.
            all_faces: draw every face found (up to ``max_faces``), largest first.
            frame: ``original`` (the photo's frame and size) or ``aligned`` (the model's square).

        Raises:
            NoFaceError: no face found. UnreadableImageError / ImageTooLargeError: from decoding.
            StyleError: styles the model cannot take.
        """
        if frame not in ("original", "aligned"):
            raise ValueError(f"frame must be 'original' or 'aligned', got {frame!r}")
        timer = _Timer()
        named = self.styles(styles)
        with timer("decode"):
            photo, decoded = as_photo(image, self.max_pixels)
        if not decoded:
            timer.seconds.pop("decode"), timer.cpu.pop("decode")
        with timer("detect"):
            faces = self.detect(photo)
        if not faces:
            raise NoFaceError(f"{photo.name}: no face found")
        drawn = [
            self._draw_face(photo, points, box, named, frame, timer)
            for points, box in faces[: None if all_faces else 1]
        ]
        return DrawResult(photo.size, drawn, *timer.result())

    def close(self) -> None:
        """Release the MediaPipe models."""
        self.landmarker.close()
        if self.segmenter is not None:
            self.segmenter.close()

    def __enter__(self) -> Drawer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
