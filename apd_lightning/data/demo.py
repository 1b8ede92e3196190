"""Deterministic procedural portraits: synthetic face "photos" with pixel-aligned line "drawings".

Used as embedded demo data (no real dataset offline). Every shape is a polygon in a canonical,
template-aligned face frame (units of the image size ``S``), mapped to pixels by one random
similarity transform, so the photo, the drawing, the masks and the 5 landmarks agree exactly.
Shapes are rasterised at 2-4x supersampling with PIL and downsampled with LANCZOS. The drawing
is the visible outlines of the photo's shapes (painter's order: later shapes erase earlier lines).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..ops.face_parts import BOX_PARTS, REGIONS, FacePart

STYLE_NAMES = ("thin", "bold", "hatched")
# 5-point template (fractions of S): eyes, nose tip, mouth corners (APDrawing alignment).
TEMPLATE = np.array([[0.3928, 0.4822], [0.6071, 0.4822], [0.5, 0.6089], [0.4036, 0.7243], [0.5964, 0.7243]])
_CENTRE = np.array([0.5, 0.555])  # canonical face centre; the pose rotates/scales about it
_HAIR = np.array([[25, 20, 18], [60, 38, 25], [110, 70, 40], [140, 60, 30], [200, 165, 100], [150, 145, 140]])
_IRIS = np.array([[70, 45, 25], [60, 90, 130], [70, 100, 60], [90, 90, 95]])

Items = list  # list of (points_px (n, 2), stroke width px or 0 for a filled polygon, closed)


@dataclass(frozen=True)
class Portrait:
    """One synthetic portrait of size ``S``.

    Attributes:
        photo: ``(S, S, 3)`` uint8 RGB photo.
        drawing: ``(S, S)`` uint8 grayscale line drawing, white (255) background, dark lines.
        landmarks: ``(5, 2)`` float64 ``(x, y)`` pixel coordinates (0-based pixel centres): image-left
            eye centre, image-right eye centre, nose tip, image-left and image-right mouth corners.
        background_mask: ``(S, S)`` uint8, 255 = person (face, hair, neck, shoulders), 0 = background.
        part_masks: the four box parts (:data:`~apd_lightning.ops.face_parts.BOX_PARTS`) -> ``(S, S)`` uint8
            0/255 feature regions (eye regions include the brow, the mouth is the lips), dilated by a few pixels.
        style: drawing style label in ``0..2`` (see :data:`STYLE_NAMES`).
    """

    photo: np.ndarray
    drawing: np.ndarray
    landmarks: np.ndarray
    background_mask: np.ndarray
    part_masks: dict[FacePart, np.ndarray]
    style: int


@dataclass
class DemoSummary:
    """What :func:`make_demo_data` wrote (``paired_root``: APDrawing layout, ``unpaired_root``: QMUPD)."""

    root: Path
    paired_root: Path
    unpaired_root: Path
    train_count: int
    test_count: int
    size: int
    seconds: float


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40) -> np.ndarray:
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _canvas_points(pts: np.ndarray, k: int, origin=(0, 0)) -> list[tuple[float, float]]:
    """Pixel coords (0-based pixel centres) -> supersampled canvas coords (PIL uses pixel corners)."""
    q = (pts - np.asarray(origin, dtype=np.float64) + 0.5) * k
    return [(float(x), float(y)) for x, y in q]


def _draw(d: ImageDraw.ImageDraw, pts: list, width: float, closed: bool, k: int, fill: int) -> None:
    if width <= 0:
        d.polygon(pts, fill=fill)
    else:
        d.line(pts + pts[:1] if closed else pts, fill=fill, width=max(1, round(width * k)), joint="curve")


def _raster(items: Items, size: int, k: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Antialiased coverage ``(S, S)`` float32 in [0, 1] of filled polygons / strokes, and its bbox slices."""
    out = np.zeros((size, size), np.float32)
    allp = np.concatenate([p for p, _, _ in items])
    pad = max(w for _, w, _ in items) / 2 + 3
    x0, y0 = np.maximum(0, np.floor(allp.min(0) - pad)).astype(int)
    x1, y1 = np.minimum(size, np.ceil(allp.max(0) + pad)).astype(int)
    box = (slice(y0, max(y0, y1)), slice(x0, max(x0, x1)))
    if x1 <= x0 or y1 <= y0:
        return out, box
    im = Image.new("L", (int(x1 - x0) * k, int(y1 - y0) * k), 0)
    d = ImageDraw.Draw(im)
    for pts, w, closed in items:
        _draw(d, _canvas_points(pts, k, (x0, y0)), w, closed, k, 255)
    out[box] = np.asarray(im.resize((int(x1 - x0), int(y1 - y0)), Image.LANCZOS), np.float32) / 255
    return out, box


