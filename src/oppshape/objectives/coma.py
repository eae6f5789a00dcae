"""COMA: counterfactual multi-agent policy gradients as a TorchRL ``LossModule``.

Foerster et al., "Counterfactual Multi-Agent Policy Gradients" (AAAI 2018). One centralised critic
``Q(s, u)`` (see :mod:`oppshape.modules.coma_critic`) gives every agent ``a`` the counterfactual advantage

    A_a(s, u) = Q(s, u) - sum_{u'_a} pi_a(u'_a | tau_a) Q(s, (u^{-a}, u'_a))            (COMA eq. 4)

and the decentralised actors follow ``g = E[sum_a grad log pi_a(u_a | tau_a) A_a(s, u)]`` (eq. 5). The critic
regresses ``Q(s_t, u_t)`` on TD(lambda) targets (COMA paper: lambda = 0.8) built from a target critic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tensordict import TensorDict, TensorDictBase, TensorDictParams
from tensordict.nn import TensorDictModule, TensorDictModuleBase
from tensordict.utils import NestedKey
from torch.distributions import Categorical
from torchrl.modules.tensordict_module.rnn import set_recurrent_mode
from torchrl.objectives import LossModule
from torchrl.objectives.utils import ValueEstimators, distance_loss

from oppshape.objectives.coma_targets import td_lambda_targets

LOSS_FUNCTIONS = ("l2", "l1", "smooth_l1")
ADVANTAGE_SOURCES = ("q", "returns")


@dataclass
class COMATargetConfig:
    """How critic targets are built: TD(lambda) with discount ``gamma`` and ``lmbda``."""

    gamma: float = 0.99
    lmbda: float = 0.8


class COMALoss(LossModule):
    """Counterfactual multi-agent policy gradient loss (COMA eqs. 4-5) with a centralised Q critic.

    Works with any TorchRL multi-agent env whose agents share one group and one discrete action space:
    batches are ``[*B, T]`` with time last, the group's leaves ``[*B, T, n_agents, ...]``.

    Args:
        actor_network: the policy. Either a ``ProbabilisticActor`` or any module writing
            ``tensor_keys.probs`` ``[*B, n, A]`` (the exploration-mixed policy actually used to act, e.g.
            :func:`oppshape.modules.coma_actor.make_coma_actor`). Recurrent actors are unrolled over time
            by TorchRL's recurrent mode, which ``forward`` sets.
        critic_network: writes ``tensor_keys.action_value`` ``[*B, n, A]`` = ``Q(s, (u^{-a}, .))`` from the
            joint action at ``tensor_keys.action`` (e.g. :func:`oppshape.modules.coma_critic.make_coma_critic`).

    Keyword Args:
        entropy_coeff: weight of the policy-entropy bonus (EPyMARL uses 0.01).
        normalize_advantage: standardise advantages over the batch before the policy gradient.
        team_reward: average per-agent rewards into one team reward (COMA's cooperative setting); if
            False each agent's critic output regresses its own return.
        loss_critic_type: ``"l2"``, ``"l1"`` or ``"smooth_l1"``.
        advantage_source: ``"q"`` (COMA eq. 4: ``Q(s, u)`` minus the counterfactual baseline) or ``"returns"``
            (the critic target, i.e. the TD(lambda) return of the taken joint action, minus the same
            baseline). The baseline does not depend on agent a's own action, so both are unbiased policy
            gradients; ``"returns"`` keeps the critic's errors on the taken action out of the advantage
            (useful while the critic is still poor, e.g. with sparse rewards) at the price of more variance.
        logit_penalty: weight of ``mean((z - mean z)^2)`` over the available actions' logits ``z`` (0: off).
            Adam keeps pushing an action that is bad early on at a constant rate, so its logit runs off and the
            softmax saturates; the policy gradient then vanishes there for good, also where the action later
            becomes the best one. The penalty's pull grows with the logit gap and keeps it finite.

    Returns from ``forward``: ``loss_actor`` (eq. 5, negated), ``loss_entropy``, ``loss_critic`` (and
    ``loss_logits`` when ``logit_penalty > 0``; the actor's step minimises every loss but the critic's), and
    detached diagnostics ``entropy``, ``advantage_mean`` (before normalisation), ``q_taken_mean``,
    ``target_mean``. :meth:`loss_critic` gives the critic loss alone, for extra critic steps.

    Example:
        >>> import torch
        >>> from tensordict import TensorDict
        >>> from oppshape.modules.coma_actor import make_coma_actor
        >>> from oppshape.modules.coma_critic import make_coma_critic
        >>> from oppshape.objectives.coma import COMALoss
        >>> actor = make_coma_actor(n_agents=2, observation_dim=3, n_actions=4)
        >>> critic = make_coma_critic(n_agents=2, observation_dim=3, n_actions=4)
        >>> loss = COMALoss(actor, critic)
        >>> loss = loss.make_value_estimator("td_lambda", gamma=0.99, lmbda=0.8)
        >>> B, T = 5, 6
        >>> def agents(**kw):
        ...     return TensorDict(kw, batch_size=[B, T, 2])
        >>> td = TensorDict({
        ...     "agents": agents(observation=torch.randn(B, T, 2, 3), action=torch.randint(4, (B, T, 2))),
        ...     "next": TensorDict({
        ...         "agents": agents(observation=torch.randn(B, T, 2, 3), reward=torch.randn(B, T, 2, 1)),
        ...         "done": torch.zeros(B, T, 1, dtype=torch.bool),
        ...         "terminated": torch.zeros(B, T, 1, dtype=torch.bool),
        ...     }, batch_size=[B, T]),
        ... }, batch_size=[B, T])
        >>> sorted(k for k in loss(td).keys() if k.startswith("loss"))
        ['loss_actor', 'loss_critic', 'loss_entropy']
    """

    @dataclass
    class _AcceptedKeys:
        """Tensordict keys the loss reads and writes; change them with ``set_keys(name=key)``.

        Attributes:
            action: joint integer action ``[*B, T, n]``. Defaults to ``("agents", "action")``.
            probs: the actor's policy ``[*B, T, n, A]``. Defaults to ``("agents", "probs")``.
            logits: the actor's logits before exploration ``[*B, T, n, A]``, read only when ``logit_penalty > 0``.
                Defaults to ``("agents", "logits")``.
            action_value: the critic's output ``[*B, T, n, A]``. Defaults to ``("agents", "action_value")``.
            action_mask: available actions ``[*B, T, n, A]`` (bool), or ``None`` when every action is
                always available. Defaults to ``None``.
            advantage: written: the counterfactual advantage ``[*B, T, n, 1]``, before normalisation.
                Defaults to ``("agents", "advantage")``.
            value_target: the critic target ``[*B, T, n, 1]``: computed and written on the first call on a batch,
                read back on later calls (the target critic does not move between the steps on one batch).
                Defaults to ``("agents", "value_target")``.
            reward: under ``"next"``; per agent ``[*B, T, n, 1]`` or shared ``[*B, T, 1]``.
                Defaults to ``("agents", "reward")``.
            done: under ``"next"``, ``[*B, T, 1]``: the episode ended (termination or truncation).
                Defaults to ``"done"``.
            terminated: under ``"next"``, ``[*B, T, 1]``: the episode really ended (no bootstrap).
                Defaults to ``"terminated"``.
        """

        action: NestedKey = ("agents", "action")
        probs: NestedKey = ("agents", "probs")
        logits: NestedKey = ("agents", "logits")
        action_value: NestedKey = ("agents", "action_value")
        action_mask: NestedKey | None = None
        advantage: NestedKey = ("agents", "advantage")
        value_target: NestedKey = ("agents", "value_target")
        reward: NestedKey = ("agents", "reward")
        done: NestedKey = "done"
        terminated: NestedKey = "terminated"

    tensor_keys: _AcceptedKeys
    default_keys = _AcceptedKeys
    default_value_estimator = ValueEstimators.TDLambda
    out_keys = ["loss_actor", "loss_entropy", "loss_critic"]

    actor_network: TensorDictModuleBase
    actor_network_params: TensorDictParams
    target_actor_network_params: TensorDictParams | None
    critic_network: TensorDictModule
    critic_network_params: TensorDictParams
    target_critic_network_params: TensorDictParams

    def __init__(
        self,
        actor_network: TensorDictModuleBase,
        critic_network: TensorDictModule,
        *,
        entropy_coeff: float = 0.01,
        normalize_advantage: bool = False,
        team_reward: bool = False,
        loss_critic_type: str = "l2",
        advantage_source: str = "q",
        logit_penalty: float = 0.0,
    ) -> None:
        if logit_penalty < 0:
            raise ValueError(f"logit_penalty must be >= 0, got {logit_penalty}")
        if advantage_source not in ADVANTAGE_SOURCES:
            raise ValueError(f"advantage_source={advantage_source!r}; valid choices: {', '.join(ADVANTAGE_SOURCES)}")
        if loss_critic_type not in LOSS_FUNCTIONS:
            raise ValueError(f"loss_critic_type={loss_critic_type!r}; valid choices: {', '.join(LOSS_FUNCTIONS)}")
        if entropy_coeff < 0:
            raise ValueError(f"entropy_coeff must be >= 0, got {entropy_coeff}")
        super().__init__()
        self.convert_to_functional(actor_network, "actor_network")
        self.convert_to_functional(critic_network, "critic_network", create_target_params=True)
        self.register_coeff_buffer("entropy_coeff", float(entropy_coeff))
        self.normalize_advantage = normalize_advantage
        self.team_reward = team_reward
        self.loss_critic_type = loss_critic_type
        self.advantage_source = advantage_source
        self.logit_penalty = logit_penalty

    @property
    def in_keys(self) -> list[NestedKey]:
        """Keys ``forward`` reads: the networks' inputs now and at ``"next"``, and the transition's outcome."""
        now = {*self.actor_network.in_keys, *self.critic_network.in_keys, self.tensor_keys.action}
        if self.tensor_keys.action_mask is not None:
            now.add(self.tensor_keys.action_mask)
        outcome = (self.tensor_keys.reward, self.tensor_keys.done, self.tensor_keys.terminated)
        following = {("next", *_as_tuple(key)) for key in (*now, *outcome) if key != self.tensor_keys.action}
        return sorted(now | following, key=str)

    def _forward_value_estimator_keys(self, **kwargs) -> None:
        """Targets read keys straight from ``tensor_keys``; nothing to forward."""

    def make_value_estimator(self, value_type: str | ValueEstimators | None = None, **hyperparams) -> COMALoss:
        """Choose the critic target: TD(lambda) (``"td_lambda"``, ``gamma``, ``lmbda``). TorchRL names are
        accepted too: ``TDLambda``, ``TD0`` (lambda = 0: the 1-step target) and ``TD1`` (lambda = 1).
        """
        hyperparams.pop("device", None)  # targets are computed on the batch's device
        aliases = {
            None: {},
            "td_lambda": {},
            ValueEstimators.TDLambda: {},
            ValueEstimators.TD1: {"lmbda": 1.0},
            ValueEstimators.TD0: {"lmbda": 0.0},
        }
        if value_type not in aliases:
            raise ValueError(
                f"unknown critic target {value_type!r}; valid choices: td_lambda, "
                "ValueEstimators.TDLambda, ValueEstimators.TD0, ValueEstimators.TD1"
            )
        unknown = set(hyperparams) - {"gamma", "lmbda"}
        if unknown:
            raise ValueError(f"critic target got unknown hyperparameters {sorted(unknown)}; valid: ['gamma', 'lmbda']")
        config = COMATargetConfig(**{**hyperparams, **aliases[value_type]})
        if not 0.0 <= config.gamma <= 1.0 or not 0.0 <= config.lmbda <= 1.0:
            raise ValueError(f"need 0 <= gamma, lmbda <= 1, got {config}")
        self._value_estimator = config
        self.value_type = "td_lambda"
        return self

    @property
    def target_config(self) -> COMATargetConfig:
        if self._value_estimator is None:
            self.make_value_estimator()
        return self._value_estimator

    def policy_probs(self, tensordict: TensorDictBase, *, recurrent: bool = True) -> torch.Tensor:
        """``pi_a(. | tau_a)`` ``[*B, n, A]`` from the current actor parameters (with gradient).

        With ``recurrent`` the last batch dim is time and recurrent actors unroll over it; without it every
        element is a single step (used for the bootstrap at ``s_{t+1}``).
        """
        return self._policy(tensordict, recurrent)[0]

    def _policy(self, tensordict: TensorDictBase, recurrent: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`policy_probs` and the actor's logits (``None`` when it writes none)."""
        td = tensordict.select(*self.actor_network.in_keys, strict=False).copy()
        with self.actor_network_params.to_module(self.actor_network), set_recurrent_mode(recurrent):
            get_params = getattr(self.actor_network, "get_dist_params", None)
            (get_params or self.actor_network)(td)
        probs = td.get(self.tensor_keys.probs)
        if self.tensor_keys.action_mask is not None:
            # renormalise over the available actions, as the actor does when it acts
            probs = probs * tensordict.get(self.tensor_keys.action_mask)
            probs = probs / probs.sum(-1, keepdim=True).clamp_min(torch.finfo(probs.dtype).tiny)
        return probs, td.get(self.tensor_keys.logits, None)

    def _logit_penalty(self, tensordict: TensorDictBase, logits: torch.Tensor | None) -> torch.Tensor:
        """``logit_penalty * mean((z - mean z)^2)`` over the available actions' logits."""
        if logits is None:
            raise KeyError(f"logit_penalty > 0 needs the actor to write {self.tensor_keys.logits!r}")
        mask_key = self.tensor_keys.action_mask
        mask = torch.ones_like(logits, dtype=torch.bool) if mask_key is None else tensordict.get(mask_key)
        count = mask.sum(-1, keepdim=True).clamp_min(1)
        centred = (logits - (logits * mask).sum(-1, keepdim=True) / count) * mask
        return self.logit_penalty * (centred.pow(2).sum(-1) / count.squeeze(-1)).mean()

    def _action_values(self, tensordict: TensorDictBase, params: TensorDictParams) -> torch.Tensor:
        td = tensordict.select(*self.critic_network.in_keys, strict=False).copy()
        with params.to_module(self.critic_network):
            self.critic_network(td)
        return td.get(self.tensor_keys.action_value)

    @torch.no_grad()
    def critic_targets(self, tensordict: TensorDictBase) -> torch.Tensor:
        """TD(lambda) targets ``[*B, T, n, 1]`` for ``Q(s_t, u_t)`` from the target critic.

        The bootstrap after step ``t`` is ``Q_target(s_{t+1}, u_{t+1})`` with the joint action actually taken
        next (SARSA, as in COMA/pymarl); where the batch holds no next action (the episode ended or the batch
        ends) ``u_{t+1}`` is sampled from the current policy at ``s_{t+1}``.
        """
        config = self.target_config
        action = tensordict.get(self.tensor_keys.action)
        next_td = tensordict.get("next")
        done = next_td.get(self.tensor_keys.done)
        terminated = next_td.get(self.tensor_keys.terminated)
        time_dim = tensordict.batch_dims - 1
        if time_dim < 0:
            raise ValueError("COMALoss needs a batch with a time dimension ([*B, T])")
        # rows whose next action is not the following row: episode end or the batch's last step
        needs_sample = done.squeeze(-1).clone()
        needs_sample.select(time_dim, -1).fill_(True)
        next_action = torch.empty_like(action)
        steps = action.shape[time_dim]
        next_action.narrow(time_dim, 0, steps - 1).copy_(action.narrow(time_dim, 1, steps - 1))
        sampled_probs = self.policy_probs(next_td[needs_sample], recurrent=False)
        next_action[needs_sample] = Categorical(probs=sampled_probs, validate_args=False).sample()
        next_td = next_td.copy()
        next_td.set(self.tensor_keys.action, next_action)
        next_q = self._action_values(next_td, self.target_critic_network_params)
        next_value = next_q.gather(-1, next_action.unsqueeze(-1))  # [*B, T, n, 1]
        reward = self._agent_reward(next_td.get(self.tensor_keys.reward), next_value.shape)
        n_agents = next_value.shape[-2]
        # per-agent sequences with time at -2: [*B, T, n, 1] -> [*B, n, T, 1]
        agent_major = [
            x.transpose(-3, -2)
            for x in (
                next_value,
                reward,
                done.unsqueeze(-2).expand(*done.shape[:-1], n_agents, 1),
                terminated.unsqueeze(-2).expand(*terminated.shape[:-1], n_agents, 1),
            )
        ]
        return td_lambda_targets(config.gamma, config.lmbda, *agent_major).transpose(-3, -2)

    def _agent_reward(self, reward: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        """Per-agent rewards ``[*B, T, n, 1]``; a shared reward is broadcast, ``team_reward`` averages."""
        if reward.shape == shape[:-2] + (1,):
            reward = reward.unsqueeze(-2)
        elif reward.shape != shape:
            raise ValueError(
                f"reward must have shape {tuple(shape)} or {tuple(shape[:-2]) + (1,)}, got {tuple(reward.shape)}"
            )
        if self.team_reward:
            reward = reward.mean(-2, keepdim=True)
        return reward.expand(shape)

    def _targets(self, tensordict: TensorDictBase) -> torch.Tensor:
        """``tensor_keys.value_target`` if the batch already holds it, else :meth:`critic_targets` (stored)."""
        targets = tensordict.get(self.tensor_keys.value_target, None)
        if targets is None:
            targets = self.critic_targets(tensordict)
            tensordict.set(self.tensor_keys.value_target, targets)
        return targets

    def loss_critic(self, tensordict: TensorDictBase) -> torch.Tensor:
        """The critic's regression loss alone, for extra critic steps on the same batch."""
        action = tensordict.get(self.tensor_keys.action).unsqueeze(-1)
        q_taken = self._action_values(tensordict, self.critic_network_params).gather(-1, action)
        return distance_loss(q_taken, self._targets(tensordict), self.loss_critic_type).mean()

    def _advantage(
        self, tensordict: TensorDictBase, probs: torch.Tensor, q_values: torch.Tensor, q_taken: torch.Tensor,
        targets: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The counterfactual advantage ``[*B, T, n, 1]`` (normalised if asked) and its raw mean; the batch keeps
        the raw one (TorchRL's convention: losses normalise what they read)."""
        with torch.no_grad():
            # COMA eq. 4: the counterfactual baseline marginalises agent a's own action under its policy
            baseline = (probs * q_values).sum(-1, keepdim=True)
            advantage = (q_taken if self.advantage_source == "q" else targets) - baseline
            tensordict.set(self.tensor_keys.advantage, advantage)
            advantage_mean = advantage.mean()
            if self.normalize_advantage and advantage.numel() > 1:
                advantage = (advantage - advantage_mean) / advantage.std().clamp_min(1e-6)
        return advantage, advantage_mean

    def forward(self, tensordict: TensorDictBase) -> TensorDict:
        action = tensordict.get(self.tensor_keys.action).unsqueeze(-1)  # [*B, T, n, 1]
        probs, logits = self._policy(tensordict, recurrent=True)  # [*B, T, n, A], differentiable
        q_values = self._action_values(tensordict, self.critic_network_params)  # differentiable
        q_taken = q_values.gather(-1, action)
        targets = self._targets(tensordict)
        advantage, advantage_mean = self._advantage(tensordict, probs, q_values, q_taken, targets)
        log_prob = probs.gather(-1, action).clamp_min(torch.finfo(probs.dtype).tiny).log()

        # p log p with log clamped: masked actions have p = 0 exactly, where entr's gradient is infinite
        entropy = -(probs * probs.clamp_min(torch.finfo(probs.dtype).tiny).log()).sum(-1)
        penalty = {"loss_logits": self._logit_penalty(tensordict, logits)} if self.logit_penalty > 0 else {}
        return TensorDict(
            {
                **penalty,
                "loss_actor": -(advantage * log_prob).mean(),  # COMA eq. 5, negated
                "loss_entropy": -self.entropy_coeff * entropy.mean(),
                "loss_critic": distance_loss(q_taken, targets, self.loss_critic_type).mean(),
                "entropy": entropy.mean().detach(),
                "advantage_mean": advantage_mean,
                "q_taken_mean": q_taken.mean().detach(),
                "target_mean": targets.mean(),
            },
            batch_size=[],
        )


def _as_tuple(key: NestedKey) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)
