"""``python -m apd_lightning serve --ckpt CKPT [--ckpt CKPT2 ...] [--onnx MODEL.onnx ...] [--port 8000]``."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DESCRIPTION = "Serve a local web page (and an HTTP API) that draws uploaded photos with the given models."
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEMO_NOTE = (
    "Demo models: trained for minutes on synthetic procedural faces (make demo), not on real drawings, "
    "so expect rough drawings of real photos."
)


EXAMPLES = (
    "--ckpt demo_output/checkpoints/last.ckpt --ckpt demo_output/qmupd/checkpoints/last.ckpt",
    "--ckpt fast=runs/apdrawinggan/version_0/checkpoints/last.ckpt --onnx qmupd.onnx --port 8080",
    "--ckpt weights/qmupd.ckpt --precision bf16-mixed --queue-size 8",
)


def build_parser() -> argparse.ArgumentParser:
    from ..cli import ExamplesHelpFormatter, program_name

    prog = f"{program_name()} serve"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"{DESCRIPTION} Then: curl -F photo=@me.jpg http://127.0.0.1:8000/api/draw -o drawing.png",
        epilog="examples:\n" + "\n".join(f"  {prog} {example}" for example in EXAMPLES),
        formatter_class=ExamplesHelpFormatter,
    )
    parser.add_argument(
        "--ckpt", action="append", default=[], metavar="[NAME=]PATH", help="a checkpoint to serve (repeatable)"
    )
    parser.add_argument(
        "--onnx", action="append", default=[], metavar="[NAME=]PATH", help="an exported ONNX model (repeatable)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--device", default="cpu", help="torch device of the models (default cpu)")
    parser.add_argument("--precision", default="32-true", help="32-true (default) or bf16-mixed")
    parser.add_argument("--queue-size", type=int, default=4, help="requests waiting per model before 503 (4)")
    parser.add_argument("--max-upload-mb", type=float, default=20, help="largest photo file in MB (default 20)")
    parser.add_argument("--max-megapixels", type=float, default=50, help="largest decoded photo (default 50)")
    parser.add_argument("--max-connections", type=int, default=64, help="open connections before 503 (64)")
    parser.add_argument("--note", default="", help="a sentence the page shows under its title")
    parser.add_argument("--demo", action="store_true", help="say on the page that these are `make demo` models")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    return parser


def model_names(paths: Sequence[tuple[str | None, str]], kinds: Sequence[str]) -> list[str]:
    """Names of the served models: the given ``NAME=`` or the model kind, numbered when a name repeats."""
    names: list[str] = []
    for (given, _), kind in zip(paths, kinds, strict=True):
        name, k = given or kind, 2
        while name in names:
            name, k = f"{given or kind}-{k}", k + 1
        names.append(name)
    return names


def _split(value: str) -> tuple[str | None, str]:
    name, sep, path = value.partition("=")
    if sep and name and "/" not in name and "\\" not in name and not Path(value).exists():
        return name, path
    return None, value


def load_drawers(args: argparse.Namespace) -> dict[str, Any]:
    """Load every ``--ckpt`` and ``--onnx`` once (model and face tools), in the order given."""
    from ..draw import Drawer

    sources = [(*_split(v), "ckpt") for v in args.ckpt] + [(*_split(v), "onnx") for v in args.onnx]
    drawers = []
    for _, path, kind in sources:
        print(f"loading {path} ...", flush=True)
        drawers.append(
            Drawer(
                **{kind: path},
                device=args.device,
                precision=args.precision,
                max_pixels=int(args.max_megapixels * 1e6),
            )
        )
    names = model_names([(n, p) for n, p, _ in sources], [d.kind for d in drawers])
    return dict(zip(names, drawers, strict=True))


def cpu_lacks_bf16() -> bool:
    """True when /proc/cpuinfo (Linux) shows neither AVX512-BF16 nor AMX: torch then runs bf16 convolutions in
    its slow reference kernels (measured: minutes instead of seconds for a 512² APDrawingGAN drawing)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" not in flags and "amx_bf16" not in flags


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port`` (port 0: a free port)."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a host name such as localhost
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def main(argv: Sequence[str]) -> int:
    """Entry point of ``serve``; returns the exit status (1: bad arguments, a model or the port failed)."""
    args = build_parser().parse_args(argv)
    if not args.ckpt and not args.onnx:
        print("error: give at least one model: --ckpt CKPT or --onnx MODEL.onnx", file=sys.stderr)
        return 1
    try:
        import uvicorn

        from .app import ServeSettings, create_app
    except ImportError as missing:
        print(
            f"error: {missing.name} is missing; install the extra: pip install 'apd_lightning[serve]'", file=sys.stderr
        )
        return 1
    from ..draw import DrawError

    if args.precision == "bf16-mixed" and args.device == "cpu" and cpu_lacks_bf16():
        print("warning: this CPU has no AVX512-BF16 or AMX, so bf16-mixed is far slower than 32-true here", flush=True)
    try:
        drawers = load_drawers(args)
    except (DrawError, OSError, ValueError, RuntimeError) as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    try:
        sock = bind(args.host, args.port)
    except OSError as failed:
        print(f"error: cannot listen on {args.host}:{args.port} ({failed.strerror}); try --port", file=sys.stderr)
        return 1
    settings = ServeSettings(
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_pixels=int(args.max_megapixels * 1e6),
        queue_size=args.queue_size,
        note=" ".join(filter(None, [DEMO_NOTE if args.demo else "", args.note])),
    )
    app = create_app(drawers, settings)
    config = uvicorn.Config(app, log_level=args.log_level, limit_concurrency=args.max_connections)
    host, port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    print(f"serving {', '.join(drawers)} on http://{url_host}:{port}/  (API docs: /docs; Ctrl+C stops)", flush=True)
    if args.host not in LOOPBACK:
        print("warning: listening beyond this machine; anyone who can reach it can use the models", flush=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises Ctrl+C
        print("stopped", flush=True)
    finally:
        for drawer in drawers.values():
            getattr(drawer, "close", lambda: None)()
    return 0
