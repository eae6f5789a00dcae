"""Batched iterated 2x2 matrix game (IPD and every payoff preset) as a TorchRL environment.

The observation is the memory-1 state of ``oppshape.games.exact_values``, one-hot over
(start, CC, CD, DC, DD) from each agent's own point of view, so a tabular policy trained here can be
scored in closed form and sampled estimators can be tested against the exact value.

The rules also exist at tensor level (``initial_state`` / ``transition`` / ``observe``, the interface
of :class:`oppshape.envs.coin_game.CoinGame`): the DiCE learners' rollouts call them directly, with
no TensorDict per step, so both paths share one set of rules. Both are table look-ups; the transition
is a :func:`oppshape.hot_path.hot_path` (fused by ``torch.compile`` when ``trainer.compile`` is on).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite

from oppshape.envs.specs import CompleteStepEnv, agents_action_spec, agents_reward_spec, done_spec, step_output
from oppshape.games.exact import SWAP_VIEW
from oppshape.games.payoffs import payoff_table as preset_payoff
from oppshape.hot_path import hot_path

N_STATES = 5  # start, CC, CD, DC, DD
N_AGENTS = 2


class MatrixStep(NamedTuple):
    """What :meth:`IteratedMatrixGame.transition` returns: next joint states ``[N]``, rewards ``[N, 2]``."""

    state: torch.Tensor
    reward: torch.Tensor


@hot_path
def matrix_transition(actions: torch.Tensor, reward_by_state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next joint states ``[...]`` (CC=1, CD=2, DC=3, DD=4) and rewards ``[..., 2]`` of ``actions`` ``[..., 2]``.

    ``reward_by_state`` is ``[5, 2]``, row ``s`` the payoffs of joint state ``s`` (row 0 unused): three
    kernels per step, no one-hot and no two-dimensional fancy indexing.
    """
    state = torch.add(actions[..., 1], actions[..., 0], alpha=2).add_(1)
    return state, torch.nn.functional.embedding(state, reward_by_state)


def matrix_observe(state: torch.Tensor, observation_rows: torch.Tensor) -> torch.Tensor:
    """Rows ``state`` of ``observation_rows`` ``[5, 2 * 5]`` as ``[..., 2, 5]`` (both agents' one-hots).

    One gather, nothing to fuse: not a hot path (inductor's CPU kernel for it measured 2-3x slower at 2000 games).
    """
    return torch.nn.functional.embedding(state, observation_rows).unflatten(-1, (N_AGENTS, N_STATES))


