"""POLA-OM: POLA-DiCE where each agent shapes a learned model of its opponent (Zhao et al., 2022, Sec. 4.3).

Before its outer loop, agent ``i`` plays ``batches`` fresh rollouts against the real opponent, fits
a GRU policy to the opponent's observed actions (behaviour cloning, cross-entropy) and a GRU value to
the opponent's observed rewards, and then runs POLA-DiCE with that model in the opponent's place: the
look-ahead starts from the model, its KL reference is the model, and the outer rollouts play
against the looked-ahead model. The agent never reads the opponent's parameters. The models persist
across updates; their Adam optimizers start fresh at every update, as in the reference code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from oppshape.learners.dice_rollout import AgentParams, rollout
from oppshape.learners.pola_dice import DiceAgent, POLADiCE, ShapingConfig, detached
from oppshape.modules.gru_policy import ParamDict, unroll
from oppshape.objectives.dice import bootstrapped_returns


@dataclass
class OpponentModelConfig:
    """How the opponent model is fitted at the start of every update."""

    batches: int = 200  # fresh rollouts against the real opponent (--opp_model_data_batches)
    steps_per_batch: int = 1  # gradient steps on each rollout (--opp_model_steps_per_batch)
    policy_lr: float = 0.003  # Adam step of the model's policy (the reference code uses --lr_out here)
    value_lr: float = 0.0005  # Adam step of the model's value (the reference code uses --lr_v here)

    def __post_init__(self) -> None:
        for name in ("batches", "steps_per_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be an integer >= 1")
        for name in ("policy_lr", "value_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}={getattr(self, name)} must be > 0")


class POLAOM(POLADiCE):
    """POLA-DiCE with opponent models instead of the opponents' parameters.

    Args:
        game, config, hidden_size, num_seeds: as for :class:`POLADiCE`.
        model_config: how the opponent models are fitted.
    """

    def __init__(
        self, game: Any, config: ShapingConfig, model_config: OpponentModelConfig, hidden_size: int = 64,
        num_seeds: int = 1,
    ) -> None:
        super().__init__(game, config, hidden_size, num_seeds)
        self.model_config = model_config
        observation_dim = int(torch.Size(game.observation_shape).numel())
        #: models[i] is agent i's model of agent 1 - i
        self.models = nn.ModuleList(
            DiceAgent(observation_dim, game.n_actions, hidden_size, num_seeds) for _ in range(2)
        ).to(game.device)
        self.model_metrics: dict[str, float] = {}

    def opponent_start(self, agent: int, start: list[tuple[ParamDict, ParamDict]]) -> tuple[ParamDict, ParamDict]:
        """Fit ``agent``'s model of its opponent on fresh play, and start the look-ahead from the model."""
        self.fit_model(agent, start)
        model = self.models[agent]
        return detached(model.policy.params()), detached(model.value.params())

    def fit_model(self, agent: int, start: list[tuple[ParamDict, ParamDict]]) -> None:
        """Behaviour-clone the opponent's policy and regress its value on ``batches`` fresh rollouts."""
        config, model_config, opponent = self.config, self.model_config, 1 - agent
        model = self.models[agent]
        policy_optimizer = torch.optim.Adam(model.policy.parameters(), lr=model_config.policy_lr)
        value_optimizer = torch.optim.Adam(model.value.parameters(), lr=model_config.value_lr)
        players = [AgentParams(start[0][0]), AgentParams(start[1][0])]
        for _ in range(model_config.batches):
            with torch.no_grad():
                trajectory = rollout(self.game, players, config.batch_size, config.rollout_length, keep_observations=True)
            observations = trajectory.observation[..., opponent, :]  # [T + 1, S, N, obs] as the opponent saw them
            actions, rewards = trajectory.action[..., opponent], trajectory.reward[..., opponent]  # [T, S, N]
            for _ in range(model_config.steps_per_batch):  # every loss: sum over seeds of per-seed means
                logits = unroll(model.policy.params(), observations[:-1])
                policy_loss = self.num_seeds * F.cross_entropy(logits.flatten(0, 2), actions.flatten())
                policy_optimizer.zero_grad()
                policy_loss.backward()
                policy_optimizer.step()
                values = unroll(model.value.params(), observations).squeeze(-1)  # [T + 1, S, N]
                target = bootstrapped_returns(rewards.permute(1, 2, 0), values[-1].detach(), config.gamma)
                value_loss = (target - values[:-1].permute(1, 2, 0)).pow(2).sum(-1).mean() * self.num_seeds
                value_optimizer.zero_grad()
                value_loss.backward()
                value_optimizer.step()
        self.model_metrics[f"loss_model_policy_{agent + 1}"] = policy_loss.item() / self.num_seeds
        self.model_metrics[f"loss_model_value_{agent + 1}"] = value_loss.item() / self.num_seeds

    def update(self, batch: Any = None) -> dict[str, float]:
        """One POLA-OM update of both agents; adds the opponent models' fitting losses."""
        metrics = super().update(batch)
        return {**metrics, **self.model_metrics}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "models": self.models.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.models.load_state_dict(state["models"])
