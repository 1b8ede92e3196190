"""Convert the authors' released weights into files this package loads.

    python -m apd_lightning convert-weights --kind apdrawinggan 300_net_gen.pt [300_net_dis.pt] --out apd.ckpt
    python -m apd_lightning convert-weights --kind qmupd 200_net_G_A.pth [200_net_G_B.pth ...] --out qmupd.ckpt
    python -m apd_lightning convert-weights --kind hed network-bsds500.pytorch --out hed.pth
    python -m apd_lightning convert-weights --kind lpips alex.pth --out lpips_alex.pth

``apdrawinggan`` / ``upd`` / ``qmupd`` write a Lightning checkpoint for ``predict --ckpt_path`` (weights and
metadata only: no optimizer or loop state, so it cannot resume ``fit``); nets without a source file (e.g. the
discriminators when no ``_net_dis.pt`` is given) are freshly initialised with seed 0 and listed in the metadata.
``hed`` / ``lpips`` write a plain state dict for ``model.hed_path`` / ``model.lpips_path``.

Every key is mapped explicitly in both directions (:func:`to_official` undoes :func:`convert_state`), and a missing,
unexpected or wrongly shaped tensor is an error listing all of them. Files are read with
``torch.load(weights_only=True)``: nothing in them is ever executed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import torch
from torch import Tensor, nn

from .ops.face_parts import BOX_PARTS, FacePart
from .weights import MissingWeightsError, listing, state_dict_problems

KINDS = ("apdrawinggan", "upd", "qmupd", "hed", "lpips")
#: Top-level checkpoint key holding what was converted and which config the weights fit.
METADATA_KEY = "apd_lightning_conversion"
#: Our face parts -> the released part net names (generators GL<name>, discriminators DL<name>).
_APD_PARTS = {
    FacePart.EYE_LEFT: "Eyel",
    FacePart.EYE_RIGHT: "Eyer",
    FacePart.NOSE: "Nose",
    FacePart.MOUTH: "Mouth",
    FacePart.HAIR: "Hair",
    FacePart.BACKGROUND: "BG",
}


class ConversionError(ValueError):
    """A file does not hold the official weights it should; the message lists every problem found."""


@dataclass(frozen=True)
class SourceFile:
    """One released file: its role, how it is recognised and which part of our checkpoint it fills."""

    role: str
    suffix: str  # file names end with this (before .pt / .pth), e.g. "net_gen"
    what: str
    nested: bool = False  # a dict of state dicts keyed by net name (APDrawingGAN's *_net_gen.pt / *_net_dis.pt)
    required: bool = False


@dataclass
class Layout:
    """Our checkpoint keys and shapes, and where each key lives in the official files.

    Attributes:
        kind: one of :data:`KINDS`.
        files: the official files this layout reads.
        key_map: our key -> (file role, official key; ``"<net>.<key>"`` in nested files).
        shapes: our key -> shape.
        fresh: file role -> a function returning freshly initialised tensors for that role's keys.
        fits: which config the weights fit (recorded in the checkpoint metadata; empty for hed / lpips).
    """

    kind: str
    files: tuple[SourceFile, ...]
    key_map: dict[str, tuple[str, str]]
    shapes: dict[str, torch.Size]
    fresh: dict[str, Callable[[], dict[str, Tensor]]]
    fits: dict

    def file(self, role: str) -> SourceFile:
        return next(f for f in self.files if f.role == role)

    def official_shapes(self, role: str) -> dict[str, torch.Size]:
        return {official: self.shapes[ours] for ours, (r, official) in self.key_map.items() if r == role}


# ---- explicit key maps --------------------------------------------------------------------------------------------
def unet_layers(num_downs: int) -> dict[str, str]:
    """Layer paths of our :class:`~apd_lightning.nets.unet.UNetGenerator` -> the original's pix2pix nesting.

    Level ``i`` (0 = outermost) is ``model.`` + ``submodule.`` × i with ``down`` / ``up`` Sequentials here, and the
    Sequential ``model.model`` + ``.1.model`` + ``.3.model`` × (i − 1) there, holding
    ``[LeakyReLU, down-conv, norm, submodule, ReLU, up-conv, norm, (Dropout)]`` (outermost:
    ``[down-conv, submodule, ReLU, up-conv, Tanh]``; innermost: ``[LeakyReLU, down-conv, ReLU, up-conv, norm]``).
    """
    layers = {}
    for level in range(num_downs):
        ours = "model." + "submodule." * level
        official = "model.model." + ("1.model." if level else "") + "3.model." * max(level - 1, 0)
        if level == 0:
            pairs = {"down.0": "0", "up.1": "3"}
        elif level == num_downs - 1:
            pairs = {"down.1": "1", "up.1": "3", "up.2": "4"}
        else:
            pairs = {"down.1": "1", "down.2": "2", "up.1": "5", "up.2": "6"}
        layers.update({ours + a: official + b for a, b in pairs.items()})
    return layers


def _key_map(shapes: Mapping[str, torch.Size], nets: Mapping[str, tuple[str, str, Mapping[str, str] | None]]):
    """Expand per-net layer maps to every key. ``nets``: our prefix -> (file role, official net name or "",
    layer map or ``None`` when the official net keeps our Sequential indices)."""
    key_map = {}
    for key in shapes:
        prefix = next((p for p in nets if key.startswith(p)), None)
        if prefix is None:
            raise RuntimeError(f"internal: checkpoint key {key!r} belongs to no official net")
        role, net, layers = nets[prefix]
        module, name = key[len(prefix) :].rsplit(".", 1)
        if layers is not None:
            if module not in layers:
                raise RuntimeError(f"internal: layer {prefix}{module} has no official name")
            module = layers[module]
        key_map[key] = (role, f"{net}.{module}.{name}" if net else f"{module}.{name}")
    return key_map


def _meta_shapes(**nets: nn.Module) -> dict[str, torch.Size]:
    return {k: v.shape for k, v in nn.ModuleDict(nets).state_dict().items()}


def _fresh(prefix: str, build: Callable[[], nn.Module]) -> Callable[[], dict[str, Tensor]]:
    """Freshly initialised weights (seed 0) of a net whose keys start with ``prefix``."""

    def make() -> dict[str, Tensor]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return {prefix + k: v for k, v in build().state_dict().items()}

    return make


# ---- layouts ------------------------------------------------------------------------------------------------------
def apdrawinggan_layout(
    global_channels: int = 64, part_channels: int = 64, fusion_channels: int = 64, discriminator_channels: int = 64
) -> Layout:
    """APDrawingGAN at 512 px (8-level global U-Net, paper part boxes); the released files use widths 64."""
    from .nets.hierarchical import APDrawingDiscriminators, HierarchicalGenerator

    generator_args = dict(
        image_size=512,
        global_channels=global_channels,
        part_channels=part_channels,
        fusion_channels=fusion_channels,
        norm_layer="batch",
    )
    discriminator_args = dict(
        image_size=512, base_channels=discriminator_channels, num_layers=3, local_num_layers=3, norm_layer="batch"
    )
    with torch.device("meta"):
        shapes = _meta_shapes(
            generator=HierarchicalGenerator(**generator_args),
            discriminators=APDrawingDiscriminators(**discriminator_args),
        )
    nets: dict[str, tuple[str, str, Mapping[str, str] | None]] = {
        "generator.global_net.": ("gen", "G", unet_layers(8)),
        "generator.fusion.": ("gen", "GCombine", None),
        "discriminators.global_net.": ("dis", "D", None),
    }
    for part, net in _APD_PARTS.items():
        levels = 3 if part in BOX_PARTS else 4
        nets[f"generator.part_nets.{part.value}."] = ("gen", f"GL{net}", unet_layers(levels))
        nets[f"discriminators.local_nets.{part.value}."] = ("dis", f"DL{net}", None)
    files = (
        SourceFile("gen", "net_gen", "APDrawingGAN generators (G, GLEyel, ..., GCombine)", True, True),
        SourceFile("dis", "net_dis", "APDrawingGAN discriminators (D, DLEyel, ..., DLBG)", True),
    )
    fits = {
        "config": "configs/apdrawinggan.yaml",
        "data.init_args.image_size": 512,
        "model.init_args.generator.init_args": generator_args,
        "model.init_args.discriminators.init_args": discriminator_args,
        "note": "the authors ran BatchNorm and dropout in training mode at test time: predict with "
        "--model.inference_norm train to draw as they did",
    }
    fresh = {"dis": _fresh("discriminators.", lambda: APDrawingDiscriminators(**discriminator_args))}
    return Layout("apdrawinggan", files, _key_map(shapes, nets), shapes, fresh, fits)


def qmupd_layout(kind: str = "qmupd", base_channels: int = 64, num_blocks: int = 9) -> Layout:
    """UPD / QMUPD at 512 px (the style head's 16×16 kernel); our nets keep the official Sequential indices."""
    from .nets.qmupd_discriminators import QMUPDDiscriminators
    from .nets.resnet import ResnetGenerator, StyleGenerator

    g_args = dict(
        in_channels=3,
        out_channels=1,
        base_channels=base_channels,
        num_blocks=num_blocks,
        style_dim=3,
        norm_layer="instance",
    )
    f_args = dict(
        in_channels=1, out_channels=3, base_channels=base_channels, num_blocks=num_blocks, norm_layer="instance"
    )
    d_args = dict(
        image_size=512,
        base_channels=base_channels,
        num_layers=3,
        num_styles=3,
        class_head="conv",
        norm_layer="instance",
    )
    with torch.device("meta"):
        shapes = _meta_shapes(
            generator=StyleGenerator(**g_args),
            reverse_generator=ResnetGenerator(**f_args),
            discriminators=QMUPDDiscriminators(**d_args),
        )
    nets = {
        "generator.": ("G_A", "", None),
        "reverse_generator.": ("G_B", "", None),
        "discriminators.drawing.": ("D_A", "", None),
        "discriminators.photo.": ("D_B", "", None),
        "discriminators.local.nose.": ("D_ln", "", None),
        "discriminators.local.eyes.": ("D_le", "", None),
        "discriminators.local.lips.": ("D_ll", "", None),
    }
    names = {
        "G_A": "style generator photo→drawing",
        "G_B": "reverse generator drawing→photo",
        "D_A": "drawing discriminator",
        "D_B": "photo discriminator",
        "D_ln": "nose discriminator",
        "D_le": "eyes discriminator",
        "D_ll": "lips discriminator",
    }
    files = tuple(
        SourceFile(role, f"net_{role}", f"{kind.upper()} {what}", required=role == "G_A")
        for role, what in names.items()
    )
    fresh = {"G_B": _fresh("reverse_generator.", lambda: ResnetGenerator(**f_args))}
    for role, sub in (
        ("D_A", "drawing"),
        ("D_B", "photo"),
        ("D_ln", "local.nose"),
        ("D_le", "local.eyes"),
        ("D_ll", "local.lips"),
    ):
        fresh[role] = _fresh(f"discriminators.{sub}.", lambda sub=sub: QMUPDDiscriminators(**d_args).get_submodule(sub))
    fits = {
        "config": f"configs/{kind}.yaml",
        "data.init_args.image_size": 512,
        "model.init_args.generator.init_args": g_args,
        "model.init_args.reverse_generator.init_args": f_args,
        "model.init_args.discriminators.init_args": d_args,
    }
    return Layout(kind, files, _key_map(shapes, nets), shapes, fresh, fits)


def hed_layout(prefix: str = "net") -> Layout:
    """sniklaus HED (``network-bsds500.pytorch``); ``prefix`` is ``net`` (current) or ``module`` (older files)."""
    from .nets.hed import HED, SNIKLAUS_LAYERS

    with torch.device("meta"):
        shapes = _meta_shapes(hed=HED())
    shapes = {k.removeprefix("hed."): v for k, v in shapes.items()}
    layers = {ours: prefix + official for ours, official in SNIKLAUS_LAYERS.items()}
    files = (SourceFile("hed", "bsds500", f"HED BSDS500 ({prefix}Vgg* names)", required=True),)
    return Layout("hed", files, _key_map(shapes, {"": ("hed", "", layers)}), shapes, {}, {})


def lpips_layout() -> Layout:
    """LPIPS v0.1 AlexNet linear layers; the official ``lin<k>.model.1.weight`` names are torchmetrics' own."""
    from .nets.pretrained import lpips_linear_shapes

    official = [f"lin{k}.model.1.weight" for k in range(5)]
    shapes = lpips_linear_shapes()
    if set(official) != set(shapes):
        raise RuntimeError("internal: torchmetrics' LPIPS no longer names its linear layers lin<k>.model.1")
    shapes = {k: shapes[k] for k in official}
    files = (SourceFile("lpips", "alex", "LPIPS v0.1 AlexNet linear layers", required=True),)
    return Layout("lpips", files, {k: ("lpips", k) for k in official}, shapes, {}, {})


def layout_for(kind: str) -> Layout:
    """The layout of the released files of ``kind`` (paper widths)."""
    if kind == "apdrawinggan":
        return apdrawinggan_layout()
    if kind in ("upd", "qmupd"):
        return qmupd_layout(kind)
    if kind == "hed":
        return hed_layout()
    if kind == "lpips":
        return lpips_layout()
    raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")


# ---- reading and checking -----------------------------------------------------------------------------------------
def read_weights(path: str | os.PathLike) -> Mapping:
    """``torch.load(path, weights_only=True)`` on CPU, with errors that say what is wrong with the file.

    Raises:
        MissingWeightsError: no such file.
        ConversionError: the file is not a ``torch.save`` dict, or it refers to Python code (never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(f"weights file not found: {path}")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if match := re.search(r"Unsupported global: GLOBAL (\S+)", str(error)):
            raise ConversionError(
                f"{path} refers to Python code or objects ({match[1]}), which a weights file "
                "must not; it was refused unread (weights_only=True) and nothing in it ran"
            ) from None
        raise ConversionError(
            f"{path} is not a PyTorch weights file written by torch.save (the weights-only "
            "reader rejected its contents)"
        ) from None
    except Exception as error:  # any other failure to parse means the same: not a torch.save file
        reason = str(error).splitlines()[0][:120] if str(error) else "truncated or empty"
        raise ConversionError(
            f"{path} is not a PyTorch weights file written by torch.save ({type(error).__name__}: {reason})"
        ) from None
    if not isinstance(content, Mapping):
        raise ConversionError(f"{path} holds a {type(content).__name__}, not a dict of tensors")
    return content


def flatten_official(content: Mapping, nested: bool, source: str = "") -> dict[str, object]:
    """One flat dict per file: nested files (``{net: state_dict}``) become ``{"<net>.<key>": tensor}``."""
    if not nested:
        return {str(k): v for k, v in content.items()}
    if bad := [f"{net} ({type(state).__name__})" for net, state in content.items() if not isinstance(state, Mapping)]:
        raise ConversionError(
            f"{source or 'the file'} should map net names to state dicts; not state dicts: {', '.join(bad)}"
        )
    return {f"{net}.{k}": v for net, state in content.items() for k, v in state.items()}


def check_official(layout: Layout, role: str, flat: Mapping[str, object], source: str = "") -> list[str]:
    """Every problem of one file against its official layout (empty when it matches exactly)."""
    file = layout.file(role)
    expected = layout.official_shapes(role)
    given, lines = flat, []
    if file.nested:  # whole nets that are absent or foreign first, then single tensors
        expected_nets = Counter(k.split(".", 1)[0] for k in expected)
        given_nets = Counter(k.split(".", 1)[0] for k in flat)
        absent, foreign = sorted(expected_nets - given_nets.keys()), sorted(given_nets - expected_nets.keys())
        if absent:
            lines.append(listing("missing nets", [f"{n} ({expected_nets[n]} tensors)" for n in absent]))
        if foreign:
            lines.append(listing("unexpected nets", [f"{n} ({given_nets[n]} tensors)" for n in foreign]))
        expected = {k: v for k, v in expected.items() if k.split(".", 1)[0] not in absent}
        given = {k: v for k, v in flat.items() if k.split(".", 1)[0] not in foreign}
    lines += state_dict_problems(expected, given)
    if not lines:
        return []
    if flat and all(k.startswith("module.") or ".module." in k for k in flat):
        lines.append("  (the keys carry a DataParallel 'module.' prefix, which the released files do not have)")
    return [f"{source or role} does not match the official {file.what} layout:", *lines]


# ---- converting ---------------------------------------------------------------------------------------------------
def convert_state(
    layout: Layout, official: Mapping[str, Mapping[str, object]], sources: Mapping[str, str] | None = None
) -> tuple[dict[str, Tensor], list[str]]:
    """Official state dicts -> our checkpoint ``state_dict``; tensors are passed on unchanged (bit for bit).

    Args:
        layout: from :func:`layout_for` (or a layout function at test widths).
        official: file role -> its flat state dict (:func:`flatten_official` for nested files).
        sources: file role -> a name for messages (the path).

    Returns:
        Our state dict (keys in checkpoint order) and the roles that had no file and were freshly initialised.

    Raises:
        ConversionError: a required file is absent, or any file has missing / unexpected / wrongly shaped keys.
    """
    roles = [f.role for f in layout.files]
    if unknown := [r for r in official if r not in roles]:
        raise ValueError(f"unknown file roles {unknown}; {layout.kind} reads {roles}")
    problems = [
        f"no {f.what} file given (its name ends in {f.suffix}.pt or .pth)"
        for f in layout.files
        if f.required and f.role not in official
    ]
    for role, flat in official.items():
        problems += check_official(layout, role, flat, (sources or {}).get(role, ""))
    if problems:
        raise ConversionError("\n".join(problems))
    fresh_roles = [r for r in roles if r not in official]
    pending = {}
    for role in fresh_roles:
        pending.update(layout.fresh[role]())
    state = {}
    for ours, (role, key) in layout.key_map.items():
        state[ours] = official[role][key] if role in official else pending.pop(ours)
    if pending:
        raise RuntimeError(f"internal: freshly initialised keys outside the layout: {sorted(pending)[:5]}")
    return state, fresh_roles


def to_official(layout: Layout, state: Mapping[str, Tensor]) -> dict[str, dict]:
    """Inverse of :func:`convert_state`: file role -> official state dict (``{net: state_dict}`` when nested)."""
    missing = [k for k in layout.key_map if k not in state]
    unexpected = [k for k in state if k not in layout.key_map]
    if missing or unexpected:
        lines = [listing(label, keys) for label, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise ConversionError("\n".join([f"state dict does not match the {layout.kind} layout:", *lines]))
    out: dict[str, dict] = {}
    for ours, (role, key) in layout.key_map.items():
        if layout.file(role).nested:
            net, key = key.split(".", 1)
            out.setdefault(role, {}).setdefault(net, {})[key] = state[ours]
        else:
            out.setdefault(role, {})[key] = state[ours]
    return out


def assign_roles(layout: Layout, sources: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike]):
    """File role -> path, from ``ROLE=PATH`` arguments or the released file names (``300_net_gen.pt``)."""
    if isinstance(sources, Mapping):
        return {role: Path(path) for role, path in sources.items()}
    roles = {f.role: f for f in layout.files}
    assigned: dict[str, Path] = {}
    for source in map(str, sources):
        role, _, rest = source.partition("=")
        if role in roles and rest:
            path = Path(rest)
        elif len(layout.files) == 1:
            role, path = layout.files[0].role, Path(source)
        else:
            path = Path(source)
            role = next(
                (
                    f.role
                    for f in layout.files
                    if re.fullmatch(rf"(?:.*_)?{re.escape(f.suffix)}\.(?:pt|pth)", path.name)
                ),
                "",
            )
            if not role:
                names = ", ".join(f"*_{f.suffix}.pt(h)" for f in layout.files)
                raise ConversionError(
                    f"cannot tell which {layout.kind} file {source} is: the released names end in "
                    f"{names}; or pass ROLE=PATH with ROLE one of {', '.join(roles)}"
                )
        if role in assigned:
            raise ConversionError(f"two files for {role}: {assigned[role]} and {path}")
        assigned[role] = path
    return assigned


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_files(kind: str, sources: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike]):
    """Read, check and rename released files: returns (our state dict, metadata for the checkpoint)."""
    from . import __version__

    layout = layout_for(kind)
    paths = assign_roles(layout, sources)
    official = {}
    for role, path in paths.items():
        content = read_weights(path)
        if kind == "hed" and any(str(k).startswith("moduleVgg") for k in content):
            layout = hed_layout("module")
        official[role] = flatten_official(content, layout.file(role).nested, str(path))
    state, fresh = convert_state(layout, official, {r: str(p) for r, p in paths.items()})
    metadata = {
        "kind": kind,
        "converter": f"apd_lightning {__version__}",
        "fits": layout.fits,
        "sources": {r: {"file": p.name, "sha256": _sha256(p)} for r, p in paths.items()},
        "freshly_initialised": {r: layout.file(r).what for r in fresh},
    }
    return state, metadata


def save_converted(
    kind: str, state: Mapping[str, Tensor], metadata: Mapping, out: str | os.PathLike, overwrite: bool = False
) -> Path:
    """Write a Lightning checkpoint (``apdrawinggan`` / ``upd`` / ``qmupd``) or a plain state dict (``hed`` /
    ``lpips``, whose loaders take one; torchmetrics reads LPIPS files non-strictly, so no extra keys there)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    if kind in ("hed", "lpips"):
        payload: dict = dict(state)
    else:  # what Trainer.predict / validate / test need: state_dict and a version; no hyper_parameters, so that
        # LightningCLI keeps the config's and the command line's model arguments (it would override them)
        payload = {
            "state_dict": dict(state),
            "epoch": 0,
            "global_step": 0,
            "pytorch-lightning_version": version("lightning"),
            METADATA_KEY: dict(metadata),
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    torch.save(payload, partial)
    os.replace(partial, out)
    return out


# ---- command line -------------------------------------------------------------------------------------------------
_USE = {
    "apdrawinggan": "python -m apd_lightning predict -c configs/apdrawinggan.yaml --ckpt_path {out} --data.root DIR "
    "--model.inference_norm train",
    "upd": "python -m apd_lightning predict -c configs/upd.yaml --ckpt_path {out} --data.root DIR",
    "qmupd": "python -m apd_lightning predict -c configs/qmupd.yaml --ckpt_path {out} --data.root DIR",
    "hed": "--model.hed_path {out}",
    "lpips": "--model.lpips_path {out}",
}


def main(argv: Sequence[str] | None = None) -> int:
    """``convert-weights --kind KIND SRC... --out OUT [--overwrite]``."""
    parser = argparse.ArgumentParser(
        prog="python -m apd_lightning convert-weights",
        description="Convert the authors' released weights (read with weights_only=True) into a checkpoint for "
        "`predict --ckpt_path` (apdrawinggan, upd, qmupd) or a state dict (hed, lpips).",
        epilog="examples:\n  convert-weights --kind apdrawinggan 300_net_gen.pt 300_net_dis.pt --out apd.ckpt\n"
        "  convert-weights --kind qmupd 200_net_G_A.pth 200_net_G_B.pth --out qmupd.ckpt\n"
        "  convert-weights --kind hed network-bsds500.pytorch --out hed.pth",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kind", required=True, choices=KINDS, help="which released weights")
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SRC",
        help="released files, recognised by name (*_net_gen.pt, *_net_G_A.pth, ...) or ROLE=PATH",
    )
    parser.add_argument("--out", required=True, help="file to write (.ckpt for models, .pth for hed / lpips)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if Path(args.out).exists() and not args.overwrite:  # before reading hundreds of MB
            raise FileExistsError(f"{args.out} exists; pass --overwrite to replace it")
        state, metadata = convert_files(args.kind, args.sources)
        out = save_converted(args.kind, state, metadata, args.out, args.overwrite)
    except (ConversionError, FileNotFoundError, FileExistsError) as error:
        print(f"convert-weights: error: {error}", file=sys.stderr)
        return 1
    sources = ", ".join(s["file"] for s in metadata["sources"].values())
    print(
        f"converted {sources} -> {out} ({len(state)} tensors, {out.stat().st_size / 2**20:.1f} MiB) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    for role, what in metadata["freshly_initialised"].items():
        print(f"  no {role} file: {what} freshly initialised (seed 0)")
    if config := metadata["fits"].get("config"):
        print(f"  fits {config} at image_size 512 with the paper widths")
    print("  use: " + _USE[args.kind].format(out=out))
    return 0
