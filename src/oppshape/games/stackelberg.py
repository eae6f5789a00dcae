"""Brute-force Stackelberg solver for finitely repeated 2x2 games between memory-1 strategies.

The leader (agent 1, the row player) commits to a deterministic memory-1 strategy; the follower
(agent 2) best-responds with a deterministic memory-1 strategy over its own observation. This is the
equilibrium the Oracles & Followers experiments aim for (Gerstgrasser & Parkes, ICML 2023, Def. 2:
the leader maximizes its return given that the follower is drawn from the best-response oracle), and
the scoring rule of the reference code (every deterministic leader strategy against every deterministic
follower strategy, episode returns summed without discount).

Memory (what each agent observes before acting):

* ``"none"``: nothing (one constant state), so a strategy is a single action.
* ``"full"``: the last joint action, 5 states (start, CC, CD, DC, DD) from the agent's own view.
* ``"small"``: only the other agent's last action, 3 states (start, other cooperated, other defected).

A strategy is an integer tensor ``[..., n_states]`` of actions (0 = cooperate); strategy number ``k``
of :func:`enumerate_strategies` plays ``(k >> i) & 1`` in state ``i``, so :func:`strategy_code` of it
is ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from oppshape.games.payoffs import payoff_table
from oppshape.games.tables import EXTRA_GAMES, GAME_NAMES, MEMORY_KINDS

TIE_BREAKS: tuple[str, ...] = ("leader_favourable", "leader_adverse")

# Own-view memory state of (leader, follower) for each joint state 0..4 = start, CC, CD, DC, DD written
# from the leader's view (joint state = 1 + 2 * leader_action + follower_action after the first step).
_OWN_VIEWS: dict[str, tuple[tuple[int, int], ...]] = {
    "none": ((0, 0), (0, 0), (0, 0), (0, 0), (0, 0)),
    "small": ((0, 0), (1, 1), (2, 1), (1, 2), (2, 2)),  # leader sees the follower's action and vice versa
    "full": ((0, 0), (1, 1), (2, 3), (3, 2), (4, 4)),  # the follower's CD is the leader's DC
}
_N_STATES = {"none": 1, "small": 3, "full": 5}



def check_memory(memory: str) -> None:
    """Raise a clear error for an unknown memory kind."""
    if memory not in MEMORY_KINDS:
        raise ValueError(f"unknown memory {memory!r}; valid choices: {', '.join(MEMORY_KINDS)}")


def n_memory_states(memory: str) -> int:
    """Number of observation states of one agent: 1 (none), 3 (small) or 5 (full)."""
    check_memory(memory)
    return _N_STATES[memory]


def own_views(memory: str, device: torch.device | str | None = None) -> torch.Tensor:
    """``[5, 2]`` long table: joint state (leader's view) -> (leader's state, follower's state)."""
    check_memory(memory)
    return torch.tensor(_OWN_VIEWS[memory], dtype=torch.long, device=device)


def stackelberg_payoffs(names: Sequence[str] | str) -> torch.Tensor:
    """``[G, 2, 2, 2]`` payoff tables ``[game, a_leader, a_follower, agent]`` for preset game names."""
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError(f"at least one game is needed; valid choices: {', '.join(GAME_NAMES)}")
    unknown = [name for name in names if name not in GAME_NAMES]
    if unknown:
        raise ValueError(f"unknown game(s) {unknown}; valid choices: {', '.join(GAME_NAMES)}")
    tables = [
        torch.tensor(EXTRA_GAMES[name]).reshape(2, 2, 2) if name in EXTRA_GAMES else payoff_table(name)
        for name in names
    ]
    return torch.stack(tables).to(torch.float32)


def enumerate_strategies(n_states: int, device: torch.device | str | None = None) -> torch.Tensor:
    """All ``2**n_states`` deterministic strategies as a ``[2**n_states, n_states]`` long tensor."""
    if n_states < 1:
        raise ValueError(f"n_states={n_states} must be >= 1")
    codes = torch.arange(2**n_states, device=device)
    return (codes.unsqueeze(-1) >> torch.arange(n_states, device=device)) & 1


def strategy_code(strategy: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`enumerate_strategies`: ``[..., S]`` actions -> ``[...]`` index ``sum a_i 2^i``."""
    powers = 2 ** torch.arange(strategy.shape[-1], device=strategy.device)
    return (strategy.long() * powers).sum(-1)


def deterministic_returns(
    leader: torch.Tensor,
    follower: torch.Tensor,
    payoff: torch.Tensor,
    memory: str,
    episode_length: int,
    reward_offset: float = 0.0,
) -> torch.Tensor:
    """Episode returns ``sum_t (r_t + offset)`` of both agents when two deterministic strategies meet.

    Args:
        leader: ``[..., S]`` leader actions per own-view state.
        follower: ``[..., S]`` follower actions per own-view state.
        payoff: ``[..., 2, 2, 2]`` table(s) ``[a_leader, a_follower, agent]``.
        memory: ``"none"``, ``"small"`` or ``"full"`` (``S`` = 1, 3, 5).
        episode_length: number of stage games ``T``.
        reward_offset: added to every stage reward of both agents.

    Returns:
        ``[..., 2]`` returns (leader, follower); the batch shapes broadcast.
    """
    n_states = n_memory_states(memory)
    if leader.shape[-1] != n_states or follower.shape[-1] != n_states:
        raise ValueError(
            f"memory={memory!r} needs strategies with {n_states} states; got {tuple(leader.shape)} and "
            f"{tuple(follower.shape)}"
        )
    if episode_length < 1:
        raise ValueError(f"episode_length={episode_length} must be >= 1")
    batch = torch.broadcast_shapes(leader.shape[:-1], follower.shape[:-1], payoff.shape[:-3])
    leader = leader.long().expand(*batch, n_states)
    follower = follower.long().expand(*batch, n_states)
    cells = payoff.to(torch.float32).reshape(*payoff.shape[:-3], 4, 2).expand(*batch, 4, 2)
    views = own_views(memory, leader.device)
    joint = torch.zeros(batch, dtype=torch.long, device=leader.device)
    total = torch.zeros((*batch, 2), dtype=torch.float32, device=leader.device)
    for _ in range(episode_length):
        action_l = leader.gather(-1, views[joint, 0].unsqueeze(-1))
        action_f = follower.gather(-1, views[joint, 1].unsqueeze(-1))
        cell = 2 * action_l + action_f  # [..., 1] index into (CC, CD, DC, DD)
        total = total + cells.gather(-2, cell.unsqueeze(-1).expand(*batch, 1, 2)).squeeze(-2)
        joint = 1 + cell.squeeze(-1)
    return total + episode_length * reward_offset


@dataclass(frozen=True)
class StackelbergSolution:
    """Everything the brute-force enumeration learns about one or more games (``G`` leading dim).

    Attributes:
        strategies: ``[2**S, S]`` the enumerated deterministic strategies (shared by both agents).
        returns: ``[G, 2**S leader, 2**S follower, 2]`` episode returns of every strategy pair.
        follower_best: ``[G, 2**S]`` the follower's best-response return to each leader strategy.
        response: ``[G, 2**S]`` index of the best response picked by the tie-break rule.
        induced_leader_return: ``[G, 2**S]`` the leader's return against that response.
        value: ``[G]`` the Stackelberg value (best induced leader return).
        leader_strategy: ``[G, S]`` a leader strategy attaining it (lowest index among ties).
        follower_strategy: ``[G, S]`` the follower's response to it.
        follower_value: ``[G]`` the follower's return at the equilibrium.
    """

    strategies: torch.Tensor
    returns: torch.Tensor
    follower_best: torch.Tensor
    response: torch.Tensor
    induced_leader_return: torch.Tensor
    value: torch.Tensor
    leader_strategy: torch.Tensor
    follower_strategy: torch.Tensor
    follower_value: torch.Tensor


def solve_stackelberg(
    payoff: torch.Tensor,
    memory: str,
    episode_length: int,
    reward_offset: float = 0.0,
    tie_break: str = "leader_favourable",
    atol: float = 1e-6,
) -> StackelbergSolution:
    """Enumerate every deterministic leader and follower memory-1 strategy and solve by brute force.

    The follower's best-response set for leader strategy ``L`` is every follower strategy within
    ``atol`` of its best return. ``tie_break="leader_favourable"`` picks the response best for the
    leader (strong Stackelberg equilibrium, the default); ``"leader_adverse"`` the worst (weak /
    pessimistic equilibrium). Cost: ``4**S`` pairs of ``T`` steps per game, vectorized.

    Args:
        payoff: ``[2, 2, 2]`` or ``[G, 2, 2, 2]`` tables ``[a_leader, a_follower, agent]``.
        memory: ``"none"``, ``"small"`` or ``"full"``.
        episode_length: stage games per episode.
        reward_offset: per-step reward offset (the reference runs use -2.5).
        tie_break: ``"leader_favourable"`` or ``"leader_adverse"``.
        atol: returns closer than this count as ties.
    """
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"unknown tie_break {tie_break!r}; valid choices: {', '.join(TIE_BREAKS)}")
    if payoff.shape[-3:] != (2, 2, 2) or payoff.dim() not in (3, 4):
        raise ValueError(f"payoff must have shape [2, 2, 2] or [G, 2, 2, 2]; got {tuple(payoff.shape)}")
    payoff = payoff.reshape(-1, 2, 2, 2)
    strategies = enumerate_strategies(n_memory_states(memory), payoff.device)
    returns = deterministic_returns(
        strategies[None, :, None, :],
        strategies[None, None, :, :],
        payoff[:, None, None],
        memory,
        episode_length,
        reward_offset,
    )  # [G, nL, nF, 2]
    follower_best = returns[..., 1].amax(-1)  # [G, nL]
    is_best = returns[..., 1] >= follower_best.unsqueeze(-1) - atol
    sign = 1.0 if tie_break == "leader_favourable" else -1.0
    score = torch.where(is_best, sign * returns[..., 0], torch.tensor(float("-inf"), device=payoff.device))
    response = score.argmax(-1)  # [G, nL]
    induced = returns[..., 0].gather(-1, response.unsqueeze(-1)).squeeze(-1)
    value, leader_index = induced.max(-1)
    follower_index = response.gather(-1, leader_index.unsqueeze(-1)).squeeze(-1)
    games = torch.arange(payoff.shape[0], device=payoff.device)
    return StackelbergSolution(
        strategies=strategies,
        returns=returns,
        follower_best=follower_best,
        response=response,
        induced_leader_return=induced,
        value=value,
        leader_strategy=strategies[leader_index],
        follower_strategy=strategies[follower_index],
        follower_value=returns[games, leader_index, follower_index, 1],
    )


def follower_best_response_gaps(
    follower_responses: torch.Tensor, solution: StackelbergSolution, game_index: torch.Tensor
) -> torch.Tensor:
    """How far a follower's deterministic responses fall short of a best response, per leader strategy.

    Args:
        follower_responses: ``[R, 2**S, S]`` the follower's action in each own-view state when the
            query answers show leader strategy ``k`` (row ``k``), for ``R`` runs.
        solution: the brute-force solution of the games the runs play.
        game_index: ``[R]`` which game of ``solution`` each run plays.

    Returns:
        ``[R, 2**S]`` best-response return minus the return of the follower's response (>= 0; 0 means
        it best-responds to that leader strategy).
    """
    returns = solution.returns[game_index]  # [R, nL, nF, 2]
    chosen = strategy_code(follower_responses)  # [R, nL]
    achieved = returns[..., 1].gather(-1, chosen.unsqueeze(-1)).squeeze(-1)
    return solution.follower_best[game_index] - achieved
