"""The ``conv_peak`` row: how fast this machine runs the convolutions that dominate our steps, fp32 and bf16.

1. **Which convolutions.** One training step and one prediction of each model (paper widths, the row's size)
   run with every convolution replaced by zeros of the right shape (seconds instead of minutes); a dispatch
   mode records each forward and backward convolution call: shapes, strides, memory format and, for the
   backward, which gradients it computes.
2. **How fast.** The calls that make up 95 % of each step's convolution FLOPs, and the forward convolution of
   each of their layers, are timed alone on random tensors (channels-last, as our steps run them; fp32 also
   channels-first), in float32 and in bfloat16.
3. **The limit.** Per model, kind (``train`` / ``predict``) and precision: ``gflops_per_s`` is the step's
   convolution FLOPs ÷ the time they take when every call, backward ones included, runs at the speed of its
   layer's forward convolution: the peak a step can reach on this machine, and what a row's ``efficiency``
   divides by. ``ideal_conv_s`` is that time for the whole step. ``as_called_gflops_per_s`` /
   ``as_called_conv_s`` time each call as the step makes it (a backward convolution can be much slower than
   its forward); a row's ``conv_bound_share`` is ``as_called_conv_s`` ÷ its median: the share of the step
   spent in convolution kernels. ``fp32_nchw`` times the same fp32 calls in channels-first layout.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import torch
from cpu_share import other_share, snapshot
from helpers import bf16_is_native
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import conv_backward_flop, conv_flop_count

aten = torch.ops.aten
COVERAGE = 0.95
MAX_CALLS = 32  # per model and kind
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
    w = (torch.randn(call.weight, dtype=dtype) * 0.05).contiguous(memory_format=fmt)
    bias = torch.zeros(call.weight[1 if call.transposed else 0] * (call.groups if call.transposed else 1), dtype=dtype)
    if not call.backward:
        return lambda: aten.convolution(x, w, bias if call.bias else None, *call[4:10])
    grad = torch.randn(_output_shape(call), dtype=dtype).contiguous(memory_format=fmt)
    sizes = [bias.shape[0]] if call.bias else None
    return lambda: aten.convolution_backward(grad, x, w, sizes, *call[4:10], list(call.mask))


class CallTimer:
    """Median seconds per call (each sample ≥ 0.1 s of back-to-back calls; unclean samples discarded and
    repeated, up to ``max_discards`` per call), cached by call, dtype and layout."""

    def __init__(self, repeats: int, threshold: float, max_discards: int) -> None:
        self.repeats, self.threshold, self.max_discards = repeats, threshold, max_discards
        self.cache: dict[tuple[ConvCall, torch.dtype], float] = {}
        self.discarded, self.other = 0, 0.0

    def __call__(self, call: ConvCall, dtype: torch.dtype) -> float:
        if (call, dtype) not in self.cache:
            self.cache[call, dtype] = self._measure(_runner(call, dtype))
        return self.cache[call, dtype]

    def _measure(self, run) -> float:
        start = time.perf_counter()
        run()
        inner = max(1, int(0.1 / max(time.perf_counter() - start, 1e-4)))
        samples, discarded = [], 0
        while len(samples) < self.repeats:
            before = snapshot()
            for _ in range(inner):
                run()
            after = snapshot()
            share = other_share(before, after) or 0.0
            if share > self.threshold and discarded < self.max_discards:
                discarded += 1
                continue
            samples.append((after.wall - before.wall) / inner)
            self.other = max(self.other, share)
        self.discarded += discarded
        return statistics.median(samples)


def peak_figures(chosen: list, coverage: float, timer: CallTimer, dtype: torch.dtype, channels_last: bool) -> dict:
    """The step's covered convolutions at forward speed and as called: GFLOP/s and seconds (whole step)."""
    flops = sum(count * per_call for _, count, per_call in chosen)
    at_forward = as_called = 0.0
    for call, count, per_call in chosen:
        call = call._replace(channels_last=channels_last and call.channels_last)
        layer = call._replace(backward=False, mask=())
        at_forward += count * per_call / call_flops(layer) * timer(layer, dtype)
        as_called += count * timer(call, dtype)
    return {
        "gflops_per_s": round(flops / at_forward / 1e9, 1),
        "ideal_conv_s": round(at_forward / coverage, 4),
        "as_called_gflops_per_s": round(flops / as_called / 1e9, 1),
        "as_called_conv_s": round(as_called / coverage, 4),
    }


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


BF16_SKIP = "this CPU has no bf16 convolution kernels (no AVX512-BF16/AMX); --bf16-anyway times them"
VARIANTS = (("fp32", torch.float32, True), ("bf16", torch.bfloat16, True), ("fp32_nchw", torch.float32, False))


def conv_peak_case(spec: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The ``conv_peak`` row: per model and kind the covered share and, per variant, :func:`peak_figures`."""
    timer = CallTimer(spec.get("repeats", 3), spec.get("clean_threshold", 0.05), spec.get("max_discards", 0))
    peaks = {}
    for model_name in ("apdrawinggan", "qmupd"):
        for kind in ("train", "predict"):
            chosen, coverage = dominant(record_calls(model_name, kind, spec, data_dir))
            entry: dict[str, Any] = {"coverage": round(coverage, 3), "calls_timed": len(chosen)}
            for label, dtype, channels_last in VARIANTS:
                if dtype == torch.bfloat16 and not (bf16_is_native() or spec.get("bf16_anyway")):
                    entry[label] = {"skipped": BF16_SKIP}
                    continue
                entry[label] = peak_figures(chosen, coverage, timer, dtype, channels_last)
            peaks[f"{model_name}_{kind}"] = entry
    return {
        "peaks": peaks,
        "distinct_calls_timed": len(timer.cache),
        "discarded": timer.discarded,
        "other_cpu_share": timer.other,
    }
