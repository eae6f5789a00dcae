"""The Coin Game (Lerer & Peysakhovich 2017, as used by LOLA, POLA and LOQA) as a batched TorchRL env.

Two agents walk on an ``height x width`` torus; one coin at a time belongs to one of them. Picking up
any coin pays +1; picking up the other agent's coin also costs its owner -2, so greedy play is a
social dilemma. After a pick-up the coin changes owner and reappears on a free cell.

The env is stateless in TorchRL's sense: the whole state (``"agent_pos"``, ``"coin_pos"``,
``"coin_owner"``, ``"step_count"``) travels in the TensorDict, so ``env.reset(td, set_state=True)``
starts every game from the state in ``td``. The tensor-level methods (:meth:`CoinGame.initial_state`,
:meth:`CoinGame.transition`, :meth:`CoinGame.observe`) work on flat cell indices and are what the
lean rollouts of the DiCE learners call in their inner loops, with no TensorDict per step. Their work is
done by :func:`coin_transition` and :func:`coin_observe`, precomputed-table look-ups behind
:func:`oppshape.hot_path.hot_path` (fused by ``torch.compile`` when ``trainer.compile`` is on).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite

from oppshape.envs.specs import CompleteStepEnv, agents_action_spec, agents_reward_spec, done_spec, step_output
from oppshape.hot_path import hot_path

N_AGENTS = 2
N_PLANES = 4  # my position, other's position, coin if mine, coin if other's
MAX_OBSERVATION_TABLE = 8192  # 4x4 boards; larger tables cost more than they save at POLA's batch sizes
STATE_KEYS = ("agent_pos", "coin_pos", "coin_owner")


class CoinState(NamedTuple):
    """A batch of Coin Game states on flat cells (``row * width + col``).

    Attributes:
        agent_cell: ``[N, 2]`` long, each agent's cell.
        coin_cell: ``[N]`` long, the coin's cell.
        coin_owner: ``[N]`` long, 0 or 1.
    """

    agent_cell: torch.Tensor
    coin_cell: torch.Tensor
    coin_owner: torch.Tensor


class CoinStep(NamedTuple):
    """What one :meth:`CoinGame.transition` returns besides the next state."""

    state: CoinState
    reward: torch.Tensor  # [N, 2] float
    picked_coin: torch.Tensor  # [N, 2] bool: this agent stepped onto the coin
    picked_own_coin: torch.Tensor  # [N, 2] bool: ... and the coin was its own


@hot_path
def coin_transition(
    agent_cell: torch.Tensor, coin_cell: torch.Tensor, coin_owner: torch.Tensor, actions: torch.Tensor,
    uniform: torch.Tensor, next_cell: torch.Tensor, free_cell: torch.Tensor, n_free: torch.Tensor,
    outcome_reward: torch.Tensor, outcome_own: torch.Tensor,
) -> tuple[torch.Tensor, ...]:
    """One step of the rules on flat cells; returns (agent_cell, coin_cell, coin_owner, reward, picked, picked_own).

    Args:
        agent_cell, coin_cell, coin_owner, actions, uniform: as in :meth:`CoinGame.transition`.
        next_cell: ``[cells * 4]`` the cell reached from ``cell`` by action ``a`` at ``cell * 4 + a``.
        free_cell: ``[cells * cells, cells]`` for the agents' pair ``a1 * cells + a2``, its free cells in
            row-major order; the entry after the last free cell repeats it (``uniform * n_free`` can round up).
        n_free: ``[cells * cells]`` float, how many cells each pair leaves free.
        outcome_reward, outcome_own: ``[2, 8]`` each agent's reward and own-coin pick-up for the outcome
            ``first picks + 2 * second picks + 4 * owner``.
    """
    n_cells = free_cell.shape[1]
    # 1-D gathers are index_select (on CPU ~3x cheaper than take at 2000 games)
    moved = next_cell.index_select(0, torch.add(actions, agent_cell, alpha=4).reshape(-1)).view(agent_cell.shape)
    # one-dimensional per-agent columns: inductor vectorizes these along the games (written on [N, 2] it
    # vectorized the size-2 dim: 751 us compiled vs 160 us eager at 2000 games)
    first, second = moved.unbind(-1)
    first_picks, second_picks = first == coin_cell, second == coin_cell
    outcome = torch.add(first_picks, torch.add(second_picks, coin_owner, alpha=2), alpha=2)
    any_pick = first_picks | second_picks
    pair = torch.add(second, first, alpha=n_cells)
    rank = (uniform * n_free.index_select(0, pair)).long()
    placed = free_cell.view(-1).index_select(0, torch.add(rank, pair, alpha=n_cells))
    reward = torch.stack((outcome_reward[0].index_select(0, outcome), outcome_reward[1].index_select(0, outcome)), -1)
    picked_own = torch.stack((outcome_own[0].index_select(0, outcome), outcome_own[1].index_select(0, outcome)), -1)
    picked = torch.stack((first_picks, second_picks), dim=-1)
    return moved, torch.where(any_pick, placed, coin_cell), coin_owner ^ any_pick, reward, picked, picked_own


@hot_path
def coin_observe(agent_cell: torch.Tensor, coin_cell: torch.Tensor, coin_owner: torch.Tensor,
                 observation_rows: torch.Tensor) -> torch.Tensor:
    """Rows ``[N, 2 * 4 * cells]`` of ``observation_rows`` (every state's observation, see
    :meth:`CoinGame.observation_index`) for the states ``(agent_cell, coin_cell, coin_owner)``."""
    n_cells = observation_rows.shape[1] // (N_AGENTS * N_PLANES)
    index = torch.add(agent_cell[:, 1], agent_cell[:, 0], alpha=n_cells)
    index = torch.add(coin_owner, torch.add(coin_cell, index, alpha=n_cells), alpha=2)
    return torch.nn.functional.embedding(index, observation_rows)


class CoinGame(CompleteStepEnv):
    """Batched two-agent Coin Game; episodes are truncated after ``episode_length`` steps.

    Args:
        num_envs: games stepped together (the batch size ``B``).
        height, width: board size, each >= 2 (papers: 3 x 3).
        episode_length: steps before ``truncated`` (papers: 50).
        egocentric: each agent sees ``[me, other, coin if mine, coin if other's]`` (LOQA); if False,
            both see agent 1's view ``[agent 1, agent 2, agent 1's coin, agent 2's coin]`` (POLA).
        flatten_observation: observation ``[B, 2, 4*H*W]`` instead of ``[B, 2, 4, H, W]``.
        device: where state and tables live (CPU or CUDA).

    Keys: ``("agents", "observation")`` float, ``("agents", "action")`` ``[B, 2]`` in
    ``0..3`` (:attr:`MOVES`), ``("agents", "reward")`` ``[B, 2, 1]``, ``("agents", "picked_coin")``
    and ``("agents", "picked_own_coin")`` bool ``[B, 2, 1]``; state ``"agent_pos"`` ``[B, 2, 2]``
    (row, col), ``"coin_pos"`` ``[B, 2]``, ``"coin_owner"`` ``[B]``, ``"step_count"`` ``[B, 1]``;
    root ``done`` / ``terminated`` (always False) / ``truncated`` ``[B, 1]``.
    """

    #: (row delta, col delta) of the actions right, left, down, up; rows increase downward.
    MOVES: ClassVar[torch.Tensor] = torch.tensor([[0, 1], [0, -1], [1, 0], [-1, 0]])
    batch_locked = True
    _supports_set_state = True

    def __init__(
        self,
        num_envs: int = 1,
        height: int = 3,
        width: int = 3,
        episode_length: int = 50,
        egocentric: bool = True,
        flatten_observation: bool = False,
        device: torch.device | str = "cpu",
    ) -> None:
        for name, value, low in (("num_envs", num_envs, 1), ("height", height, 2), ("width", width, 2),
                                 ("episode_length", episode_length, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name}={value!r} must be an integer >= {low}")
        super().__init__(device=device, batch_size=torch.Size([num_envs]))
        self.height, self.width, self.n_cells = height, width, height * width
        self.episode_length = episode_length
        self.egocentric = egocentric
        self.flatten_observation = flatten_observation
        self.observation_shape: tuple[int, ...] = (
            (N_PLANES * self.n_cells,) if flatten_observation else (N_PLANES, height, width)
        )
        self.n_actions = len(self.MOVES)
        self._generator: torch.Generator | None = None
        cells = torch.arange(self.n_cells)
        rows, cols = cells // width, cells % width
        next_rows = (rows[:, None] + self.MOVES[:, 0]) % height
        next_cols = (cols[:, None] + self.MOVES[:, 1]) % width
        self.register_buffer("next_cell", (next_rows * width + next_cols).to(self.device))  # [cells, 4]
        self.register_buffer("agent_ids", torch.arange(N_AGENTS, device=self.device))
        # first flat index of each agent's block of planes in the [N, 2 * 4 * cells] observation
        self.register_buffer("block_offset", (self.agent_ids * N_PLANES * self.n_cells)[:, None])
        self._build_tables()
        self._make_specs()

    def _build_tables(self) -> None:
        """The hot path's look-up tables (see :func:`coin_transition`), built once from the slow rules."""
        self.register_buffer("next_cell_flat", self.next_cell.reshape(-1), persistent=False)
        cells = torch.arange(self.n_cells, device=self.device)
        self.register_buffer("cell_position", torch.stack((cells // self.width, cells % self.width), -1),
                             persistent=False)
        pairs = torch.arange(self.n_cells**2, device=self.device)
        agent_cell = torch.stack((pairs // self.n_cells, pairs % self.n_cells), dim=-1)
        n_free = self.n_cells - 1 - (agent_cell[:, 0] != agent_cell[:, 1]).long()
        ranks = torch.arange(self.n_cells, device=self.device)
        ranks = torch.minimum(ranks, n_free[:, None] - 1)  # the rank one past the last free cell: the last
        free_cell = self.place_coin(agent_cell.repeat_interleave(self.n_cells, 0),
                                    (ranks.reshape(-1) + 0.5) / n_free.repeat_interleave(self.n_cells))
        self.register_buffer("free_cell", free_cell.reshape(self.n_cells**2, self.n_cells), persistent=False)
        self.register_buffer("n_free", n_free.to(torch.float32), persistent=False)
        outcome = torch.arange(8, device=self.device)
        picks = torch.stack((outcome % 2, outcome // 2 % 2), dim=-1).bool()  # [8, 2]: who stands on the coin
        owns = (outcome // 4)[:, None] == self.agent_ids  # [8, 2]: whose coin it is
        # +1 for any pick-up; the owner pays 2 when the other agent picks its coin up
        self.register_buffer("outcome_reward", (picks.float() - 2.0 * (owns & picks.flip(-1)).float()).T.contiguous(),
                             persistent=False)
        self.register_buffer("outcome_own", (picks & owns).T.contiguous(), persistent=False)
        self._rows: torch.Tensor | None = None
        self._rows_key: tuple | None = None

    def _observation_rows(self) -> torch.Tensor | None:
        """Every state's observation ``[K, 2 * 4 * cells]`` (None past :data:`MAX_OBSERVATION_TABLE` rows),
        rebuilt when ``egocentric`` or the device changed since the last call."""
        if 2 * self.n_cells**3 > MAX_OBSERVATION_TABLE:
            return None
        key = (self.egocentric, self.device)
        if self._rows_key != key:
            index = torch.arange(2 * self.n_cells**3, device=self.device)
            owner, cell = index % 2, index // 2
            coin, agents = cell % self.n_cells, cell // self.n_cells
            agent_cell = torch.stack((agents // self.n_cells, agents % self.n_cells), dim=-1)
            self._rows = self._observe_planes(CoinState(agent_cell, coin, owner)).flatten(1)
            self._rows_key = key
        return self._rows

    # ----------------------------------------------------------------- tensor-level game
    def positions(self, cells: torch.Tensor) -> torch.Tensor:
        """Flat cells ``[...]`` as (row, col) ``[..., 2]``."""
        return torch.nn.functional.embedding(cells, self.cell_position)

    def cells(self, positions: torch.Tensor) -> torch.Tensor:
        """(row, col) ``[..., 2]`` as flat cells ``[...]``."""
        return torch.add(positions[..., 1], positions[..., 0], alpha=self.width)

    def _uniform(self, *shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=self._generator, device=self.device)

    def place_coin(self, agent_cell: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
        """A cell drawn uniformly among those neither agent occupies.

        Args:
            agent_cell: ``[N, 2]`` the agents' cells.
            uniform: ``[N]`` draws in ``[0, 1)``; the k-th free cell in row-major order is taken,
                found by skipping the occupied cells below it (no rejection loop).
        """
        low, high = agent_cell.min(dim=-1).values, agent_cell.max(dim=-1).values
        apart = low != high
        n_free = self.n_cells - 1 - apart.long()
        rank = torch.minimum((uniform * n_free).long(), n_free - 1)
        rank = rank + (rank >= low).long()
        return rank + ((rank >= high) & apart).long()

    def initial_state(self, n: int) -> CoinState:
        """``n`` fresh games: agents uniform and independent, owner 50/50, coin on a free cell."""
        agent_cell = (self._uniform(n, N_AGENTS) * self.n_cells).long().clamp_max(self.n_cells - 1)
        coin_owner = (self._uniform(n) < 0.5).long()
        return CoinState(agent_cell, self.place_coin(agent_cell, self._uniform(n)), coin_owner)

    def transition(self, state: CoinState, actions: torch.Tensor, uniform: torch.Tensor | None = None) -> CoinStep:
        """Both agents move at once; whoever lands on the coin picks it up.

        Args:
            state: the current games.
            actions: ``[N, 2]`` long in ``0..3``.
            uniform: ``[N]`` draws for the next coin's cell (drawn here if omitted).
        """
        if uniform is None:
            uniform = self._uniform(len(state.coin_owner))
        with torch.no_grad():  # nothing here has a gradient; one grad mode means one compiled graph, not two
            agent_cell, coin_cell, coin_owner, reward, picked, picked_own = coin_transition(
                state.agent_cell, state.coin_cell, state.coin_owner, actions, uniform,
                self.next_cell_flat, self.free_cell, self.n_free, self.outcome_reward, self.outcome_own)
        return CoinStep(CoinState(agent_cell, coin_cell, coin_owner), reward, picked, picked_own)

    def observe(self, state: CoinState) -> torch.Tensor:
        """Both agents' observations ``[N, 2, *observation_shape]`` (float one-hot planes)."""
        table = self._observation_rows()
        if table is None:
            return self._observe_planes(state)
        with torch.no_grad():
            rows = coin_observe(state.agent_cell, state.coin_cell, state.coin_owner, table)
        return rows.view(len(rows), N_AGENTS, *self.observation_shape)

    def _observe_planes(self, state: CoinState) -> torch.Tensor:
        """:meth:`observe` written out plane by plane: the rule itself (tables are built from it)."""
        n = state.coin_owner.shape[0]
        if self.egocentric:
            own, other = state.agent_cell, state.agent_cell.flip(-1)
            coin_plane = 2 + (state.coin_owner[:, None] != self.agent_ids).long()
        else:  # both agents see agent 1's view
            own = state.agent_cell[:, :1].expand(n, N_AGENTS)
            other = state.agent_cell[:, 1:].expand(n, N_AGENTS)
            coin_plane = (2 + state.coin_owner[:, None]).expand(n, N_AGENTS)
        index = torch.stack(
            (own, other + self.n_cells, coin_plane * self.n_cells + state.coin_cell[:, None]), dim=-1
        ) + self.block_offset
        planes = torch.zeros(n, N_AGENTS * N_PLANES * self.n_cells, device=self.device)
        planes.scatter_(1, index.reshape(n, -1), 1.0)
        return planes.view(n, N_AGENTS, *self.observation_shape)

    @property
    def observation_table(self) -> torch.Tensor | None:
        """Every distinct observation ``[K, 2, *observation_shape]``, ``K = 2 * cells^3``, or None past 8192.

        Row :meth:`observation_index` of a state is its observation. The DiCE rollouts run the GRUs'
        input layers once on these rows instead of on every game at every step (3x3: 1458 rows).
        """
        table = self._observation_rows()
        return None if table is None else table.view(len(table), N_AGENTS, *self.observation_shape)

    def observation_index(self, state: CoinState) -> torch.Tensor:
        """Row of :attr:`observation_table` for each game ``[N]``."""
        agents = state.agent_cell[:, 0] * self.n_cells + state.agent_cell[:, 1]
        return (agents * self.n_cells + state.coin_cell) * 2 + state.coin_owner

    # ----------------------------------------------------------------- TorchRL env
    def _make_specs(self) -> None:
        batch, device = self.batch_size, self.device
        agents_shape = (*batch, N_AGENTS)
        flag = Categorical(2, shape=(*agents_shape, 1), dtype=torch.bool, device=device)
        limits = torch.tensor([self.height - 1, self.width - 1], device=device)
        state = Composite(
            agent_pos=Bounded(torch.zeros_like(limits).expand(*agents_shape, 2), limits.expand(*agents_shape, 2),
                              shape=(*agents_shape, 2), dtype=torch.int64, device=device),
            coin_pos=Bounded(torch.zeros_like(limits).expand(*batch, 2), limits.expand(*batch, 2),
                             shape=(*batch, 2), dtype=torch.int64, device=device),
            coin_owner=Categorical(N_AGENTS, shape=batch, device=device),
            step_count=Bounded(0, self.episode_length, shape=(*batch, 1), dtype=torch.int64, device=device),
            shape=batch,
            device=device,
        )
        self.full_observation_spec = state.clone().update(
            Composite(
                agents=Composite(
                    observation=Bounded(0, 1, shape=(*agents_shape, *self.observation_shape), device=device),
                    picked_coin=flag.clone(),
                    picked_own_coin=flag.clone(),
                    shape=agents_shape,
                    device=device,
                ),
                shape=batch,
                device=device,
            )
        )
        self.full_state_spec = state
        self.full_action_spec = agents_action_spec(batch, N_AGENTS, self.n_actions, device)
        self.full_reward_spec = agents_reward_spec(batch, N_AGENTS, device)
        self.full_done_spec = done_spec(batch, device)

    def _state_from(self, tensordict: TensorDictBase) -> CoinState:
        """Read and check an explicit state; a bad one raises naming the key and the valid range."""
        agent_pos = tensordict["agent_pos"].long()
        coin_pos = tensordict["coin_pos"].long()
        coin_owner = tensordict["coin_owner"].long().reshape(self.batch_size)
        limits = torch.tensor([self.height, self.width], device=agent_pos.device)
        for key, pos in (("agent_pos", agent_pos), ("coin_pos", coin_pos)):
            if ((pos < 0) | (pos >= limits)).any():
                raise ValueError(f"{key} has cells off the {self.height}x{self.width} board; rows must lie in "
                                 f"0..{self.height - 1} and cols in 0..{self.width - 1}")
        if ((coin_owner != 0) & (coin_owner != 1)).any():
            raise ValueError("coin_owner must be 0 or 1")
        return CoinState(self.cells(agent_pos), self.cells(coin_pos), coin_owner)

    def _output(self, state: CoinState, step_count: torch.Tensor, step: CoinStep | None) -> TensorDict:
        agents_shape = (*self.batch_size, N_AGENTS)
        if step is None:
            no_pick = torch.zeros((*agents_shape, 1), dtype=torch.bool, device=self.device)
            agents = {"picked_coin": no_pick, "picked_own_coin": no_pick.clone()}
        else:
            agents = {
                "reward": step.reward.unsqueeze(-1),
                "picked_coin": step.picked_coin.unsqueeze(-1),
                "picked_own_coin": step.picked_own_coin.unsqueeze(-1),
            }
        agents["observation"] = self.observe(state)
        root = {
            "agent_pos": self.positions(state.agent_cell),
            "coin_pos": self.positions(state.coin_cell),
            "coin_owner": state.coin_owner,
            "step_count": step_count,
        }
        return step_output(self, N_AGENTS, agents, root, truncated=step_count >= self.episode_length)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDict:
        # with a partial "_reset" mask the masked games restart at random and TorchRL keeps the others
        if kwargs.get("set_state") and tensordict is not None and "_reset" not in tensordict.keys():
            missing = [key for key in STATE_KEYS if key not in tensordict.keys()]
            if missing:
                raise KeyError(f"reset(set_state=True) needs the state keys {list(STATE_KEYS)}; missing {missing}")
            state = self._state_from(tensordict)
        else:
            state = self.initial_state(self.batch_size[0])
        step_count = torch.zeros((*self.batch_size, 1), dtype=torch.int64, device=self.device)
        return self._output(state, step_count, step=None)

    def _step(self, tensordict: TensorDictBase) -> TensorDict:
        state = CoinState(
            self.cells(tensordict["agent_pos"]), self.cells(tensordict["coin_pos"]), tensordict["coin_owner"]
        )
        step = self.transition(state, tensordict["agents", "action"].long())
        return self._output(step.state, tensordict["step_count"] + 1, step)

    def _set_seed(self, seed: int | None) -> None:
        """Seed this env's own generator (coin placement and resets); ``None`` uses torch's global RNG."""
        if seed is None:
            self._generator = None
        else:
            self._generator = torch.Generator(device=self.device)
            self._generator.manual_seed(seed)
