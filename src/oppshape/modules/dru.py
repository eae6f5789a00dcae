"""The discretise/regularise unit (DRU) of DIAL: Foerster et al. (2016), Sec. 5, eq. for ``DRU(m)``.

During centralised learning a message logit ``m`` goes through a noisy channel,
``DRU(m) = Logistic(N(m, sigma^2))``, which keeps the channel differentiable and pushes the sender
towards logits far from 0 (the noise only washes out saturated messages), so that at decentralised
execution the hard discretisation ``DRU(m) = 1{m > 0}`` loses little. For messages of more than one
bit, the softmax variant sends ``softmax(m + noise)`` in training and the one-hot of the arg-max at
execution.
"""

from __future__ import annotations

import torch
from torch import nn

from oppshape.config.communication import DRU_KINDS


class DRU(nn.Module):
    """Discretise/regularise unit; ``train()`` selects the noisy channel, ``eval()`` the hard one.

    Args:
        sigma: standard deviation of the channel noise (2 in the paper's switch riddle).
        kind: ``"sigmoid"`` (independent bits, the paper's DRU) or ``"softmax"`` (one message out of
            ``message_size``).

    The noise can be drawn separately (``noise_like``) and passed to ``forward`` so that a loss can
    replay the exact channel a rollout used.

    Example:
        >>> dru = DRU(sigma=2.0)
        >>> logits = torch.tensor([[-3.0], [0.5]])
        >>> dru.eval()(logits)
        tensor([[0.],
                [1.]])
    """

    def __init__(self, sigma: float = 2.0, kind: str = "sigmoid") -> None:
        if sigma < 0:
            raise ValueError(f"sigma={sigma} must be >= 0")
        if kind not in DRU_KINDS:
            raise ValueError(f"unknown DRU kind {kind!r}; valid choices: {', '.join(DRU_KINDS)}")
        super().__init__()
        self.sigma = sigma
        self.kind = kind

    def noise_like(self, logits: torch.Tensor) -> torch.Tensor:
        """Channel noise ``N(0, sigma^2)`` with the shape of ``logits``."""
        return torch.randn_like(logits) * self.sigma

    def forward(self, logits: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Message sent for ``logits`` ``[..., M]``: soft and noisy in training, hard at execution."""
        if self.training:
            noisy = logits + (self.noise_like(logits) if noise is None else noise)
            return torch.sigmoid(noisy) if self.kind == "sigmoid" else torch.softmax(noisy, dim=-1)
        if self.kind == "sigmoid":
            return (logits > 0).to(logits.dtype)
        return torch.nn.functional.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
