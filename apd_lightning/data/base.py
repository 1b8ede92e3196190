"""What the datamodules share: worker count, one dataset per split, and the data loaders built from them."""

from __future__ import annotations

import os
from collections.abc import Callable

import lightning as L
from torch.utils.data import DataLoader, Dataset


class SplitDataModule(L.LightningDataModule):
    """Base of the datamodules: ``setup`` fills ``self.datasets`` (keys ``train``, ``val``, ``predict``) and
    :meth:`collate_fn` says how a split's samples become a typed batch; the loaders follow from that.

    Args:
        batch_size: samples per batch.
        num_workers: data-loading worker processes (-1: one per CPU core).
    """

    def __init__(self, batch_size: int, num_workers: int) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.num_workers = (os.cpu_count() or 1) if num_workers < 0 else num_workers
        self.datasets: dict[str, Dataset] = {}

    def collate_fn(self, key: str) -> Callable:
        """The collate function of split ``key``."""
        raise NotImplementedError

    def _loader(self, key: str, shuffle: bool) -> DataLoader:
        dataset = self.datasets[key]
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            collate_fn=self.collate_fn(key),
            persistent_workers=self.num_workers > 0,
            drop_last=shuffle and len(dataset) > self.batch_size,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", shuffle=False)
