"""POLADiCELoss, dice_lookahead and OpponentModelLoss reproduce the learner code they were moved out of.

``data/dice_before_move.json`` holds loss values and gradient / parameter summaries (per tensor: sum and
sum of squares) recorded with the learners' own code before the move (commit 4015348: ``agent_losses`` +
KL term, ``inner_lookahead``, ``POLAOM.fit_model``), on fixed seeds, for the IPD and the Coin Game.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from oppshape.config.dice import PolaOmConfig
from oppshape.envs import make_env
from oppshape.learners.pola_om import POLAOM
from oppshape.modules.gru_policy import GRUNet, ParamDict
from oppshape.objectives import POLADiCELoss, dice_lookahead
from oppshape.objectives.dice_lookahead import detached
from oppshape.rollouts.dice import AgentParams, agent_batch, rollout

BEFORE = json.loads((Path(__file__).parent / "data" / "dice_before_move.json").read_text())
GAMES, STEPS, GAMMA, LMBDA, INNER_LR, CRITIC_LR = 16, 6, 0.9, 0.8, 0.5, 0.0005


def game_of(env: str):
    if env == "ipd":
        return make_env("iterated_matrix_game", payoff="ipd_cf", cf=1.33, episode_length=STEPS)
    return make_env("coin_game", egocentric=False, episode_length=STEPS)


def config() -> PolaOmConfig:
    return PolaOmConfig(inner_steps=2, outer_steps=2, inner_lr=INNER_LR, outer_lr=0.01, inner_beta=1.5, outer_beta=2.0,
                        num_envs=GAMES, gamma=GAMMA, lmbda=LMBDA, hidden_size=8, num_seeds=2, om_batches=2,
                        om_steps_per_batch=2, om_actor_lr=0.01, om_critic_lr=0.002)


def summary(tensors) -> list[list[float]]:
    return [[float(t.detach().double().sum()), float((t.detach().double() ** 2).sum())] for t in tensors]


def assert_summaries(actual: list[list[float]], expected: list[list[float]]) -> None:
    torch.testing.assert_close(torch.tensor(actual, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                               rtol=1e-5, atol=1e-6)


def start_of(game) -> tuple[list[tuple[ParamDict, ParamDict]], ParamDict]:
    """Both agents' starting parameters and a reference policy, drawn as the recording drew them."""
    torch.manual_seed(0)
    observation_dim, actions = int(torch.Size(game.observation_shape).numel()), game.n_actions
    nets = [GRUNet(observation_dim, out, 8, num_seeds=2) for _ in range(2) for out in (actions, 1)]
    start = [(detached(nets[0].params()), detached(nets[1].params())), (detached(nets[2].params()), detached(nets[3].params()))]
    reference = {k: v.detach() for k, v in GRUNet(observation_dim, actions, 8, num_seeds=2).params().items()}
    return start, reference


def play_against(game, shaper: int, shaper_policy: ParamDict, reference: ParamDict | None):
    def play(policy: ParamDict, value: ParamDict):
        players = [AgentParams(shaper_policy), AgentParams(policy, value, reference)]
        if shaper == 1:
            players.reverse()
        return agent_batch(rollout(game, players, GAMES, STEPS), 1 - shaper)

    return play


@pytest.mark.parametrize("env", ["ipd", "coin"])
def test_proximal_outer_objective_matches_the_learner_code(env: str) -> None:
    game = game_of(env)
    start, reference = start_of(game)
    expected = BEFORE[f"{env}_outer"]
    torch.manual_seed(1)
    trajectory = rollout(game, [AgentParams(start[0][0], start[0][1], reference), AgentParams(start[1][0])], GAMES, STEPS)
    losses = POLADiCELoss(gamma=GAMMA, lmbda=LMBDA, beta=2.0)(agent_batch(trajectory, 0))
    objective = losses["loss_objective"] + losses["loss_kl"]
    for key in ("loss_objective", "loss_value"):
        assert losses[key].item() == pytest.approx(expected[key], rel=1e-5, abs=1e-6)
    assert objective.item() == pytest.approx(expected["objective"], rel=1e-5)
    assert losses["kl"].item() == pytest.approx(sum(expected["kl"]) / 2, rel=1e-5)
    params = [*start[0][0].values(), *start[0][1].values()]
    assert_summaries(summary(torch.autograd.grad(objective + losses["loss_value"], params)), expected["grads"])


@pytest.mark.parametrize("env", ["ipd", "coin"])
def test_pola_and_lola_lookaheads_match_the_learner_code(env: str) -> None:
    game = game_of(env)
    start, _ = start_of(game)
    cases = (("lookahead", 2, 0, 1.5, 2), ("lola_lookahead", 4, 1, 0.0, 1))  # name, seed, shaper, inner_beta, steps
    for name, seed, shaper, beta, steps in cases:
        expected, opponent = BEFORE[f"{env}_{name}"], 1 - shaper
        torch.manual_seed(seed)
        play = play_against(game, shaper, start[shaper][0], start[opponent][0] if beta > 0 else None)
        policy, value = dice_lookahead(play, POLADiCELoss(gamma=GAMMA, lmbda=LMBDA, beta=beta), *start[opponent],
                                       steps=steps, inner_lr=INNER_LR, critic_lr=CRITIC_LR)
        shaping = torch.autograd.grad(sum((p * p).sum() for p in policy.values()), list(start[shaper][0].values()))
        assert_summaries(summary(policy.values()), expected["policy"])
        assert_summaries(summary(value.values()), expected["value"])
        assert_summaries(summary(shaping), expected["shaping"])


@pytest.mark.parametrize("env", ["ipd", "coin"])
def test_opponent_model_fit_matches_the_learner_code(env: str) -> None:
    game = game_of(env)
    torch.manual_seed(0)
    learner = POLAOM(game, config())
    start = [(detached(a.policy.params()), detached(a.value.params())) for a in learner.agents]
    torch.manual_seed(3)
    learner.fit_model(0, start)
    expected = BEFORE[f"{env}_om"]
    for key, value in expected["metrics"].items():
        assert learner.model_metrics[key] == pytest.approx(value, rel=1e-5)
    assert_summaries(summary(learner.models[0].policy.parameters()), expected["policy"])
    assert_summaries(summary(learner.models[0].value.parameters()), expected["value"])
