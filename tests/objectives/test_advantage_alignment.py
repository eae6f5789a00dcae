"""AdvantageAlignmentLoss: the A* weight by hand, beta = 0 against TorchRL's PPO / A2C, GAE and the TD errors."""


import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule
from torchrl.modules import ProbabilisticActor
from torchrl.objectives import A2CLoss, ClipPPOLoss

from oppshape.modules.loqa_nets import MLPNet, TabularActor
from oppshape.objectives.advantage_alignment import AdvantageAlignmentLoss, aligned_advantage, standardize


def test_aligned_advantage_by_hand():
    """Row 0 holds two episodes (done at t = 1); row 1 one episode whose last step sees three past advantages."""
    advantage = torch.tensor([[1.0, 2.0, -1.0, 3.0], [1.0, 1.0, 1.0, 4.0]])
    opponent = torch.tensor([[0.5, -1.0, 2.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    done = torch.tensor([[False, True, False, True], [False, False, False, True]])
    out = aligned_advantage(advantage, opponent, done, beta=2.0, gamma=0.5)
    # row 0: t=1 sees 0.5*A_0 = 0.5 -> 2 + 2*0.5*0.5*(-1) = 1.5; t=2 starts a new episode (-1);
    #        t=3 sees 0.5*A_2 = -0.5 -> 3 + 2*0.5*(-0.5)*1 = 2.5
    # row 1: t=3 sees 0.5*1 + 0.25*1 + 0.125*1 = 0.875 -> 4 + 2*0.5*0.875*1 = 4.875
    expected = torch.tensor([[1.0, 1.5, -1.0, 2.5], [1.0, 1.0, 1.0, 4.875]])
    torch.testing.assert_close(out, expected)


def test_past_sum_adds_up_the_past_advantage_estimates():
    """The sum adds up ``past_advantage`` (the loss's TD errors), while A^1_t itself stays the advantage."""
    advantage = torch.tensor([[1.0, 2.0, -1.0, 3.0]])
    past = torch.tensor([[0.5, -2.0, 4.0, 0.0]])
    opponent = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    done = torch.tensor([[False, False, False, True]])
    out = aligned_advantage(advantage, opponent, done, beta=1.0, gamma=0.5, past_advantage=past)
    # past_1 = 0.5*0.5 = 0.25; past_2 = 0.5*(0.25 - 2) = -0.875; past_3 = 0.5*(-0.875 + 4) = 1.5625
    expected = advantage + 0.5 * torch.tensor([[0.0, 0.25, -0.875, 1.5625]])
    torch.testing.assert_close(out, expected)


def test_beta_zero_is_the_plain_advantage():
    advantage, opponent = torch.randn(3, 6), torch.randn(3, 6)
    done = torch.zeros(3, 6, dtype=torch.bool)
    torch.testing.assert_close(aligned_advantage(advantage, opponent, done, beta=0.0, gamma=0.9), advantage)


def test_standardize_per_member():
    values = torch.randn(2, 5, 7) * torch.tensor([1.0, 10.0]).view(2, 1, 1) + 3.0
    out = standardize(values)
    torch.testing.assert_close(out.mean((1, 2)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std((1, 2)), torch.ones(2), atol=1e-4, rtol=0)


def _batch(members: int = 1, episodes: int = 4, steps: int = 4, seed: int = 0) -> TensorDict:
    generator = torch.Generator().manual_seed(seed)
    states = torch.randint(5, (members, episodes, steps), generator=generator)
    observation = torch.nn.functional.one_hot(states, 5).float()
    done = torch.zeros(members, episodes, steps, 1, dtype=torch.bool)
    done[..., 1, :] = True  # an episode boundary inside each row
    done[..., -1, :] = True
    return TensorDict(
        {
            "observation": observation,
            "action": torch.randint(2, (members, episodes, steps), generator=generator),
            "sample_log_prob": -torch.rand(members, episodes, steps, generator=generator),
            "advantage": torch.randn(members, episodes, steps, generator=generator),
            "value_target": torch.randn(members, episodes, steps, generator=generator),
            "opponent_advantage": torch.randn(members, episodes, steps, generator=generator),
            "next": {
                "observation": observation.roll(-1, dims=2),
                "reward": -torch.rand(members, episodes, steps, 1, generator=generator),
                "done": done,
                "terminated": torch.zeros_like(done),
            },
        },
        batch_size=[members, episodes, steps],
    )


def _actor_with_table() -> TabularActor:
    actor = TabularActor(5, 2)
    with torch.no_grad():
        actor.table.copy_(torch.randn(actor.table.shape, generator=torch.Generator().manual_seed(1)))
    return actor


def test_loss_actor_uses_the_hand_computed_weight():
    actor = _actor_with_table()
    loss = AdvantageAlignmentLoss(actor, MLPNet((5,), 1), beta=0.7, gamma=0.9)
    td = _batch()
    out = loss(td.clone())
    weight = aligned_advantage(td["advantage"], td["opponent_advantage"], td["next", "done"].squeeze(-1),
                               beta=0.7, gamma=0.9)
    log_prob = torch.log_softmax(actor(td["observation"]), -1).gather(-1, td["action"].unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(out["loss_actor"], -(weight * log_prob).mean())
    assert float(out["alignment"]) != 0.0
    td["past_advantage"] = torch.randn(td.batch_size, generator=torch.Generator().manual_seed(2))
    weight = aligned_advantage(td["advantage"], td["opponent_advantage"], td["next", "done"].squeeze(-1),
                               beta=0.7, gamma=0.9, past_advantage=td["past_advantage"])
    torch.testing.assert_close(loss(td.clone())["loss_actor"], -(weight * log_prob).mean())


def _torchrl_actor(actor: TabularActor) -> ProbabilisticActor:
    return ProbabilisticActor(
        TensorDictModule(actor, in_keys=["observation"], out_keys=["logits"]),
        in_keys=["logits"],
        distribution_class=torch.distributions.Categorical,
        return_log_prob=True,
        log_prob_key="sample_log_prob",
    )


def test_beta_zero_proximal_equals_torchrl_clip_ppo():
    actor = _actor_with_table()
    td = _batch()
    td["advantage"] = td["advantage"].unsqueeze(-1)  # TorchRL's layout [..., T, 1]; ours reads either
    ours = AdvantageAlignmentLoss(actor, MLPNet((5,), 1), beta=0.0, proximal=True, clip_epsilon=0.2)
    ppo = ClipPPOLoss(_torchrl_actor(actor), None, clip_epsilon=0.2, entropy_bonus=False, critic_coeff=None)
    ppo.set_keys(sample_log_prob="sample_log_prob")
    torch.testing.assert_close(ours(td.clone())["loss_actor"], ppo(td.clone())["loss_objective"])


def test_beta_zero_plain_equals_torchrl_a2c():
    actor = _actor_with_table()
    td = _batch()
    td["advantage"] = td["advantage"].unsqueeze(-1)
    ours = AdvantageAlignmentLoss(actor, MLPNet((5,), 1), beta=0.0)
    critic = TensorDictModule(MLPNet((5,), 1), in_keys=["observation"], out_keys=["state_value"])  # unused
    a2c = A2CLoss(_torchrl_actor(actor), critic, entropy_bonus=False, critic_coeff=None)
    torch.testing.assert_close(ours(td.clone())["loss_actor"], a2c(td.clone())["loss_objective"])


def test_gae_with_lambda_zero_is_one_step_td_and_bootstraps_truncation():
    critic = MLPNet((5,), 1, time_input=False)  # rows with inner boundaries need memoryless, time-free networks
    loss = AdvantageAlignmentLoss(TabularActor(5, 2), critic, gamma=0.9, lmbda=0.0)
    td = _batch().exclude("advantage", "value_target")
    loss.estimate_advantage(td)
    with torch.no_grad():
        value = critic(td["observation"]).squeeze(-1)
        next_value = critic(td["next", "observation"]).squeeze(-1)  # truncated: bootstrap even when done
    expected = td["next", "reward"].squeeze(-1) + 0.9 * next_value - value
    torch.testing.assert_close(td["advantage"], expected)
    torch.testing.assert_close(td["value_target"], expected + value)
    torch.testing.assert_close(td["past_advantage"], expected)


def test_past_advantage_is_the_one_step_td_error_whatever_lambda():
    """GAE (lambda = 0.9) reads later steps; the past sum's estimate must not: it is r + gamma V' - V."""
    critic = MLPNet((5,), 1, time_input=False)
    loss = AdvantageAlignmentLoss(TabularActor(5, 2), critic, gamma=0.9, lmbda=0.9)
    td = _batch().exclude("advantage", "value_target")
    loss.estimate_advantage(td)
    with torch.no_grad():
        value = critic(td["observation"]).squeeze(-1)
        next_value = critic(td["next", "observation"]).squeeze(-1)
    td_error = td["next", "reward"].squeeze(-1) + 0.9 * next_value - value
    torch.testing.assert_close(td["past_advantage"], td_error)
    assert not torch.allclose(td["advantage"], td_error)


def test_critic_loss_reaches_only_the_critic():
    actor, critic = _actor_with_table(), MLPNet((5,), 1)
    loss = AdvantageAlignmentLoss(actor, critic, entropy_coeff=0.1)
    out = loss(_batch())
    actor_params = list(loss.actor_network_params.values(True, True))
    critic_params = list(loss.critic_network_params.values(True, True))
    assert all(g is None for g in torch.autograd.grad(out["loss_critic"], actor_params, allow_unused=True,
                                                      retain_graph=True))
    assert all(g is None for g in torch.autograd.grad(out["loss_actor"] + out["loss_entropy"], critic_params,
                                                      allow_unused=True))


@pytest.mark.parametrize("kwargs", [{"beta": -1.0}, {"gamma": 0.0}, {"lmbda": 1.5}, {"clip_epsilon": 0.0}])
def test_bad_arguments_fail(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        AdvantageAlignmentLoss(TabularActor(5, 2), MLPNet((5,), 1), **kwargs)
