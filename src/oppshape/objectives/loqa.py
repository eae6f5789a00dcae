"""LOQA: opponent shaping through the opponent's Q-values (Aghajohari et al., ICLR 2024).

The agent assumes the opponent acts by a softmax over its own Q-values, ``pi_hat(b | s) ∝
exp(Q^op(s, b))`` (LOQA, Sec. 4). The opponent's Q-value of the action it actually took
is replaced by a Monte Carlo estimate of the opponent's return whose *gradient* runs through the
agent's own log-probabilities (REINFORCE, made differentiable with DiCE's magic box). The agent then
maximises its own advantage under that opponent model: the shaping term
``-mean(log pi_hat(b_t | s_t) * A_t)`` is added to an ordinary actor-critic loss, and the Q-function
is learnt by Huber TD(0) against an exponential-moving-average target (TorchRL's ``SoftUpdate``).

The opponent's Q-values and state values are *data* here (computed by whoever ran the opponent,
e.g. a past snapshot of the agent in self-play): the loss never differentiates the opponent.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tensordict import TensorDict, TensorDictBase, TensorDictParams
from tensordict.utils import NestedKey
from torch import nn
from torchrl.objectives import LossModule

from oppshape.modules.action_softmax import log_softmax_actions
from oppshape.objectives.dice import magic_box

RETURN_ESTIMATORS = ("loaded_dice", "n_step")


def discounted_cumsum(values: torch.Tensor, discount: float) -> torch.Tensor:
    """``out_t = sum_{k >= t} discount^(k - t) values_k`` along the last dim (one matmul, differentiable)."""
    steps = values.shape[-1]
    index = torch.arange(steps, device=values.device)
    lag = index.unsqueeze(1) - index.unsqueeze(0)  # [k, t] = k - t
    powers = discount ** lag.clamp(min=0).to(values.dtype)
    return values @ torch.where(lag >= 0, powers, torch.zeros_like(powers))


def loaded_dice_returns(
    opponent_rewards: torch.Tensor,
    agent_log_probs: torch.Tensor,
    opponent_values: torch.Tensor,
    gamma: float,
    lmbda: float,
    final_value: torch.Tensor | None = None,
) -> torch.Tensor:
    """The opponent's return ``G_t``, differentiable through the agent's later actions (loaded DiCE).

    Backward recursion ``a_t = (G_t - V_t) * [box(L_{<=t}) - box(L_{<t})] + gamma * lmbda *
    a_{t+1}`` with ``L`` the running sum of the agent's log-probabilities and ``box`` the magic box,
    returned as ``G_t + a_t``: its value is the Monte Carlo return ``G_t = sum_k gamma^(k-t) r_k`` and
    its gradient ``sum_{k>=t} (gamma * lmbda)^(k-t) (G_k - V_k) grad log pi(a_k | s_k)``
    (Farquhar et al. 2019, loaded DiCE with the opponent's value as baseline; LOQA, Sec. 4).

    Args:
        opponent_rewards: ``[..., T]`` the opponent's rewards.
        agent_log_probs: ``[..., T]`` log-probabilities of the agent's taken actions (with graph).
        opponent_values: ``[..., T]`` the opponent's state values ``V^op(s_t)`` (no graph).
        gamma: reward discount.
        lmbda: the extra discount ``lambda`` of distant causal dependencies (a GAE-style lambda).
        final_value: ``[...]`` ``V^op(s_T)`` after a truncated episode; if given, every return is
            bootstrapped, ``G_t += gamma^(T-t) V^op(s_T)`` (the authors' code truncates: None).
    """
    returns = discounted_cumsum(opponent_rewards, gamma)
    if final_value is not None:
        steps = opponent_rewards.shape[-1]
        to_go = torch.arange(steps, 0, -1, device=returns.device, dtype=returns.dtype)  # T - t
        returns = returns + gamma**to_go * final_value.unsqueeze(-1)
    running = agent_log_probs.cumsum(dim=-1)
    box_difference = magic_box(running) - magic_box(running - agent_log_probs)  # value 0, grad = grad log pi_t
    shaping = discounted_cumsum((returns - opponent_values) * box_difference, gamma * lmbda)
    return returns + shaping


def n_step_returns(
    opponent_rewards: torch.Tensor,
    agent_log_probs: torch.Tensor,
    opponent_values: torch.Tensor,
    gamma: float,
    n_step: int,
    reward_baseline: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """``sum_{k<n} gamma^k r_{t+k} + gamma^n V_{t+n}`` with the next ``n - 1`` rewards made differentiable.

    Reward ``r_{t+k}`` is scaled by ``box(log pi(a_{t+1}) + ... + log pi(a_{t+k}))`` around a constant
    baseline: the agent's action at ``t`` itself is simultaneous with the opponent's and is left out.

    Args:
        opponent_rewards: ``[..., T]``.
        agent_log_probs: ``[..., T]`` with graph.
        opponent_values: ``[..., T + 1]`` the opponent's state values, the last one at the final state.
        gamma: reward discount.
        n_step: window length ``n >= 2``.
        reward_baseline: subtracted before and added after the magic box (variance reduction only).

    Returns:
        ``[..., T + 1 - n]``: one estimate for each start ``t = 0 .. T - n``.
    """
    steps = opponent_rewards.shape[-1]
    if not 2 <= n_step <= steps:
        raise ValueError(f"n_step={n_step} must lie in [2, episode length {steps}]")
    rewards = opponent_rewards.unfold(-1, n_step, 1)  # [..., T+1-n, n]
    log_probs = agent_log_probs.unfold(-1, n_step, 1)
    log_probs = torch.cat([torch.zeros_like(log_probs[..., :1]), log_probs[..., 1:]], dim=-1)
    shaped = (rewards - reward_baseline) * magic_box(log_probs.cumsum(dim=-1)) + reward_baseline
    powers = gamma ** torch.arange(n_step, device=rewards.device, dtype=rewards.dtype)
    return shaped @ powers + gamma**n_step * opponent_values[..., n_step:]


def opponent_log_prob(
    opponent_qvalues: torch.Tensor,
    opponent_action: torch.Tensor,
    differentiable_qvalue: torch.Tensor,
) -> torch.Tensor:
    """``log softmax(Q~)[b]`` where ``Q~`` is ``Q^op(s, .)`` with entry ``b`` replaced.

    Args:
        opponent_qvalues: ``[..., A]`` the opponent's Q-values (no graph).
        opponent_action: ``[...]`` the action ``b`` the opponent took.
        differentiable_qvalue: ``[...]`` the estimate that replaces ``Q^op(s, b)`` (with graph).
    """
    index = opponent_action.long().unsqueeze(-1)
    qvalues = opponent_qvalues.scatter(-1, index, differentiable_qvalue.unsqueeze(-1))
    return log_softmax_actions(qvalues).gather(-1, index).squeeze(-1)


class LOQALoss(LossModule):
    """Actor-critic loss plus LOQA's shaping term and a Q-learning loss for one agent.

    Each row of the input is one whole episode from its first step; the time dimension is the last
    batch dimension, ``[N, M, T]`` for the networks of :mod:`oppshape.modules.loqa_nets` (``N``
    ensemble members, ``M`` episodes each). Rewards may only end an episode at its last step.

    Args:
        actor_network: maps observations ``[N, M, T + 1, *obs]`` (an episode and its final state) to
            logits ``[N, M, T + 1, A]``.
        qvalue_network: same signature, returns Q-values; its EMA copy is the TD target.

    Keyword Args:
        gamma: reward discount (0.96 in the paper).
        entropy_coeff: weight of the entropy bonus (``loss_entropy = -entropy_coeff * H``).
        return_estimator: ``"loaded_dice"`` (main method) or ``"n_step"``.
        lmbda: ``lambda`` of loaded DiCE (0.9).
        n_step: window of the n-step estimator (``>= 2``).
        huber_delta: threshold of the Huber TD loss.
        advantage_grad: if True the TD(0) advantage keeps its graph, so the actor losses also
            differentiate ``V = sum_a pi(a) Q(a)`` (through the policy and the Q-network), as the
            authors' JAX code does; if False (default) the advantage is a constant weight, the
            textbook actor-critic and shaping gradient.
        bootstrap_returns: loaded DiCE only. If False (default, the authors' code) the opponent's
            Monte Carlo returns stop at the episode's end while its critic bootstraps through the
            truncation, so with long episodes of negative rewards (the IPD) the replaced Q-value sits
            far above the others and ``pi_hat(b)`` saturates at 1, which switches shaping off; True
            adds ``gamma^(T-t) V^op(s_T)`` so both are on the critic's scale.

    Returns (``forward``): ``loss_actor``, ``loss_entropy``, ``loss_shaping``, ``loss_qvalue``
    and detached diagnostics ``entropy``, ``advantage``, ``opponent_model_prob``, ``qvalue``.

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> from oppshape.modules.loqa_nets import MLPNet, TabularActor
        >>> from oppshape.objectives.loqa import LOQALoss
        >>> loss = LOQALoss(TabularActor(5, 2), MLPNet((5,), 2))
        >>> n, m, t = 1, 4, 3
        >>> obs = torch.nn.functional.one_hot(torch.randint(5, (n, m, t)), 5).float()
        >>> zeros = torch.zeros(n, m, t, 1)
        >>> td = TensorDict({
        ...     "observation": obs, "action": torch.randint(2, (n, m, t)),
        ...     "opponent_action": torch.randint(2, (n, m, t)), "opponent_qvalue": torch.randn(n, m, t, 2),
        ...     "opponent_value": torch.randn(n, m, t),
        ...     "next": {"observation": obs, "reward": -torch.rand(n, m, t, 1),
        ...              "opponent_reward": -torch.rand(n, m, t, 1), "opponent_value": torch.randn(n, m, t),
        ...              "terminated": zeros.bool(), "done": zeros.bool()},
        ... }, batch_size=[n, m, t])
        >>> sorted(k for k in loss(td).keys() if k.startswith("loss"))
        ['loss_actor', 'loss_entropy', 'loss_qvalue', 'loss_shaping']
    """

    @dataclass
    class _AcceptedKeys:
        """Input keys (``set_keys(name=key)`` changes them).

        Attributes:
            observation: the agent's observation at ``s_t``; ``("next", observation)`` at ``s_{t+1}``.
            action: the agent's action ``a_t`` (integer).
            reward: ``("next", reward)`` the agent's reward ``r_t``, ``[..., T]`` or ``[..., T, 1]``.
            done / terminated: ``("next", ...)`` flags; ``terminated`` stops bootstrapping.
            opponent_action: the opponent's action ``b_t``.
            opponent_reward: ``("next", opponent_reward)`` the opponent's reward.
            opponent_qvalue: ``Q^op(s_t, .)`` ``[..., T, A]``, from the opponent's own view.
            opponent_value: ``V^op(s_t)``; ``("next", opponent_value)`` is ``V^op(s_{t+1})``.
        """

        observation: NestedKey = "observation"
        action: NestedKey = "action"
        reward: NestedKey = "reward"
        done: NestedKey = "done"
        terminated: NestedKey = "terminated"
        opponent_action: NestedKey = "opponent_action"
        opponent_reward: NestedKey = "opponent_reward"
        opponent_qvalue: NestedKey = "opponent_qvalue"
        opponent_value: NestedKey = "opponent_value"

    tensor_keys: _AcceptedKeys
    default_keys = _AcceptedKeys
    out_keys = ["loss_actor", "loss_entropy", "loss_shaping", "loss_qvalue"]

    actor_network: nn.Module
    actor_network_params: TensorDictParams
    target_actor_network_params: TensorDictParams
    qvalue_network: nn.Module
    qvalue_network_params: TensorDictParams
    target_qvalue_network_params: TensorDictParams

    def __init__(
        self,
        actor_network: nn.Module,
        qvalue_network: nn.Module,
        *,
        gamma: float = 0.96,
        entropy_coeff: float = 0.1,
        return_estimator: str = "loaded_dice",
        lmbda: float = 0.9,
        n_step: int = 2,
        huber_delta: float = 1.0,
        advantage_grad: bool = False,
        bootstrap_returns: bool = False,
    ) -> None:
        if return_estimator not in RETURN_ESTIMATORS:
            raise ValueError(f"return_estimator={return_estimator!r}; valid choices: {', '.join(RETURN_ESTIMATORS)}")
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma={gamma} must lie in (0, 1]")
        if not 0.0 <= lmbda <= 1.0:
            raise ValueError(f"lmbda={lmbda} must lie in [0, 1]")
        if n_step < 2:
            raise ValueError(f"n_step={n_step} must be >= 2 (n = 1 leaves nothing differentiable)")
        if huber_delta <= 0.0:
            raise ValueError(f"huber_delta={huber_delta} must be > 0")
        super().__init__()
        self.convert_to_functional(actor_network, "actor_network")
        self.convert_to_functional(qvalue_network, "qvalue_network", create_target_params=True)
        self.gamma = gamma
        self.entropy_coeff = entropy_coeff
        self.return_estimator = return_estimator
        self.lmbda = lmbda
        self.n_step = n_step
        self.huber_delta = huber_delta
        self.advantage_grad = advantage_grad
        self.bootstrap_returns = bootstrap_returns

    @property
    def in_keys(self) -> list[NestedKey]:
        keys = self.tensor_keys
        return [
            keys.observation, ("next", keys.observation), keys.action, ("next", keys.reward),
            ("next", keys.done), ("next", keys.terminated), keys.opponent_action,
            ("next", keys.opponent_reward), keys.opponent_qvalue, keys.opponent_value,
            ("next", keys.opponent_value),
        ]

    def _per_step(self, tensordict: TensorDictBase, key: NestedKey) -> torch.Tensor:
        """A ``[..., T]`` or ``[..., T, 1]`` entry as ``[..., T]`` float."""
        return tensordict.get(key).reshape(tensordict.batch_size).to(torch.float32)

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        keys = self.tensor_keys
        time_dim = tensordict.batch_dims - 1
        steps = tensordict.batch_size[-1]
        done = tensordict.get(("next", keys.done)).reshape(tensordict.batch_size)
        if steps < 2 or bool(done[..., :-1].any()):
            raise ValueError(
                f"LOQALoss needs whole episodes of >= 2 steps along the last batch dim; got T={steps} "
                "or an episode that ends before the last step"
            )
        observation = tensordict.get(keys.observation)
        final = tensordict.get(("next", keys.observation)).narrow(time_dim, steps - 1, 1)
        observations = torch.cat([observation, final], dim=time_dim)  # s_0 .. s_T

        with self.actor_network_params.to_module(self.actor_network):
            log_pi = log_softmax_actions(self.actor_network(observations))  # [..., T+1, A]
        with self.qvalue_network_params.to_module(self.qvalue_network):
            qvalues = self.qvalue_network(observations)
        with torch.no_grad(), self.target_qvalue_network_params.to_module(self.qvalue_network):
            target_qvalues = self.qvalue_network(observations)

        pi = log_pi.detach().exp()
        if self.advantage_grad:  # V(s) = sum_a pi(a|s) Q(s, a), [..., T+1]
            values = (log_pi.exp() * qvalues).sum(-1)
        else:
            values = (pi * qvalues.detach()).sum(-1)
        reward = self._per_step(tensordict, ("next", keys.reward))
        bootstrap = 1.0 - self._per_step(tensordict, ("next", keys.terminated))
        advantage = reward + self.gamma * bootstrap * values[..., 1:] - values[..., :-1]  # TD(0)

        action = tensordict.get(keys.action).long().reshape(tensordict.batch_size)
        log_pi_steps = log_pi[..., :-1, :]
        log_prob = log_pi_steps.gather(-1, action.unsqueeze(-1)).squeeze(-1)  # log pi(a_t | s_t)
        entropy = -(log_pi_steps.exp() * log_pi_steps).sum(-1).mean()
        loss_actor = -(log_prob * advantage).mean()

        opponent_log_probs = self._opponent_log_probs(tensordict, log_prob)
        shaping_steps = opponent_log_probs.shape[-1]
        loss_shaping = -(opponent_log_probs * advantage[..., :shaping_steps]).mean()

        taken_q = qvalues[..., :-1, :].gather(-1, action.unsqueeze(-1)).squeeze(-1)
        # bootstrap from Q_target(s', a') at the next taken action, and from V_target(s_T) at the end
        next_taken = target_qvalues[..., 1:-1, :].gather(-1, action[..., 1:].unsqueeze(-1)).squeeze(-1)
        final_value = (pi[..., -1, :] * target_qvalues[..., -1, :]).sum(-1, keepdim=True)
        next_q = torch.cat([next_taken, final_value], dim=-1)
        td_target = reward + self.gamma * bootstrap * next_q
        loss_qvalue = F.huber_loss(taken_q, td_target, delta=self.huber_delta)

        return TensorDict(
            {
                "loss_actor": loss_actor,
                "loss_entropy": -self.entropy_coeff * entropy,
                "loss_shaping": loss_shaping,
                "loss_qvalue": loss_qvalue,
                "entropy": entropy.detach(),
                "advantage": advantage.detach().mean(),
                "opponent_model_prob": opponent_log_probs.detach().exp().mean(),
                "qvalue": taken_q.detach().mean(),
            },
            batch_size=[],
        )

    def _opponent_log_probs(self, tensordict: TensorDictBase, log_prob: torch.Tensor) -> torch.Tensor:
        """``log pi_hat(b_t | s_t)`` with ``Q^op(s_t, b_t)`` replaced by the differentiable return."""
        keys = self.tensor_keys
        opponent_reward = self._per_step(tensordict, ("next", keys.opponent_reward))
        opponent_value = self._per_step(tensordict, keys.opponent_value)
        opponent_action = tensordict.get(keys.opponent_action).reshape(tensordict.batch_size)
        opponent_qvalues = tensordict.get(keys.opponent_qvalue).to(torch.float32)
        final_value = self._per_step(tensordict, ("next", keys.opponent_value))[..., -1:]
        if self.return_estimator == "loaded_dice":
            bootstrap = final_value.squeeze(-1) if self.bootstrap_returns else None
            returns = loaded_dice_returns(
                opponent_reward, log_prob, opponent_value, self.gamma, self.lmbda, bootstrap
            )
            last = opponent_reward[..., -1:] + (self.gamma * final_value if self.bootstrap_returns else 0.0)
            # Q^op(s_t, b_t) ~ r_t + gamma * G_{t+1}: the agent's simultaneous action a_t is not shaped
            estimate = torch.cat([opponent_reward[..., :-1] + self.gamma * returns[..., 1:], last], dim=-1)
        else:
            values = torch.cat([opponent_value, final_value], dim=-1)
            estimate = n_step_returns(
                opponent_reward, log_prob, values, self.gamma, self.n_step, opponent_reward.mean()
            )
        steps = estimate.shape[-1]
        return opponent_log_prob(
            opponent_qvalues[..., :steps, :], opponent_action[..., :steps], estimate
        )
