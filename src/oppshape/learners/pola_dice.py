"""POLA-DiCE: proximal opponent shaping with sampled DiCE objectives (Zhao et al., 2022, Algorithm 2).

One update, for each agent ``i`` from the same starting parameters ``(theta_1, theta_2)``:

* inner loop (the opponent ``j`` looks ahead): ``inner_steps`` differentiable SGD steps of ``j`` on
  :class:`~oppshape.objectives.POLADiCELoss` with ``inner_beta``, each on a fresh rollout
  (:func:`~oppshape.objectives.dice_lookahead`, POLA eq. 5's inner proximal problem solved approximately);
* outer loop: ``outer_steps`` Adam steps of agent ``i`` on ``POLADiCELoss`` with ``outer_beta``
  (``-DiCE_i(theta_i, theta_j'(theta_i)) + outer_beta * KL(pi_{theta_i^start} || pi_{theta_i})``) on fresh
  rollouts against the re-computed look-ahead (POLA eq. 6);
* the value baselines of both are trained on the same rollouts (SGD inside, Adam outside).

LOLA-DiCE is the case ``inner_steps = outer_steps = 1``, ``inner_beta = outer_beta = 0``
(:class:`~oppshape.config.dice.LolaDiceConfig` fixes them). As in the reference code, the outer optimizers
start fresh at every update. Gradients are taken per agent with ``torch.autograd.grad``: the look-ahead puts
agent ``i``'s gradient through agent ``j``'s update. ``num_seeds`` independent runs train at once: every
parameter has a leading seed dimension, seeds never interact, and each loss is the sum over seeds of the
per-seed loss, so every seed gets exactly its own gradient (and its own Adam statistics, which are elementwise).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from oppshape.config.dice import LolaDiceConfig, PolaDiceConfig
from oppshape.modules.gru_policy import GRUNet, ParamDict
from oppshape.objectives.dice_lookahead import PlayFn, detached, dice_lookahead
from oppshape.objectives.pola_dice import POLADiCELoss
from oppshape.rollouts.dice import AgentParams, agent_batch, rollout


class DiceAgent(nn.Module):
    """One agent's separate GRU policy and GRU value networks (``num_seeds`` copies of each)."""

    def __init__(self, observation_dim: int, n_actions: int, hidden_size: int, num_seeds: int) -> None:
        super().__init__()
        self.policy = GRUNet(observation_dim, n_actions, hidden_size, num_seeds)
        self.value = GRUNet(observation_dim, 1, hidden_size, num_seeds)


