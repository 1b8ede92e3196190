"""APDrawingGAN (Yi et al., CVPR 2019) as a LightningModule."""

from __future__ import annotations

from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.batches import PairedBatch
from ..losses.adversarial import gan_loss
from ..losses.chamfer import chamfer_loss, generated_distance_transform
from ..metrics.chamfer import ChamferDistance
from ..nets.hierarchical import APDrawingDiscriminators, GeneratorOutput, HierarchicalGenerator
from ..ops.face_parts import BOX_PARTS, FacePart, region_image
from .gan_steps import CompileHooks, GANHooks, adam, backward_step, log_train_losses
from .schedules import linear_decay_lambda
from .spec import MODEL_SPEC_KEY, model_spec


def local_output_regions(output: GeneratorOutput) -> dict[FacePart, Tensor]:
    """The part generators' own outputs as region images (hair/background masked to -1 outside)."""
    regions = {part: output.parts[part] for part in BOX_PARTS}
    regions[FacePart.HAIR] = region_image(output.parts[FacePart.HAIR], output.layout.hair_mask)
    regions[FacePart.BACKGROUND] = region_image(output.parts[FacePart.BACKGROUND], output.layout.background_region)
    return regions


class APDrawingGAN(CompileHooks, GANHooks, L.LightningModule):
    """Paired photo→drawing GAN with a hierarchical generator, global + local discriminators and a DT loss.

    One optimizer covers all generators, one all discriminators; per batch the discriminators step on the
    detached fake, then the generators step with the discriminators frozen. The distance-transform loss
    differs from the original on purpose: the generated drawing's distance maps come from a differentiable
    distance transform (exact and truncated by default, or Kornia's) instead of frozen auxiliary U-Nets, and
    the generated→real term has a gradient. Plain ``strategy: ddp`` works: the module lets DDP accept backward
    passes that reach one optimizer's networks only (:func:`~.gan_steps.allow_unused_parameters`).

    Args:
        generator: the hierarchical generator.
        discriminators: the global and six local discriminators.
        lambda_l1: weight of the full-image L1 (λ_L1 = 100).
        lambda_local: weight of each region's local transfer L1 (λ_local = 25).
        lambda_local_adv: weight of each local adversarial term in the generator loss (0.25).
        lambda_dt_real_to_fake: weight of d_CM(real → fake) (λ₁ = 0.1; sums over pixels).
        lambda_dt_fake_to_real: weight of d_CM(fake → real) (λ₂ = 0.1).
        dt_sharpness: slope of the soft line masks of the generated drawing.
        dt_backend: differentiable distance transform of the generated drawing: ``ours`` (exact, fast) or
            ``kornia`` (Kornia's approximate iterative transform).
        dt_radius: truncation radius of ``ours`` in pixels (default 32; ignored by ``kornia``).
        gan_mode: ``vanilla`` (paper) or ``lsgan``.
        lr: Adam learning rate of both optimizers (2e-4).
        betas: Adam betas ((0.5, 0.999)).
        lr_constant_epochs: epochs at the full rate (the paper trains 300 epochs at a constant rate).
        lr_decay_epochs: epochs of linear decay after that (0 in the paper).
        inference_norm: ``eval`` (running BatchNorm statistics, no dropout) or ``train`` (batch statistics and
            dropout, as the original always ran; use it with the authors' released weights).
        channels_last: keep weights and activations in channels-last memory format (faster convolutions on
            GPU tensor cores and on CPUs with AVX-512: ~15% less CPU time per 512² step there). ``auto``
            (default): channels-last except when training on a CPU without AVX-512, where channels-first
            was faster (:func:`~apd_lightning.models.gan_steps.wants_channels_last`). Results are unchanged.
        compile: compile the global, part and fusion nets and the seven discriminators with ``torch.compile``
            (inductor) when a loop starts; the first step of each mode takes minutes longer. Results match
            eager up to float rounding, except that dropout draws its masks differently.
    """

    def __init__(
        self,
        generator: HierarchicalGenerator,
        discriminators: APDrawingDiscriminators,
        lambda_l1: float = 100.0,
        lambda_local: float = 25.0,
        lambda_local_adv: float = 0.25,
        lambda_dt_real_to_fake: float = 0.1,
        lambda_dt_fake_to_real: float = 0.1,
        dt_sharpness: float = 10.0,
        dt_backend: Literal["ours", "kornia"] = "ours",
        dt_radius: int | None = None,
        gan_mode: Literal["vanilla", "lsgan"] = "vanilla",
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        lr_constant_epochs: int = 300,
        lr_decay_epochs: int = 0,
        inference_norm: Literal["eval", "train"] = "eval",
        channels_last: bool | Literal["auto"] = "auto",
        compile: bool = False,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.save_hyperparameters(ignore=["generator", "discriminators"])
        self.generator = generator
        self.discriminators = discriminators
        self.val_chamfer = ChamferDistance()
        self.distance_transform = generated_distance_transform(dt_backend, dt_radius)

    def compile_targets(self) -> list[torch.nn.Module]:
        """The U-Nets, the fusion net and the PatchGANs (the face-part crops and pastes stay eager)."""
        g, d = self.generator, self.discriminators
        return [g.global_net, *g.part_nets.values(), g.fusion, d.global_net, *d.local_nets.values()]

    # ---- losses -------------------------------------------------------------------------------------------
    def discriminator_loss(self, batch: PairedBatch, fake: Tensor, layout) -> dict[str, Tensor]:
        """0.5·(global real + fake BCE + the same for the six local discriminators), on a detached fake."""
        photo_regions = layout.regions(batch.photo)
        real = self.discriminators(batch.photo, batch.drawing, photo_regions, layout.regions(batch.drawing))
        fake = self.discriminators(batch.photo, fake, photo_regions, layout.regions(fake))
        mode = self.hparams.gan_mode
        terms = {key: gan_loss(real[key], True, mode) + gan_loss(fake[key], False, mode) for key in real}
        losses = {"d_global": 0.5 * terms.pop("global"), "d_local": 0.5 * sum(terms.values())}
        losses["d_total"] = losses["d_global"] + losses["d_local"]
        return losses

    def generator_loss(self, batch: PairedBatch, output: GeneratorOutput) -> dict[str, Tensor]:
        """Adversarial + L1 + local transfer + both chamfer terms (paper Eq. 1–5)."""
        hp = self.hparams
        layout, fake = output.layout, output.drawing
        logits = self.discriminators(batch.photo, fake, layout.regions(batch.photo), layout.regions(fake))
        local_adv = sum(gan_loss(logits[part], True, hp.gan_mode) for part in FacePart)
        real_regions = layout.regions(batch.drawing)
        local_l1 = sum(F.l1_loss(out, real_regions[part]) for part, out in local_output_regions(output).items())
        with torch.autocast(device_type=fake.device.type, enabled=False):
            dt_real_to_fake, dt_fake_to_real = chamfer_loss(
                fake.float(), batch.drawing.float(), batch.drawing_dt.float(), hp.dt_sharpness, self.distance_transform
            )
        losses = {
            "g_adv": gan_loss(logits["global"], True, hp.gan_mode),
            "g_local_adv": hp.lambda_local_adv * local_adv,
            "g_l1": hp.lambda_l1 * F.l1_loss(fake, batch.drawing),  # λ_L1, paper Eq. 3
            "g_local": hp.lambda_local * local_l1,  # local transfer loss
            "g_dt_real_to_fake": hp.lambda_dt_real_to_fake * dt_real_to_fake,  # λ₁ d_CM(a, G(p))
            "g_dt_fake_to_real": hp.lambda_dt_fake_to_real * dt_fake_to_real,  # λ₂ d_CM(G(p), a)
        }
        losses["g_total"] = sum(losses.values())
        return losses

    # ---- training -----------------------------------------------------------------------------------------
    def forward(self, photo: Tensor, landmarks: Tensor, background_mask: Tensor) -> Tensor:
        """Draw: ``(B, 3, S, S)`` photos in [-1, 1] -> ``(B, 1, S, S)`` drawings in [-1, 1]."""
        return self.generator(photo, landmarks, background_mask).drawing

    def training_step(self, batch: PairedBatch, batch_idx: int) -> dict[str, Tensor]:
        g_opt, d_opt = self.optimizers()
        output = self.generator(batch.photo, batch.landmarks, batch.background_mask)

        with self.toggled_optimizer(d_opt):  # D step on the detached fake
            d_losses = self.discriminator_loss(batch, output.drawing.detach(), output.layout)
            backward_step(self, d_opt, d_losses["d_total"])
        with self.toggled_optimizer(g_opt):  # then G, with the discriminators frozen
            g_losses = self.generator_loss(batch, output)
            backward_step(self, g_opt, g_losses["g_total"])
        log_train_losses(self, g_losses, d_losses, len(batch))
        return {"loss": g_losses["g_total"].detach(), "fake_drawing": output.drawing.detach()}

    def on_train_epoch_end(self) -> None:
        for scheduler in self.lr_schedulers():
            scheduler.step()
        self.log("train/lr", self.optimizers()[0].param_groups[0]["lr"], sync_dist=True)

    def validation_step(self, batch: PairedBatch, batch_idx: int) -> None:
        fake = self(batch.photo, batch.landmarks, batch.background_mask)
        self.val_chamfer.update(fake, batch.drawing)
        self.log("val/l1", F.l1_loss(fake, batch.drawing), batch_size=len(batch), sync_dist=True)
        self.log("val/chamfer", self.val_chamfer, batch_size=len(batch))

    def test_step(self, batch: PairedBatch, batch_idx: int) -> None:
        self.validation_step(batch, batch_idx)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # which model this is and how to rebuild its generator, so that `draw` / `export` need no config file
        checkpoint[MODEL_SPEC_KEY] = model_spec(
            "apdrawinggan", self.generator, self.generator.image_size, self.hparams.inference_norm
        )

    def on_predict_start(self) -> None:
        super().on_predict_start()
        if self.hparams.inference_norm == "train":
            self.generator.train()  # the original never called eval(): batch statistics and dropout

    def predict_step(self, batch: PairedBatch, batch_idx: int) -> dict:
        return {"name": batch.name, "drawing": self(batch.photo, batch.landmarks, batch.background_mask)}

    def configure_optimizers(self):
        hp = self.hparams
        g_opt = adam(self.generator.parameters(), hp.lr, hp.betas)
        d_opt = adam(self.discriminators.parameters(), hp.lr, hp.betas)
        rule = linear_decay_lambda(hp.lr_constant_epochs, hp.lr_decay_epochs)
        schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, rule) for opt in (g_opt, d_opt)]
        return [g_opt, d_opt], schedulers