def _mask(items: Items, size: int, dilate: int) -> np.ndarray:
    """Binary uint8 0/255 mask of filled polygons / strokes, dilated by ``dilate`` px (thick outline)."""
    im = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(im)
    for pts, w, closed in items:
        p = _canvas_points(pts, 1)
        _draw(d, p, w, closed, 1, 255)
        d.line(p + p[:1] if closed else p, fill=255, width=int(2 * dilate + max(w, 1)), joint="curve")
    return np.asarray(im, np.uint8).copy()


def _geometry(rng: np.random.Generator) -> dict:
    """Sample the canonical face (fractions of S) and its colours, with a fixed number of rng draws."""
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    g: dict = {}
    (cx, cy), one = _CENTRE, np.array([-1.0, 1.0])
    rx, ry, taper = u(0.235, 0.265), u(0.30, 0.33), u(0.1, 0.25)
    t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    g["face"] = np.stack([cx + rx * np.cos(t) * (1 - taper * np.clip(np.sin(t), 0, None)), cy + ry * np.sin(t)], 1)
    g["ears"] = [_ellipse(cx + s * (rx + 0.008), 0.555, 0.034, 0.062) for s in one]
    nw, arc = u(0.085, 0.105), np.linspace(np.pi, 0, 12)
    neck_bottom = np.stack([cx + nw * np.cos(arc), 0.88 + 0.06 * np.sin(arc)], 1)
    g["neck"] = np.concatenate([[[cx - nw, 0.65]], neck_bottom, [[cx + nw, 0.65]]])
    g["clothes"] = _ellipse(cx, 1.14, u(0.42, 0.5), u(0.24, 0.28), 60)
    # hair: outer ellipse; front piece (0 cap, 1 fringe, 2 side part) down to a hairline;
    # back piece (0 none, 1 long, 2 bob)
    hcy, hrx, hry = cy - 0.01, rx + u(0.02, 0.045), ry + u(0.035, 0.07)
    front, back, ty = int(rng.integers(3)), int(rng.integers(3)), u(0.44, 0.47)
    a = math.asin((ty - hcy) / hry)
    th, v = np.linspace(np.pi - a, 2 * np.pi + a, 40), np.linspace(1, -1, 41)
    hw = rx * math.sqrt(1 - ((ty - cy) / ry) ** 2) * 0.98
    p, hl, amp, nwave = u(1.6, 2.5), u(0.26, 0.31), 0.0, rng.integers(3, 6)
    tilt = u(0.04, 0.07) * rng.choice(one)
    fringe = (u(4, 6), u(0.35, 0.37), u(0.005, 0.012))
    if front == 1:
        (p, hl, amp), tilt = fringe, 0.0
    elif front == 0:
        tilt = 0.0
    env = 1 - np.abs(v) ** p
    line_y = hl + (ty - hl) * (1 - env) + tilt * v * env + amp * np.abs(np.sin(v * np.pi * nwave)) * env
    g["hair_front"] = np.concatenate(
        [np.stack([cx + hrx * np.cos(th), hcy + hry * np.sin(th)], 1), np.stack([cx + v * hw, line_y], 1)]
    )
    yb, wb = (u(0.82, 0.98), u(0.04, 0.1)) if back == 1 else (u(0.68, 0.76), u(0.0, 0.025))
    th2, s = np.linspace(np.pi, 2 * np.pi, 30), np.linspace(0, 1, 8)[1:]
    right = np.stack([cx + hrx + 0.01 + wb * np.sin(s * np.pi / 2), hcy + s * (yb - hcy)], 1)
    bottom = np.stack([np.linspace(cx + hrx, cx - hrx, 9)[1:-1], yb + 0.012 * np.sin(np.arange(1, 8) * 2.1)], 1)
    top = np.stack([cx + (hrx + 0.01) * np.cos(th2), hcy + (hry + 0.01) * np.sin(th2)], 1)
    left = right[::-1] * one + [2 * cx, 0]  # mirror image of the right side
    g["hair_back"] = None if back == 0 else np.concatenate([top, right, bottom, left])
    # eyes (centre = landmark) and brows; eye polygons: 17 upper-lid points then 17 lower-lid points
    ex, ey, w = 0.1071 + u(-0.006, 0.006), TEMPLATE[0, 1] + u(-0.006, 0.006), u(0.040, 0.050)
    hu, hlo, ir = u(0.40, 0.52) * w, u(0.28, 0.36) * w, u(0.42, 0.5) * w
    bd, arch, bt = u(0.042, 0.055), u(0.006, 0.014), u(0.008, 0.013)
    q = np.linspace(-1, 1, 17)
    g["eyes"] = []
    for sg in one:
        c = np.array([cx + sg * ex, ey])
        almond = np.concatenate(
            [np.stack([c[0] + w * q, ey - hu * (1 - q**2)], 1), np.stack([c[0] - w * q, ey + hlo * (1 - q**2)], 1)]
        )
        bx, by = c[0] + sg * 0.006 + 1.2 * w * q, ey - bd - arch * (1 - q**2)
        thick = bt * (1 - 0.55 * np.clip(q * sg, 0, None))
        brow = np.concatenate([np.stack([bx, by], 1), np.stack([bx, by - thick], 1)[::-1]])
        g["eyes"].append(
            dict(
                c=c,
                almond=almond,
                brow=brow,
                iris=_ellipse(*c, ir, ir, 24),
                pupil=_ellipse(*c, 0.45 * ir, 0.45 * ir, 16),
                r=ir,
            )
        )
    # nose (tip = landmark = centre of the nose base), mouth (corners = landmarks)
    tip = np.array([cx + u(-0.004, 0.004), TEMPLATE[2, 1] + u(-0.008, 0.008)])
    nsw, nr, sd = u(0.032, 0.042), u(0.018, 0.024), float(rng.choice(one))
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    g["nose"] = np.stack(
        [tip[0] + nsw * np.cos(t) * (1 - 0.45 * np.clip(-np.sin(t), 0, None)), tip[1] - 0.003 + nr * np.sin(t)], 1
    )
    g["nostrils"] = [_ellipse(tip[0] + s * 0.45 * nsw, tip[1] + 0.007, 0.28 * nsw, 0.13 * nsw, 16) for s in one]
    s = np.linspace(0, 1, 8)
    g["bridge"] = np.stack([tip[0] + sd * (0.016 + 0.008 * np.sin(s * np.pi)), ey + 0.03 + s * (tip[1] - 0.03 - ey)], 1)
    mc, my, mw = cx + u(-0.004, 0.004), TEMPLATE[3, 1] + u(-0.008, 0.008), u(0.085, 0.105)
    smile, ut, lt = u(-0.006, 0.01), u(0.012, 0.018), u(0.016, 0.026)
    m = np.linspace(-1, 1, 25)
    x, lip = mc + mw * m, my + smile * (1 - m**2)
    top = np.stack([x, lip - ut * (1 - m**2) ** 0.6 * (1 - 0.4 * np.exp(-((m / 0.15) ** 2)))], 1)
    bot = np.stack([x, lip + lt * (1 - m**2) ** 0.7], 1)[::-1]
    g["lip_line"] = np.stack([x, lip], 1)
    g["upper_lip"] = np.concatenate([top, g["lip_line"][::-1]])
    g["lower_lip"] = np.concatenate([g["lip_line"], bot])
    g["lips"] = np.concatenate([top, bot[1:-1]])
    g["landmarks"] = np.array([g["eyes"][0]["c"], g["eyes"][1]["c"], tip, [mc - mw, my], [mc + mw, my]])
    # colours, light, pose
    st = u(0, 1)
    g["skin"] = (1 - st) * np.array([250, 222, 196]) + st * np.array([125, 85, 60]) + rng.uniform(-12, 12, 3)
    g["hair"] = np.clip(_HAIR[rng.integers(len(_HAIR))] + rng.uniform(-15, 15, 3), 0, 255)
    g["iris"] = _IRIS[rng.integers(len(_IRIS))] + rng.uniform(-10, 10, 3)
    g["clothes_col"] = rng.uniform(30, 230, 3)
    g["bg"] = rng.uniform(120, 245, (2, 3)) * ([1.0], [u(0.7, 1.0)])
    g["bg_angle"], g["bg_flat"] = u(0, 2 * np.pi), bool(rng.random() < 0.35)
    g["light"] = np.array([u(0.35, 0.65), u(0.3, 0.45)])
    g["lips_col"] = np.array([175, 75, 85]) + rng.uniform(-20, 20, 3)
    g["pose"] = (1 + u(-0.06, 0.06), math.radians(u(-6, 6)), rng.uniform(-0.03, 0.03, 2))
    return g


