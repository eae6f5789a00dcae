"""Repeated 2x2 game in which the leader first answers one query per memory state (Oracles & Followers).

Gerstgrasser & Parkes (ICML 2023), Def. 3: a follower oracle with query access to the leader policy.
Before each episode the leader is asked "what do you play in memory state ``i``?" for every state
``i``; its answers (sampled from its current policy) are shown to the follower for the whole episode,
so a follower trained across many leaders becomes a contextual best-response oracle (Theorem 1).

One episode is ``S`` query steps followed by ``episode_length`` play steps (``S`` = number of memory
states: 1, 3 or 5, see :mod:`oppshape.games.stackelberg`). On query step ``i`` the leader's action is
its answer for state ``i``; the follower's action is ignored and both rewards are 0. On play steps the
stage game is played and both agents receive ``payoff + reward_offset``. Whether the leader's learning
signal includes the query steps (observed vs hidden queries) is the learner's choice: the root
``is_query`` flag marks them.

Observations are discrete indices (a tabular or one-hot policy reads them directly):

* leader: its own-view memory state ``s`` on play steps and the queried state ``i`` on query steps, so
  without ``tell_leader`` a query looks exactly like play in that state; with ``tell_leader`` query
  steps add ``S`` (index ``i + S``) so the leader can answer differently from how it plays.
* follower: ``s * 2**S + code``, where ``code = sum_i answer_i * 2**i`` encodes the answers so far.

Several games run side by side: ``num_envs`` is split into ``G`` equal contiguous blocks and block ``g``
plays ``payoff_tables[g]`` (a ``[G, 2, 2, 2]`` buffer), so games and seeds share one batch.
"""

from __future__ import annotations

from typing import Sequence

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite
from torchrl.envs import EnvBase

from oppshape.envs.specs import agents_action_spec, agents_reward_spec, done_spec, step_output
from oppshape.games.stackelberg import n_memory_states, own_views, stackelberg_payoffs, strategy_code

N_AGENTS = 2


