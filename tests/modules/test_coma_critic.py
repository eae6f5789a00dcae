"""COMA critic: the exact input layout of each agent's row, and that agent a's Q ignores u_a."""

import pytest
import torch
from tensordict import TensorDict

from oppshape.modules.coma_critic import COMACritic, make_coma_critic


def test_input_layout_with_concatenated_observations() -> None:
    critic = COMACritic(n_agents=3, n_actions=4, observation_dim=2)
    observation = torch.arange(6.0).reshape(1, 3, 2)  # agent a observes (2a, 2a + 1)
    action = torch.tensor([[1, 3, 0]])
    inputs = critic.build_inputs(observation, action)
    assert inputs.shape == (1, 3, critic.input_dim) and critic.input_dim == 6 + 2 + 3 + 2 * 4
    one_hot = {0: [1, 0, 0, 0], 1: [0, 1, 0, 0], 3: [0, 0, 0, 1]}
    state = [0, 1, 2, 3, 4, 5]
    expected = [
        state + [0, 1] + [1, 0, 0] + one_hot[3] + one_hot[0],  # agent 0 sees u_1 = 3, u_2 = 0
        state + [2, 3] + [0, 1, 0] + one_hot[1] + one_hot[0],  # agent 1 sees u_0 = 1, u_2 = 0
        state + [4, 5] + [0, 0, 1] + one_hot[1] + one_hot[3],  # agent 2 sees u_0 = 1, u_1 = 3
    ]
    torch.testing.assert_close(inputs[0], torch.tensor(expected, dtype=torch.float32))


def test_input_layout_with_global_state_and_batch_dims() -> None:
    critic = COMACritic(n_agents=2, n_actions=3, observation_dim=1, state_dim=2)
    observation = torch.tensor([[[7.0], [8.0]]]).expand(4, 5, 2, 1)
    state = torch.tensor([0.5, -0.5]).expand(4, 5, 2)
    action = torch.tensor([2, 1]).expand(4, 5, 2)
    inputs = critic.build_inputs(observation, action, state)
    assert inputs.shape == (4, 5, 2, 2 + 1 + 2 + 3)
    torch.testing.assert_close(inputs[3, 4, 0], torch.tensor([0.5, -0.5, 7.0, 1, 0, 0, 1, 0]))
    torch.testing.assert_close(inputs[3, 4, 1], torch.tensor([0.5, -0.5, 8.0, 0, 1, 0, 0, 1]))


def test_agent_q_does_not_depend_on_its_own_action() -> None:
    critic = COMACritic(n_agents=3, n_actions=5, observation_dim=4)
    observation = torch.randn(2, 3, 4)
    action = torch.randint(5, (2, 3))
    q = critic(observation, action)
    for agent in range(3):
        changed = action.clone()
        changed[:, agent] = (changed[:, agent] + 1) % 5
        q_changed = critic(observation, changed)
        torch.testing.assert_close(q_changed[:, agent], q[:, agent])
        others = [b for b in range(3) if b != agent]
        assert not torch.allclose(q_changed[:, others], q[:, others])


def test_tensordict_module_reads_multiagent_keys() -> None:
    module = make_coma_critic(n_agents=2, n_actions=3, observation_dim=4, state_dim=5)
    td = TensorDict(
        {
            "agents": TensorDict(
                {"observation": torch.randn(6, 2, 4), "action": torch.randint(3, (6, 2))}, batch_size=[6, 2]
            ),
            "state": torch.randn(6, 5),
        },
        batch_size=[6],
    )
    assert module(td)["agents", "action_value"].shape == (6, 2, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_agents": 1, "n_actions": 3, "observation_dim": 2}, "n_agents=1"),
        ({"n_agents": 2, "n_actions": 1, "observation_dim": 2}, "n_actions=1"),
        ({"n_agents": 2, "n_actions": 3, "observation_dim": 2, "state_dim": 0}, "state_dim"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        COMACritic(**kwargs)


def test_bad_input_shapes_are_named() -> None:
    critic = COMACritic(n_agents=2, n_actions=3, observation_dim=2, state_dim=3)
    with pytest.raises(ValueError, match="state must have shape"):
        critic(torch.zeros(4, 2, 2), torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="observation must end in"):
        critic(torch.zeros(4, 3, 2), torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, 3))
