"""POLA-OM: POLA-DiCE where each agent shapes a learned model of its opponent (Zhao et al., 2022, Sec. 4.3).

Before its outer loop, agent ``i`` plays ``om_batches`` fresh rollouts against the real opponent, fits
a GRU policy to the opponent's observed actions (behaviour cloning, cross-entropy) and a GRU value to
the opponent's observed rewards (:class:`~oppshape.objectives.OpponentModelLoss`), and then runs
POLA-DiCE with that model in the opponent's place: the look-ahead starts from the model, its KL
reference is the model, and the outer rollouts play against the looked-ahead model. The agent never reads the opponent's parameters. The models persist
across updates; their Adam optimizers start fresh at every update, as in the reference code.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict
from torch import nn

from oppshape.config.dice import PolaOmConfig
from oppshape.learners.pola_dice import DiceAgent, POLADiCE
from oppshape.modules.gru_policy import ParamDict, unroll
from oppshape.objectives.dice_lookahead import detached
from oppshape.objectives.pola_om import OpponentModelLoss
from oppshape.rollouts.dice import AgentParams, rollout


class POLAOM(POLADiCE):
    """POLA-DiCE with opponent models instead of the opponents' parameters.

    Args:
        game: the env, as for :class:`POLADiCE`.
        config: the validated POLA-OM schema, used unchanged.
    """

    def __init__(self, game: Any, config: PolaOmConfig) -> None:
        super().__init__(game, config)
        observation_dim = int(torch.Size(game.observation_shape).numel())
        #: models[i] is agent i's model of agent 1 - i
        self.models = nn.ModuleList(
            DiceAgent(observation_dim, game.n_actions, config.hidden_size, config.num_seeds) for _ in range(2)
        ).to(game.device)
        self.model_loss = OpponentModelLoss(gamma=config.gamma)
        self.model_metrics: dict[str, float] = {}

    def opponent_start(self, agent: int, start: list[tuple[ParamDict, ParamDict]]) -> tuple[ParamDict, ParamDict]:
        """Fit ``agent``'s model of its opponent on fresh play, and start the look-ahead from the model."""
        self.fit_model(agent, start)
        model = self.models[agent]
        return detached(model.policy.params()), detached(model.value.params())

    def fit_model(self, agent: int, start: list[tuple[ParamDict, ParamDict]]) -> None:
        """Behaviour-clone the opponent's policy and regress its value on ``om_batches`` fresh rollouts."""
        config, opponent = self.config, 1 - agent
        model = self.models[agent]
        policy_optimizer = torch.optim.Adam(model.policy.parameters(), lr=config.om_actor_lr)
        value_optimizer = torch.optim.Adam(model.value.parameters(), lr=config.om_critic_lr)
        players = [AgentParams(start[0][0]), AgentParams(start[1][0])]
        for _ in range(config.om_batches):
            with torch.no_grad():
                trajectory = rollout(self.game, players, config.num_envs, self.game.episode_length,
                                     keep_observations=True)
            observations = trajectory.observation[..., opponent, :]  # [T + 1, S, N, obs] as the opponent saw them
            for _ in range(config.om_steps_per_batch):
                logits = unroll(model.policy.params(), observations[:-1])  # [T, S, N, A]
                values = unroll(model.value.params(), observations).squeeze(-1)  # [T + 1, S, N]
                losses = self.model_loss(TensorDict({  # [S, N, T] views of the time-major record
                    "logits": logits.permute(1, 2, 0, 3), "action": trajectory.action[..., opponent].permute(1, 2, 0),
                    "reward": trajectory.reward[..., opponent].permute(1, 2, 0),
                    "state_value": values[:-1].permute(1, 2, 0), ("next", "state_value"): values[1:].permute(1, 2, 0),
                }, batch_size=logits.shape[1:3] + logits.shape[:1]))
                policy_optimizer.zero_grad()
                losses["loss_policy"].backward()
                policy_optimizer.step()
                value_optimizer.zero_grad()
                losses["loss_value"].backward()
                value_optimizer.step()
        self.model_metrics[f"loss_model_policy_{agent + 1}"] = losses["loss_policy"].item() / self.num_seeds
        self.model_metrics[f"loss_model_value_{agent + 1}"] = losses["loss_value"].item() / self.num_seeds

    def update(self, batch: Any = None) -> dict[str, float]:
        """One POLA-OM update of both agents; adds the opponent models' fitting losses."""
        metrics = super().update(batch)
        return {**metrics, **self.model_metrics}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "models": self.models.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.models.load_state_dict(state["models"])
