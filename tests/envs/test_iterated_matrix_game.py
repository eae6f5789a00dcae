import pytest
import torch
from torchrl.envs.utils import check_env_specs

from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.envs.registry import make_env
from oppshape.games import exact_values, payoff_table


def test_specs_and_registry():
    env = make_env("iterated_matrix_game", num_envs=8, payoff="stag_hunt", episode_length=4)
    check_env_specs(env)
    assert env.full_action_spec["agents", "action"].shape == (8, 2)


@pytest.mark.parametrize("a1,a2,state", [(0, 0, 1), (0, 1, 2), (1, 0, 3), (1, 1, 4)])
def test_rewards_and_own_view_observations(a1, a2, state):
    env = IteratedMatrixGame(num_envs=1, payoff="ipd")
    td = env.reset()
    assert td["agents", "observation"][0].argmax(-1).tolist() == [0, 0]  # both start
    td["agents", "action"] = torch.tensor([[a1, a2]])
    out = env.step(td)["next"]
    assert out["agents", "reward"][0, :, 0].tolist() == payoff_table("ipd")[a1, a2].tolist()
    swapped = {1: 1, 2: 3, 3: 2, 4: 4}[state]
    assert out["agents", "observation"][0].argmax(-1).tolist() == [state, swapped]


def test_truncates_at_episode_length_and_partial_reset():
    env = IteratedMatrixGame(num_envs=3, episode_length=2)
    td = env.rollout(2, break_when_any_done=False)
    assert td["next", "truncated"][:, -1].all() and not td["next", "terminated"].any()
    assert not td["next", "done"][:, 0].any()
    state = td[:, -1]["next"].clone()
    state["_reset"] = torch.tensor([[True], [False], [True]])
    reset = env.reset(state)
    assert reset["step_count"].flatten().tolist() == [0, 2, 0]
    assert reset["state"][0] == 0 and reset["state"][1] == state["state"][1]


def test_custom_table_and_bad_arguments():
    table = torch.arange(8.0).reshape(2, 2, 2)
    env = IteratedMatrixGame(payoff_table=table)
    assert torch.equal(env.payoff, table)
    with pytest.raises(ValueError, match="shape"):
        IteratedMatrixGame(payoff_table=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="num_envs=0"):
        IteratedMatrixGame(num_envs=0)
    with pytest.raises(ValueError, match="unknown argument.*'horizon'.*valid arguments: num_envs"):
        make_env("iterated_matrix_game", horizon=5)
    with pytest.raises(ValueError, match="unknown env 'ipdd'; valid choices"):
        make_env("ipdd")


def test_monte_carlo_return_matches_exact_values():
    """Sampled discounted returns of memory-1 policies agree with the closed form."""
    torch.manual_seed(1)
    gamma, horizon, num_envs = 0.8, 60, 40000  # gamma^60 ~ 1.5e-6: truncation bias is negligible
    payoff = payoff_table("ipd_cf", cf=1.33)
    coop = torch.tensor([[0.9, 0.8, 0.3, 0.6, 0.2], [0.7, 0.9, 0.1, 0.5, 0.4]])  # own view, per agent
    env = IteratedMatrixGame(num_envs=num_envs, payoff="ipd_cf", cf=1.33, episode_length=horizon)
    td = env.reset()
    returns = torch.zeros(num_envs, 2)
    for t in range(horizon):
        own_state = td["agents", "observation"].argmax(-1)  # [B, 2]
        p_coop = coop.gather(1, own_state.T).T  # [B, 2]
        td["agents", "action"] = (torch.rand(num_envs, 2) > p_coop).long()
        td = env.step(td)
        returns += gamma**t * td["next", "agents", "reward"][..., 0]
        td = td["next"]
    exact = exact_values(coop[0], coop[1], payoff, gamma)
    standard_error = returns.std(0) / num_envs**0.5
    assert ((returns.mean(0) - exact).abs() < 4 * standard_error + 1e-3).all(), (returns.mean(0), exact)


def test_tensor_level_rules_match_the_torchrl_step() -> None:
    """The DiCE rollouts call transition/observe directly; they must be the env's own rules."""
    payoff = payoff_table("ipd_cf", cf=1.33)
    env = IteratedMatrixGame(num_envs=64, payoff_table=payoff)
    td, state = env.reset(), env.initial_state(64)
    torch.testing.assert_close(td["agents", "observation"], env.observe(state))
    for _ in range(5):
        actions = torch.randint(2, (64, 2))
        out = env.step(td.set(("agents", "action"), actions))["next"]
        step = env.transition(state, actions)
        state = step.state
        torch.testing.assert_close(out["agents", "reward"].squeeze(-1), step.reward)
        torch.testing.assert_close(out["agents", "observation"], env.observe(state))
        assert torch.equal(env.observation_table[env.observation_index(state)], env.observe(state))
        td = out


@pytest.mark.compile
def test_compiled_transition_equals_eager_without_recompiling() -> None:
    from oppshape import hot_path

    env = IteratedMatrixGame(num_envs=64, payoff="stag_hunt")
    actions = torch.randint(2, (6, 64, 2), generator=torch.Generator().manual_seed(0))
    with hot_path.enabled():
        first = env.transition(env.initial_state(64), actions[0])
        with torch._dynamo.config.patch(error_on_recompile=True):
            compiled = [env.transition(first.state, a) for a in actions]
    for step, a in zip(compiled, actions):
        eager = env.transition(first.state, a)
        assert torch.equal(step.state, eager.state) and torch.equal(step.reward, eager.reward)