class IteratedMatrixGame(CompleteStepEnv):
    """Two agents repeat a 2x2 game for ``episode_length`` steps; episodes end truncated.

    Args:
        num_envs: number of independent games stepped together (the batch size).
        payoff: a preset name from ``oppshape.games.PAYOFF_NAMES`` (``ipd_cf`` needs ``cf``).
        cf: contribution factor for ``payoff="ipd_cf"``.
        payoff_table: a custom ``[2, 2, 2]`` table ``[a1, a2, agent]``; overrides ``payoff``.
        episode_length: steps before ``truncated`` is set.
        device: where the state and the payoff table live.

    Keys: ``("agents", "observation")`` ``[B, 2, 5]``, ``("agents", "action")`` ``[B, 2]`` (0 =
    cooperate), ``("agents", "reward")`` ``[B, 2, 1]``, ``"state"`` ``[B]`` (joint state index from
    agent 1's view), ``"step_count"`` ``[B, 1]``, root ``done`` / ``terminated`` / ``truncated``.
    """

    batch_locked = True
    n_actions = 2
    observation_shape = (N_STATES,)

    def __init__(
        self,
        num_envs: int = 1,
        payoff: str = "ipd",
        cf: float | None = None,
        payoff_table: torch.Tensor | None = None,
        episode_length: int = 50,
        device: torch.device | str = "cpu",
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs} must be >= 1")
        if episode_length < 1:
            raise ValueError(f"episode_length={episode_length} must be >= 1")
        table = preset_payoff(payoff, cf) if payoff_table is None else torch.as_tensor(payoff_table)
        if table.shape != (2, 2, N_AGENTS):
            raise ValueError(f"payoff_table must have shape [2, 2, 2]; got {tuple(table.shape)}")
        super().__init__(device=device, batch_size=torch.Size([num_envs]))
        self.episode_length = episode_length
        self.register_buffer("payoff", table.to(self.device, torch.float32))
        # agent 1's view index -> (agent 1 view, agent 2 view), used to build both observations at once
        views = torch.tensor([list(range(N_STATES)), list(SWAP_VIEW)], dtype=torch.long).T
        self.register_buffer("state_views", views.to(self.device))
        # the look-up tables of the hot path: rewards and both one-hot observations per joint state
        reward_by_state = torch.cat((torch.zeros(1, N_AGENTS), table.to(torch.float32).reshape(4, N_AGENTS)))
        self.register_buffer("reward_by_state", reward_by_state.to(self.device), persistent=False)
        rows = torch.nn.functional.one_hot(views, N_STATES).to(torch.float32).reshape(N_STATES, -1)
        self.register_buffer("observation_rows", rows.to(self.device), persistent=False)
        self._make_specs()

    def _make_specs(self) -> None:
        batch = self.batch_size
        agents_shape = (*batch, N_AGENTS)
        self.full_observation_spec = Composite(
            agents=Composite(
                observation=Bounded(0, 1, shape=(*agents_shape, N_STATES), device=self.device),
                shape=agents_shape,
                device=self.device,
            ),
            state=Categorical(N_STATES, shape=batch, device=self.device),
            step_count=Bounded(0, self.episode_length, shape=(*batch, 1), dtype=torch.int64, device=self.device),
            shape=batch,
            device=self.device,
        )
        self.full_action_spec = agents_action_spec(batch, N_AGENTS, 2, self.device)
        self.full_reward_spec = agents_reward_spec(batch, N_AGENTS, self.device)
        self.full_done_spec = done_spec(batch, self.device)

    # ----------------------------------------------------------------- tensor-level game
    def initial_state(self, n: int) -> torch.Tensor:
        """``n`` games at the start state."""
        return torch.zeros(n, dtype=torch.long, device=self.device)

    def transition(self, state: torch.Tensor, actions: torch.Tensor, uniform: torch.Tensor | None = None) -> MatrixStep:
        """Play ``actions`` ``[N, 2]`` (0 = cooperate); the game is deterministic, ``uniform`` is ignored."""
        with torch.no_grad():  # nothing here has a gradient; one grad mode means one compiled graph, not two
            return MatrixStep(*matrix_transition(actions, self.reward_by_state))

    def observe(self, state: torch.Tensor) -> torch.Tensor:
        """Both agents' one-hot own-view states ``[N, 2, 5]``."""
        return matrix_observe(state, self.observation_rows)

    @property
    def observation_table(self) -> torch.Tensor:
        """Every distinct observation ``[5, 2, 5]`` (row ``k``: joint state ``k``), for the DiCE rollouts."""
        return self.observe(torch.arange(N_STATES, device=self.device))

    def observation_index(self, state: torch.Tensor) -> torch.Tensor:
        """Row of :attr:`observation_table` each game shows: the joint state itself."""
        return state

    # ----------------------------------------------------------------- TorchRL env
    def _output(self, state: torch.Tensor, step_count: torch.Tensor, reward: torch.Tensor | None) -> TensorDict:
        agents = {"observation": self.observe(state)}
        if reward is not None:
            agents["reward"] = reward
        root = {"state": state, "step_count": step_count}
        return step_output(self, N_AGENTS, agents, root, truncated=step_count >= self.episode_length)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDict:
        start = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
        step_count = torch.zeros((*self.batch_size, 1), dtype=torch.long, device=self.device)
        if tensordict is not None and "_reset" in tensordict.keys() and "state" in tensordict.keys():
            keep = ~tensordict["_reset"].reshape(self.batch_size)
            start = torch.where(keep, tensordict["state"], start)
            step_count = torch.where(keep.unsqueeze(-1), tensordict["step_count"], step_count)
        return self._output(start, step_count, reward=None)

    def _step(self, tensordict: TensorDictBase) -> TensorDict:
        step = self.transition(tensordict["state"], tensordict["agents", "action"].long())
        return self._output(step.state, tensordict["step_count"] + 1, step.reward.unsqueeze(-1))

    def _set_seed(self, seed: int | None) -> None:
        """The game is deterministic given the actions; nothing to seed."""