class POLADiCE:
    """Two GRU agents trained by POLA-DiCE (or LOLA-DiCE, whose config fixes 1 / 1 steps and zero betas).

    Args:
        game: the env (``CoinGame`` or ``IteratedMatrixGame``); its tensor-level rules are played for
            ``game.episode_length`` steps per rollout.
        config: the validated algorithm schema, used unchanged.
    """

    def __init__(self, game: Any, config: PolaDiceConfig | LolaDiceConfig) -> None:
        self.game = game
        self.config = config
        self.num_seeds = config.num_seeds
        observation_dim = int(torch.Size(game.observation_shape).numel())
        self.agents = nn.ModuleList(
            DiceAgent(observation_dim, game.n_actions, config.hidden_size, config.num_seeds) for _ in range(2)
        ).to(game.device)
        self.inner_loss = POLADiCELoss(gamma=config.gamma, lmbda=config.lmbda, beta=config.inner_beta)
        self.outer_loss = POLADiCELoss(gamma=config.gamma, lmbda=config.lmbda, beta=config.outer_beta)
        self.updates = 0

    def opponent_start(self, agent: int, start: list[tuple[ParamDict, ParamDict]]) -> tuple[ParamDict, ParamDict]:
        """Where ``agent``'s look-ahead of its opponent starts: the opponent's own parameters."""
        return start[1 - agent]

    def update(self, batch: Any = None) -> dict[str, float]:
        """One POLA update of both agents from the same starting point; returns per-agent diagnostics."""
        start = [(detached(a.policy.params()), detached(a.value.params())) for a in self.agents]
        results, metrics = [], {}
        for agent in (0, 1):
            opponent_policy, opponent_value = self.opponent_start(agent, start)
            policy, value, agent_metrics = self.outer_loop(agent, *start[agent], opponent_policy, opponent_value)
            results.append((policy, value))
            metrics.update({f"{key}_{agent + 1}": v for key, v in agent_metrics.items()})
        with torch.no_grad():
            for module, (policy, value) in zip(self.agents, results):
                for name, p in module.policy.named_parameters():
                    p.copy_(policy[name])
                for name, p in module.value.named_parameters():
                    p.copy_(value[name])
        self.updates += 1
        return metrics

    def play_against(self, shaper: int, shaper_policy: ParamDict, reference: ParamDict) -> PlayFn:
        """The look-ahead's rollouts: the opponent of ``shaper`` plays ``shaper_policy`` (kept in the graph),
        with its KL to ``reference`` when ``inner_beta > 0``."""
        config, opponent = self.config, 1 - shaper

        def play(policy: ParamDict, value: ParamDict) -> Any:
            players = [AgentParams(shaper_policy), AgentParams(policy, value, reference if config.inner_beta > 0 else None)]
            if shaper == 1:
                players.reverse()
            return agent_batch(rollout(self.game, players, config.num_envs, self.game.episode_length), opponent)

        return play

    def outer_loop(
        self, agent: int, policy: ParamDict, value: ParamDict, opponent_policy: ParamDict, opponent_value: ParamDict
    ) -> tuple[ParamDict, ParamDict, dict[str, float]]:
        """``outer_steps`` Adam steps of ``agent`` against its opponent's look-ahead (POLA eq. 6)."""
        config = self.config
        reference = {name: p.detach() for name, p in policy.items()}
        policy, value = detached(policy), detached(value)
        policy_optimizer = torch.optim.Adam(policy.values(), lr=config.outer_lr)
        value_optimizer = torch.optim.Adam(value.values(), lr=config.critic_lr)
        use_kl = config.outer_beta > 0
        for _ in range(config.outer_steps):
            looked_ahead, _ = dice_lookahead(
                self.play_against(agent, policy, reference=opponent_policy), self.inner_loss, opponent_policy,
                opponent_value, steps=config.inner_steps, inner_lr=config.inner_lr, critic_lr=config.critic_lr,
            )
            players = [AgentParams(policy, value, reference if use_kl else None), AgentParams(looked_ahead)]
            if agent == 1:
                players.reverse()
            trajectory = rollout(self.game, players, config.num_envs, self.game.episode_length)
            losses = self.outer_loss(agent_batch(trajectory, agent))
            objective = losses["loss_objective"]
            if use_kl:
                objective = objective + losses["loss_kl"]
            parameters = [*policy.values(), *value.values()]
            for p, g in zip(parameters, torch.autograd.grad(objective + losses["loss_value"], parameters)):
                p.grad = g
            policy_optimizer.step()
            value_optimizer.step()
        metrics = {  # per-seed means; the Loaded-DiCE objective is 0 in value, a NaN sentinel
            "loss_objective": losses["loss_objective"].item() / self.num_seeds,
            "loss_value": losses["loss_value"].item() / self.num_seeds,
            "reward_vs_lookahead": trajectory.reward[..., agent].mean().item(),
        }
        if use_kl:
            metrics["kl_outer"] = losses["kl"].item()
        return policy, value, metrics

    def policies(self) -> list[ParamDict]:
        """Both agents' current policy parameters (for evaluation)."""
        return [{name: p.detach() for name, p in a.policy.params().items()} for a in self.agents]

    def state_dict(self) -> dict[str, Any]:
        return {"agents": self.agents.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.agents.load_state_dict(state["agents"])
        self.updates = int(state["updates"])
