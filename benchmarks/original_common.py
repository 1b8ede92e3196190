"""Running the authors' code (a clone the user made) inside one benchmark child process.

Nothing here downloads or copies their code: the child puts the clone on ``sys.path``, works in a scratch
directory (their scripts read and write ``./checkpoints`` and ``./datasets`` relative to it), stubs optional
third-party modules that are not installed, and applies the few in-memory patches listed in
``benchmarks/README.md`` ("Running the originals"), each checked to match the code it replaces exactly.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

# Imported at module level by the originals but not needed for the benchmarked paths (visualisation, an unused
# ResNeXt, a debugger); stubbed only when missing.
OPTIONAL_MODULES = ("pretrainedmodels.models.resnext", "visdom", "dominate.tags", "IPython")


class OriginalCodeError(RuntimeError):
    """The clone is missing, or does not contain the code this benchmark patches (a different version)."""


def _stub(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []  # a package, so submodules can hang below it

    def missing(attribute: str):
        if attribute.startswith("__"):  # keep the module protocol (inspect, pickle) intact
            raise AttributeError(attribute)

        def unavailable(*args, **kwargs):
            raise RuntimeError(f"{name}.{attribute} is a benchmark stub (the module is not installed)")

        return unavailable

    module.__getattr__ = missing  # type: ignore[method-assign]
    return module


def stub_missing_modules(names: tuple[str, ...] = OPTIONAL_MODULES) -> list[str]:
    """Insert empty stand-in modules for the optional imports that are not installed; return their names."""
    import importlib.util

    stubbed = []
    for dotted in names:
        parts = dotted.split(".")
        try:
            found = importlib.util.find_spec(parts[0]) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            continue
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name not in sys.modules:
                sys.modules[name] = _stub(name)
                if depth > 1:
                    setattr(sys.modules[".".join(parts[: depth - 1])], parts[depth - 1], sys.modules[name])
        stubbed.append(parts[0])
    return stubbed


def enter_clone(repo: Path, workdir: Path, marker: str) -> None:
    """Import from the clone ``repo`` (checked by a file it must contain) and work inside ``workdir``."""
    repo = repo.resolve()
    if not (repo / marker).is_file():
        raise OriginalCodeError(f"{repo} does not look like the clone this row needs: {marker} is missing")
    for package in ("models", "data", "options", "util"):  # the originals' top-level package names
        sys.modules.pop(package, None)
    sys.path.insert(0, str(repo))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)


def parse_options(options_class: type, argv: list[str]) -> Any:
    """Their ``Options().parse()`` on ``argv`` (they read ``sys.argv``), output silenced."""
    import contextlib
    import io

    saved = sys.argv
    sys.argv = ["benchmark", *map(str, argv)]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return options_class().parse()
    finally:
        sys.argv = saved


def patch_source(owner: Any, name: str, replacements: list[tuple[str, str, int]]) -> None:
    """Re-define ``owner.name`` from its source with exact text replacements ``(old, new, expected_count)``.

    The function is compiled in its own module's namespace, so it behaves as the original apart from the
    replaced text. A replacement that does not occur exactly ``expected_count`` times raises, so a different
    version of the code is reported instead of being patched blindly.
    """
    function = getattr(owner, name)
    source = textwrap.dedent(inspect.getsource(function))
    for old, new, count in replacements:
        found = source.count(old)
        if found != count:
            raise OriginalCodeError(
                f"patching {function.__qualname__}: expected {count} occurrence(s) of {old!r}, found {found}"
            )
        source = source.replace(old, new)
    namespace: dict[str, Any] = {}
    code = compile(source, f"<patched {function.__qualname__}>", "exec")
    exec(code, vars(sys.modules[function.__module__]), namespace)  # noqa: S102 - their code, patched as listed
    setattr(owner, name, namespace[name])


def quietly(fn, *args, **kwargs):
    """Call ``fn`` with its prints (their code prints every network) discarded."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def inference_step(model: Any, batch: dict):
    """One call = one photo (QMUPD: in one style) of the originals' test loop: ``set_input`` and ``test``
    (their forward under ``no_grad``); the same for both repositories' model classes."""

    def step() -> None:
        model.set_input(batch)
        model.test()

    return step
