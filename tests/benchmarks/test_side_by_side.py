"""``benchmarks/side_by_side.py``: the ratios and the README table of ``reference.py``, recomputed from the rows of
the committed run (``benchmarks/results/reference-amd-epyc-2core-quiet.jsonl``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RUN = BENCHMARKS / "results" / "reference-amd-epyc-2core-quiet.jsonl"


@pytest.fixture(scope="module")
def side_by_side():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import side_by_side as module
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in RUN.read_text().splitlines()]


def test_ratios_are_ours_over_the_originals_rows(side_by_side, rows):
    summary = side_by_side.side_by_side(rows[:-1])
    medians = {
        (r["name"], r.get("impl"), r.get("variant"), r.get("malloc")): r["median_s"]
        for r in rows[:-1]
        if "median_s" in r
    }
    group = summary["groups"]["apdrawinggan_train_iter"]
    ours = medians[("apdrawinggan_train_iter", "ours", None, "keep_freed")]
    shipped = medians[("apdrawinggan_train_iter", "original", "as_shipped", "default")]
    assert group["ratio_fp32"] == pytest.approx(ours / shipped, abs=1e-3)
    assert summary["groups"]["qmupd_predict"]["ratio_fp32"] == pytest.approx(0.695, abs=1e-3)
    assert summary["rows_skipped"] == [f"{g}/ours/bf16-mixed" for g in side_by_side.MODEL_GROUPS]


def test_the_table_shows_skipped_rows_as_dashes_not_zeros(side_by_side, rows):
    table = side_by_side.table(rows[-1])
    memory = next(line for line in table.splitlines() if line.startswith("| peak memory"))
    assert memory.endswith("| 0.84× / 0.94× | – | – |")
    assert "0.0 / 0.0 GB" not in table and "| 0.65× |" in table
