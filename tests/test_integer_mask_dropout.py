"""IntegerMaskDropout: nn.Dropout's behaviour with cheaper masks (not a dropout of characters)."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.dropout import IntegerMaskDropout


def test_drops_p_of_the_elements_and_keeps_the_mean():
    drop = IntegerMaskDropout(0.1).train()
    torch.manual_seed(0)
    out = drop(torch.ones(1000, 1001))  # an odd count: the last 64-bit draw is cut
    dropped = (out == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.002
    assert abs(out.mean().item() - 1.0) < 0.003
    assert torch.allclose(out[out != 0], torch.tensor(65536 / (65536 - 6554)))


def test_identity_in_eval_mode_and_at_zero():
    x = torch.randn(7, 3)
    assert IntegerMaskDropout(0.5).eval()(x) is x
    assert IntegerMaskDropout(0.0).train()(x) is x


def test_a_seed_fixes_the_mask_and_the_gradient_follows_it():
    drop = IntegerMaskDropout(0.3).train()
    x = torch.randn(5, 4, 9, requires_grad=True)
    torch.manual_seed(3)
    first = drop(x)
    torch.manual_seed(3)
    second = drop(x)
    assert torch.equal(first, second)
    first.sum().backward()
    kept = first.detach() != 0
    assert torch.allclose(x.grad[kept], torch.tensor(65536 / (65536 - 19661)))
    assert torch.equal(x.grad[~kept], torch.zeros_like(x.grad[~kept]))


def test_keeps_the_input_type_and_refuses_a_bad_probability():
    out = IntegerMaskDropout(0.1).train()(torch.ones(4, 8, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16
    assert torch.equal(IntegerMaskDropout(1.0).train()(torch.ones(3)), torch.zeros(3))
    with pytest.raises(ValueError, match="dropout must be in"):
        IntegerMaskDropout(1.5)
