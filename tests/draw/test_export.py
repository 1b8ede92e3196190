"""``export``: one ONNX graph per model, checked against PyTorch; part crops that follow the landmarks; ``draw --onnx``.

The exports take tens of seconds each on two CPU cores, so every test that runs one is marked slow and the files
are exported once per module.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apd_lightning.cli import main
from apd_lightning.draw.export import check_inputs, template_landmarks
from apd_lightning.draw.model_file import read_checkpoint
from apd_lightning.draw.runners import OnnxRunner, build_generator

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def torch_drawings(ckpt: Path, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The checkpoint's generator in eval mode, float32, run by PyTorch on the same inputs (independent of export)."""
    spec, state = read_checkpoint(ckpt)
    generator = build_generator(spec, state).eval()
    with torch.inference_mode():
        tensors = [torch.from_numpy(v) for v in inputs.values()]
        out = generator(*tensors)
    return (out.drawing if spec.kind == "apdrawinggan" else out)[:, 0].numpy()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, checkpoints) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("onnx")
    paths = {}
    for kind in ("apdrawinggan", "qmupd"):
        paths[kind] = out / f"{kind}.onnx"
        assert main(["export", "--ckpt", str(checkpoints[kind]), "--out", str(paths[kind])]) == 0
    return paths


@pytest.mark.slow
def test_apdrawinggan_graph_crops_where_the_landmarks_say(exported, checkpoints):
    runner = OnnxRunner(exported["apdrawinggan"])
    assert [i.name for i in runner.session.get_inputs()] == ["photo", "landmarks", "background_mask"]
    rng = np.random.default_rng(7)
    photo = rng.uniform(-1, 1, (1, 3, 128, 128)).astype(np.float32)
    mask = np.ones((1, 1, 128, 128), np.float32)
    drawings = []
    for landmarks in (template_landmarks(128), template_landmarks(128, (9.0, -7.0), -12.0)):
        inputs = {"photo": photo, "landmarks": landmarks[None], "background_mask": mask}
        drawing = runner(inputs)
        assert np.abs(drawing - torch_drawings(checkpoints["apdrawinggan"], inputs)).max() <= 1e-3
        drawings.append(drawing)
    assert np.abs(drawings[0] - drawings[1]).max() > 0.1  # the parts moved with the landmarks
    batch = check_inputs(runner.spec)["batch of 2"]
    assert np.abs(runner(batch) - torch_drawings(checkpoints["apdrawinggan"], batch)).max() <= 1e-3
    # no frozen crop indices: every gather / scatter takes its indices from the graph, never from a constant
    graph = onnx.load(exported["apdrawinggan"]).graph
    constants = {i.name for i in graph.initializer} | {
        o for n in graph.node if n.op_type == "Constant" for o in n.output
    }
    indexing = [n for n in graph.node if n.op_type in ("GatherND", "ScatterND", "GatherElements", "ScatterElements")]
    assert len(indexing) >= 8 and not any(n.input[1] in constants for n in indexing)