def render_portrait(rng: np.random.Generator, size: int = 128, style: int | None = None) -> Portrait:
    """Render one random portrait.

    Args:
        rng: source of randomness; the same generator state gives byte-identical output.
        size: image side ``S`` in pixels (tested at 64-512).
        style: drawing style ``0..2``; ``None`` draws one from ``rng``. The geometry does not depend on
            whether ``style`` is given, so the same rng state with different styles gives the same face.

    Returns:
        The :class:`Portrait` (photo, drawing, landmarks, masks, style).
    """
    S, k = int(size), (4 if size <= 160 else 2)
    g = _geometry(rng)
    drawn = int(rng.integers(3))  # always drawn: the rng stream does not depend on whether style is given
    style = drawn if style is None else int(style)
    if style not in (0, 1, 2):
        raise ValueError(f"style must be 0, 1 or 2, got {style}")
    scale, rot, shift = g["pose"]
    A = scale * np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]])
    T = lambda pts: ((np.asarray(pts) - _CENTRE) @ A.T + _CENTRE + shift) * S  # noqa: E731  (fractions -> px)
    lw = max(1.0, S / 128)  # 1 px at 128
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    # photo base: background (flat or linear gradient)
    d = np.array([math.cos(g["bg_angle"]), math.sin(g["bg_angle"])])
    ramp = np.clip((xx / S - 0.5) * d[0] + (yy / S - 0.5) * d[1] + 0.5, 0, 1)[..., None] * (not g["bg_flat"])
    photo = (g["bg"][0] * (1 - ramp) + g["bg"][1] * ramp) * np.ones((S, S, 3), np.float32)
    lx, ly = T(g["light"])
    shade = 1.1 - 0.35 * ((xx - lx) ** 2 + (yy - ly) ** 2) / (0.45 * S * scale) ** 2
    skin = g["skin"] * np.clip(shade, 0.6, 1.1)[..., None]  # radial shading from a random light position
    person, hair = np.zeros((S, S), np.float32), np.zeros((S, S), np.float32)
    canvas = Image.new("L", (S * k, S * k), 255)
    pen = ImageDraw.Draw(canvas)
    wide = 2.0 if style == 1 else 1.0

    def ink(pts: np.ndarray, width: float = 0.0, closed: bool = True, value: int = 0) -> None:
        """Drawing: fill (``width == 0``) or stroke (``width`` in 1-px-at-128 units) canonical points."""
        _draw(pen, _canvas_points(T(pts), k), width * lw * (wide if value == 0 else 1), closed, k, value)

    def layer(
        shapes: list,
        colour,
        stroke: float = 0.0,
        line: float = 1.0,
        fill: int | None = 255,
        is_hair: bool = False,
        clip: np.ndarray | None = None,
    ) -> None:
        """Photo: composite filled shapes (or open strokes of width ``stroke``); drawing: fill + outline."""
        a, box = _raster([(T(p), stroke * lw, False) for p in shapes], S, k)
        a = a[box] if clip is None else a[box] * clip[box]  # composite inside the bounding box only
        col = np.asarray(colour, np.float32)
        col = col[box] if col.ndim == 3 else col
        photo[box] = photo[box] * (1 - a[..., None]) + col * a[..., None]
        person[box], hair[box] = person[box] + (1 - person[box]) * a, hair[box] * (1 - a) + a * is_hair
        for p in shapes:
            if stroke == 0 and fill is not None:
                ink(p, 0, value=fill)
            if line > 0:
                ink(p, line, closed=stroke == 0)

    back = g["hair_back"] is not None  # with a back piece only the front's hairline is a visible edge
    layer([g["clothes"]], g["clothes_col"])
    if back:
        layer([g["hair_back"]], g["hair"], is_hair=True)
    layer([g["neck"]], skin * 0.8)
    if not back:
        layer(g["ears"], skin * 0.92)
    layer([g["face"]], skin)
    layer([g["hair_front"]], g["hair"], is_hair=True, line=0 if back else 1)
    if back:
        ink(g["hair_front"][40:], 1, closed=False)
    for e in g["eyes"]:
        layer([e["almond"]], skin * 0.1 + 215)
        clip = _raster([(T(e["almond"]), 0, True)], S, k)[0]
        layer([e["iris"]], g["iris"], fill=0 if style == 1 else 255, clip=clip)
        layer([e["pupil"]], (20, 20, 20), fill=0, clip=clip)
        c, r = e["c"], e["r"] + 0.01  # erase iris lines outside the eyelids, then redraw the lids
        for edge, dy in ((e["almond"][:17], -r), (e["almond"][17:], r)):
            ink(np.concatenate([edge, [[edge[-1, 0], c[1] + dy], [edge[0, 0], c[1] + dy]]]), value=255)
        ink(e["almond"], 1)
        layer([e["almond"][:17]], (40, 28, 25), stroke=1.3, line=1.3)
        layer([e["brow"]], g["hair"] * 0.8, fill=0 if style == 1 else 255)
    layer([g["bridge"]], skin * 0.78, stroke=1.0)
    layer([g["nose"]], skin * 0.86)
    layer(g["nostrils"], (70, 40, 35), fill=0)
    layer([g["upper_lip"]], g["lips_col"] * 0.85, line=0)
    layer([g["lower_lip"]], g["lips_col"], line=0)
    ink(g["lips"], 1)
    layer([g["lip_line"]], g["lips_col"] * 0.45, stroke=1.2, line=1.2)
    drawing = np.asarray(canvas.resize((S, S), Image.LANCZOS), np.float32)
    if style == 2:  # light-gray hair with dark diagonal hatching
        period = max(3.0, 3.0 * S / 128)
        hatch = ((xx + yy) % period) < max(1.0, S / 128)
        drawing = np.minimum(drawing, 255 - hair * np.where(hatch, 215.0, 45.0))
    eyes = [np.concatenate([e["brow"][17:][::-1], e["almond"][17:]]) for e in g["eyes"]]  # brow top, low lid
    dil = max(2, round(3 * S / 128))
    parts = {
        FacePart.EYE_LEFT: [(eyes[0], 0, True)],
        FacePart.EYE_RIGHT: [(eyes[1], 0, True)],
        FacePart.NOSE: [(g["nose"], 0, True), (g["bridge"], 1.0, False)],
        FacePart.MOUTH: [(g["lips"], 0, True)],
    }
    return Portrait(
        photo=np.clip(photo + 0.5, 0, 255).astype(np.uint8),
        drawing=np.clip(drawing + 0.5, 0, 255).astype(np.uint8),
        landmarks=T(g["landmarks"]).astype(np.float64),
        background_mask=np.where(person > 0.5, 255, 0).astype(np.uint8),
        part_masks={n: _mask([(T(p), w * lw, c) for p, w, c in v], S, dil) for n, v in parts.items()},
        style=style,
    )


