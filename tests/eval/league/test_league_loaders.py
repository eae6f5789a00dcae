"""A league loads from a run directory the very policy the run trained and evaluated (same actions, same seed)."""

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from oppshape.checkpoint import load_checkpoint, restore_training_state
from oppshape.config import ConfigError, validate
from oppshape.eval.league.entrants import check_entrants, load_entrants
from oppshape.eval.league.games import GameSpec, SeatView, make_game
from oppshape.eval.league.policy import sample
from oppshape.experiments.registry import family_module
from oppshape.envs import make_env
from oppshape.modules.gru_policy import gru_net_step

def restored_learner(run_dir: Path):
    """The run's learner rebuilt by its own family and restored from its checkpoint."""
    run_config = validate(OmegaConf.load(run_dir / "config.yaml"))
    experiment = family_module(run_config.algo.name).build(run_config, torch.device("cpu"))
    restore_training_state(load_checkpoint(run_dir / "checkpoints"), experiment.learner, experiment.extra_state)
    return experiment.learner, run_config


def test_exact_run_loads_agent_one_memory_one_policy(league_runs):
    learner, _ = restored_learner(league_runs["exact"])
    (policy,) = load_entrants([str(league_runs["exact"])], GameSpec())
    assert policy.num_seeds == 3
    assert torch.equal(policy.p_cooperate, learner.learner.policies[0]().detach())  # inside the epoch evaluator


def test_dice_coin_run_with_shared_view_acts_as_the_run_did(league_runs):
    learner, run_config = restored_learner(league_runs["dice_coin"])
    assert run_config.env.egocentric is False  # POLA's shared observation
    (policy,) = load_entrants([str(league_runs["dice_coin"])], GameSpec(name="coin_game"))
    game, trained_game = make_game(GameSpec(name="coin_game")), make_env("coin_game", **run_config.env.kwargs())
    params = learner.policies()[0]  # agent 1, [S, ...]
    seeds, games = 2, 100
    state = game.initial_state(seeds * games)
    policy.reset(torch.arange(seeds * games) // games)
    league_actions = policy.act(SeatView(game, state, 0, 0), torch.Generator().manual_seed(5))
    observation = trained_game.observe(state).reshape(seeds, games, 2, -1)[:, :, 0]  # agent 1's own view
    logits, _ = gru_net_step(params, observation, torch.zeros(seeds, games, params["gru_weight_hh"].shape[-2]))
    reference = sample(torch.softmax(logits.reshape(seeds * games, -1), -1), torch.Generator().manual_seed(5))
    assert torch.equal(league_actions, reference)


@pytest.mark.parametrize("name,game", [("loqa_coin", "coin_game"), ("loqa_ipd", "ipd")])
def test_loqa_run_acts_as_the_run_did(league_runs, name, game):
    learner, _ = restored_learner(league_runs[name])
    (policy,) = load_entrants([str(league_runs[name])], GameSpec(name=game))
    env = learner.env  # the run's own env: its observation convention
    reference_policy = learner.agent_policy()
    reference_policy.reset()
    games = env.batch_size[0]
    league_game = make_game(GameSpec(name=game))
    state = league_game.initial_state(games)
    policy.reset(torch.arange(games) // (games // policy.num_seeds))
    for step in range(3):
        observation = env.observe(state)[:, 0]
        reference = reference_policy(None, observation, step)
        expected = sample(torch.softmax(reference, -1), torch.Generator().manual_seed(step))
        actions = policy.act(SeatView(league_game, state, 0, step), torch.Generator().manual_seed(step))
        assert torch.equal(actions, expected)
        other = torch.randint(0, league_game.n_actions, (games,))
        state = league_game.transition(state, torch.stack((actions, other), -1)).state


def test_bad_entrants_fail_before_any_rollout_naming_the_choices(league_runs, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown entrant 'tit4tat'.*valid strategies: allc, alld, tft, grim, random"):
        check_entrants(["tft", "tit4tat"], GameSpec())
    with pytest.raises(ConfigError, match=r"unknown entrant 'tft'.*valid strategies: allc, alld, random"):
        check_entrants(["tft"], GameSpec(name="coin_game"))
    with pytest.raises(ConfigError, match="trained on ipd, the league plays coin_game"):
        check_entrants([str(league_runs["exact"])], GameSpec(name="coin_game"))
    with pytest.raises(ConfigError, match="trained on a 3x3 board, the league plays 4x4"):
        check_entrants([str(league_runs["loqa_coin"])], GameSpec(name="coin_game", height=4, width=4))
    foreign = tmp_path / "coma_run"
    foreign.mkdir()
    (foreign / "config.yaml").write_text("algo:\n  name: coma\nenv:\n  name: switch\nname: x\n")
    with pytest.raises(ConfigError, match=r"algo 'coma' \(family coma\) cannot join a league; supported algos: "
                                          r"aa, lola, lola_dice, loqa, naive, paa, pola, pola_dice, pola_om"):
        check_entrants([str(foreign)], GameSpec())


def test_advantage_alignment_run_acts_as_its_actor(league_runs):
    """AA's agent 1 (a loqa_nets actor held functionally by its loss) plays in the league as in its run."""
    learner, _ = restored_learner(league_runs["aa_ipd"])
    loss = learner.losses[0]
    (policy,) = load_entrants([str(league_runs["aa_ipd"])], GameSpec(name="ipd"))
    assert policy.num_seeds == 2
    league_game = make_game(GameSpec(name="ipd"))
    env = make_env("iterated_matrix_game", num_envs=8)  # the run's env: its observation convention
    state = league_game.initial_state(8)
    policy.reset(torch.arange(8) // 4)
    with loss.actor_network_params.to_module(loss.actor_network):
        hidden = loss.actor_network.initial_hidden(2, 4)
        for step in range(3):
            observation = env.observe(state)[:, 0].reshape(2, 4, -1)
            logits, hidden = loss.actor_network.step(observation, torch.tensor(float(step)), hidden)
            expected = sample(torch.softmax(logits.reshape(8, -1), -1), torch.Generator().manual_seed(step))
            actions = policy.act(SeatView(league_game, state, 0, step), torch.Generator().manual_seed(step))
            assert torch.equal(actions, expected)
            other = torch.randint(0, league_game.n_actions, (8,))
            state = league_game.transition(state, torch.stack((actions, other), -1)).state
