"""The shared spec and output builders: shapes, dtypes and the done / terminated / truncated rule."""

import pytest
import torch
from torchrl.data import Bounded

from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.envs.specs import agents_action_spec, agents_reward_spec, done_spec, step_output

BATCH = torch.Size([3])
CPU = torch.device("cpu")


def test_action_spec_nests_the_leaves_under_agents() -> None:
    spec = agents_action_spec(BATCH, 2, 4, CPU, message=Bounded(0, 1, shape=(3, 2, 1)))
    assert list(spec.keys()) == ["agents"] and list(spec["agents"].keys()) == ["action", "message"]
    assert spec.shape == (3,) and spec["agents"].shape == (3, 2)
    assert spec["agents", "action"].shape == (3, 2) and spec["agents", "action"].space.n == 4


def test_reward_and_done_specs() -> None:
    reward = agents_reward_spec(BATCH, 2, CPU)
    assert reward["agents", "reward"].shape == (3, 2, 1) and reward["agents", "reward"].dtype == torch.float32
    done = done_spec(BATCH, CPU)
    assert list(done.keys()) == ["done", "terminated", "truncated"]
    for key in ("done", "terminated", "truncated"):
        assert done[key].shape == (3, 1) and done[key].dtype == torch.bool


def test_step_output_fills_the_missing_flag_with_false_and_ors_done() -> None:
    env = IteratedMatrixGame(num_envs=3)
    agents = {"observation": torch.zeros(3, 2, 5)}
    flag = torch.tensor([[True], [False], [False]])
    truncated = step_output(env, 2, agents, {"step_count": torch.zeros(3, 1)}, truncated=flag)
    assert list(truncated.keys()) == ["agents", "step_count", "done", "terminated", "truncated"]
    assert truncated["agents"].batch_size == (3, 2)
    assert truncated["done"].tolist() == flag.tolist() and not truncated["terminated"].any()
    terminated = step_output(env, 2, agents, {}, terminated=flag)
    assert terminated["done"].tolist() == flag.tolist() and not terminated["truncated"].any()
    both = step_output(env, 2, agents, {}, terminated=flag, truncated=flag.roll(1, 0))
    assert both["done"].flatten().tolist() == [True, True, False]
    with pytest.raises(ValueError, match="terminated, truncated or both"):
        step_output(env, 2, agents, {})


@pytest.mark.parametrize("name", ["iterated_matrix_game", "coin_game"])
def test_skipped_step_completion_pass_would_change_nothing(name: str) -> None:
    from torchrl.envs import EnvBase

    from oppshape.envs import make_env

    env = make_env(name, num_envs=4)
    td = env.reset()
    td["agents", "action"] = env.full_action_spec.rand()["agents", "action"]
    out = env._step(td)
    assert env._step_proc_data(out) is out  # skipped
    completed = EnvBase._step_proc_data(env, out.clone())
    assert set(completed.keys(True, True)) == set(out.keys(True, True))
    assert (completed == out).all()
    env.run_type_checks = True
    assert (env._step_proc_data(out.clone()) == out).all()


def _leaf_set(td) -> set:
    return {key if isinstance(key, tuple) else (key,) for key in td.keys(True, True)}


@pytest.mark.parametrize("name", ["iterated_matrix_game", "coin_game"])
def test_layout_step_mdp_matches_torchrl_step_mdp_and_falls_back_on_extra_keys(name: str) -> None:
    from oppshape.envs import make_env
    from oppshape.envs.specs import LayoutStepMDP

    env = make_env(name, num_envs=4, episode_length=3)
    step_mdp = env._step_mdp
    assert isinstance(step_mdp, LayoutStepMDP)
    td = env.reset()
    for t in range(5):  # through the last step of an episode and the reset after it
        td["agents", "action"] = env.full_action_spec.rand()["agents", "action"]
        if t == 4:  # a policy's extra output: the precomputed layout no longer applies
            td["agents", "logits"] = torch.zeros(4, 2, 3)
        out = env.step(td)
        fast, generic = step_mdp._fast(out), step_mdp.generic(out)
        if t == 4:
            assert fast is None
            fast = step_mdp(out)
            assert ("agents", "logits") in fast.keys(True)
        assert _leaf_set(fast) == _leaf_set(generic)
        assert fast.batch_size == generic.batch_size and fast["agents"].batch_size == generic["agents"].batch_size
        assert (fast == generic).all()
        _, td = env.step_and_maybe_reset(td)
    env.run_type_checks = True
    assert not isinstance(env._step_mdp, LayoutStepMDP)  # checked runs take TorchRL's path
