"""Command line: LightningCLI subcommands (fit / validate / test / predict) plus the project's own tools.

``apd-lightning --help`` (or ``python -m apd_lightning --help``) lists every command; ``<command> --help`` its
options and an example. ``fit`` writes each run into ``<default_root_dir>/<run name>/<version>/`` (see
:mod:`apd_lightning.runs`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

#: Extra subcommands: name -> ``"module:function"`` or ``("module:function", "one-line description")``. The
#: function takes ``argv``; it is imported only when used (to start fast). Without a description, ``--help``
#: shows the first line of the function's docstring.
EXTRA_COMMANDS: dict[str, str | tuple[str, str]] = {
    "make-demo-data": ("apd_lightning.cli:make_demo_data_main", "render procedural portraits with their drawings"),
    "make-sheet": ("apd_lightning.cli:make_sheet_main", "build a photo | drawing contact sheet"),
    "evaluate": ("apd_lightning.metrics.evaluate:main", "FID, KID, LPIPS and quality of a folder of drawings"),
    "preprocess": ("apd_lightning.faces.cli:main", "align your photos and write landmarks and masks"),
    "make-rated-set": ("apd_lightning.data.ratings:make_rated_set_main", "synthetic ratings for the quality net"),
    "convert-weights": ("apd_lightning.convert:main", "convert the authors' released weights to checkpoints"),
    "draw": ("apd_lightning.draw.cli:main", "draw the faces of any photos with a checkpoint or ONNX model"),
    "export": ("apd_lightning.draw.export:main", "export a checkpoint's drawing generator to ONNX"),
    "serve": ("apd_lightning.serve.cli:main", "serve a local web page (and HTTP API): photo in, drawing out"),
}
#: LightningCLI subcommands and their one-line descriptions.
TRAINER_COMMANDS: dict[str, str] = {
    "fit": "train a model (a new run folder per fit; --ckpt_path last resumes)",
    "validate": "validation metrics of a checkpoint",
    "test": "test metrics of a checkpoint",
    "predict": "draw photos with a checkpoint (PNG files)",
}
EXAMPLES = (
    "make-demo-data demo_output/data",
    "fit -c configs/apdrawinggan.yaml -c configs/demo/apdrawinggan.yaml",
    "fit -c configs/apdrawinggan.yaml --data.root datasets/APDrawingDB --ckpt_path last",
    "predict -c configs/apdrawinggan.yaml --ckpt_path last --data.predict_dir my_photos/",
)


def program_name() -> str:
    """``apd-lightning`` when run as the installed script, else ``python -m apd_lightning``."""
    return "apd-lightning" if os.path.basename(sys.argv[0]) == "apd-lightning" else "python -m apd_lightning"


def command_target(name: str) -> str:
    """The ``"module:function"`` of an extra command."""
    entry = EXTRA_COMMANDS[name]
    return entry if isinstance(entry, str) else entry[0]


def command_description(name: str) -> str:
    """One line about a command: the registry's description, else its function's (or module's) docstring."""
    if name in TRAINER_COMMANDS:
        return TRAINER_COMMANDS[name]
    entry = EXTRA_COMMANDS[name]
    if not isinstance(entry, str):
        return entry[1]
    module, _, function = entry.partition(":")
    try:
        loaded = importlib.import_module(module)
        doc = getattr(loaded, function).__doc__ or loaded.__doc__ or ""
    except Exception as error:  # noqa: BLE001 - help must list the command even if its module fails to import
        return f"(cannot import {module}: {type(error).__name__})"
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


def help_text() -> str:
    """The top-level ``--help``: usage, every registered command with one line, examples."""
    prog = program_name()
    width = max(len(name) for name in [*TRAINER_COMMANDS, *EXTRA_COMMANDS]) + 2
    lines = [
        f"usage: {prog} <command> [options]",
        "",
        "APDrawingGAN and QMUPD portrait-drawing GANs (PyTorch Lightning).",
        "",
        "training and drawing (LightningCLI: `-c CONFIG.yaml`, `--print_config`, any `--key value`):",
        *(f"  {name:<{width}}{command_description(name)}" for name in TRAINER_COMMANDS),
        "",
        "tools:",
        *(f"  {name:<{width}}{command_description(name)}" for name in EXTRA_COMMANDS),
        "",
        "examples:",
        *(f"  {prog} {example}" for example in EXAMPLES),
        f"  {prog} <command> --help        options of one command",
    ]
    return "\n".join(lines)


class ExamplesHelpFormatter(argparse.HelpFormatter):
    """``--help`` formatter that wraps one-paragraph texts (the description) and keeps texts with line breaks
    (the examples epilog) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _load(target: str) -> Callable[[Sequence[str]], int | None]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def _tool_parser(name: str, description: str, examples: Sequence[str]) -> argparse.ArgumentParser:
    prog = program_name()
    return argparse.ArgumentParser(
        prog=f"{prog} {name}",
        description=description,
        epilog="examples:\n" + "\n".join(f"  {prog} {name} {example}" for example in examples),
        formatter_class=ExamplesHelpFormatter,
    )


def make_demo_data_main(argv: Sequence[str]) -> int:
    """``make-demo-data OUT_DIR [--size N] [--count N] [--seed S]``."""
    from .data.demo import make_demo_data

    parser = _tool_parser(
        "make-demo-data",
        "Render procedural portraits in the APDrawing and unpaired layouts.",
        ["demo_output/data", "my_demo --size 256 --count 500 --seed 1"],
    )
    parser.add_argument("out_dir", help="output folder (OUT_DIR/apdrawing and OUT_DIR/unpaired are written)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--count", type=int, default=240, help="number of portraits (default 240)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--test-fraction", type=float, default=0.15, help="held-out share (default 0.15)")
    args = parser.parse_args(argv)
    summary = make_demo_data(
        args.out_dir, size=args.size, count=args.count, seed=args.seed, test_fraction=args.test_fraction
    )
    print(
        f"wrote {summary.train_count} train + {summary.test_count} test portraits at {summary.size} px in "
        f"{summary.seconds:.1f} s\n  paired (APDrawing layout): {summary.paired_root}\n"
        f"  unpaired (QMUPD layout):   {summary.unpaired_root}"
    )
    return 0


def make_sheet_main(argv: Sequence[str]) -> int:
    """``make-sheet --photos DIR --drawings DIR --out FILE``: photo | drawing contact sheet."""
    from .data.sheet import contact_sheet

    parser = _tool_parser(
        "make-sheet",
        "Build a side-by-side sheet of photos and their drawings.",
        ["--photos demo_output/data/apdrawing/test_single --drawings demo_output/drawings --out sheet.png"],
    )
    parser.add_argument("--photos", required=True, help="folder of photos")
    parser.add_argument("--drawings", required=True, help="folder of drawings named like the photos")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--max-rows", type=int, default=8, help="rows (photo | drawing pairs) at most")
    parser.add_argument("--columns", type=int, default=2, help="pairs per row")
    args = parser.parse_args(argv)
    path = contact_sheet(args.photos, args.drawings, args.out, args.max_rows, args.columns)
    print(f"sheet: {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m apd_lightning`` and the ``apd-lightning`` script."""
    from .runtime import keep_freed_memory

    keep_freed_memory()
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in EXTRA_COMMANDS:
        return int(_load(command_target(words[0]))(words[1:]) or 0)
    if words and not words[0].startswith("-") and words[0] not in TRAINER_COMMANDS:
        known = ", ".join([*TRAINER_COMMANDS, *EXTRA_COMMANDS])
        print(f"unknown command {words[0]!r}; choose one of: {known}", file=sys.stderr)
        return 2
    if not words or words[0] in ("-h", "--help"):
        print(help_text(), file=sys.stdout if words else sys.stderr)
        return 0 if words else 2
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from .trainer_cli import run_trainer_command

    try:
        run_trainer_command(None if argv is None else words, program_name())
    except SIGTERMException:  # pre-empted (checkpoint saved): 128 + SIGTERM tells the scheduler to restart the job
        return 143
    return 0
