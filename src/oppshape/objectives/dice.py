"""DiCE: the surrogate whose derivatives of every order estimate those of the expected return.

Foerster et al. (2018), "DiCE: The Infinitely Differentiable Monte Carlo Estimator": the magic box
``box(x) = exp(x - stop_grad(x))`` equals 1 in the forward pass and multiplies by ``grad x`` in
every backward pass, so the gradient of ``sum_t box(sum_{t'<=t} log pi(a_t')) gamma^t r_t`` is the
score-function gradient and its gradient is the second-order estimate LOLA needs. The variance is
reduced as in "Loaded DiCE" (Farquhar et al., 2019) with GAE advantages (Schulman et al., 2016), the
estimator of the POLA paper (Zhao et al., 2022, Appendix B) and its reference code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tensordict import TensorDict, TensorDictBase
from tensordict.utils import NestedKey
from torchrl.objectives import LossModule
from torchrl.objectives.value.functional import generalized_advantage_estimate


def magic_box(x: torch.Tensor) -> torch.Tensor:
    """DiCE's operator: 1 in value, ``box(x) * grad x`` in derivative (Foerster et al. 2018, eq. 3)."""
    return torch.exp(x - x.detach())


def bootstrapped_returns(reward: torch.Tensor, last_next_value: torch.Tensor, gamma: float) -> torch.Tensor:
    """``R_t = sum_{k>=t} gamma^(k-t) r_k + gamma^(T-t) V(s_T)`` for ``reward [*B, T]`` and ``last_next_value [*B]``.

    The value target of POLA's baselines: a Monte Carlo return closed by the value after the last step.
    """
    steps = reward.shape[-1]
    powers = torch.arange(steps, device=reward.device, dtype=reward.dtype)
    lag = powers.unsqueeze(0) - powers.unsqueeze(1)  # [t, k] = k - t
    discount = torch.where(lag >= 0, gamma ** lag.clamp_min(0), torch.zeros_like(lag))
    return reward @ discount.T + last_next_value.unsqueeze(-1) * gamma ** (steps - powers)


class DiCELoss(LossModule):
    """Loaded DiCE surrogate of one agent's discounted return, with a learned value baseline.

    ``loss_objective`` is minus (Farquhar et al. 2019, eq. 7, with GAE advantages)::

        mean_b sum_t [box(W_{<=t}) - box(W_{<t})] * gamma^t * A_t,   W_{<=t} = sum_{t'<=t} sum_agents log pi(a_t')

    where ``A_t`` is the GAE(``lmbda``) advantage from stop-gradient values, so ``lmbda = 1`` is unbiased
    for every derivative order. Without a value entry it is plain DiCE, ``mean_b sum_t box(W_{<=t})
    gamma^t r_t``. ``loss_value`` is ``mean_b sum_t (R_t - V_t)^2`` with ``R_t`` the discounted return
    bootstrapped by the next-state value of the last step (POLA's value loss, whatever ``lmbda``).

    The log-probabilities come in the TensorDict, still attached to the graph of whichever
    parameters produced them (the agent's and the other agents'); that is what lets opponent-shaping
    learners differentiate this loss with respect to the other agent's look-ahead step. The loss
    therefore owns no network.

    Each row of the batch is one stretch of a single episode: the time dimension is the last batch
    dimension of the input, and no episode ends inside it (the last next-state value closes it).

    Args:
        gamma: discount, in (0, 1].
        lmbda: GAE lambda, in [0, 1].

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> logits = torch.zeros(3, requires_grad=True)
        >>> log_prob = torch.log_softmax(logits, -1)[torch.tensor([[0, 1], [2, 0]])]  # [B=2, T=2]
        >>> td = TensorDict({"log_prob": log_prob, "other_log_prob": torch.zeros(2, 2),
        ...                  "reward": torch.ones(2, 2), "state_value": torch.zeros(2, 2),
        ...                  ("next", "state_value"): torch.zeros(2, 2)}, batch_size=[2, 2])
        >>> loss = DiCELoss(gamma=0.9)(td)
        >>> loss["loss_objective"].backward()
    """

    @dataclass
    class _AcceptedKeys:
        """Input keys; every entry is ``[*B, T]`` (a trailing singleton dimension is allowed).

        Attributes:
            log_prob: this agent's ``log pi(a_t | h_t)``, attached to its parameters' graph.
            other_log_prob: the other agents' summed log-probabilities (optional; absent: single agent).
            reward: this agent's reward ``r_t``.
            value: this agent's ``V(h_t)`` (optional; absent: plain DiCE, no value loss).
            next_value: ``V(h_{t+1})``, needed with ``value``; only its last step is not a copy of
                ``value`` shifted by one, as rows hold no episode end.
        """

        log_prob: NestedKey = "log_prob"
        other_log_prob: NestedKey = "other_log_prob"
        reward: NestedKey = "reward"
        value: NestedKey = "state_value"
        next_value: NestedKey = ("next", "state_value")

    default_keys = _AcceptedKeys
    tensor_keys: _AcceptedKeys

    def __init__(self, *, gamma: float = 0.96, lmbda: float = 1.0) -> None:
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1]")
        if not 0.0 <= lmbda <= 1.0:
            raise ValueError(f"lmbda={lmbda} must lie in [0, 1]")
        super().__init__()
        self.gamma = gamma
        self.lmbda = lmbda

    def _forward_value_estimator_keys(self, **kwargs) -> None:
        """No TorchRL value estimator: advantages are computed from the given values."""

    def _entry(self, td: TensorDictBase, key: NestedKey) -> torch.Tensor:
        x = td.get(key)
        if x.dim() == td.batch_dims + 1 and x.shape[-1] == 1:
            x = x.squeeze(-1)
        if x.shape != td.batch_size:
            raise ValueError(f"entry {key!r} has shape {tuple(x.shape)}; expected {tuple(td.batch_size)} ([*B, T])")
        return x

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        """``loss_objective`` (minus the surrogate) and, with values, ``loss_value``; both scalars."""
        keys = self.tensor_keys
        log_prob = self._entry(tensordict, keys.log_prob)
        reward = self._entry(tensordict, keys.reward)
        stochastic = log_prob
        if keys.other_log_prob in tensordict.keys(include_nested=True):
            stochastic = log_prob + self._entry(tensordict, keys.other_log_prob)
        steps = reward.shape[-1]
        discount = self.gamma ** torch.arange(steps, device=reward.device, dtype=reward.dtype)
        dependencies = stochastic.cumsum(dim=-1)  # W_{<=t}
        losses = {}
        if keys.value not in tensordict.keys(include_nested=True):
            losses["loss_objective"] = -(magic_box(dependencies) * discount * reward).sum(-1).mean()
            return TensorDict(losses, batch_size=[])
        value = self._entry(tensordict, keys.value)
        next_value = self._entry(tensordict, keys.next_value)
        with torch.no_grad():
            args = [x.detach().unsqueeze(-1) for x in (value, next_value, reward)]
            no_end = torch.zeros_like(args[0], dtype=torch.bool)
            advantage = generalized_advantage_estimate(self.gamma, self.lmbda, *args, done=no_end)[0].squeeze(-1)
            value_target = bootstrapped_returns(reward, next_value[..., -1], self.gamma)
        weight = magic_box(dependencies) - magic_box(dependencies - stochastic)  # box(W_{<=t}) - box(W_{<t})
        losses["loss_objective"] = -(weight * discount * advantage).sum(-1).mean()
        losses["loss_value"] = (value_target - value).pow(2).sum(-1).mean()
        return TensorDict(losses, batch_size=[])
