"""Advantage Alignment and Proximal Advantage Alignment (Duque et al., ICLR 2025, arXiv 2406.14662).

Opponent shaping without look-ahead: if both agents act in proportion to their Q-values and maximise
their values, the opponent-shaping term of the policy gradient reduces to the agent's own discounted
past advantages times the opponent's present advantage (paper, Sec. 4; the A* equation). Each step's
policy-gradient weight becomes

    A*_t = A^1_t + beta * gamma * (sum_{k<t} gamma^(t-k) A^1_k) * A^2_t

with ``A^1`` the agent's and ``A^2`` the opponent's advantage, the sum running over the earlier steps of
the same episode. Advantage Alignment (AA) uses ``A*`` as the weight of ``log pi(a_t | s_t)``; Proximal
Advantage Alignment (PAA) puts it in PPO's clipped surrogate (the paper's Algorithms 1 and 2). The
equation is transcribed from the authors' README and ICLR poster, which print it unnumbered; the
paper's own equation numbers are not cited because no copy of its body could be read here (the stored
arXiv pages give only the abstract and introduction).

Estimates: ``A^1_t`` and ``A^2_t`` are GAE(gamma, lambda); the *past* ``A^1_k`` inside the sum are
one-step TD errors ``r_k + gamma V(s_{k+1}) - V(s_k)``, which read nothing after ``s_{k+1}``. A GAE
estimate of ``A^1_k`` adds up the TD errors of every later step, ``t`` and after included, so with it the
"past" sum carries the present: on the Coin Game it made the alignment term ~10x the size of ``A^1``,
negative on every coin pick-up whoever owned the coin, and it drowned the policy gradient (the agents
never learned to collect coins); with TD errors the term is ~2.7x ``A^1`` and penalises taking the other's
coin after a good past and rewards it after a bad one, the reciprocity the paper derives.

The opponent's advantage is *data* (computed with the opponent's own critic by whoever holds it), so the
loss differentiates only the agent's own actor and critic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tensordict import TensorDict, TensorDictBase, TensorDictParams
from tensordict.utils import NestedKey
from torch import nn
from torchrl.objectives import LossModule
from torchrl.objectives.value.functional import generalized_advantage_estimate, td0_advantage_estimate

__all__ = ["AdvantageAlignmentLoss", "aligned_advantage", "standardize"]


def aligned_advantage(
    advantage: torch.Tensor,
    opponent_advantage: torch.Tensor,
    done: torch.Tensor,
    *,
    beta: float,
    gamma: float,
    past_advantage: torch.Tensor | None = None,
) -> torch.Tensor:
    """The modified advantage ``A*`` (paper, Sec. 4) along the last dim (time), ``[..., T]``.

    ``past_t = sum_{k<t} gamma^(t-k) P_k`` is carried forward as ``past_{t+1} = gamma (past_t + P_t)``
    and reset to 0 after a step with ``done`` set, so no advantage crosses an episode boundary.

    Args:
        advantage: ``A^1`` ``[..., T]``, the agent's advantages.
        opponent_advantage: ``A^2`` ``[..., T]``, the opponent's advantages at the same steps.
        done: ``[..., T]`` bool, the episode ended at step ``t``.
        beta: weight of the alignment term (0: plain advantage).
        gamma: discount of the past advantages (and the extra ``gamma`` factor of the equation).
        past_advantage: ``P`` ``[..., T]``, the estimates of ``A^1_k`` that the past sum adds up
            (the loss passes one-step TD errors, see the module docstring); None: ``advantage`` itself.
    """
    past_terms = advantage if past_advantage is None else past_advantage
    past = torch.zeros_like(advantage[..., 0])
    aligned = []
    for t in range(advantage.shape[-1]):
        aligned.append(advantage[..., t] + beta * gamma * past * opponent_advantage[..., t])
        past = torch.where(done[..., t], torch.zeros_like(past), gamma * (past + past_terms[..., t]))
    return torch.stack(aligned, dim=-1)


def standardize(values: torch.Tensor, dims: int = 2) -> torch.Tensor:
    """Zero mean, unit standard deviation over the last ``dims`` dims (episodes and time: one seed's batch)."""
    reduce = tuple(range(values.dim() - dims, values.dim()))
    mean = values.mean(reduce, keepdim=True)
    std = values.std(reduce, keepdim=True)
    return (values - mean) / (std + 1e-8)


class AdvantageAlignmentLoss(LossModule):
    """Actor loss with the aligned advantage (AA, or PAA's clipped surrogate), entropy bonus and critic loss.

    The time dimension is the last batch dimension (``[N, M, T]`` for the ensemble networks of
    :mod:`oppshape.modules.loqa_nets`: ``N`` members, ``M`` episodes). A row may hold several episodes
    (``("next", "done")`` inside it) when the networks read neither memory nor time (tabular, MLP without
    time input); recurrent or time-reading networks need one episode per row, from its first step.

    Args:
        actor_network: observations ``[..., T, *obs]`` -> logits ``[..., T, A]``.
        critic_network: observations ``[..., T, *obs]`` -> state values ``[..., T, 1]``.

    Keyword Args:
        beta: weight of the alignment term (``beta`` of the A* equation; 0 gives plain actor-critic / PPO).
        gamma: discount of the rewards, of GAE and of the past advantages.
        lmbda: GAE's lambda.
        proximal: False: AA, ``-mean(A* log pi(a_t|s_t))``; True: PAA, PPO's clipped surrogate with ``A*``.
        clip_epsilon: PPO's ratio clip (PAA only).
        entropy_coeff: weight of the entropy bonus (``loss_entropy = -entropy_coeff * H``).
        critic_coeff: weight of the critic's Huber loss to the GAE value target.
        normalize_advantage: standardize ``A^1``, ``A^2`` and the past TD errors over each member's batch
            before aligning them (the reference code's ``normalize_advantages``).

    Returns (``forward``): ``loss_actor``, ``loss_entropy``, ``loss_critic`` and detached diagnostics
    ``entropy``, ``advantage``, ``aligned_advantage``, ``alignment`` (mean of ``A* - A^1``),
    ``clip_fraction``.

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> from oppshape.modules.loqa_nets import MLPNet, TabularActor
        >>> from oppshape.objectives.advantage_alignment import AdvantageAlignmentLoss
        >>> loss = AdvantageAlignmentLoss(TabularActor(5, 2), MLPNet((5,), 1), beta=1.0, proximal=True)
        >>> n, m, t = 1, 4, 3
        >>> obs = torch.nn.functional.one_hot(torch.randint(5, (n, m, t)), 5).float()
        >>> flags = torch.zeros(n, m, t, 1, dtype=torch.bool)
        >>> td = TensorDict({
        ...     "observation": obs, "action": torch.randint(2, (n, m, t)), "sample_log_prob": torch.zeros(n, m, t),
        ...     "opponent_advantage": torch.randn(n, m, t),
        ...     "next": {"observation": obs, "reward": -torch.rand(n, m, t, 1), "done": flags, "terminated": flags},
        ... }, batch_size=[n, m, t])
        >>> sorted(k for k in loss(td).keys() if k.startswith("loss"))
        ['loss_actor', 'loss_critic', 'loss_entropy']
    """

    @dataclass
    class _AcceptedKeys:
        """Input keys (``set_keys(name=key)`` changes them).

        Attributes:
            observation: the agent's observation ``s_t``; ``("next", observation)`` is ``s_{t+1}``.
            action: the agent's action ``a_t`` (integer).
            sample_log_prob: ``log pi_old(a_t | s_t)`` of the policy that acted (PAA's ratio).
            reward: ``("next", reward)`` the agent's reward ``r_t``, ``[..., T]`` or ``[..., T, 1]``.
            done / terminated: ``("next", ...)`` flags; ``done`` ends an episode (resets the past
                advantages and GAE), ``terminated`` also stops bootstrapping.
            advantage: ``A^1_t``; written by :meth:`estimate_advantage` (GAE) when absent.
            value_target: the critic's target ``A^1_t + V(s_t)``; written with ``advantage``.
            past_advantage: the one-step TD error ``r_t + gamma V(s_{t+1}) - V(s_t)`` that ``A*``'s sum
                over past steps adds up; written with ``advantage``. Where a caller brings its own
                ``advantage`` without it, the sum adds up ``advantage`` (the equation as written).
            opponent_advantage: ``A^2_t``, the opponent's advantage at the same steps (required).
        """

        observation: NestedKey = "observation"
        action: NestedKey = "action"
        sample_log_prob: NestedKey = "sample_log_prob"
        reward: NestedKey = "reward"
        done: NestedKey = "done"
        terminated: NestedKey = "terminated"
        advantage: NestedKey = "advantage"
        value_target: NestedKey = "value_target"
        past_advantage: NestedKey = "past_advantage"
        opponent_advantage: NestedKey = "opponent_advantage"

    tensor_keys: _AcceptedKeys
    default_keys = _AcceptedKeys
    out_keys = ["loss_actor", "loss_entropy", "loss_critic"]

    actor_network: nn.Module
    actor_network_params: TensorDictParams
    target_actor_network_params: TensorDictParams
    critic_network: nn.Module
    critic_network_params: TensorDictParams
    target_critic_network_params: TensorDictParams

    def __init__(
        self,
        actor_network: nn.Module,
        critic_network: nn.Module,
        *,
        beta: float = 1.0,
        gamma: float = 0.96,
        lmbda: float = 0.95,
        proximal: bool = False,
        clip_epsilon: float = 0.2,
        entropy_coeff: float = 0.0,
        critic_coeff: float = 1.0,
        normalize_advantage: bool = False,
    ) -> None:
        if beta < 0.0:
            raise ValueError(f"beta={beta} must be >= 0")
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1]")
        if not 0.0 <= lmbda <= 1.0:
            raise ValueError(f"lmbda={lmbda} must lie in [0, 1]")
        if not 0.0 < clip_epsilon < 1.0:
            raise ValueError(f"clip_epsilon={clip_epsilon} must lie in (0, 1)")
        super().__init__()
        self.convert_to_functional(actor_network, "actor_network")
        self.convert_to_functional(critic_network, "critic_network")
        self.beta, self.gamma, self.lmbda = beta, gamma, lmbda
        self.proximal, self.clip_epsilon = proximal, clip_epsilon
        self.entropy_coeff, self.critic_coeff = entropy_coeff, critic_coeff
        self.normalize_advantage = normalize_advantage

    @property
    def in_keys(self) -> list[NestedKey]:
        keys = self.tensor_keys
        return [keys.observation, ("next", keys.observation), keys.action, keys.sample_log_prob,
                ("next", keys.reward), ("next", keys.done), ("next", keys.terminated), keys.opponent_advantage]

    def _per_step(self, tensordict: TensorDictBase, key: NestedKey) -> torch.Tensor:
        """A ``[..., T]`` or ``[..., T, 1]`` entry as ``[..., T]``."""
        return tensordict.get(key).reshape(tensordict.batch_size)

    def _values(self, tensordict: TensorDictBase) -> tuple[torch.Tensor, torch.Tensor]:
        """``V(s_t)`` and ``V(s_{t+1})`` ``[..., T]`` (with graph), ``s_{t+1}`` the step's next observation."""
        keys = self.tensor_keys
        time_dim = tensordict.batch_dims - 1
        steps = tensordict.batch_size[-1]
        observation = tensordict.get(keys.observation)
        next_observation = tensordict.get(("next", keys.observation))
        with self.critic_network_params.to_module(self.critic_network):
            # s_0 .. s_{T-1} and the last next state in one pass, so a recurrent critic reads the episode in order
            both = self.critic_network(torch.cat([observation, next_observation.narrow(time_dim, steps - 1, 1)],
                                                 dim=time_dim)).squeeze(-1)
            value, next_value = both[..., :-1], both[..., 1:]
            done = self._per_step(tensordict, ("next", keys.done)).bool()
            if bool(done[..., :-1].any()):  # a boundary inside a row: s_{t+1} is the episode's last state
                next_value = torch.where(done, self.critic_network(next_observation).squeeze(-1), next_value)
        return value, next_value

    @torch.no_grad()
    def estimate_advantage(self, tensordict: TensorDictBase) -> TensorDictBase:
        """Write ``advantage`` (GAE), ``value_target`` and ``past_advantage`` (TD(0)) into ``tensordict``.

        Both estimates are TorchRL's functional ones on the same values.
        """
        keys = self.tensor_keys
        value, next_value = self._values(tensordict)
        value, next_value = value.unsqueeze(-1), next_value.unsqueeze(-1)
        reward = self._per_step(tensordict, ("next", keys.reward)).unsqueeze(-1).to(value.dtype)
        done = self._per_step(tensordict, ("next", keys.done)).bool().unsqueeze(-1)
        terminated = self._per_step(tensordict, ("next", keys.terminated)).bool().unsqueeze(-1)
        advantage, value_target = generalized_advantage_estimate(
            self.gamma, self.lmbda, value, next_value, reward, done, terminated, time_dim=-2
        )
        td_error = td0_advantage_estimate(self.gamma, value, next_value, reward, done, terminated)
        tensordict.set(keys.advantage, advantage.squeeze(-1))
        tensordict.set(keys.value_target, value_target.squeeze(-1))
        tensordict.set(keys.past_advantage, td_error.squeeze(-1))
        return tensordict

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        keys = self.tensor_keys
        if keys.advantage not in tensordict.keys(True):
            self.estimate_advantage(tensordict)
        own = self._per_step(tensordict, keys.advantage)
        opponent = self._per_step(tensordict, keys.opponent_advantage).to(own.dtype)
        past = (self._per_step(tensordict, keys.past_advantage).to(own.dtype)
                if keys.past_advantage in tensordict.keys(True) else own)
        if self.normalize_advantage:
            own, opponent, past = standardize(own), standardize(opponent), standardize(past)
        done = self._per_step(tensordict, ("next", keys.done)).bool()
        weight = aligned_advantage(own, opponent, done, beta=self.beta, gamma=self.gamma,
                                   past_advantage=past).detach()

        with self.actor_network_params.to_module(self.actor_network):
            log_pi = torch.log_softmax(self.actor_network(tensordict.get(keys.observation)), dim=-1)
        action = tensordict.get(keys.action).long().reshape(tensordict.batch_size)
        log_prob = log_pi.gather(-1, action.unsqueeze(-1)).squeeze(-1)
        entropy = -(log_pi.exp() * log_pi).sum(-1).mean()
        if self.proximal:  # PPO's clipped surrogate (Schulman et al. 2017, eq. 7) with A* as the advantage
            ratio = (log_prob - self._per_step(tensordict, keys.sample_log_prob)).exp()
            clipped = ratio.clamp(1.0 - self.clip_epsilon, 1.0 + self.clip_epsilon)
            loss_actor = -torch.minimum(ratio * weight, clipped * weight).mean()
            clip_fraction = ((ratio - 1.0).abs() > self.clip_epsilon).float().mean()
        else:
            loss_actor = -(log_prob * weight).mean()
            clip_fraction = torch.zeros(())

        value, _ = self._values(tensordict)
        target = self._per_step(tensordict, keys.value_target).to(value.dtype)
        loss_critic = self.critic_coeff * F.smooth_l1_loss(value, target)
        return TensorDict(
            {
                "loss_actor": loss_actor,
                "loss_entropy": -self.entropy_coeff * entropy,
                "loss_critic": loss_critic,
                "entropy": entropy.detach(),
                "advantage": own.detach().mean(),
                "aligned_advantage": weight.mean(),
                "alignment": (weight - own.detach()).mean(),
                "clip_fraction": clip_fraction.detach(),
            },
            batch_size=[],
        )
