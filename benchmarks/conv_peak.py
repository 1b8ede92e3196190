"""The ``conv_peak`` row: how fast this machine runs the convolutions that dominate our steps, fp32 and bf16.

1. **Which convolutions.** One training step and one prediction of each model (paper widths, the row's size)
   run with every convolution replaced by zeros of the right shape (seconds instead of minutes); a dispatch
   mode records each forward and backward convolution call: shapes, strides, memory format and, for the
   backward, which gradients it computes.
2. **How fast.** The calls that make up 95 % of each step's convolution FLOPs are timed alone on random
   tensors (channels-last, as our steps run them), in float32 and in bfloat16.
3. **The limit.** ``ideal_conv_s`` is the time the step's (covered) convolutions take at those speeds;
   ``gflops_per_s`` = their FLOPs ÷ that time is the peak a step can reach on this machine (the step also
   normalises, activates, concatenates, updates weights...). A row's ``efficiency`` is its ``gflops_per_s``
   ÷ this peak, for the same model, kind (train or predict) and precision.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import torch
from cpu_share import other_share, snapshot
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import conv_backward_flop, conv_flop_count

aten = torch.ops.aten
COVERAGE = 0.95
MAX_CALLS = 40  # per model and kind
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class ConvCall(NamedTuple):
    """One distinct convolution call: aten.convolution's arguments by shape, or its backward with a mask."""

    backward: bool
    input: tuple[int, ...]
    weight: tuple[int, ...]
    bias: bool
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    transposed: bool
    output_padding: tuple[int, ...]
    groups: int
    channels_last: bool
    mask: tuple[bool, ...] = ()


def _output_shape(call: ConvCall) -> list[int]:
    x = torch.empty(call.input, device="meta")
    w = torch.empty(call.weight, device="meta")
    return list(aten.convolution(x, w, None, *call[4:10]).shape)


def call_flops(call: ConvCall) -> int:
    """Multiply-adds × 2 of one call, as torch's FlopCounterMode counts them."""
    out = _output_shape(call)
    if not call.backward:
        return conv_flop_count(list(call.input), list(call.weight), out, call.transposed)
    return conv_backward_flop(
        out, call.input, call.weight, None, *call[4:10], list(call.mask), out_val=[call.input, call.weight, None]
    )


class ConvRecorder(TorchDispatchMode):
    """Counts convolution calls; with ``skip`` it returns zeros instead of computing them."""

    def __init__(self, skip: bool = True) -> None:
        super().__init__()
        self.skip = skip
        self.calls: Counter[ConvCall] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _FORWARD:
            x, w, b, *rest = _forward_arguments(func, *args, **kwargs)
            call = ConvCall(False, tuple(x.shape), tuple(w.shape), b is not None, *map(_plain, rest), _cl(x, w))
            self.calls[call] += 1
            if self.skip:
                fmt = torch.channels_last if call.channels_last else torch.contiguous_format
                return torch.zeros(_output_shape(call), dtype=x.dtype).contiguous(memory_format=fmt)
        elif func is aten.convolution_backward.default:
            grad, x, w, bias_sizes, *rest, mask = args
            call = ConvCall(True, tuple(x.shape), tuple(w.shape), bias_sizes is not None, *map(_plain, rest), _cl(x, w))
            self.calls[call._replace(mask=tuple(mask))] += 1
            if self.skip:
                fmt = torch.channels_last if call.channels_last else torch.contiguous_format
                return (
                    torch.zeros_like(x).contiguous(memory_format=fmt) if mask[0] else None,
                    torch.zeros_like(w) if mask[1] else None,
                    torch.zeros(bias_sizes, dtype=x.dtype) if mask[2] else None,
                )
        return func(*args, **kwargs)


# Under inference_mode the dispatch mode sees the composite conv2d / conv_transpose2d, elsewhere aten.convolution.
_FORWARD = (aten.convolution.default, aten.conv2d.default, aten.conv_transpose2d.input)


def _forward_arguments(func, x, w, b=None, stride=(1, 1), padding=(0, 0), *rest, **kwargs):
    """aten.convolution's arguments (x, w, b, stride, padding, dilation, transposed, output_padding, groups)."""
    if func is aten.convolution.default:
        return (x, w, b, stride, padding, *rest)
    if func is aten.conv2d.default:  # (..., dilation, groups)
        dilation, groups = (list(rest) + [kwargs.get("dilation", (1, 1)), kwargs.get("groups", 1)])[:2]
        return (x, w, b, stride, padding, dilation, False, (0, 0), groups)
    output_padding, groups, dilation = (list(rest) + [(0, 0), 1, (1, 1)][len(rest) :])[:3]  # conv_transpose2d
    return (x, w, b, stride, padding, dilation, True, output_padding, groups)


