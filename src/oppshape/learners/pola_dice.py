"""POLA-DiCE: proximal opponent shaping with sampled DiCE objectives (Zhao et al., 2022, Algorithm 2).

One update, for each agent ``i`` from the same starting parameters ``(theta_1, theta_2)``:

* inner loop (the opponent ``j`` looks ahead): ``inner_steps`` SGD steps, each on a fresh rollout,
  ``theta_j' <- theta_j' - inner_lr * grad[-DiCE_j + inner_beta * KL(pi_{theta_j} || pi_{theta_j'})]``,
  kept differentiable in ``theta_i`` (POLA eq. 5's inner proximal problem, solved approximately);
* outer loop: ``outer_steps`` Adam steps of agent ``i`` on ``-DiCE_i(theta_i, theta_j'(theta_i)) +
  outer_beta * KL(pi_{theta_i^start} || pi_{theta_i})`` on fresh rollouts against the re-computed
  look-ahead (POLA eq. 6);
* the value baselines of both are trained on the same rollouts (SGD inside, Adam outside).

LOLA-DiCE is the case ``inner_steps = outer_steps = 1``, ``inner_beta = outer_beta = 0``. As in the
reference code, the outer optimizers start fresh at every update. Gradients are taken per agent with
``torch.autograd.grad``: the look-ahead puts agent ``i``'s gradient through agent ``j``'s update.
``num_seeds`` independent runs train at once: every parameter has a leading seed dimension, seeds
never interact, and each loss is the sum over seeds of the per-seed loss, so every seed gets exactly
its own gradient (and its own Adam statistics, which are elementwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from tensordict import TensorDict
from torch import nn

from oppshape.learners.dice_rollout import AgentParams, Trajectory, rollout
from oppshape.modules.gru_policy import GRUNet, ParamDict
from oppshape.objectives.dice import DiCELoss


@dataclass
class ShapingConfig:
    """Hyperparameters shared by LOLA-DiCE, POLA-DiCE and POLA-OM (names as in the POLA README)."""

    inner_steps: int = 2  # opponent look-ahead SGD steps (--inner_steps)
    outer_steps: int = 200  # agent Adam steps per update (--outer_steps)
    inner_lr: float = 0.005  # look-ahead SGD step size (--lr_in)
    outer_lr: float = 0.003  # agent policy Adam step size (--lr_out)
    value_lr: float = 0.0005  # value baselines' step size, SGD inside and Adam outside (--lr_v)
    inner_beta: float = 10.0  # weight of KL(pi_start || pi) in the look-ahead (--inner_beta)
    outer_beta: float = 100.0  # weight of KL(pi_start || pi) in the agent's objective (--outer_beta)
    batch_size: int = 2000  # games per rollout and seed (--batch_size)
    rollout_length: int = 50  # steps per rollout, one episode (--rollout_len)
    gamma: float = 0.96  # discount (--gamma)
    gae_lambda: float = 1.0  # GAE lambda of the Loaded-DiCE advantages (--gae_lambda)

    def __post_init__(self) -> None:
        for name in ("inner_steps", "outer_steps", "batch_size", "rollout_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be an integer >= 1")
        for name in ("inner_lr", "outer_lr", "value_lr", "inner_beta", "outer_beta"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0")
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f"gamma={self.gamma} must lie in (0, 1)")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gae_lambda={self.gae_lambda} must lie in [0, 1]")


class DiceAgent(nn.Module):
    """One agent's separate GRU policy and GRU value networks (``num_seeds`` copies of each)."""

    def __init__(self, observation_dim: int, n_actions: int, hidden_size: int, num_seeds: int) -> None:
        super().__init__()
        self.policy = GRUNet(observation_dim, n_actions, hidden_size, num_seeds)
        self.value = GRUNet(observation_dim, 1, hidden_size, num_seeds)


def detached(params: ParamDict) -> ParamDict:
    """Fresh leaves with the same values, requiring grad (a starting point that owns no history)."""
    return {name: p.detach().clone().requires_grad_() for name, p in params.items()}


def agent_losses(loss: DiCELoss, trajectory: Trajectory, agent: int) -> TensorDict:
    """DiCE losses of ``agent`` summed over seeds (its log-probs, the other's, its rewards and values).

    The ``[T, S, N]`` record becomes a ``[S, N, T]`` batch; the loss averages over seeds and games,
    so it is scaled by ``S`` to give each seed its own gradient.
    """

    def batch_major(x: torch.Tensor) -> torch.Tensor:
        return x.permute(1, 2, 0)

    entries = {
        "log_prob": batch_major(trajectory.log_prob[..., agent]),
        "other_log_prob": batch_major(trajectory.log_prob[..., 1 - agent]),
        "reward": batch_major(trajectory.reward[..., agent]),
    }
    if trajectory.value[agent] is not None:
        value = trajectory.value[agent]
        entries["state_value"] = batch_major(value)
        entries["next", "state_value"] = batch_major(torch.cat([value[1:], trajectory.bootstrap_value[agent][None]]))
    seeds = trajectory.reward.shape[1]
    return loss(TensorDict(entries, batch_size=entries["reward"].shape)).apply(lambda x: seeds * x)


