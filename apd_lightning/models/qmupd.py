"""UPD (Yi et al., CVPR 2020) and QMUPD (Yi et al., TPAMI 2022) as one LightningModule.

Both train the same networks with an asymmetric cycle; QMUPD adds a quality loss from a frozen regressor
(``use_quality_loss``). Deliberate differences from the reference code: one history-pool query per step
shared by all discriminators, with each stored fake kept together with its photo's masks and style; the style
head works at any ``image_size``; the frozen auxiliaries (HED, LPIPS, quality regressor) are left out of
checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.batches import PhotoBatch, UnpairedBatch
from ..losses.adversarial import gan_loss
from ..losses.cycle import edge_image, relaxed_cycle_loss, strict_cycle_loss
from ..losses.style import style_classification_loss
from ..losses.truncation import TRUNCATION_SCALE, truncate
from ..nets.pretrained import AuxiliaryMode, FrozenAuxiliaries, build_auxiliaries, check_auxiliary_mode
from ..nets.qmupd_discriminators import QMUPDDiscriminators
from ..nets.resnet import ResnetGenerator, StyleGenerator
from .gan_steps import CompileHooks, GANHooks, adam, backward_step, log_train_losses
from .image_pool import ImagePool
from .schedules import linear_decay_lambda
from .spec import MODEL_SPEC_KEY, model_spec

_AUX = "auxiliaries."


def cycle_weights(
    epoch: int, progress_epochs: int, lambda_relaxed: float = 5.0, lambda_truncation: float = 5.0
) -> tuple[float, float]:
    """(λ_A, λ_T) at a 0-based epoch: λ_A·(1 − 0.9p) and λ_T·0.9p with progress p = epoch / progress_epochs.

    p is the reference's ``(epoch − 1)/(niter + niter_decay)`` for its 1-based epoch, held fixed within an
    epoch and capped at 1.
    """
    p = min(epoch / progress_epochs, 1.0)
    return lambda_relaxed * (1 - 0.9 * p), lambda_truncation * 0.9 * p


def one_hot_styles(num_styles: int = 3) -> dict[str, list[float]]:
    """``{"style1": [1, 0, 0], "style2": ..., ...}``: the reference's three test-time styles."""
    return {f"style{k + 1}": [float(i == k) for i in range(num_styles)] for k in range(num_styles)}


def parse_styles(styles: str | list[list[float]], num_styles: int = 3) -> dict[str, list[float]]:
    """Named style vectors from ``"1,2,3"`` (one-hot styles by number), explicit vectors, or a mix of both.

    Examples: ``"1,3"`` → ``{"style1": [1,0,0], "style3": [0,0,1]}``; ``"0.5:0.5:0"`` or ``[[0.5, 0.5, 0]]`` →
    ``{"mix_0.5_0.5_0": [0.5, 0.5, 0.0]}``.
    """
    items = [s.strip() for s in styles.split(",") if s.strip()] if isinstance(styles, str) else list(styles)
    named: dict[str, list[float]] = {}
    for item in items:
        if isinstance(item, str) and ":" not in item:
            index = int(item)
            if not 1 <= index <= num_styles:
                raise ValueError(f"style numbers run from 1 to {num_styles}, got {item!r}")
            named[f"style{index}"] = [float(i == index - 1) for i in range(num_styles)]
            continue
        vector = [float(v) for v in (item.split(":") if isinstance(item, str) else item)]
        if len(vector) != num_styles:
            raise ValueError(f"a style vector needs {num_styles} values, got {item!r}")
        named["mix_" + "_".join(f"{v:g}" for v in vector)] = vector
    if not named:
        raise ValueError(f"no style given in {styles!r}")
    return named


@dataclass
class CycleOutputs:
    """The four generator outputs of one step (x photo, y drawing, s its style)."""

    fake_drawing: Tensor  # ŷ = G(x, s)
    reconstructed_photo: Tensor  # x̂ = F(ŷ)
    fake_photo: Tensor  # x̃ = F(y)
    reconstructed_drawing: Tensor  # ỹ = G(x̃, s)


