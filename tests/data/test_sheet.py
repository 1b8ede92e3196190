import numpy as np
import pytest
from PIL import Image

from apd_lightning.data.sheet import contact_sheet, match_drawings


def test_sheet_groups_each_photo_with_its_drawings(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "d").mkdir()
    for stem in ("a", "b", "c"):
        Image.new("RGB", (32, 32), (255, 0, 0)).save(tmp_path / "p" / f"{stem}.png")
    Image.new("L", (32, 32), 0).save(tmp_path / "d" / "a.png")
    for style in ("style1", "style2"):
        Image.new("L", (32, 32), 0).save(tmp_path / "d" / f"b_{style}.png")
    groups = match_drawings(tmp_path / "p", tmp_path / "d")
    assert [(p.stem, [d.stem for d in m]) for p, m in groups] == [("a", ["a"]), ("b", ["b_style1", "b_style2"])]
    out = contact_sheet(tmp_path / "p", tmp_path / "d", tmp_path / "s.png", columns=1, tile=16)
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (2 * (16 + 4) + 4, 3 * 16 + 8, 3)  # 2 rows, photo + 2 drawings wide
    assert tuple(sheet[4 + 8, 4 + 8]) == (255, 0, 0) and tuple(sheet[4 + 8, 4 + 24]) == (0, 0, 0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no photo"):
        contact_sheet(tmp_path / "p", tmp_path / "empty", tmp_path / "x.png")
