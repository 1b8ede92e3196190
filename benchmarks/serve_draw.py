"""``serve_draw`` rows: latency of ``POST /api/draw`` for one 1-megapixel JPEG portrait, as a client sees it.

    python benchmarks/serve_draw.py [--json OUT] [--models apdrawinggan,qmupd] [--sizes demo,paper]
        [--precisions 32-true,bf16-mixed] [--serial 10] [--per-client 5]

For every model kind, size and precision, ``python -m apd_lightning serve`` runs in a child process on a free
localhost port with a checkpoint of random weights: ``demo`` = the widths and image size of
``configs/demo/<model>.yaml`` (what ``make demo`` trains), ``paper`` = ``configs/<model>.yaml`` (512 px, full
widths). After 2 warm-up requests, ``clients: 1`` sends ``--serial`` requests one after another and
``clients: 4`` has 4 clients send ``--per-client`` requests each at the same time (the model draws one at a time,
so the queue wait is part of their latency). Rows give p50 / p95 / mean wall seconds per request and the server
process's CPU seconds (user + sys) per request, the steadier figure on a shared machine. QMUPD draws style 1.
On a CPU without AVX512-BF16 or AMX, torch runs bf16 convolutions in its slow reference kernels (minutes per
512² drawing), so bf16-mixed rows are skipped there unless ``--allow-slow-bf16``. A configuration that fails
gives an ``error`` row and the others still run.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from helpers import REPO, instantiate, load_config

CONFIGS = {"apdrawinggan": "apdrawinggan", "qmupd": "qmupd"}
CLIENTS = 4


def portrait_jpeg(width: int = 1120, height: int = 896) -> bytes:
    """scikit-image's astronaut padded to 5:4 and resized to 1120 × 896 (1.0 megapixel), JPEG quality 90."""
    from PIL import Image
    from skimage.data import astronaut

    photo = np.pad(astronaut(), ((0, 0), (64, 64), (0, 0)), mode="edge")
    buffer = io.BytesIO()
    Image.fromarray(photo).resize((width, height), Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def generator_node(model: str, size: str) -> tuple[dict[str, Any], int]:
    """The generator's config node (paper widths, or the demo overlay's) and the model's image size."""
    config = load_config(CONFIGS[model])
    node = copy.deepcopy(config["model"]["init_args"]["generator"])
    image_size = int(config["data"]["init_args"].get("image_size", 512))
    if size == "demo":
        overlay = load_config(f"demo/{CONFIGS[model]}")
        node["init_args"].update(overlay["model"]["init_args"]["generator"]["init_args"])
        image_size = int(overlay["data"]["init_args"]["image_size"])
    if "image_size" in node["init_args"]:
        node["init_args"]["image_size"] = image_size
    return node, image_size


def write_checkpoint(model: str, size: str, path: Path) -> dict[str, Any]:
    """A checkpoint of the generator with random weights (as ``fit`` writes it); returns its description."""
    import torch

    from apd_lightning.models.spec import MODEL_SPEC_KEY, model_spec

    torch.manual_seed(0)
    node, image_size = generator_node(model, size)
    generator = instantiate(node)
    state = {f"generator.{key}": value for key, value in generator.state_dict().items()}
    torch.save({"state_dict": state, MODEL_SPEC_KEY: model_spec(model, generator, image_size)}, path)
    widths = {k: v for k, v in node["init_args"].items() if k.endswith("channels") or k == "num_blocks"}
    return {"image_size": image_size, "widths": widths}


class Server:
    """``serve`` in a child process; :attr:`url` once it listens."""

    def __init__(self, checkpoint: Path, precision: str, log: Path) -> None:
        command = [sys.executable, "-m", "apd_lightning", "serve", "--ckpt", str(checkpoint), "--port", "0"]
        command += ["--precision", precision, "--log-level", "warning"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        for line in self.process.stdout:
            if match := re.search(r"on (http://127\.0\.0\.1:\d+/)", line):
                self.url = match.group(1)
                threading.Thread(target=self.process.stdout.read, daemon=True).start()
                return
        raise RuntimeError(f"serve did not start; see {log}")

    def cpu_seconds(self) -> float:
        """user + sys CPU seconds of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(2)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def timed_requests(url: str, photo: bytes, fields: dict[str, str], count: int, start: threading.Barrier | None):
    """``count`` requests one after another; their (status, seconds)."""
    import httpx

    results = []
    with httpx.Client(base_url=url, timeout=600) as client:
        if start is not None:
            start.wait()
        for _ in range(count):
            begin = time.perf_counter()
            answer = client.post("/api/draw", files={"photo": ("portrait.jpg", photo)}, data=fields)
            results.append((answer.status_code, time.perf_counter() - begin))
    return results


def measure(server: Server, photo: bytes, fields: dict[str, str], clients: int, per_client: int) -> dict[str, Any]:
    """One row's figures: latency percentiles and the server's CPU seconds per request."""
    cpu = server.cpu_seconds()
    start = threading.Barrier(clients)
    with ThreadPoolExecutor(clients) as pool:
        runs = pool.map(lambda _: timed_requests(server.url, photo, fields, per_client, start), range(clients))
        results = [result for run in runs for result in run]
    seconds = np.array([s for _, s in results])
    codes = [code for code, _ in results]
    return {
        "clients": clients,
        "requests": len(results),
        "p50_s": round(float(np.percentile(seconds, 50)), 4),
        "p95_s": round(float(np.percentile(seconds, 95)), 4),
        "mean_s": round(float(seconds.mean()), 4),
        "max_s": round(float(seconds.max()), 4),
        "server_cpu_s_per_request": round((server.cpu_seconds() - cpu) / len(results), 4),
        "status_codes": {str(code): codes.count(code) for code in sorted(set(codes))},
    }


def cpu_has_bf16() -> bool:
    """Whether the CPU has bf16 matrix instructions (AVX512-BF16 or AMX), read from /proc/cpuinfo (Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return True  # not Linux: cannot tell, measure
    return "avx512_bf16" in flags or "amx_bf16" in flags


def rows_for(model: str, size: str, precision: str, args: argparse.Namespace, scratch: Path, photo: bytes):
    """The serial and the concurrent row of one model, size and precision."""
    checkpoint = scratch / f"{model}_{size}.ckpt"
    described = write_checkpoint(model, size, checkpoint)
    server = Server(checkpoint, precision, scratch / f"serve_{model}_{size}_{precision}.log")
    fields = {"style": "1"} if model != "apdrawinggan" else {}
    try:
        timed_requests(server.url, photo, fields, 2, None)  # warm-up
        common = {"name": "serve_draw", "model": model, "size": size, **described, "precision": precision}
        common |= {"photo": "1120x896 JPEG (1.0 MP)", "cpu_count": os.cpu_count()}
        for clients, per_client in ((1, args.serial), (CLIENTS, args.per_client)):
            yield {**common, **measure(server, photo, fields, clients, per_client), "load_avg_1min": os.getloadavg()[0]}
    finally:
        server.stop()


def configuration_rows(model: str, size: str, precision: str, args, scratch: Path, photo: bytes):
    """The rows of one configuration, or one row saying why it was skipped or failed."""
    fields = {"name": "serve_draw", "model": model, "size": size, "precision": precision}
    if precision == "bf16-mixed" and not args.allow_slow_bf16 and not cpu_has_bf16():
        yield {
            **fields,
            "skipped": "no AVX512-BF16 / AMX on this CPU: torch would run bf16 convolutions in its slow "
            "reference kernels (--allow-slow-bf16 measures anyway)",
        }
        return
    try:
        yield from rows_for(model, size, precision, args, scratch, photo)
    except Exception as error:  # noqa: BLE001 - one failing configuration must not stop the others
        yield {**fields, "error": f"{type(error).__name__}: {error}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also append the JSON lines to this file")
    parser.add_argument("--models", default="apdrawinggan,qmupd")
    parser.add_argument("--sizes", default="demo,paper")
    parser.add_argument("--precisions", default="32-true,bf16-mixed")
    parser.add_argument("--serial", type=int, default=10, help="requests of the one-client row")
    parser.add_argument("--per-client", type=int, default=5, help="requests per client of the 4-client row")
    parser.add_argument("--allow-slow-bf16", action="store_true", help="measure bf16 without CPU support too")
    args = parser.parse_args(argv)
    photo = portrait_jpeg()
    with tempfile.TemporaryDirectory(prefix="apd_serve_bench_") as scratch:
        for model in args.models.split(","):
            for size in args.sizes.split(","):
                for precision in args.precisions.split(","):
                    for row in configuration_rows(model, size, precision, args, Path(scratch), photo):
                        line = json.dumps(row)
                        print(line, flush=True)
                        if args.json:
                            with open(args.json, "a") as out:
                                out.write(line + "\n")


if __name__ == "__main__":
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    main()
