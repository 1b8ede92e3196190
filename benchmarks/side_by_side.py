"""The derived figures of ``reference.py``: each row's efficiency and the run's ratios (ours ÷ original)."""

from __future__ import annotations

import datetime
import platform
from typing import Any

MODEL_GROUPS = ("apdrawinggan_train_iter", "apdrawinggan_predict", "qmupd_train_iter", "qmupd_predict")
LABELS = {
    "apdrawinggan_train_iter": "APDrawingGAN train iteration",
    "apdrawinggan_predict": "APDrawingGAN predict, per photo",
    "qmupd_train_iter": "QMUPD train iteration",
    "qmupd_predict": "QMUPD predict, per photo and style",
}


def _peak_entry(row: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    peaks = next((r.get("peaks") for r in rows if r.get("name") == "conv_peak" and "peaks" in r), None)
    if not peaks or "gflops_per_s" not in row:
        return None
    prefix, kind = row["name"].split("_", 1)
    entry = peaks.get(f"{prefix}_{'train' if kind == 'train_iter' else 'predict'}", {})
    return entry.get("bf16" if row.get("precision") == "bf16-mixed" else "fp32")


def efficiency(row: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Add ``efficiency`` (the row's GFLOP/s ÷ this run's ``conv_peak`` for its model, kind and precision) and,
    for our rows, ``conv_bound_share`` (the step's convolution kernels, timed alone as the step calls them, ÷
    the step's time)."""
    peak = _peak_entry(row, rows)
    if peak:
        row["conv_peak_gflops_per_s"] = peak["gflops_per_s"]
        row["efficiency"] = round(row["gflops_per_s"] / peak["gflops_per_s"], 3)
        if row.get("impl") == "ours":
            per_call = peak["as_called_conv_s"] * (row.get("styles", 3) / 3 if row["name"] == "qmupd_predict" else 1)
            row["conv_bound_share"] = round(per_call / row["median_s"], 3)
    return row


def _find(rows: list[dict[str, Any]], name: str, **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if row.get("name") == name and "median_s" in row and all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def _ratio(a: dict | None, b: dict | None, key: str = "median_s") -> float | None:
    return round(a[key] / b[key], 3) if a and b and a.get(key) and b.get(key) else None


def _group(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    shipped = _find(rows, name, impl="original", variant="as_shipped", malloc="default")
    shipped_keep = _find(rows, name, impl="original", variant="as_shipped", malloc="keep_freed")
    evalmode = _find(rows, name, impl="original", variant="eval", malloc="default")
    evalmode_keep = _find(rows, name, impl="original", variant="eval", malloc="keep_freed")
    fp32, bf16 = _find(rows, name, impl="ours", precision="32"), _find(rows, name, impl="ours", precision="bf16-mixed")
    seconds = {
        "original": shipped,
        "original_keep_freed": shipped_keep,
        "original_eval": evalmode,
        "original_eval_keep_freed": evalmode_keep,
        "ours_fp32": fp32,
        "ours_bf16": bf16,
    }
    group: dict[str, Any] = {f"{k}_s": round(v["median_s"], 3) for k, v in seconds.items() if v}
    group.update(
        ratio_fp32=_ratio(fp32, shipped),
        ratio_bf16=_ratio(bf16, shipped),
        ratio_fp32_vs_keep_freed=_ratio(fp32, shipped_keep),
        allocator_effect=_ratio(shipped_keep, shipped),
        peak_rss_mb={k: v["peak_rss_mb"] for k, v in seconds.items() if v and "peak_rss_mb" in v},
        rss_ratio_fp32=_ratio(fp32, shipped, "peak_rss_mb"),
        rss_ratio_bf16=_ratio(bf16, shipped, "peak_rss_mb"),
        efficiency={k: v["efficiency"] for k, v in seconds.items() if v and "efficiency" in v},
    )
    if evalmode:
        group.update(ratio_fp32_vs_eval=_ratio(fp32, evalmode), ratio_bf16_vs_eval=_ratio(bf16, evalmode))
    return {k: v for k, v in group.items() if v not in (None, {})}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _label(row: dict[str, Any]) -> str:
    """``name/impl/precision[/variant/malloc]`` of a row, to list it."""
    keys = ("name", "impl", "precision", "variant", "malloc")
    return "/".join(str(row[k]) for k in keys if k in row)


def side_by_side(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's last line: per group the medians, ratios (ours ÷ original as shipped), memory, efficiency."""
    timed = [r for r in rows if "median_s" in r or "peaks" in r]
    return {
        "name": "side_by_side",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
        "cpu": cpu_model(),
        "threads": next((r["threads"] for r in timed if "threads" in r), None),
        "size": next((r["size"] for r in rows if "size" in r), None),
        "groups": {name: _group(rows, name) for name in MODEL_GROUPS if _find(rows, name)},
        "rows_failed": [_label(r) for r in rows if "error" in r],
        "rows_skipped": [_label(r) for r in rows if "skipped" in r],
        "discarded": sum(r.get("discarded", 0) for r in timed),
        "rows_with_unclean_calls": sum(1 for r in timed if r.get("unclean_kept")),
        "max_other_cpu_share": max((r.get("other_cpu_share") or 0 for r in timed), default=None),
    }


def _cell(group: dict[str, Any], key: str, ratio: str | None = None) -> str:
    if f"{key}_s" not in group:
        return "–"
    text = f"{group[f'{key}_s']:.2f} s"
    return f"{text} | {group[ratio]:.2f}×" if ratio else text


def table(summary: dict[str, Any]) -> str:
    """The summary as the README's Markdown table."""
    size, threads = summary.get("size"), summary.get("threads")
    lines = [
        f"{summary['cpu']}, {summary['date']}",
        "",
        f"| {size}², batch 1, {threads} threads | original as shipped | original, our allocator | ours fp32 "
        "| ratio | ours bf16-mixed | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, group in summary["groups"].items():
        shipped = _cell(group, "original")
        if "original_eval_s" in group:
            shipped += f" ({group['original_eval_s']:.2f} s in eval mode)"
        fp32 = _cell(group, "ours_fp32", "ratio_fp32") if "ratio_fp32" in group else _cell(group, "ours_fp32") + " | –"
        bf16 = _cell(group, "ours_bf16", "ratio_bf16") if "ratio_bf16" in group else _cell(group, "ours_bf16") + " | –"
        lines.append(f"| {LABELS[name]} | {shipped} | {_cell(group, 'original_keep_freed')} | {fp32} | {bf16} |")
    memory = [summary["groups"].get(g, {}) for g in ("apdrawinggan_train_iter", "qmupd_train_iter")]
    if all(m.get("peak_rss_mb") for m in memory):

        def gb(key: str) -> str:
            if not all(key in m["peak_rss_mb"] for m in memory):
                return "–"  # a row skipped (e.g. bf16 on a CPU without bf16 kernels) or failed
            return " / ".join(f"{m['peak_rss_mb'][key] / 1024:.1f}" for m in memory) + " GB"

        def ratios(key: str) -> str:
            if not all(m.get(key) for m in memory):
                return "–"
            return " / ".join(f"{m[key]:.2f}×" for m in memory)

        lines.append(
            f"| peak memory, APDrawingGAN / QMUPD training | {gb('original')} | {gb('original_keep_freed')} "
            f"| {gb('ours_fp32')} | {ratios('rss_ratio_fp32')} | {gb('ours_bf16')} | {ratios('rss_ratio_bf16')} |"
        )
    return "\n".join(lines)
