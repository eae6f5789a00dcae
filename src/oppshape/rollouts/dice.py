"""Lean two-agent rollouts of the DiCE family: GRU policies against a game's tensor-level rules.

POLA-DiCE runs ``inner_steps + 1`` fresh rollouts per outer step and differentiates through all of
them, so the rollout is a plain loop over time on tensors (no TensorDict per step, no ``env.rollout``
stacking; see TORCHRL_NOTES). It works with any game that has ``n_actions``, ``observation_shape``,
``initial_state(n)``, ``transition(state, actions, uniform)`` and ``observe(state)``:
:class:`oppshape.envs.coin_game.CoinGame` and
:class:`oppshape.envs.iterated_matrix_game.IteratedMatrixGame`.

Every agent's parameters are plain tensor dicts, so a looked-ahead opponent (a function of the
other agent's parameters) plays exactly like a module's own parameters.

A game may also offer ``observation_table`` (``[K, 2, *observation_shape]``: every distinct
observation per agent) and ``observation_index(state)`` (``[n]`` rows of that table). The GRUs'
input half then runs once per rollout on the ``K`` rows and is gathered per step: on the IPD
(``K = 5``) and the 3x3 Coin Game (``K = 1458``) that removes about half of the matrix products of a POLA-DiCE step, forward and
backward, with the same result.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import torch
from tensordict import TensorDict

from oppshape.hot_path import graphed_hot_path
from oppshape.modules.action_softmax import log_softmax_actions
from oppshape.modules.gru_policy import (
    ParamDict,
    gru_cell_math,
    gru_input_gates,
    gru_net_step,
    gru_step_from_input_gates,
)

N_AGENTS = 2
TABLE_PAYOFF = 4  # use a game's observation table when it has at most 1/4 as many rows as games x steps


class AgentParams(NamedTuple):
    """One agent in a rollout; every parameter has the seed dimension first (``GRUNet.params()``).

    Attributes:
        policy: GRU policy parameters (may carry a graph: looked-ahead or trainable).
        value: GRU value parameters; if given, ``V(h_t)`` and the bootstrap value are computed.
        reference: GRU policy parameters of the proximal reference; if given, the rollout returns
            ``KL(pi_reference || pi)`` at every visited history (POLA's penalty).
    """

    policy: ParamDict
    value: ParamDict | None = None
    reference: ParamDict | None = None


class Trajectory(NamedTuple):
    """Time-major results of :func:`rollout` (``T`` steps, ``S`` seeds, ``N`` games per seed)."""

    log_prob: torch.Tensor  # [T, S, N, 2] log pi_i(a_i,t | h_i,t), attached to each policy's graph
    reward: torch.Tensor  # [T, S, N, 2]
    action: torch.Tensor  # [T, S, N, 2]
    value: list[torch.Tensor | None]  # per agent [T, S, N] or None
    bootstrap_value: list[torch.Tensor | None]  # per agent [S, N] or None: V of the state after step T
    kl: list[torch.Tensor | None]  # per agent [T, S, N] KL(pi_reference || pi) at each visited history
    observation: torch.Tensor | None  # [T + 1, S, N, 2, obs_dim] when kept (opponent modelling)
    picked_coin: torch.Tensor | None  # [T, S, N, 2] bool, Coin Game only
    picked_own_coin: torch.Tensor | None  # [T, S, N, 2] bool, Coin Game only


def gumbel_noise(*shape: int, device: torch.device) -> torch.Tensor:
    """Gumbel(0, 1) draws: ``argmax(logits + noise)`` samples the softmax of ``logits`` (Gumbel-max trick)."""
    uniform = torch.rand(shape, device=device).clamp_min(torch.finfo(torch.float32).tiny)
    return -torch.log(-torch.log(uniform))


class _InputGates:
    """One net's GRU input gates for one agent: computed per step, or looked up in a per-rollout table."""

    def __init__(self, params: ParamDict, table: torch.Tensor | None, agent: int, seeds: int) -> None:
        self.params = params
        self.table_gates = None
        if table is not None:  # [S * K, 3H]: row s * K + k is seed s's gates for observation k
            rows = table[:, agent].reshape(table.shape[0], -1)
            self.table_gates = gru_input_gates(params, rows.expand(seeds, -1, -1)).flatten(0, 1)

    def __call__(self, observation: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
        if self.table_gates is None:
            return gru_input_gates(self.params, observation)
        return self.table_gates.index_select(0, rows).view(*observation.shape[:2], -1)


@graphed_hot_path
def _sample_policies(
    policies: tuple[ParamDict, ParamDict],
    gates: tuple[torch.Tensor, torch.Tensor],
    hidden: tuple[torch.Tensor, torch.Tensor],
    noise: torch.Tensor,
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...], torch.Tensor]:
    """Both agents' policy steps from their input gates and their Gumbel-max actions ``[S, N, 2]`` (no grad).

    The same math as the differentiable path (:func:`gru_step_from_input_gates`, then ``argmax(logits +
    noise)``), as one function so that ``trainer.compile`` fuses the two cells, heads and draws in one
    region (a CUDA graph on a GPU): ~1.2x on the policy half of a Coin rollout on one CPU core, where
    compiling the cell alone gives ~1.07x.
    """
    logits, next_hidden = [], []
    for params, input_gates, state in zip(policies, gates, hidden):
        hidden_gates = torch.baddbmm(params["gru_bias_hh"], state, params["gru_weight_hh"])
        state = gru_cell_math(input_gates, hidden_gates, state)
        logits.append(torch.baddbmm(params["head_bias"], state, params["head_weight"]))
        next_hidden.append(state)
    actions = torch.stack([(out + noise[i]).argmax(dim=-1) for i, out in enumerate(logits)], dim=-1)
    return tuple(logits), tuple(next_hidden), actions


def _table_rows(game: Any, state: Any, table: torch.Tensor | None, seeds: int, n: int) -> torch.Tensor | None:
    """Flat rows of the per-rollout gate tables (``[S * n]``), or None when the game has no table."""
    if table is None:
        return None
    index = game.observation_index(state).view(seeds, n)
    offsets = torch.arange(seeds, device=index.device).unsqueeze(1) * table.shape[0]
    return (index + offsets).flatten()


def rollout(
    game: Any, agents: Sequence[AgentParams], n: int, horizon: int, keep_observations: bool = False
) -> Trajectory:
    """Play ``n`` games per seed for ``horizon`` steps from fresh starts, both agents sampling from their GRUs.

    The seeds ``S`` are the leading dimension of every parameter; seed ``s`` of one agent only ever
    plays seed ``s`` of the other. Gradients flow from the returned log-probabilities, values and
    KL terms into whatever parameters in ``agents`` require them; the sampling itself is not
    differentiated (DiCE's magic box supplies the score-function terms). Each network runs on its
    own so that autograd can skip the networks a gradient does not need (the look-ahead step
    differentiates the opponent only).
    """
    if len(agents) != N_AGENTS:
        raise ValueError(f"rollout needs {N_AGENTS} agents; got {len(agents)}")
    device = game.device
    seeds, hidden_size = agents[0].policy["gru_weight_hh"].shape[:2]
    state = game.initial_state(seeds * n)

    def observe(state: Any) -> torch.Tensor:
        return game.observe(state).reshape(seeds, n, N_AGENTS, -1)  # [S, N, 2, obs_dim]

    observation = observe(state)
    noise = gumbel_noise(horizon, N_AGENTS, seeds, n, game.n_actions, device=device)
    zeros = torch.zeros(seeds, n, hidden_size, device=device)
    policy_hidden, value_hidden, reference_hidden = [zeros, zeros], [zeros, zeros], [zeros, zeros]
    logits_record: list[list[torch.Tensor]] = [[], []]
    reference_logits_record: list[list[torch.Tensor]] = [[], []]
    values: list[list[torch.Tensor]] = [[], []]
    rewards, actions, observations, picked, picked_own = [], [], [observation], [], []
    table = getattr(game, "observation_table", None)
    if table is not None and table.shape[0] * TABLE_PAYOFF > n * horizon:
        table = None  # fewer games x steps than table rows: computing per step is cheaper
    with torch.no_grad():
        reference_gates = [
            _InputGates(agent.reference, table, i, seeds) if agent.reference is not None else None
            for i, agent in enumerate(agents)
        ]
    policy_gates = [_InputGates(agent.policy, table, i, seeds) for i, agent in enumerate(agents)]
    value_gates = [
        _InputGates(agent.value, table, i, seeds) if agent.value is not None else None for i, agent in enumerate(agents)
    ]
    sampling_only = not torch.is_grad_enabled()
    for t in range(horizon):
        rows = _table_rows(game, state, table, seeds, n)
        step_actions = []
        if sampling_only:  # both policies in one region that trainer.compile fuses
            gates = tuple(policy_gates[i](observation[:, :, i], rows) for i in range(N_AGENTS))
            logits_pair, hidden_pair, joint_action = _sample_policies(
                (agents[0].policy, agents[1].policy), gates, tuple(policy_hidden), noise[t]
            )
            policy_hidden = list(hidden_pair)
        for i, agent in enumerate(agents):
            own_observation = observation[:, :, i]
            if sampling_only:
                logits_record[i].append(logits_pair[i])
            else:
                logits, policy_hidden[i] = gru_step_from_input_gates(
                    agent.policy, policy_gates[i](own_observation, rows), policy_hidden[i]
                )
                logits_record[i].append(logits)
                step_actions.append((logits.detach() + noise[t, i]).argmax(dim=-1))
            if agent.value is not None:
                value, value_hidden[i] = gru_step_from_input_gates(
                    agent.value, value_gates[i](own_observation, rows), value_hidden[i]
                )
                values[i].append(value)
            if agent.reference is not None:
                with torch.no_grad():
                    reference_logits, reference_hidden[i] = gru_step_from_input_gates(
                        agent.reference, reference_gates[i](own_observation, rows), reference_hidden[i]
                    )
                reference_logits_record[i].append(reference_logits)
        if not sampling_only:
            joint_action = torch.stack(step_actions, dim=-1)  # [S, N, 2]
        step = game.transition(state, joint_action.reshape(seeds * n, N_AGENTS))
        state = step.state
        observation = observe(state)
        rewards.append(step.reward.reshape(seeds, n, N_AGENTS))
        actions.append(joint_action)
        if keep_observations:
            observations.append(observation)
        if hasattr(step, "picked_coin"):
            picked.append(step.picked_coin.reshape(seeds, n, N_AGENTS))
            picked_own.append(step.picked_own_coin.reshape(seeds, n, N_AGENTS))
    action = torch.stack(actions)  # [T, S, N, 2]
    chosen, value_list, bootstrap, kl = [], [None, None], [None, None], [None, None]
    for i, agent in enumerate(agents):
        all_log_probs = log_softmax_actions(torch.stack(logits_record[i]))  # [T, S, N, A]
        chosen.append(all_log_probs.gather(-1, action[..., i, None]).squeeze(-1))
        if agent.value is not None:
            value_list[i] = torch.stack(values[i]).squeeze(-1)
            bootstrap[i] = gru_net_step(agent.value, observation[:, :, i], value_hidden[i])[0].squeeze(-1)
        if agent.reference is not None:
            reference = log_softmax_actions(torch.stack(reference_logits_record[i]))
            kl[i] = (reference.exp() * (reference - all_log_probs)).sum(-1)  # POLA's KL at each step
    return Trajectory(
        log_prob=torch.stack(chosen, dim=-1),
        reward=torch.stack(rewards),
        action=action,
        value=value_list,
        bootstrap_value=bootstrap,
        kl=kl,
        observation=torch.stack(observations) if keep_observations else None,
        picked_coin=torch.stack(picked) if picked else None,
        picked_own_coin=torch.stack(picked_own) if picked_own else None,
    )


def agent_batch(trajectory: Trajectory, agent: int) -> TensorDict:
    """The inputs of ``agent``'s DiCE losses (:class:`oppshape.objectives.POLADiCELoss`) as a ``[S, N, T]`` batch.

    Its log-probabilities, the other agent's, its rewards, its values with the next-state values (the last
    one bootstraps the rollout) and, when the rollout had its reference, its KL: all views of the
    time-major record, still attached to the graphs of the parameters that produced them.
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
    if trajectory.kl[agent] is not None:
        entries["kl"] = batch_major(trajectory.kl[agent])
    return TensorDict(entries, batch_size=entries["reward"].shape)