class QMUPD(CompileHooks, GANHooks, L.LightningModule):
    """Unpaired, style-controlled photo→drawing GAN with an asymmetric cycle (UPD) and a quality loss (QMUPD).

    Per step: the generators step (discriminators frozen), then the five discriminators step on samples from
    one shared history pool. The frozen auxiliaries are built in ``setup("fit")`` (a missing file stops
    ``fit`` there) and are excluded from optimizers and checkpoints; ``predict`` and ``validate`` never need
    them. The pool is saved in checkpoints, for an exact resume. Plain ``strategy: ddp`` works: the module lets
    DDP accept backward passes that reach one optimizer's networks only (:func:`~.gan_steps.allow_unused_parameters`).

    Args:
        generator: style generator G (photo, style → drawing).
        reverse_generator: F (drawing → photo).
        discriminators: drawing D (patch + style head), photo D and the three local Ds.
        auxiliaries: ``pretrained`` (load HED / AlexNet / LPIPS / quality files; the papers' setting),
            ``classical`` (fixed multi-scale edge and structural-distance operators in place of HED and LPIPS,
            no download; the demo) or ``random_init`` (small random stand-ins, for unit tests only).
        hed_path: ``network-bsds500.pytorch``; ``None`` looks in the torch hub cache.
        alexnet_path: torchvision ``alexnet-owt-7be5be79.pth``; ``None`` looks in the torch hub cache.
        lpips_path: LPIPS v0.1 ``alex.pth``; ``None`` uses the copy shipped with torchmetrics.
        quality_path: trained quality regressor (``configs/quality.yaml``); ``None``: ``quality.ckpt`` in the
            torch hub cache.
        random_auxiliary_width: HED / quality-net width of the ``random_init`` stand-ins.
        use_quality_loss: add λ_q·mean(1 − M(ŷ)) (QMUPD); off for UPD.
        lambda_local_adv: weight of each local adversarial term (0.5).
        lambda_style: weight of the generator's style classification term (1).
        style_head_fakes: the drawing D's style head also learns to read pooled fakes as their requested style
            (the reference). ``False``: it learns from real drawings only (as StarGAN's classifier), so G earns
            its style term only by drawing what real drawings of that style look like, instead of agreeing with
            D on any code it likes.
        lambda_relaxed_cycle: λ_A at p = 0; it decays as 5·(1 − 0.9p).
        lambda_edge_content: weight λ_E of a direct content term that is not in the papers:
            perceptual(ink(ŷ), E(x)), the drawing's ink (−ŷ) against the photo's edge map, so that G learns
            where to draw without going through F; it fades as the relaxed cycle does, λ_E·(1 − 0.9p), so the
            styles' own line widths and fills take over. 0 (the papers) turns it off; the CPU demo uses it.
        lambda_truncation: λ_T scale; the truncation weight grows as 5·0.9p.
        lambda_strict_cycle: λ_B of the strict backward cycle L1 (5).
        lambda_quality: λ_q (0.5).
        soft_style_labels: soft-label style cross-entropy (UPD) instead of hard labels (QMUPD's default).
        truncation_scale: ``a`` of the truncation (31.875: 64 levels).
        truncation_gradient: ``detach`` (the reference: the truncation loss trains only F) or
            ``straight_through`` (G also receives its gradient; an ablation).
        gan_mode: ``lsgan`` (papers) or ``vanilla``.
        pool_size: history pool capacity (50).
        lr: Adam learning rate of both optimizers (1.5e-5 in UPD's script).
        d_lr: the discriminators' rate when it should differ from ``lr`` (``None``: ``lr``, as the papers).
        betas: Adam betas ((0.5, 0.999)).
        lr_constant_epochs: epochs at the full rate (``niter`` = 100).
        lr_decay_epochs: linear decay length (``niter_decay`` = 200; the rate reaches ≈0.5 at epoch 200).
        progress_epochs: p = epoch / progress_epochs (UPD: niter + niter_decay = 300, so p ends at 0.663;
            QMUPD's ``niter_end`` = 200, so p ends at 0.995).
        predict_styles: ``{name: style vector}`` drawn by ``predict`` (files ``<stem>_<name>.png``); any real
            vector works, e.g. a mix ``[0.5, 0.5, 0]``; ``None``: the three one-hots ``style1..3``.
        predict_original_size: resize predicted drawings back to each photo's original size (bicubic).
        styles: shorthand that replaces ``predict_styles``: one-hot style numbers ``"1,2,3"``, vectors
            ``"0.5:0.5:0"`` or ``[[0.5, 0.5, 0]]`` (see :func:`parse_styles`).
        channels_last: keep weights and activations (auxiliaries included) in channels-last memory format
            (faster convolutions on GPU tensor cores and on CPUs with AVX-512, ~3× with ``bf16-mixed``).
            ``auto`` (default): channels-last except when training on a CPU without AVX-512, where
            channels-first was faster. Results are unchanged.
        compile: compile both generators and the five discriminators with ``torch.compile`` (inductor) when a
            loop starts; the first step of each mode takes minutes longer. Results match eager up to float
            rounding.
    """

    def __init__(
        self,
        generator: StyleGenerator,
        reverse_generator: ResnetGenerator,
        discriminators: QMUPDDiscriminators,
        auxiliaries: AuxiliaryMode = "pretrained",
        hed_path: str | None = None,
        alexnet_path: str | None = None,
        lpips_path: str | None = None,
        quality_path: str | None = None,
        random_auxiliary_width: int = 8,
        use_quality_loss: bool = True,
        lambda_local_adv: float = 0.5,
        lambda_style: float = 1.0,
        style_head_fakes: bool = True,
        lambda_relaxed_cycle: float = 5.0,
        lambda_edge_content: float = 0.0,
        lambda_truncation: float = 5.0,
        lambda_strict_cycle: float = 5.0,
        lambda_quality: float = 0.5,
        soft_style_labels: bool = False,
        truncation_scale: float = TRUNCATION_SCALE,
        truncation_gradient: Literal["detach", "straight_through"] = "detach",
        gan_mode: Literal["lsgan", "vanilla"] = "lsgan",
        pool_size: int = 50,
        lr: float = 1.5e-5,
        d_lr: float | None = None,
        betas: tuple[float, float] = (0.5, 0.999),
        lr_constant_epochs: int = 100,
        lr_decay_epochs: int = 200,
        progress_epochs: int = 300,
        predict_styles: dict[str, list[float]] | None = None,
        predict_original_size: bool = True,
        styles: str | list[list[float]] | None = None,
        channels_last: bool | Literal["auto"] = "auto",
        compile: bool = False,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.save_hyperparameters(ignore=["generator", "reverse_generator", "discriminators"])
        if truncation_gradient not in ("detach", "straight_through"):
            raise ValueError(f"truncation_gradient must be 'detach' or 'straight_through', got {truncation_gradient!r}")
        check_auxiliary_mode(auxiliaries)
        if styles is not None:
            predict_styles = parse_styles(styles, generator.style_dim)
        self.predict_styles = dict(predict_styles or one_hot_styles(generator.style_dim))
        for name, vector in self.predict_styles.items():
            if len(vector) != generator.style_dim or not name or "/" in name:
                raise ValueError(
                    f"predict_styles[{name!r}] must be a {generator.style_dim}-vector with a "
                    f"file-name friendly name, got {vector}"
                )
        self.generator = generator
        self.reverse_generator = reverse_generator
        self.discriminators = discriminators
        self.auxiliaries: FrozenAuxiliaries | None = None
        self.pool = ImagePool(pool_size)

    def compile_targets(self) -> list[nn.Module]:
        """Both generators and the five discriminators (the frozen auxiliaries stay eager)."""
        d = self.discriminators
        return [self.generator, self.reverse_generator, d.drawing, d.photo, *d.local.values()]

    # ---- frozen auxiliaries: built for fit, kept out of checkpoints ----------------------------------------
    def setup(self, stage: str) -> None:
        hp = self.hparams
        if stage == "fit" and self.auxiliaries is None:
            self.auxiliaries = build_auxiliaries(
                hp.auxiliaries,
                hp.use_quality_loss,
                hp.hed_path,
                hp.alexnet_path,
                hp.lpips_path,
                hp.quality_path,
                hp.random_auxiliary_width,
            )

    def state_dict(self, *args, **kwargs):
        """The trainable state only: the frozen auxiliaries are pretrained files, not training state."""
        state = super().state_dict(*args, **kwargs)
        prefix = kwargs.get("prefix", "") + _AUX
        for key in [k for k in state if k.startswith(prefix)]:
            del state[key]
        return state

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=False, assign=assign)
        missing = [k for k in result.missing_keys if not k.startswith(_AUX)]
        if strict and (missing or result.unexpected_keys):
            raise RuntimeError(
                f"error loading the QMUPD state dict: missing keys {missing}, unexpected keys {result.unexpected_keys}"
            )
        return result._replace(missing_keys=missing)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["image_pool"] = self.pool.state_dict()  # for an exact resume: the history and its rng
        kind = "qmupd" if self.hparams.use_quality_loss else "upd"  # so that `draw` / `export` need no config
        checkpoint[MODEL_SPEC_KEY] = model_spec(
            kind, self.generator, self.discriminators.drawing.image_size, styles=self.predict_styles
        )

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "image_pool" in checkpoint:
            self.pool.load_state_dict(checkpoint["image_pool"])

    # ---- losses -------------------------------------------------------------------------------------------
    def cycle(self, batch: UnpairedBatch) -> CycleOutputs:
        """ŷ = G(x, s), x̂ = F(ŷ), x̃ = F(y), ỹ = G(x̃, s)."""
        fake_drawing = self.generator(batch.photo, batch.style)
        fake_photo = self.reverse_generator(batch.drawing)
        return CycleOutputs(
            fake_drawing, self.reverse_generator(fake_drawing), fake_photo, self.generator(fake_photo, batch.style)
        )

    def generator_loss(self, batch: UnpairedBatch, out: CycleOutputs) -> dict[str, Tensor]:
        """L_G = L_adv + L_local + L_cls + λ_A(p)·L_relaxed + λ_T(p)·L_trunc + λ_B·L_strict [+ λ_q·L_q]."""
        hp, aux, mode = self.hparams, self.auxiliaries, self.hparams.gan_mode
        if aux is None:
            raise RuntimeError("the frozen auxiliaries are not built: call setup('fit') first")
        lambda_relaxed, lambda_trunc = cycle_weights(
            self.current_epoch, hp.progress_epochs, hp.lambda_relaxed_cycle, hp.lambda_truncation
        )
        judged = self.discriminators.judge_drawing(out.fake_drawing, batch.photo_masks, batch.style)
        with torch.no_grad():
            photo_edges = edge_image(batch.photo, aux.edges)
        losses = {
            "g_adv_drawing": gan_loss(judged.patch, True, mode),
            "g_adv_photo": gan_loss(self.discriminators.judge_photo(out.fake_photo), True, mode),
            "g_local_adv": hp.lambda_local_adv * sum(gan_loss(x, True, mode) for x in judged.local.values()),
            "g_style": hp.lambda_style * style_classification_loss(judged.style, batch.style, hp.soft_style_labels),
            "g_relaxed_cycle": lambda_relaxed
            * relaxed_cycle_loss(  # LPIPS(E(F(G(x))), E(x))
                out.reconstructed_photo, photo_edges, aux.edges, aux.perceptual
            ),
            "g_truncation": out.fake_drawing.new_zeros(()),
            "g_strict_cycle": hp.lambda_strict_cycle * strict_cycle_loss(out.reconstructed_drawing, batch.drawing),
        }
        if hp.lambda_edge_content > 0:  # ink where the photo has edges: λ_E(1 − 0.9p)·perceptual(−ŷ, E(x))
            lambda_edges, _ = cycle_weights(self.current_epoch, hp.progress_epochs, hp.lambda_edge_content)
            ink = (-out.fake_drawing).expand(-1, 3, -1, -1)
            losses["g_edge_content"] = lambda_edges * aux.perceptual(ink, photo_edges).mean()
        if lambda_trunc > 0:  # LPIPS(E(F(T(G(x)))), E(x)); zero weight in the first epoch
            truncated = truncate(out.fake_drawing, hp.truncation_scale, hp.truncation_gradient)
            losses["g_truncation"] = lambda_trunc * relaxed_cycle_loss(
                self.reverse_generator(truncated), photo_edges, aux.edges, aux.perceptual
            )
        if hp.use_quality_loss:  # M scores "higher is better"
            losses["g_quality"] = hp.lambda_quality * (1 - aux.quality(out.fake_drawing)).mean()
        losses["g_total"] = sum(losses.values())
        return losses

    def discriminator_loss(
        self, batch: UnpairedBatch, fake_drawing: Tensor, fake_masks: Tensor, fake_style: Tensor, fake_photo: Tensor
    ) -> dict[str, Tensor]:
        """0.5·(real + fake) for every discriminator; the fakes (with their masks and styles) come from the
        pool. With ``style_head_fakes`` the style head learns to classify fakes as their target style too
        (there is no "fake" class), else only real drawings.

        Also returns, outside ``d_total`` and without gradient, the style head's accuracy on the real drawings
        (``d_style_acc_real``) and on the pooled fakes' requested styles (``d_style_acc_fake``).
        """
        hp, mode, d = self.hparams, self.hparams.gan_mode, self.discriminators
        real = d.judge_drawing(batch.drawing, batch.drawing_masks, batch.style)
        fake = d.judge_drawing(fake_drawing, fake_masks, fake_style)
        local = [gan_loss(real.local[r], True, mode) + gan_loss(fake.local[r], False, mode) for r in real.local]
        real_style = style_classification_loss(real.style, batch.style, hp.soft_style_labels)
        fake_style_loss = style_classification_loss(fake.style, fake_style, hp.soft_style_labels)
        losses = {
            "d_drawing": 0.5 * (gan_loss(real.patch, True, mode) + gan_loss(fake.patch, False, mode)),
            "d_style": 0.5 * (real_style + fake_style_loss) if hp.style_head_fakes else real_style,
            "d_local": 0.5 * sum(local),
            "d_photo": 0.5
            * (gan_loss(d.judge_photo(batch.photo), True, mode) + gan_loss(d.judge_photo(fake_photo), False, mode)),
        }
        losses["d_total"] = sum(losses.values())
        losses["d_style_acc_real"] = style_accuracy(real.style, batch.style)
        losses["d_style_acc_fake"] = style_accuracy(fake.style, fake_style)
        return losses

    # ---- training -----------------------------------------------------------------------------------------
    def forward(self, photo: Tensor, style: Tensor) -> Tensor:
        """Draw: ``(B, 3, H, W)`` photos in [-1, 1] and ``(B, 3)`` styles -> ``(B, 1, H, W)`` in [-1, 1]."""
        return self.generator(photo, style)

    def training_step(self, batch: UnpairedBatch, batch_idx: int) -> dict[str, Tensor]:
        g_opt, d_opt = self.optimizers()

        with self.toggled_optimizer(g_opt):  # G step first, as the reference
            out = self.cycle(batch)
            g_losses = self.generator_loss(batch, out)
            backward_step(self, g_opt, g_losses["g_total"])
        # one pool query per step, shared by all discriminators
        pooled = self.pool.query(out.fake_drawing, batch.photo_masks, batch.style, out.fake_photo)
        with self.toggled_optimizer(d_opt):
            d_losses = self.discriminator_loss(batch, *pooled)
            backward_step(self, d_opt, d_losses["d_total"])
        log_train_losses(self, g_losses, d_losses, len(batch))
        return {"loss": g_losses["g_total"].detach(), "fake_drawing": out.fake_drawing.detach()}

    def on_train_epoch_end(self) -> None:
        hp = self.hparams
        lambda_relaxed, lambda_trunc = cycle_weights(
            self.current_epoch, hp.progress_epochs, hp.lambda_relaxed_cycle, hp.lambda_truncation
        )
        self.log_dict(
            {
                "train/lr": self.optimizers()[0].param_groups[0]["lr"],
                "train/lambda_relaxed_cycle": lambda_relaxed,
                "train/lambda_truncation": lambda_trunc,
            },
            sync_dist=True,
        )
        for scheduler in self.lr_schedulers():
            scheduler.step()

    def validation_step(self, batch: UnpairedBatch, batch_idx: int) -> None:
        """Strict backward cycle L1, and how far apart the one-hot styles' drawings are (style control)."""
        reconstruction = self.generator(self.reverse_generator(batch.drawing), batch.style)
        self.log(
            "val/strict_cycle", strict_cycle_loss(reconstruction, batch.drawing), batch_size=len(batch), sync_dist=True
        )
        self.log("val/style_spread", style_spread(self.generator, batch.photo), batch_size=len(batch), sync_dist=True)

    def test_step(self, batch: UnpairedBatch, batch_idx: int) -> None:
        self.validation_step(batch, batch_idx)

    def predict_step(self, batch: PhotoBatch, batch_idx: int) -> dict:
        """``{"name", "drawing": {style_name: drawings}}``; drawings are ``(B, 1, S, S)`` or, resized back to
        the photos' sizes, a list of ``(1, H_i, W_i)``."""
        drawings = {}
        for name, vector in self.predict_styles.items():
            style = batch.photo.new_tensor(vector).expand(len(batch), -1)
            drawing = self.generator(batch.photo, style)
            if self.hparams.predict_original_size:
                drawing = [
                    F.interpolate(d[None], size=tuple(size.tolist()), mode="bicubic", align_corners=False)[0].clamp(
                        -1, 1
                    )
                    for d, size in zip(drawing, batch.original_size, strict=True)
                ]
            drawings[name] = drawing
        return {"name": batch.name, "drawing": drawings}

    def configure_optimizers(self):
        hp = self.hparams
        generators = [*self.generator.parameters(), *self.reverse_generator.parameters()]
        g_opt = adam(generators, hp.lr, hp.betas)
        d_opt = adam(self.discriminators.parameters(), hp.lr if hp.d_lr is None else hp.d_lr, hp.betas)
        rule = linear_decay_lambda(hp.lr_constant_epochs, hp.lr_decay_epochs)
        schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, rule) for opt in (g_opt, d_opt)]
        return [g_opt, d_opt], schedulers


def style_accuracy(logits: Tensor, style: Tensor) -> Tensor:
    """Share of ``(B, K)`` style logits whose argmax is the argmax of the ``(B, K)`` style vectors (no grad)."""
    return (logits.detach().argmax(1) == style.argmax(1)).float().mean()


def style_spread(generator: StyleGenerator, photo: Tensor) -> Tensor:
    """Mean absolute difference between the drawings of every pair of one-hot styles (0: no style control)."""
    eye = torch.eye(generator.style_dim, device=photo.device, dtype=photo.dtype)
    drawings = [generator(photo, eye[k].expand(len(photo), -1)) for k in range(generator.style_dim)]
    pairs = [(a - b).abs().mean() for i, a in enumerate(drawings) for b in drawings[i + 1 :]]
    return torch.stack(pairs).mean()
