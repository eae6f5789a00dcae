"""oppshape.envs.snapshot: a fresh env given a snapshot (and the RNG states) continues exactly like the original."""

import pytest
import torch
from tensordict import TensorDictBase

from oppshape.rng import rng_state, set_rng_state
from oppshape.envs.snapshot import env_snapshot, restore_env_snapshot
from oppshape.envs.switch_game import SwitchGame
from oppshape.envs.vmas_factory import VMAS_SCENARIOS, make_vmas_env

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ENVS, MAX_STEPS = 5, 4


def play(env, td: TensorDictBase, actions: list[torch.Tensor]) -> tuple[TensorDictBase, list[TensorDictBase]]:
    """Step with ``actions``, resetting finished envs as a collector does; returns the carrier and every output."""
    outputs = []
    for action in actions:
        td["agents", "action"] = action
        td, carried = env.step_and_maybe_reset(td)
        outputs.append(td["next"].clone())
        td = carried
    return td, outputs


@pytest.mark.parametrize("scenario", VMAS_SCENARIOS)
def test_vmas_continues_exactly_across_an_episode_end(scenario: str) -> None:
    original = make_vmas_env(scenario, num_envs=ENVS, max_steps=MAX_STEPS, seed=0)
    spec = original.full_action_spec["agents", "action"]
    draws = torch.Generator().manual_seed(1)
    actions = [torch.randint(spec.space.n, (ENVS, spec.shape[-1]), generator=draws) for _ in range(9)]
    carrier, _ = play(original, original.reset(), actions[:3])
    snapshot, rngs, saved_carrier = env_snapshot(original), rng_state(), carrier.clone()
    _, expected = play(original, carrier, actions[3:])  # crosses the 4-step time limit: VMAS resets draw RNG

    other = make_vmas_env(scenario, num_envs=ENVS, max_steps=MAX_STEPS, seed=7)
    other.reset()
    restore_env_snapshot(other, snapshot)
    set_rng_state(rngs)
    _, continued = play(other, saved_carrier, actions[3:])
    for step, (want, got) in enumerate(zip(expected, continued)):
        for key in want.keys(include_nested=True, leaves_only=True):
            assert torch.equal(want[key], got[key]), (scenario, step, key)


def test_a_fresh_env_without_the_snapshot_does_not_continue() -> None:
    """The check above can fail: the same carrier and RNG in an un-restored env give other observations."""
    original = make_vmas_env("transport", num_envs=ENVS, max_steps=MAX_STEPS, seed=0)
    carrier, _ = play(original, original.reset(), [torch.full((ENVS, 4), 2)] * 2)
    rngs = rng_state()
    _, expected = play(original, carrier.clone(), [torch.zeros(ENVS, 4, dtype=torch.long)])
    other = make_vmas_env("transport", num_envs=ENVS, max_steps=MAX_STEPS, seed=7)
    other.reset()
    set_rng_state(rngs)
    _, continued = play(other, carrier.clone(), [torch.zeros(ENVS, 4, dtype=torch.long)])
    assert not torch.equal(expected[0]["agents", "observation"], continued[0]["agents", "observation"])


def test_snapshot_is_plain_tensors_that_load_weights_only(tmp_path) -> None:
    env = make_vmas_env("navigation", num_envs=2, max_steps=MAX_STEPS, seed=0)
    env.reset()
    torch.save({"env": env_snapshot(env), "rng": rng_state()}, tmp_path / "s.pt")
    loaded = torch.load(tmp_path / "s.pt", weights_only=True)
    assert loaded["env"].keys() == env_snapshot(env).keys()
    assert "vmas" in loaded["rng"]


def test_a_snapshot_of_another_scenario_is_refused() -> None:
    balance = make_vmas_env("balance", num_envs=2, max_steps=MAX_STEPS, seed=0)
    balance.reset()
    navigation = make_vmas_env("navigation", num_envs=2, max_steps=MAX_STEPS, seed=0)
    navigation.reset()
    with pytest.raises(ValueError, match="another task or config"):
        restore_env_snapshot(navigation, env_snapshot(balance))


def test_seeded_switch_game_schedules_continue() -> None:
    game = SwitchGame(3, num_envs=4, communication=False)
    game.set_seed(0)
    game.reset()
    snapshot = env_snapshot(game)
    expected = game.sample_schedule()
    other = SwitchGame(3, num_envs=4, communication=False)
    other.set_seed(9)
    restore_env_snapshot(other, snapshot)
    assert torch.equal(other.sample_schedule(), expected)
