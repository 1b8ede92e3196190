"""W&B sweep configs: their commands run this CLI, the metric they optimise is one validation logs, and every
parameter is a real config key, checked by parsing the command W&B would run (``${args}`` as W&B builds it) with
``--print_config``."""

from __future__ import annotations

import math

import pytest
import yaml

from apd_lightning.cli import main
from apd_lightning.data import APDrawingDataModule, UnpairedDataModule
from tests.builders import ROOT, quiet_trainer, tiny_apdrawinggan, tiny_qmupd

pytestmark = [
    pytest.mark.usefixtures("one_thread_and_restored_determinism"),
    pytest.mark.filterwarnings("ignore:model.auxiliaries=random_init"),
]

#: Each sweep's tiny model and data, to check that validation logs the metric the sweep optimises.
SWEEPS = {
    "apdrawinggan": lambda paired, _: (
        tiny_apdrawinggan(),
        APDrawingDataModule(str(paired), image_size=64, batch_size=2, num_workers=0),
    ),
    "qmupd": lambda _, unpaired: (
        tiny_qmupd(),
        UnpairedDataModule(str(unpaired), image_size=64, batch_size=2, num_workers=0),
    ),
}


def _sweep(name: str) -> dict:
    return yaml.safe_load((ROOT / "configs" / "sweeps" / f"{name}.yaml").read_text())


def _sample(spec: dict, end: int):
    """The first (end=0) or last (end=-1) categorical value, or the range's min / max."""
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        return spec["values"][end]
    return spec["max" if end else "min"]


def _get(config: dict, dotted: str):
    for key in dotted.split("."):
        config = config[key]
    return config


@pytest.mark.parametrize("name", SWEEPS)
def test_command_runs_this_cli_with_wandb_args(name):
    sweep = _sweep(name)
    command = sweep["command"]
    assert command[command.index("-m") + 1 : command.index("-m") + 3] == ["apd_lightning", "fit"]
    assert command[-1] == "${args}" and f"configs/{name}.yaml" in command
    assert sweep["method"] in ("grid", "random", "bayes") and sweep["metric"]["goal"] in ("minimize", "maximize")


@pytest.mark.parametrize("name", SWEEPS)
def test_the_optimised_metric_is_logged_by_validation(name, paired_root, unpaired_root):
    model, data = SWEEPS[name](paired_root, unpaired_root)
    metrics = quiet_trainer(limit_val_batches=1.0).validate(model, data, verbose=False)[0]
    value = metrics[_sweep(name)["metric"]["name"]]
    assert math.isfinite(value) and value >= 0


@pytest.mark.parametrize("end", [0, -1], ids=["low", "high"])
@pytest.mark.parametrize("name", SWEEPS)
def test_parameters_are_config_keys(name, end, capsys, monkeypatch):
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

    monkeypatch.chdir(ROOT)  # the sweep's command uses paths relative to the repository root
    sweep = _sweep(name)
    values = {key: _sample(spec, end) for key, spec in sweep["parameters"].items()}
    flags = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})["args"]
    command = sweep["command"]
    words = [w for w in command[command.index("-m") + 2 : -1]]  # fit -c ... (what follows `python -m apd_lightning`)
    with pytest.raises(SystemExit) as exit_info:
        main([*words, *flags, "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    for key, value in values.items():
        assert _get(printed, key) == value, key
