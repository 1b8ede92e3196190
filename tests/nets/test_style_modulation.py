"""StyleGenerator's optional style modulation (off in the reference, so released weights load unchanged)."""

from __future__ import annotations

import torch

from apd_lightning.nets import StyleGenerator


def test_off_by_default_with_the_reference_keys_only():
    generator = StyleGenerator(base_channels=4, num_blocks=1)
    assert generator.style_modulation is None
    assert not [k for k in generator.state_dict() if k.startswith("style_modulation")]


def test_zero_initialised_so_it_starts_as_the_reference_then_reaches_every_position():
    torch.manual_seed(0)
    reference = StyleGenerator(base_channels=4, num_blocks=1)
    modulated = StyleGenerator(base_channels=4, num_blocks=1, style_modulation=True)
    assert {k for k in modulated.state_dict()} - {k for k in reference.state_dict()} == {
        "style_modulation.weight",
        "style_modulation.bias",
    }
    modulated.load_state_dict(reference.state_dict(), strict=False)
    photo, styles = torch.rand(3, 3, 64, 64) * 2 - 1, torch.eye(3)
    torch.testing.assert_close(modulated(photo, styles), reference(photo, styles))
    with torch.no_grad():
        modulated.style_modulation.weight.normal_()
    one = photo[:1].expand(3, -1, -1, -1)

    def centre_change(generator):  # how much style 1 -> 2 changes the drawing away from the borders
        drawings = generator(one, styles)
        return (drawings[0] - drawings[1]).abs()[..., 24:40, 24:40].mean().item()

    assert centre_change(modulated) > max(1e-3, 5 * centre_change(reference))


def test_gradients_reach_the_modulation():
    generator = StyleGenerator(base_channels=4, num_blocks=1, style_modulation=True)
    generator(torch.rand(2, 3, 32, 32), torch.eye(3)[:2]).mean().backward()
    assert generator.style_modulation.weight.grad is not None
    assert generator.style_modulation.weight.grad.abs().sum() > 0
