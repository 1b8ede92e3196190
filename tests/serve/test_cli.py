"""``python -m apd_lightning serve``: arguments, model names, clear one-line errors, packaged page files."""

from __future__ import annotations

import fnmatch
import socket
import sys
from pathlib import Path

import pytest

from apd_lightning.cli import command_description, command_target, main
from apd_lightning.serve import cli as serve_cli

from .conftest import FakeDrawer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]


def test_serve_is_a_registered_command_with_help(capsys):
    assert command_target("serve") == "apd_lightning.serve.cli:main"
    assert "web page" in command_description("serve")
    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in ("--ckpt", "--onnx", "--host", "--port", "--queue-size", "--max-upload-mb", "--max-megapixels"):
        assert option in text
    assert "127.0.0.1" in text


def test_without_a_model_or_with_a_missing_checkpoint_it_says_so_in_one_line(tmp_path, capsys):
    assert main(["serve"]) == 1
    assert "give at least one model" in capsys.readouterr().err
    assert main(["serve", "--ckpt", str(tmp_path / "nowhere" / "missing.ckpt")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "missing.ckpt" in error and "nowhere" not in error
    assert len(error.splitlines()) == 1 and "Traceback" not in error


def test_model_names_default_to_the_kind_and_are_numbered_when_repeated():
    sources = [(None, "a.ckpt"), ("mine", "b.ckpt"), (None, "c.ckpt"), (None, "d.onnx")]
    kinds = ["qmupd", "qmupd", "qmupd", "apdrawinggan"]
    assert serve_cli.model_names(sources, kinds) == ["qmupd", "mine", "qmupd-2", "apdrawinggan"]
    assert serve_cli._split("fast=runs/x.ckpt") == ("fast", "runs/x.ckpt")
    assert serve_cli._split("runs/a=b.ckpt") == (None, "runs/a=b.ckpt")  # a '/' before '=' is a path


def test_a_port_in_use_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(serve_cli, "load_drawers", lambda args: {"qmupd": FakeDrawer()})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--ckpt", "x.ckpt", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_page_files_are_package_data():
    """``pip install`` ships what ``package-data`` lists: every file of serve/static must match it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["apd_lightning.serve"]
    static = ROOT / "apd_lightning" / "serve" / "static"
    files = sorted(p.relative_to(static.parent).as_posix() for p in static.rglob("*") if p.is_file())
    assert {"static/index.html", "static/app.js", "static/style.css"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)] == []
    extras = config["project"]["optional-dependencies"]
    assert {dep.split(">")[0] for dep in extras["serve"]} == {"fastapi", "uvicorn", "python-multipart"}
    assert "apd_lightning[serve]" in extras["dev"] and any(dep.startswith("playwright") for dep in extras["dev"])
