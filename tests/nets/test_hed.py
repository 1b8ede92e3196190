"""HED: sniklaus key names, edge probabilities at the input size, its BGR input convention."""

from __future__ import annotations

import pytest
import torch

from apd_lightning.nets import (
    HED,
    hed_state_dict_from_sniklaus,
)
from tests.builders import assert_every_parameter_gets_a_finite_gradient, sniklaus_hed_shapes

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("prefix", ["net", "module"])
def test_hed_loads_sniklaus_key_names(prefix):
    state = {k: torch.full(v, float(i)) for i, (k, v) in enumerate(sniklaus_hed_shapes(prefix).items())}
    hed = HED()
    hed.load_state_dict(hed_state_dict_from_sniklaus(state), strict=True)
    assert torch.equal(hed.stages[2][5].bias, state[f"{prefix}VggThr.5.bias"])
    assert torch.equal(hed.side_outputs[3].weight, state[f"{prefix}ScoreFou.weight"])
    assert torch.equal(hed.fuse.weight, state[f"{prefix}Combine.0.weight"])


def test_hed_output_is_an_edge_probability_at_input_size():
    torch.manual_seed(0)
    edges = HED(base_channels=2)(torch.rand(2, 3, 40, 56))
    assert edges.shape == (2, 1, 40, 56) and 0 < edges.min() and edges.max() < 1
    zero = HED(base_channels=2)
    for p in zero.parameters():
        torch.nn.init.zeros_(p)
    torch.nn.init.constant_(zero.fuse.bias, 2.0)
    assert torch.allclose(zero(torch.rand(1, 3, 16, 16)), torch.sigmoid(torch.tensor(2.0)))


def test_hed_feeds_mean_free_bgr_on_the_255_scale():
    hed, seen = HED(base_channels=2), []
    hed.stages[0][0].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    red = torch.zeros(1, 3, 16, 16)
    red[:, 0] = 1.0  # RGB input in [0, 1]
    hed(red)
    assert torch.allclose(seen[0][0, :, 0, 0], torch.tensor([-104.00698793, -116.66876762, 255 - 122.67891434]))


def test_every_parameter_gets_a_finite_gradient():
    assert_every_parameter_gets_a_finite_gradient(HED(base_channels=2), lambda net: net(torch.rand(2, 3, 32, 32)))
