"""Record the reference outputs of the parity cases: ``PYTHONPATH=. python tests/convert/make_golden.py``.

The file holds no weights: the weights and inputs are rebuilt from fixed seeds (tests/convert/cases.py); it stores
the original architecture's outputs pooled to 32×32 plus their statistics (a few KB).
"""

from __future__ import annotations

import torch

from tests.convert import cases
from tests.convert.helpers import FIXTURES

GOLDEN = FIXTURES / "convert_golden.pt"


def summary(image: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "pooled": cases.pooled(image).clone(),
        "mean": image.mean(),
        "std": image.std(),
        "min": image.min(),
        "max": image.max(),
    }


def record() -> dict[str, dict[str, torch.Tensor]]:
    reference = cases.apd_reference().eval()
    expected, _ = cases.apd_outputs(reference, cases.apd_ours(reference).eval())
    refs, ours = cases.qmupd_pair()
    qmupd = cases.qmupd_outputs(refs, ours)
    return {
        "apdrawinggan_eval": summary(expected),
        "qmupd_drawing": summary(qmupd["drawing"][0]),
        "qmupd_photo": summary(qmupd["photo"][0]),
        "torch_version": str(torch.__version__),
    }


if __name__ == "__main__":
    torch.save(record(), GOLDEN)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")