def _plain(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _cl(*tensors: torch.Tensor) -> bool:
    """Whether a convolution of these tensors runs channels-last (it does if its input or weight is)."""
    return any(t.dim() == 4 and t.shape[1] > 1 and t.is_contiguous(memory_format=torch.channels_last) for t in tensors)


def dominant(calls: Counter, coverage: float = COVERAGE) -> tuple[list[tuple[ConvCall, int, int]], float]:
    """The calls with the most FLOPs (count × per call) up to ``coverage`` of the total; and the covered share."""
    weighted = sorted(((c, n, call_flops(c)) for c, n in calls.items()), key=lambda t: -t[1] * t[2])
    total = sum(n * f for _, n, f in weighted) or 1
    chosen, covered = [], 0
    for call, count, flops in weighted[:MAX_CALLS]:
        if covered >= coverage * total:
            break
        chosen.append((call, count, flops))
        covered += count * flops
    return chosen, covered / total


def _runner(call: ConvCall, dtype: torch.dtype):
    fmt = torch.channels_last if call.channels_last else torch.contiguous_format
    x = torch.randn(call.input, dtype=dtype).contiguous(memory_format=fmt)
    w = torch.randn(call.weight, dtype=dtype).contiguous(memory_format=fmt) * 0.05
    bias = torch.zeros(call.weight[1 if call.transposed else 0] * (call.groups if call.transposed else 1), dtype=dtype)
    if not call.backward:
        return lambda: aten.convolution(x, w, bias if call.bias else None, *call[4:10])
    grad = torch.randn(_output_shape(call), dtype=dtype).contiguous(memory_format=fmt)
    sizes = [bias.shape[0]] if call.bias else None
    return lambda: aten.convolution_backward(grad, x, w, sizes, *call[4:10], list(call.mask))


def time_call(call: ConvCall, dtype: torch.dtype, repeats: int, threshold: float, max_discards: int) -> dict:
    """Median seconds of one call, each timed sample ≥ 0.1 s of back-to-back calls; unclean samples repeated."""
    run = _runner(call, dtype)
    start = time.perf_counter()
    run()
    inner = max(1, int(0.1 / max(time.perf_counter() - start, 1e-4)))
    samples, discarded, others = [], 0, []
    while len(samples) < repeats:
        before = snapshot()
        for _ in range(inner):
            run()
        after = snapshot()
        share = other_share(before, after)
        if share is not None and share > threshold and discarded < max_discards:
            discarded += 1
            continue
        samples.append((after.wall - before.wall) / inner)
        others.append(share or 0.0)
    return {"seconds": statistics.median(samples), "discarded": discarded, "other": max(others)}


def record_calls(model_name: str, kind: str, spec: dict[str, Any], data_dir: Path) -> Counter:
    """The convolution calls of one step (``train``) or one photo (``predict``) of our model, convs skipped."""
    import cases

    row = {**spec, "name": f"{model_name}_{'train_iter' if kind == 'train' else 'predict'}", "precision": "32"}
    recorder = ConvRecorder(skip=True)
    if kind == "train":
        cases.record_training_step(row, "cpu", data_dir, recorder)
    else:
        cases.record_prediction(row, "cpu", data_dir, recorder)
    return recorder.calls


def conv_peak_case(spec: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The ``conv_peak`` row: per model and kind, the covered share, and per precision the peak and ideal time."""
    threshold, max_discards = spec.get("clean_threshold", 0.05), spec.get("max_discards", 0)
    repeats, result, discarded, best = spec.get("repeats", 3), {}, 0, dict.fromkeys(DTYPES, 0.0)
    timed: dict[tuple[ConvCall, str], dict] = {}
    for model_name in ("apdrawinggan", "qmupd"):
        for kind in ("train", "predict"):
            chosen, coverage = dominant(record_calls(model_name, kind, spec, data_dir))
            entry: dict[str, Any] = {"coverage": round(coverage, 3), "calls_timed": len(chosen)}
            for label, dtype in DTYPES.items():
                seconds = 0.0
                for call, count, flops in chosen:
                    if (call, label) not in timed:
                        timed[call, label] = time_call(call, dtype, repeats, threshold, max_discards)
                        discarded += timed[call, label]["discarded"]
                        best[label] = max(best[label], flops / timed[call, label]["seconds"] / 1e9)
                    seconds += count * timed[call, label]["seconds"]
                flops_total = sum(count * flops for _, count, flops in chosen)
                entry[label] = {
                    "gflops_per_s": round(flops_total / seconds / 1e9, 1),
                    "ideal_conv_s": round(seconds / coverage, 4),
                }
            result[f"{model_name}_{kind}"] = entry
    others = [t["other"] for t in timed.values()]
    return {
        "peaks": result,
        "best_call_gflops_per_s": {k: round(v, 1) for k, v in best.items()},
        "distinct_calls_timed": len(timed) // len(DTYPES),
        "discarded": discarded,
        "other_cpu_share": max(others) if others else None,
    }
