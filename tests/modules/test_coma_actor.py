"""COMA actors: epsilon schedule, epsilon-bounded softmax with masks, and the recurrent unroll with resets."""

import pytest
import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import set_recurrent_mode

from oppshape.modules.coma_actor import EpsilonSoftmax, MultiAgentGRU, actor_body, epsilon_head, make_coma_actor


def test_epsilon_anneals_linearly_then_stays() -> None:
    head = EpsilonSoftmax(eps_init=0.5, eps_end=0.02, annealing_frames=1000)
    seen = []
    for frames in (0, 250, 250, 500, 5000):
        head.step(frames)
        seen.append(float(head.epsilon))
    torch.testing.assert_close(torch.tensor(seen), torch.tensor([0.5, 0.38, 0.26, 0.02, 0.02]))
    assert int(head.frames) == 6000


def test_epsilon_state_is_restored_from_state_dict() -> None:
    head = EpsilonSoftmax(eps_init=0.5, eps_end=0.1, annealing_frames=10)
    head.step(5)
    fresh = EpsilonSoftmax(eps_init=0.5, eps_end=0.1, annealing_frames=10)
    fresh.load_state_dict(head.state_dict())
    assert float(fresh.epsilon) == pytest.approx(0.3) and int(fresh.frames) == 5


def test_epsilon_softmax_mixes_uniform_over_available_actions() -> None:
    head = EpsilonSoftmax(eps_init=0.2, eps_end=0.2)
    logits = torch.tensor([[2.0, 0.0, -1.0, 5.0]])
    mask = torch.tensor([[True, True, True, False]])
    probs = head(logits, mask)
    softmax = torch.softmax(logits[:, :3], -1)
    torch.testing.assert_close(probs[:, :3], 0.8 * softmax + 0.2 / 3)
    assert probs[0, 3] == 0 and probs.sum() == pytest.approx(1.0)
    torch.testing.assert_close(head(logits), 0.8 * torch.softmax(logits, -1) + 0.05)


@pytest.mark.parametrize("bad", [{"eps_init": 0.1, "eps_end": 0.2}, {"eps_init": 1.5}, {"annealing_frames": 0}])
def test_bad_epsilon_arguments_are_named(bad: dict) -> None:
    with pytest.raises(ValueError, match="eps|annealing_frames"):
        EpsilonSoftmax(**bad)


def test_actor_uses_current_epsilon_and_mask() -> None:
    actor = make_coma_actor(n_agents=2, observation_dim=3, n_actions=4, action_mask_key=("agents", "mask"))
    mask = torch.tensor([[True, False, True, True], [False, False, True, False]]).expand(5, 2, 4)
    td = TensorDict({"agents": {"observation": torch.randn(5, 2, 3), "mask": mask}}, batch_size=[5])
    epsilon_head(actor).step(10**9)  # eps = 0.02
    probs = actor(td.clone())["agents", "probs"]
    assert (probs[~mask] == 0).all()
    torch.testing.assert_close(probs[:, 1, 2], torch.ones(5))  # a single available action
    assert (probs[:, 0][mask[:, 0]] >= 0.02 / 3 - 1e-7).all()
    with set_exploration_type(ExplorationType.DETERMINISTIC):
        greedy = actor(td.clone())["agents", "action"]
    torch.testing.assert_close(greedy, probs.argmax(-1))


def test_recurrent_unroll_resets_each_env_at_its_own_episode_start() -> None:
    torch.manual_seed(1)
    body = MultiAgentGRU(n_agents=3, observation_dim=4, n_actions=5, hidden_size=8, share_params=False)
    n_envs, steps = 4, 7
    observation = torch.randn(n_envs, steps, 3, 4)
    is_init = torch.zeros(n_envs, steps, 1, dtype=torch.bool)
    is_init[0, 0] = is_init[1, 3] = is_init[2, 1] = is_init[2, 5] = True  # episodes end at different times
    hidden0 = torch.randn(n_envs, 3, 8)  # env 3 continues an episode from before the batch
    td = TensorDict(
        {"agents": {"observation": observation, "rnn_hidden": hidden0.unsqueeze(1).expand(-1, steps, -1, -1)},
         "is_init": is_init},
        batch_size=[n_envs, steps],
    )
    with set_recurrent_mode(True):
        unrolled = body(td.clone())["agents", "logits"]
    # reference: step by step, one env at a time, restarting from zeros at each episode start
    for env in range(n_envs):
        hidden = hidden0[env]
        for t in range(steps):
            if is_init[env, t]:
                hidden = torch.zeros_like(hidden)
            step = TensorDict(
                {"agents": {"observation": observation[env, t], "rnn_hidden": hidden}, "is_init": is_init[env, t]},
                batch_size=[],
            )
            step = body(step)
            torch.testing.assert_close(unrolled[env, t], step["agents", "logits"])
            hidden = step["next", "agents", "rnn_hidden"]


def test_unshared_parameters_give_each_agent_its_own_policy() -> None:
    observation = torch.randn(1, 1, 4).expand(2, 3, 4)  # every agent sees the same thing
    td = TensorDict({"agents": {"observation": observation.clone()}}, batch_size=[2])
    for recurrent in (False, True):
        shared = make_coma_actor(n_agents=3, observation_dim=4, n_actions=5, recurrent=recurrent)
        probs = shared(td.clone())["agents", "probs"]
        torch.testing.assert_close(probs[:, 0], probs[:, 2])
        separate = make_coma_actor(n_agents=3, observation_dim=4, n_actions=5, recurrent=recurrent, share_params=False)
        probs = separate(td.clone())["agents", "probs"]
        assert not torch.allclose(probs[:, 0], probs[:, 2])


def test_primer_adds_zero_hidden_state_per_agent() -> None:
    actor = make_coma_actor(n_agents=2, observation_dim=3, n_actions=4, recurrent=True, hidden_size=6)
    primer = actor_body(actor).make_tensordict_primer()
    spec = primer.primers["agents", "rnn_hidden"]
    assert spec.shape[-2:] == (2, 6)
