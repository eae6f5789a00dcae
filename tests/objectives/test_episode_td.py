"""The episode TD helpers shared by DIAL and RIAL, against hand-computed numbers."""

import pytest
import torch
from tensordict import TensorDict

from oppshape.modules.comm_net import CommNet
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.episode_td import action_td_loss, alive_mask, summed_squared_error, taken_value
from oppshape.objectives.rial import RIALLoss

pytestmark = pytest.mark.filterwarnings("ignore:No target network updater")


def test_alive_mask_keeps_steps_up_to_the_first_done() -> None:
    done = torch.tensor([[False, True, True], [False, False, False]]).unsqueeze(-1)
    assert alive_mask(done).squeeze(-1).tolist() == [[1, 1, 0], [1, 1, 1]]


def test_targets_bootstrap_until_terminated() -> None:
    # one episode, 3 steps, 1 agent: terminated at step 1, padding at step 2
    terminated = torch.tensor([[[False], [True], [True]]])
    trajectory = TensorDict(
        {"next": {"agents": {"reward": torch.tensor([[[[1.0]], [[2.0]], [[5.0]]]])}, "done": terminated,
                  "terminated": terminated}},
        batch_size=[1, 3],
    )
    next_value = torch.tensor([[[10.0], [20.0], [30.0]]])
    loss = DIALLoss(CommNet(n_agents=1, protocol="dial", max_steps=3), gamma=0.5)
    target, alive = loss.targets(trajectory, next_value)
    # y_0 = 1 + 0.5 * V_1 = 11; y_1 = 2 (terminal); y_2 = 5 (terminal)
    assert target.flatten().tolist() == [11.0, 2.0, 5.0]
    assert alive.flatten().tolist() == [1.0, 1.0, 0.0]


def test_taken_value_and_losses() -> None:
    values = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]])  # [B=1, T=2, n=2, 2]
    q_taken = taken_value(values, torch.tensor([[[1, 0], [0, 1]]]))
    assert q_taken.tolist() == [[[2.0, 3.0], [5.0, 8.0]]]
    assert summed_squared_error(torch.tensor([[[1.0, 2.0], [3.0, 0.0]]])) == (1 + 4 + 9) / 2
    alive = torch.tensor([[[1.0], [0.0]]])  # only step 0 counts
    out = action_td_loss(torch.tensor([[[3.0, 1.0], [0.0, 0.0]]]), q_taken, alive)
    # step 0 errors: 3 - 2 = 1, 1 - 3 = -2
    assert out["loss_action"].item() == (1 + 4) / 2
    assert out["q_taken"].item() == (2 + 3) / 2
    assert out["td_error_abs"].item() == (1 + 2) / 2


@pytest.mark.parametrize("loss_class", [DIALLoss, RIALLoss])
def test_online_unroll_is_recorded_or_replayed_and_target_has_no_graph(loss_class) -> None:
    protocol = "dial" if loss_class is DIALLoss else "rial"
    loss = loss_class(CommNet(n_agents=2, protocol=protocol, message_size=1, max_steps=2))
    recorded = torch.ones(1, 2, 2, 2, requires_grad=True)
    calls = []
    loss.unroll = lambda *inputs: calls.append(torch.is_grad_enabled()) or torch.zeros(1, 2, 2, 2)
    online, _ = loss.online_and_target(recorded, ())
    assert online is recorded and calls == [False]
    loss.online_and_target(None, ())
    assert calls == [False, True, False]