class StackelbergQueryGame(EnvBase):
    """Batched query-then-play repeated matrix game; leader = agent 1 (row), follower = agent 2.

    Args:
        num_envs: parallel episodes; a multiple of the number of games.
        games: preset name(s) from ``oppshape.games.stackelberg.GAME_NAMES`` (ignored if
            ``payoff_table`` is given).
        payoff_table: custom ``[2, 2, 2]`` or ``[G, 2, 2, 2]`` tables ``[a_leader, a_follower, agent]``.
        memory: ``"none"`` (constant observation), ``"small"`` (the other's last action) or ``"full"``
            (the last joint action).
        episode_length: play steps per episode (the paper: 10 with full memory, 5 with small).
        reward_offset: added to every play-step reward (the paper's runs: -2.5).
        tell_leader: the leader's observation says whether it is answering a query.
        device: where buffers and state live.

    Keys: ``("agents", "observation")`` ``[B, 2]`` long indices (see module docstring),
    ``("agents", "memory_state")`` ``[B, 2]`` own-view memory states, ``("agents", "action")`` ``[B, 2]``
    (0 = cooperate), ``("agents", "reward")`` ``[B, 2, 1]``, ``"query_answers"`` ``[B, S]`` (answers
    so far), ``"is_query"`` ``[B, 1]`` (the next action answers a query), ``"joint_state"`` ``[B]``
    (start, CC, CD, DC, DD from the leader's view), ``"step_count"`` ``[B, 1]``, root ``done`` /
    ``terminated`` / ``truncated`` (the episode ends truncated after ``S + episode_length`` steps).
    """

    batch_locked = True

    def __init__(
        self,
        num_envs: int = 1,
        games: Sequence[str] | str = "prisoners_dilemma",
        payoff_table: torch.Tensor | Sequence | None = None,
        memory: str = "full",
        episode_length: int = 10,
        reward_offset: float = -2.5,
        tell_leader: bool = False,
        device: torch.device | str = "cpu",
    ) -> None:
        n_states = n_memory_states(memory)
        if episode_length < 1:
            raise ValueError(f"episode_length={episode_length} must be >= 1")
        if payoff_table is None:
            tables = stackelberg_payoffs(games)
        else:
            tables = torch.as_tensor(payoff_table, dtype=torch.float32)
            if tables.shape[-3:] != (2, 2, 2) or tables.dim() not in (3, 4):
                raise ValueError(f"payoff_table must have shape [2, 2, 2] or [G, 2, 2, 2]; got {tuple(tables.shape)}")
            tables = tables.reshape(-1, 2, 2, 2)
        n_games = tables.shape[0]
        if num_envs < 1 or num_envs % n_games:
            raise ValueError(f"num_envs={num_envs} must be a positive multiple of the number of games ({n_games})")
        super().__init__(device=device, batch_size=torch.Size([num_envs]))
        self.memory, self.n_states, self.n_games = memory, n_states, n_games
        self.episode_length, self.reward_offset, self.tell_leader = episode_length, float(reward_offset), tell_leader
        self.n_queries = n_states
        self.n_leader_obs = n_states * (2 if tell_leader else 1)
        self.n_follower_obs = n_states * 2**n_states
        self.register_buffer("payoff_tables", tables.to(self.device))
        self.register_buffer("game_index", torch.arange(num_envs, device=self.device) // (num_envs // n_games))
        self.register_buffer("views", own_views(memory, self.device))
        # each env's own stage table [B, 4 cells (CC, CD, DC, DD), 2 agents], gathered once
        self.register_buffer("env_payoff", self.payoff_tables[self.game_index].reshape(num_envs, 4, N_AGENTS))
        self._make_specs()

    def _make_specs(self) -> None:
        batch, agents_shape = self.batch_size, (*self.batch_size, N_AGENTS)
        obs_high = torch.tensor([self.n_leader_obs - 1, self.n_follower_obs - 1], device=self.device)
        self.full_observation_spec = Composite(
            agents=Composite(
                observation=Bounded(
                    torch.zeros_like(obs_high).expand(agents_shape), obs_high.expand(agents_shape),
                    shape=agents_shape, dtype=torch.int64, device=self.device,
                ),
                memory_state=Bounded(0, self.n_states - 1, shape=agents_shape, dtype=torch.int64, device=self.device),
                shape=agents_shape,
                device=self.device,
            ),
            query_answers=Bounded(0, 1, shape=(*batch, self.n_states), dtype=torch.int64, device=self.device),
            is_query=Categorical(2, shape=(*batch, 1), dtype=torch.bool, device=self.device),
            joint_state=Categorical(5, shape=batch, device=self.device),
            step_count=Bounded(
                0, self.n_queries + self.episode_length, shape=(*batch, 1), dtype=torch.int64, device=self.device
            ),
            shape=batch,
            device=self.device,
        )
        self.full_action_spec = agents_action_spec(batch, N_AGENTS, 2, self.device)
        self.full_reward_spec = agents_reward_spec(batch, N_AGENTS, self.device)
        self.full_done_spec = done_spec(batch, self.device)

    def _output(
        self, joint: torch.Tensor, answers: torch.Tensor, step_count: torch.Tensor, reward: torch.Tensor | None
    ) -> TensorDict:
        is_query = step_count < self.n_queries  # [B, 1]
        memory_state = self.views[joint]  # [B, 2]
        query_obs = step_count.squeeze(-1).clamp(max=self.n_queries - 1) + (self.n_states if self.tell_leader else 0)
        leader_obs = torch.where(is_query.squeeze(-1), query_obs, memory_state[:, 0])
        follower_obs = memory_state[:, 1] * 2**self.n_states + strategy_code(answers)
        agents = {"observation": torch.stack([leader_obs, follower_obs], -1), "memory_state": memory_state}
        if reward is not None:
            agents["reward"] = reward
        root = {"query_answers": answers, "is_query": is_query, "joint_state": joint, "step_count": step_count}
        truncated = step_count >= self.n_queries + self.episode_length
        return step_output(self, N_AGENTS, agents, root, truncated=truncated)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDict:
        joint = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
        answers = torch.zeros((*self.batch_size, self.n_states), dtype=torch.long, device=self.device)
        step_count = torch.zeros((*self.batch_size, 1), dtype=torch.long, device=self.device)
        if tensordict is not None and "_reset" in tensordict.keys() and "step_count" in tensordict.keys():
            keep = ~tensordict["_reset"].reshape(self.batch_size)
            joint = torch.where(keep, tensordict["joint_state"], joint)
            answers = torch.where(keep.unsqueeze(-1), tensordict["query_answers"], answers)
            step_count = torch.where(keep.unsqueeze(-1), tensordict["step_count"], step_count)
        return self._output(joint, answers, step_count, reward=None)

    def _step(self, tensordict: TensorDictBase) -> TensorDict:
        action = tensordict["agents", "action"].long()  # [B, 2]
        step_count, joint = tensordict["step_count"], tensordict["joint_state"]
        is_query = step_count.squeeze(-1) < self.n_queries  # [B]
        # query step i: write the leader's action into answer slot i; play steps leave answers alone
        slot = torch.nn.functional.one_hot(step_count.squeeze(-1).clamp(max=self.n_queries - 1), self.n_states).bool()
        write = slot & is_query.unsqueeze(-1)
        answers = torch.where(write, action[:, :1], tensordict["query_answers"])
        cell = 2 * action[:, 0] + action[:, 1]  # CC, CD, DC, DD
        reward = self.env_payoff.gather(1, cell.view(-1, 1, 1).expand(-1, 1, N_AGENTS)).squeeze(1) + self.reward_offset
        reward = torch.where(is_query.unsqueeze(-1), torch.zeros_like(reward), reward).unsqueeze(-1)
        joint = torch.where(is_query, joint, 1 + cell)
        return self._output(joint, answers, step_count + 1, reward)

    def _set_seed(self, seed: int | None) -> None:
        """The game is deterministic given the actions; nothing to seed."""