@pytest.mark.slow
def test_qmupd_graph_takes_any_size_and_style_and_says_what_it_is(exported, checkpoints):
    runner = OnnxRunner(exported["qmupd"])
    rng = np.random.default_rng(3)
    for shape, style in (((1, 3, 64, 64), [[1, 0, 0]]), ((2, 3, 96, 48), [[0.2, 0.3, 0.5], [0, 0, 1]])):
        inputs = {"photo": rng.uniform(-1, 1, shape).astype(np.float32), "style": np.asarray(style, np.float32)}
        drawing = runner(inputs)
        assert drawing.shape == (shape[0], *shape[2:])
        assert np.abs(drawing - torch_drawings(checkpoints["qmupd"], inputs)).max() <= 1e-3
    meta = runner.session.get_modelmeta().custom_metadata_map
    assert (meta["kind"], meta["image_size"]) == ("qmupd", "64")
    assert json.loads(meta["style_names"]) == ["style1", "style2", "style3"]
    assert "[-1, 1]" in json.loads(meta["inputs"])["photo"] and "drawing" in meta["output"]
    assert (runner.spec.kind, runner.spec.image_size, runner.spec.style_names) == (
        "qmupd",
        64,
        ("style1", "style2", "style3"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["apdrawinggan", "qmupd"])
def test_draw_with_onnx_gives_the_same_pngs_as_with_the_checkpoint(exported, checkpoints, photos, tmp_path, kind):
    outputs = {}
    for flag, model in (("--ckpt", checkpoints[kind]), ("--onnx", exported[kind])):
        outputs[flag] = tmp_path / flag.strip("-")
        code = main(
            ["draw", str(photos["wide.jpg"]), str(photos["exif.jpg"]), flag, str(model), "--out", str(outputs[flag])]
        )
        assert code == 0
    names = sorted(p.name for p in outputs["--ckpt"].glob("*.png"))
    assert len(names) == (2 if kind == "apdrawinggan" else 6)
    assert names == sorted(p.name for p in outputs["--onnx"].glob("*.png"))
    for name in names:
        a, b = (np.asarray(Image.open(outputs[f] / name), dtype=int) for f in ("--ckpt", "--onnx"))
        assert a.shape == b.shape and np.abs(a - b).max() <= 1, name


@pytest.mark.slow
def test_converted_paper_width_weights_export_and_check(tmp_path):
    """The authors' APDrawingGAN layout at paper widths (random, plausible weights) through convert-weights and
    export: the export's own check runs both landmark sets through the file and compares with PyTorch."""
    from apd_lightning.convert import apdrawinggan_layout, to_official
    from apd_lightning.nets import HierarchicalGenerator

    from ..convert.helpers import fill_plausible

    layout = apdrawinggan_layout()
    generator = fill_plausible(HierarchicalGenerator(512), seed=5)
    ours = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    official = to_official(layout, {k: ours.get(k, torch.zeros(s)) for k, s in layout.shapes.items()})["gen"]
    torch.save(official, tmp_path / "300_net_gen.pt")
    ckpt, model = tmp_path / "apd.ckpt", tmp_path / "apd.onnx"
    assert (
        main(["convert-weights", "--kind", "apdrawinggan", str(tmp_path / "300_net_gen.pt"), "--out", str(ckpt)]) == 0
    )
    assert main(["export", "--ckpt", str(ckpt), "--out", str(model)]) == 0
    runner = OnnxRunner(model)
    assert (runner.spec.kind, runner.spec.image_size, runner.spec.inference_norm) == ("apdrawinggan", 512, "eval")
    inputs = check_inputs(runner.spec)["landmarks B"]
    assert np.abs(runner(inputs) - torch_drawings(ckpt, inputs)).max() <= 1e-3


@pytest.mark.parametrize("problem", ["out_is_folder", "exists", "quality_checkpoint", "missing"])
def test_export_refuses_bad_arguments_in_one_line_and_writes_nothing(tmp_path, checkpoints, capsys, problem):
    ckpt, out = checkpoints["apdrawinggan"], tmp_path / "model.onnx"
    if problem == "out_is_folder":
        out.mkdir()
    elif problem == "exists":
        out.write_bytes(b"keep me")
    elif problem == "quality_checkpoint":
        from apd_lightning.models import QualityRegressor
        from apd_lightning.nets import QualityNet

        ckpt = tmp_path / "quality.ckpt"
        torch.save({"state_dict": QualityRegressor(QualityNet("small", width=4)).state_dict()}, ckpt)
    elif problem == "missing":
        ckpt = tmp_path / "missing.ckpt"
    assert main(["export", "--ckpt", str(ckpt), "--out", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("export: error:") and "\n" not in error and "Traceback" not in error
    expected = {
        "out_is_folder": "is a folder",
        "exists": "exists; pass --overwrite",
        "quality_checkpoint": "holds no drawing model",
        "missing": "missing.ckpt: no such checkpoint file",
    }[problem]
    assert expected in error
    assert out.read_bytes() == b"keep me" if problem == "exists" else (out.is_dir() or not out.exists())
    assert not list(tmp_path.glob("*.part"))


def test_an_onnx_file_of_another_kind_is_refused(tmp_path):
    from onnx import TensorProto, helper

    from apd_lightning.draw import Drawer, ModelFileError

    node = helper.make_node("Identity", ["x"], ["y"])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    onnx.save(helper.make_model(helper.make_graph([node], "other", [x], [y])), tmp_path / "other.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x00junk")
    for name, words in (("other.onnx", "did not write (no metadata)"), ("junk.onnx", "not a readable ONNX model")):
        with pytest.raises(ModelFileError, match=re.escape(words)):
            Drawer(onnx=tmp_path / name)
    with pytest.raises(ValueError, match="float32"):
        Drawer(onnx=tmp_path / "other.onnx", precision="bf16-mixed")
