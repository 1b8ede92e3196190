"""The CycleGAN history buffer of generated samples, storing several aligned tensors per sample."""

from __future__ import annotations

import random

import torch
from torch import Tensor


class ImagePool:
    """History of up to ``size`` generated samples; each sample is a tuple of tensors kept together.

    For every sample of a query: while the pool is not full it is stored and returned; afterwards, with
    probability 0.5 a random stored sample is returned and replaced by it, otherwise it is returned as is.
    Storing e.g. (fake drawing, its photo's masks, its style) together means a historical fake is judged with
    its own masks and style (the reference kept separate pools per discriminator, with current masks/styles).

    Args:
        size: capacity in samples (50); 0 disables the history (queries return their input).
        rng: random source (``random`` module state by default, which ``seed_everything`` seeds).
    """

    def __init__(self, size: int = 50, rng: random.Random | None = None) -> None:
        self.size = size
        self.rng = rng or random.Random(random.getrandbits(64))
        self.samples: list[tuple[Tensor, ...]] = []
        self.queries = 0

    def __len__(self) -> int:
        return len(self.samples)

    def query(self, *tensors: Tensor) -> tuple[Tensor, ...]:
        """Mix the batch with the history.

        Args:
            tensors: tensors with the same batch size ``B`` (they are detached before storing).

        Returns:
            Tensors of the same shapes, sample ``b`` of each coming from the same stored or new sample.
        """
        if len({t.shape[0] for t in tensors}) != 1:
            raise ValueError(f"all tensors need the same batch size, got {[tuple(t.shape) for t in tensors]}")
        self.queries += 1
        tensors = tuple(t.detach() for t in tensors)
        if self.size == 0:
            return tensors
        if self.samples and self.samples[0][0].device != tensors[0].device:  # restored from a checkpoint
            self.samples = [tuple(t.to(tensors[0].device) for t in sample) for sample in self.samples]
        out: list[tuple[Tensor, ...]] = []
        for b in range(tensors[0].shape[0]):
            sample = tuple(t[b].clone() for t in tensors)
            if len(self.samples) < self.size:
                self.samples.append(sample)
                out.append(sample)
            elif self.rng.random() < 0.5:
                index = self.rng.randrange(self.size)
                out.append(self.samples[index])
                self.samples[index] = sample
            else:
                out.append(sample)
        return tuple(torch.stack(parts) for parts in zip(*out, strict=True))

    def state_dict(self) -> dict:
        """The stored samples (one stacked CPU tensor per slot), the random state and the query count."""
        slots = [torch.stack(slot).cpu() for slot in zip(*self.samples, strict=True)] if self.samples else []
        return {"size": self.size, "samples": slots, "rng": self.rng.getstate(), "queries": self.queries}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output (the samples move to the first query's device)."""
        if state["size"] != self.size:
            raise ValueError(f"the checkpoint's image pool holds {state['size']} samples, this one {self.size}")
        self.samples = list(zip(*(slot.unbind(0) for slot in state["samples"]), strict=True))
        self.rng.setstate(state["rng"])
        self.queries = state["queries"]
