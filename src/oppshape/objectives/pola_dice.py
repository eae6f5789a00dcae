"""POLA-DiCE's proximal objective: Loaded DiCE plus a KL penalty in policy space (Zhao et al., 2022).

POLA replaces LOLA's Euclidean steps by proximal steps in policy space. Its sampled version (POLA-DiCE,
Algorithm 2) minimises, for the looked-ahead opponent ``j`` (POLA eq. 5, weight ``inner_beta``) and for
the agent ``i`` itself (POLA eq. 6, weight ``outer_beta``)::

    -DiCE(theta) + beta * KL(pi_{theta_start} || pi_theta)

with the KL averaged over the histories the rollout visited. With ``beta = 0`` (or no ``kl`` entry) it is
the plain Loaded-DiCE objective that LOLA-DiCE steps on.
"""

from __future__ import annotations

from dataclasses import dataclass

from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey

from oppshape.objectives.dice import DiCELoss


class POLADiCELoss(DiCELoss):
    """:class:`DiCELoss` plus POLA's proximal KL term, for batches of independent runs.

    The input is ``[*R, N, T]``: ``R`` independent runs (e.g. seeds trained together; none for a single
    run), ``N`` episodes per run, ``T`` steps. Every entry is the sum over runs of that run's own loss, so
    each run gets exactly its own gradient (seeds never interact)::

        loss_objective = sum_R (minus the run's Loaded-DiCE surrogate, mean over N)    # DiCELoss
        loss_value     = sum_R (the run's value loss, mean over N)                     # DiCELoss
        loss_kl        = beta * sum_R mean_{N, T} KL(pi_ref(. | h_t) || pi(. | h_t))   # POLA eqs. 5-6

    ``loss_kl`` and the detached diagnostic ``kl`` (the mean over runs of each run's average KL) are
    returned only when the batch has a ``kl`` entry. Differentiate ``loss_objective + loss_kl`` for the
    policy and ``loss_value`` for the value baseline.

    Args:
        gamma: discount, in (0, 1].
        lmbda: GAE lambda of the Loaded-DiCE advantages, in [0, 1].
        beta: weight of the KL penalty, >= 0 (POLA's ``inner_beta`` or ``outer_beta``).

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> logits = torch.zeros(2, requires_grad=True)  # one two-action policy, 3 runs x 4 games x 5 steps
        >>> log_prob = torch.log_softmax(logits, -1)[torch.randint(2, (3, 4, 5))]
        >>> reference = torch.log_softmax(torch.tensor([0.5, -0.5]), -1)
        >>> kl = (reference.exp() * (reference - torch.log_softmax(logits, -1))).sum().expand(3, 4, 5)
        >>> td = TensorDict({"log_prob": log_prob, "reward": torch.randn(3, 4, 5),
        ...                  "state_value": torch.zeros(3, 4, 5), ("next", "state_value"): torch.zeros(3, 4, 5),
        ...                  "kl": kl}, batch_size=[3, 4, 5])
        >>> losses = POLADiCELoss(gamma=0.96, beta=10.0)(td)
        >>> (losses["loss_objective"] + losses["loss_kl"]).backward()
        >>> sorted(losses.keys())
        ['kl', 'loss_kl', 'loss_objective', 'loss_value']
    """

    @dataclass
    class _AcceptedKeys(DiCELoss._AcceptedKeys):
        """Input keys: those of :class:`DiCELoss` (every entry ``[*R, N, T]``) and the KL.

        Attributes:
            log_prob: this agent's ``log pi(a_t | h_t)``, attached to its parameters' graph.
            other_log_prob: the other agents' summed log-probabilities (optional).
            reward: this agent's reward ``r_t``.
            value: this agent's ``V(h_t)`` (optional; absent: plain DiCE, no value loss).
            next_value: ``V(h_{t+1})``, needed with ``value``.
            kl: ``KL(pi_ref(. | h_t) || pi(. | h_t))`` at each visited history, attached to the policy's
                graph (optional; absent: no proximal term).
        """

        kl: NestedKey = "kl"

    default_keys = _AcceptedKeys
    tensor_keys: _AcceptedKeys

    def __init__(self, *, gamma: float = 0.96, lmbda: float = 1.0, beta: float = 0.0) -> None:
        if beta < 0:
            raise ValueError(f"beta={beta} must be >= 0")
        super().__init__(gamma=gamma, lmbda=lmbda)
        self.beta = beta

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        """``loss_objective``, ``loss_value`` (with values) and ``loss_kl``, ``kl`` (with a KL entry); scalars."""
        runs = tensordict.batch_size[:-2].numel()
        losses = super().forward(tensordict).apply(lambda x: runs * x)
        if self.tensor_keys.kl in tensordict.keys(include_nested=True):
            kl = self._entry(tensordict, self.tensor_keys.kl).mean(dim=(-2, -1))  # [*R]: each run's average KL
            losses["loss_kl"] = self.beta * kl.sum()
            losses["kl"] = kl.detach().mean()
        return losses