def _save(array: np.ndarray, path: Path, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path, format="PNG")


def _write_csv(path: Path, rows: list[tuple[str, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name,style\n" + "".join(f"{name},{style}\n" for name, style in rows))


def _true_drawings(portrait: Portrait, seed: int, index: int, size: int) -> list[np.ndarray]:
    """The drawings of one portrait's face in styles 0, 1, 2 (same rng state: same face, only the style
    differs); ``portrait`` is reused for its own style."""
    return [
        portrait.drawing
        if style == portrait.style
        else render_portrait(np.random.default_rng([seed, index]), size, style).drawing
        for style in range(len(STYLE_NAMES))
    ]


def make_demo_data(
    out_dir: str | Path,
    size: int = 128,
    count: int = 240,
    seed: int = 0,
    test_fraction: float = 0.15,
    progress: bool = True,
    styles: tuple[int, ...] = (0, 1, 2),
    paired_style: int | None = 1,
) -> DemoSummary:
    """Write a deterministic demo dataset in the APDrawing (paired) and QMUPD (unpaired) layouts.

    Image ``i`` is rendered from ``np.random.default_rng([seed, i])`` with style ``styles[i % len(styles)]``
    (so it does not depend on ``count``); the last ``ceil(count * test_fraction)`` images form the test split.

    Layout under ``out_dir``::

        apdrawing/data/{train,test}/demo_XXXXX.png   RGB (2S x S): photo | drawing
        apdrawing/landmark/ALL/demo_XXXXX.txt        5 lines "x y" (integer pixels)
        apdrawing/mask/ALL/demo_XXXXX.png            "L" person mask
        apdrawing/mask/<part>/demo_XXXXX.png         "L" masks of eye_left, eye_right, nose, mouth
        apdrawing/test_single/demo_XXXXX.png         test photos (S x S RGB)
        apdrawing/styles.csv                         name,style
        unpaired/train/A/photo_XXXXX.png             photos of the first half of the training portraits
        unpaired/train/B/drawing_XXXXX.png           "L" drawings of the second half (unpaired with A)
        unpaired/train/{A,B}_{nose,eyes,lips}/...    "L" part masks (eyes = both eyes)
        unpaired/train/B_feat/drawing_XXXXX.npy      float32 (3,) soft one-hot style (0.9 / 0.05)
        unpaired/train/styles.csv                    name,style of the B drawings
        unpaired/test/A/demo_XXXXX.png               test photos
        unpaired/test/B_true/demo_XXXXX_<k>.png      the true drawing of each test photo in style k = 1, 2, 3
                                                     (``--model.styles`` numbering); for scoring only, never
                                                     read by training

    Args:
        out_dir: output root (created; files of the same name are overwritten).
        size: image side ``S``.
        count: number of portraits in total.
        seed: base seed; the same ``(seed, size, count)`` gives byte-identical files.
        test_fraction: fraction of portraits in the test split (rounded up).
        progress: show a tqdm progress bar when tqdm is installed.
        styles: drawing styles to cycle through in the unpaired layout.
        paired_style: the one style of every drawing in the APDrawing layout (like the real dataset, whose
            drawings share one artist's style, so the photo determines the drawing); ``None`` cycles ``styles``.

    Returns:
        A :class:`DemoSummary` with the roots, split sizes and elapsed seconds.
    """
    start = time.perf_counter()
    root = Path(out_dir)
    paired, unpaired = root / "apdrawing", root / "unpaired"
    n_test = min(count, max(0, math.ceil(count * test_fraction - 1e-9)))
    n_train, n_a = count - n_test, (count - n_test) // 2
    indices = range(count)
    try:
        from tqdm import tqdm
    except ImportError:
        progress = False
    indices = tqdm(indices, desc="demo portraits", unit="img") if progress else indices
    paired_styles: list[tuple[str, int]] = []
    b_styles: list[tuple[str, int]] = []  # (file name, style) rows of styles.csv
    for i in indices:
        p = render_portrait(np.random.default_rng([seed, i]), size, styles[i % len(styles)])
        pair = (
            p
            if paired_style in (None, p.style)
            else render_portrait(np.random.default_rng([seed, i]), size, paired_style)
        )
        stem = f"demo_{i:05d}"
        split = "train" if i < n_train else "test"
        drawing_rgb = np.repeat(pair.drawing[..., None], 3, axis=2)
        _save(np.concatenate([p.photo, drawing_rgb], axis=1), paired / "data" / split / f"{stem}.png", "RGB")
        lm_path = paired / "landmark" / "ALL" / f"{stem}.txt"
        lm_path.parent.mkdir(parents=True, exist_ok=True)
        lm_path.write_text("".join(f"{round(x)} {round(y)}\n" for x, y in p.landmarks))
        _save(p.background_mask, paired / "mask" / "ALL" / f"{stem}.png", "L")
        for part in BOX_PARTS:
            _save(p.part_masks[part], paired / "mask" / part.value / f"{stem}.png", "L")
        paired_styles.append((f"{stem}.png", pair.style))
        unpaired_masks = {
            region: np.maximum.reduce([p.part_masks[part] for part in parts]) for region, parts in REGIONS.items()
        }
        if split == "test":
            _save(p.photo, paired / "test_single" / f"{stem}.png", "RGB")
            _save(p.photo, unpaired / "test" / "A" / f"{stem}.png", "RGB")
            for k, truth in enumerate(_true_drawings(p, seed, i, size), start=1):
                _save(truth, unpaired / "test" / "B_true" / f"{stem}_{k}.png", "L")
            continue
        side, name, image, mode = (
            ("A", f"photo_{i:05d}", p.photo, "RGB") if i < n_a else ("B", f"drawing_{i - n_a:05d}", p.drawing, "L")
        )
        _save(image, unpaired / "train" / side / f"{name}.png", mode)
        for part, mask in unpaired_masks.items():
            _save(mask, unpaired / "train" / f"{side}_{part}" / f"{name}.png", "L")
        if side == "B":
            feat = np.full(3, 0.05, np.float32)
            feat[p.style] = 0.9
            (unpaired / "train" / "B_feat").mkdir(parents=True, exist_ok=True)
            np.save(unpaired / "train" / "B_feat" / f"{name}.npy", feat)
            b_styles.append((f"{name}.png", p.style))
    _write_csv(paired / "styles.csv", paired_styles)
    _write_csv(unpaired / "train" / "styles.csv", b_styles)
    return DemoSummary(
        root=root,
        paired_root=paired,
        unpaired_root=unpaired,
        train_count=n_train,
        test_count=n_test,
        size=int(size),
        seconds=time.perf_counter() - start,
    )