def inner_lookahead(
    game: Any,
    loss: DiCELoss,
    config: ShapingConfig,
    shaper: int,
    shaper_policy: ParamDict,
    opponent_policy: ParamDict,
    opponent_value: ParamDict,
    reference: ParamDict,
    steps: int,
) -> tuple[ParamDict, ParamDict]:
    """The opponent's ``steps`` differentiable SGD steps on its proximal DiCE objective.

    Args:
        shaper: index (0 or 1) of the agent whose parameters ``shaper_policy`` stay in the graph.
        opponent_policy, opponent_value: where the opponent's steps start.
        reference: the opponent's proximal reference (its parameters at the start of the update).
        steps: number of SGD steps, each on a fresh rollout.

    Returns:
        The looked-ahead policy (a function of ``shaper_policy``) and value parameters (detached:
        values enter DiCE only through stop-gradient advantages).
    """
    opponent = 1 - shaper
    policy, value = detached(opponent_policy), detached(opponent_value)
    use_kl = config.inner_beta > 0
    for _ in range(steps):
        players = [AgentParams(shaper_policy), AgentParams(policy, value, reference if use_kl else None)]
        if shaper == 1:
            players.reverse()
        trajectory = rollout(game, players, config.batch_size, config.rollout_length)
        losses = agent_losses(loss, trajectory, opponent)
        objective = losses["loss_objective"]
        if use_kl:
            objective = objective + config.inner_beta * trajectory.kl[opponent].sum()
        policy_grads = torch.autograd.grad(objective, list(policy.values()), create_graph=True)
        value_grads = torch.autograd.grad(losses["loss_value"], list(value.values()))
        policy = {name: p - config.inner_lr * g for (name, p), g in zip(policy.items(), policy_grads)}
        value = {name: (p - config.value_lr * g).detach().requires_grad_() for (name, p), g in zip(value.items(), value_grads)}
    return policy, value


class POLADiCE:
    """Two GRU agents trained by POLA-DiCE (or LOLA-DiCE with 1 / 1 steps and zero betas).

    Args:
        game: a tensor-level game (``CoinGame`` or ``IteratedMatrixGame``).
        config: the hyperparameters.
        hidden_size: GRU width (POLA: 64).
        num_seeds: independent runs trained together.
    """

    def __init__(self, game: Any, config: ShapingConfig, hidden_size: int = 64, num_seeds: int = 1) -> None:
        self.game = game
        self.config = config
        self.num_seeds = num_seeds
        observation_dim = int(torch.Size(game.observation_shape).numel())
        self.agents = nn.ModuleList(
            DiceAgent(observation_dim, game.n_actions, hidden_size, num_seeds) for _ in range(2)
        ).to(game.device)
        self.loss = DiCELoss(gamma=config.gamma, lmbda=config.gae_lambda)
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

    def outer_loop(
        self, agent: int, policy: ParamDict, value: ParamDict, opponent_policy: ParamDict, opponent_value: ParamDict
    ) -> tuple[ParamDict, ParamDict, dict[str, float]]:
        """``outer_steps`` Adam steps of ``agent`` against its opponent's look-ahead (POLA eq. 6)."""
        config = self.config
        reference = {name: p.detach() for name, p in policy.items()}
        policy, value = detached(policy), detached(value)
        policy_optimizer = torch.optim.Adam(policy.values(), lr=config.outer_lr)
        value_optimizer = torch.optim.Adam(value.values(), lr=config.value_lr)
        use_kl = config.outer_beta > 0
        for _ in range(config.outer_steps):
            looked_ahead, _ = inner_lookahead(
                self.game, self.loss, config, agent, policy, opponent_policy, opponent_value,
                reference=opponent_policy, steps=config.inner_steps,
            )
            players = [AgentParams(policy, value, reference if use_kl else None), AgentParams(looked_ahead)]
            if agent == 1:
                players.reverse()
            trajectory = rollout(self.game, players, config.batch_size, config.rollout_length)
            losses = agent_losses(self.loss, trajectory, agent)
            objective = losses["loss_objective"]
            if use_kl:
                objective = objective + config.outer_beta * trajectory.kl[agent].sum()
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
            metrics["kl_outer"] = trajectory.kl[agent].mean().item()
        return policy, value, metrics

    def policies(self) -> list[ParamDict]:
        """Both agents' current policy parameters (for evaluation)."""
        return [{name: p.detach() for name, p in a.policy.params().items()} for a in self.agents]

    def state_dict(self) -> dict[str, Any]:
        return {"agents": self.agents.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.agents.load_state_dict(state["agents"])
        self.updates = int(state["updates"])
