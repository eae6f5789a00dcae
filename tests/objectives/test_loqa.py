"""LOQA's differentiable opponent returns, opponent model and losses against hand-built gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from tensordict import TensorDict
from torchrl.objectives import SoftUpdate

from oppshape.modules.loqa_nets import MLPNet, TabularActor
from oppshape.objectives.loqa import (
    LOQALoss,
    discounted_cumsum,
    loaded_dice_returns,
    n_step_returns,
    opponent_log_prob,
)

GAMMA, LAMBDA = 0.9, 0.8
# most tests read the target network without a SoftUpdate attached, which TorchRL warns about
pytestmark = pytest.mark.filterwarnings("ignore:No target network updater")


def single_state_policy(actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One logit vector used at every step: log-probs of ``actions`` and their exact scores."""
    theta = torch.tensor([0.3, -0.2], requires_grad=True)
    log_pi = torch.log_softmax(theta, dim=0)
    scores = F.one_hot(actions, 2).float() - log_pi.detach().exp()  # grad_theta log pi(a_k)
    return theta, log_pi[actions], scores


def test_discounted_cumsum_matches_a_loop() -> None:
    values = torch.randn(3, 6)
    expected = torch.zeros_like(values)
    running = torch.zeros(3)
    for t in reversed(range(6)):
        running = values[:, t] + 0.7 * running
        expected[:, t] = running
    torch.testing.assert_close(discounted_cumsum(values, 0.7), expected)


@pytest.mark.parametrize("final_value", [None, -4.0])
def test_loaded_dice_value_is_the_monte_carlo_return_and_gradient_the_loaded_score_sum(final_value) -> None:
    actions = torch.tensor([0, 1, 1, 0, 1])
    rewards = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0])
    values = torch.tensor([0.2, -0.4, 1.0, 0.1, 0.3])
    theta, log_probs, scores = single_state_policy(actions)
    bootstrap = None if final_value is None else torch.tensor(final_value)
    estimate = loaded_dice_returns(rewards, log_probs, values, GAMMA, LAMBDA, bootstrap)
    steps = len(rewards)
    tail = 0.0 if final_value is None else final_value
    returns = torch.tensor([
        sum(GAMMA ** (k - t) * float(rewards[k]) for k in range(t, steps)) + GAMMA ** (steps - t) * tail
        for t in range(steps)
    ])
    torch.testing.assert_close(estimate.detach(), returns)
    weights = torch.randn(steps)
    (grad,) = torch.autograd.grad((weights * estimate).sum(), theta)
    expected = sum(
        weights[t] * (GAMMA * LAMBDA) ** (k - t) * (returns[k] - values[k]) * scores[k]
        for t in range(steps)
        for k in range(t, steps)
    )
    torch.testing.assert_close(grad, expected)


def test_n_step_return_value_and_gradient_skip_the_simultaneous_action() -> None:
    actions = torch.tensor([1, 0, 0, 1, 1, 0])
    rewards = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0, 2.0])
    values = torch.tensor([0.2, -0.4, 1.0, 0.1, 0.3, -0.5, 0.7])  # T + 1
    baseline, n = 0.25, 3
    theta, log_probs, scores = single_state_policy(actions)
    estimate = n_step_returns(rewards, log_probs, values, GAMMA, n, baseline)
    starts = len(rewards) + 1 - n
    assert estimate.shape == (starts,)
    expected_value = [
        sum(GAMMA**k * float(rewards[t + k]) for k in range(n)) + GAMMA**n * float(values[t + n]) for t in range(starts)
    ]
    torch.testing.assert_close(estimate.detach(), torch.tensor(expected_value))
    weights = torch.randn(starts)
    (grad,) = torch.autograd.grad((weights * estimate).sum(), theta)
    expected = sum(
        weights[t] * GAMMA**k * (rewards[t + k] - baseline) * scores[t + 1 : t + k + 1].sum(0)
        for t in range(starts)
        for k in range(1, n)
    )
    torch.testing.assert_close(grad, expected)


def test_n_step_rejects_windows_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="n_step=7"):
        n_step_returns(torch.zeros(5), torch.zeros(5), torch.zeros(6), 0.9, 7)


def test_opponent_model_is_a_softmax_over_q_with_the_taken_entry_replaced() -> None:
    qvalues = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 0.3]])
    action = torch.tensor([2, 0])
    estimate = torch.tensor([0.4, -1.5], requires_grad=True)
    log_prob = opponent_log_prob(qvalues, action, estimate)
    replaced = qvalues.clone()
    replaced[0, 2], replaced[1, 0] = 0.4, -1.5
    expected = torch.log_softmax(replaced, dim=-1)[[0, 1], [2, 0]]
    torch.testing.assert_close(log_prob.detach(), expected)
    (grad,) = torch.autograd.grad(log_prob.sum(), estimate)
    torch.testing.assert_close(grad, 1 - expected.exp())  # d log p_b / d Q_b


def test_opponent_model_at_batch_size_is_bit_identical_to_the_last_dim_log_softmax() -> None:
    """Above ``action_softmax``'s row threshold the fast path runs: values and gradient bit for bit."""
    gen = torch.Generator().manual_seed(0)
    qvalues = torch.randn(2, 64, 5, 2, generator=gen)
    action = torch.randint(2, (2, 64, 5), generator=gen)
    estimate = torch.randn(2, 64, 5, generator=gen, requires_grad=True)
    log_prob = opponent_log_prob(qvalues, action, estimate)
    index = action.unsqueeze(-1)
    reference = torch.log_softmax(qvalues.scatter(-1, index, estimate.unsqueeze(-1)), dim=-1).gather(-1, index)
    assert torch.equal(log_prob, reference.squeeze(-1))
    weights = torch.randn(2, 64, 5, generator=gen)
    assert torch.equal(torch.autograd.grad((log_prob * weights).sum(), estimate)[0],
                       torch.autograd.grad((reference.squeeze(-1) * weights).sum(), estimate)[0])


def episode_batch(members: int = 1, episodes: int = 3, steps: int = 4, seed: int = 0) -> TensorDict:
    """Random whole IPD episodes in LOQALoss's default keys, ``[members, episodes, steps]``."""
    gen = torch.Generator().manual_seed(seed)
    shape = (members, episodes, steps)
    states = torch.randint(5, (members, episodes, steps + 1), generator=gen)
    obs = F.one_hot(states, 5).float()
    done = torch.zeros(*shape, 1, dtype=torch.bool)
    done[..., -1, :] = True
    return TensorDict(
        {
            "observation": obs[..., :-1, :],
            "action": torch.randint(2, shape, generator=gen),
            "opponent_action": torch.randint(2, shape, generator=gen),
            "opponent_qvalue": torch.randn(*shape, 2, generator=gen),
            "opponent_value": torch.randn(shape, generator=gen),
            "next": {
                "observation": obs[..., 1:, :],
                "reward": -3 * torch.rand(*shape, 1, generator=gen),
                "opponent_reward": -3 * torch.rand(*shape, 1, generator=gen),
                "opponent_value": torch.randn(shape, generator=gen),
                "done": done,
                "terminated": torch.zeros_like(done),
            },
        },
        batch_size=shape,
    )


def make_loss(**kwargs) -> LOQALoss:
    actor = TabularActor(5, 2)
    with torch.no_grad():
        actor.table.normal_()
    return LOQALoss(actor, MLPNet((5,), 2, (8, 8)), **kwargs)


def td_advantage(loss: LOQALoss, batch: TensorDict) -> tuple[torch.Tensor, torch.Tensor]:
    """``pi`` over ``s_0..s_T`` and the TD(0) advantage, recomputed by hand."""
    obs = torch.cat([batch["observation"], batch["next", "observation"][..., -1:, :]], dim=-2)
    with torch.no_grad():
        pi = torch.softmax(loss.actor_network(obs), -1)
        values = (pi * loss.qvalue_network(obs)).sum(-1)
    reward = batch["next", "reward"].squeeze(-1)
    return pi, reward + loss.gamma * values[..., 1:] - values[..., :-1]


def test_actor_and_shaping_gradients_match_the_hand_formula() -> None:
    """loss_shaping = -mean(A_t log pi_hat(b_t)); d log pi_hat = (1 - pi_hat(b)) * gamma * dG_{t+1}."""
    batch = episode_batch(episodes=2, steps=5)
    loss = make_loss(gamma=GAMMA, lmbda=LAMBDA)
    out = loss(batch)
    table = loss.actor_network.table
    pi, advantage = td_advantage(loss, batch)
    states = batch["observation"].argmax(-1)[0]  # [episodes, T]
    actions = batch["action"][0]
    # score of log pi(a_k | s_k) w.r.t. the table row of s_k
    scores = torch.zeros(*actions.shape, 5, 2)
    for e in range(actions.shape[0]):
        for k in range(actions.shape[1]):
            s = states[e, k]
            scores[e, k, s] = F.one_hot(actions[e, k], 2).float() - pi[0, e, k, :]
    (actor_grad,) = torch.autograd.grad(out["loss_actor"], table, retain_graph=True)
    expected_actor = -(advantage[0, ..., None, None] * scores).mean((0, 1))
    torch.testing.assert_close(actor_grad[0], expected_actor)

    (shaping_grad,) = torch.autograd.grad(out["loss_shaping"], table)
    op_reward = batch["next", "opponent_reward"][0].squeeze(-1)
    op_value = batch["opponent_value"][0]
    steps = op_reward.shape[-1]
    returns = discounted_cumsum(op_reward, GAMMA)
    expected = torch.zeros(5, 2)
    for e in range(actions.shape[0]):
        replaced_q = returns[e].clone()
        replaced_q[:-1] = op_reward[e, :-1] + GAMMA * returns[e, 1:]
        replaced_q[-1] = op_reward[e, -1]
        for t in range(steps - 1):  # the last step's estimate has no graph
            q = batch["opponent_qvalue"][0, e, t].clone()
            b = batch["opponent_action"][0, e, t]
            q[b] = replaced_q[t]
            p_b = torch.softmax(q, -1)[b]
            d_return = sum(
                (GAMMA * LAMBDA) ** (k - t - 1) * (returns[e, k] - op_value[e, k]) * scores[e, k]
                for k in range(t + 1, steps)
            )
            expected += -advantage[0, e, t] * (1 - p_b) * GAMMA * d_return
    expected /= actions.numel()
    torch.testing.assert_close(shaping_grad[0], expected)


@pytest.mark.parametrize("estimator", ["loaded_dice", "n_step"])
def test_losses_touch_only_their_own_parameters(estimator: str) -> None:
    loss = make_loss(return_estimator=estimator, n_step=3)
    out = loss(episode_batch())
    actor_params = list(loss.actor_network.parameters())
    qvalue_params = list(loss.qvalue_network.parameters())
    actor_total = out["loss_actor"] + out["loss_entropy"] + out["loss_shaping"]
    grads = torch.autograd.grad(actor_total, qvalue_params, allow_unused=True, retain_graph=True)
    assert all(g is None for g in grads)
    assert all(g is None for g in torch.autograd.grad(out["loss_qvalue"], actor_params, allow_unused=True))
    assert all(not out[key].requires_grad for key in ("entropy", "advantage", "opponent_model_prob", "qvalue"))


def test_q_target_bootstraps_from_the_ema_network() -> None:
    batch = episode_batch(episodes=2, steps=4)
    loss = make_loss(gamma=GAMMA)
    updater = SoftUpdate(loss, eps=0.5)
    with torch.no_grad():
        for param in loss.qvalue_network.parameters():
            param.add_(0.3)  # online and target differ from now on
    obs = torch.cat([batch["observation"], batch["next", "observation"][..., -1:, :]], dim=-2)
    with torch.no_grad():
        online = loss.qvalue_network(obs)
        with loss.target_qvalue_network_params.to_module(loss.qvalue_network):
            target = loss.qvalue_network(obs)
        pi = torch.softmax(loss.actor_network(obs), -1)
    action = batch["action"]
    taken = online[..., :-1, :].gather(-1, action[..., None]).squeeze(-1)
    bootstrap = torch.cat(
        [target[..., 1:-1, :].gather(-1, action[..., 1:, None]).squeeze(-1), (pi * target)[..., -1:, :].sum(-1)], -1
    )
    td_target = batch["next", "reward"].squeeze(-1) + GAMMA * bootstrap
    torch.testing.assert_close(loss(batch)["loss_qvalue"], F.huber_loss(taken, td_target))
    before = [p.clone() for p in loss.target_qvalue_network_params.values(True, True)]
    updater.step()
    for old, new, source in zip(
        before, loss.target_qvalue_network_params.values(True, True), loss.qvalue_network_params.values(True, True)
    ):
        torch.testing.assert_close(new, 0.5 * old + 0.5 * source.detach())


def test_terminated_steps_do_not_bootstrap() -> None:
    batch = episode_batch(episodes=1, steps=3)
    batch["next", "terminated"][..., -1, :] = True
    loss = make_loss(gamma=GAMMA)
    obs = torch.cat([batch["observation"], batch["next", "observation"][..., -1:, :]], dim=-2)
    with torch.no_grad():
        q = loss.qvalue_network(obs)
    reward = batch["next", "reward"].squeeze(-1)
    last_target = reward[..., -1]
    action = batch["action"]
    taken = q[..., :-1, :].gather(-1, action[..., None]).squeeze(-1)
    target = torch.cat([reward[..., :-1] + GAMMA * q[..., 1:-1, :].gather(-1, action[..., 1:, None]).squeeze(-1),
                        last_target[..., None]], -1)
    torch.testing.assert_close(loss(batch)["loss_qvalue"], F.huber_loss(taken, target))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"return_estimator": "dice"}, "return_estimator='dice'; valid choices: loaded_dice, n_step"),
        ({"n_step": 1}, "n_step=1"),
        ({"gamma": 1.5}, "gamma=1.5"),
        ({"lmbda": 1.5}, "lmbda=1.5"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_value(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_loss(**kwargs)


def test_episodes_that_end_early_are_rejected() -> None:
    batch = episode_batch()
    batch["next", "done"][..., 1, :] = True
    with pytest.raises(ValueError, match="whole episodes"):
        make_loss()(batch)


def test_set_keys_renames_inputs() -> None:
    batch = episode_batch()
    batch.rename_key_("opponent_qvalue", "q_other")
    loss = make_loss()
    loss.set_keys(opponent_qvalue="q_other")
    assert "q_other" in loss.in_keys
    assert torch.isfinite(loss(batch)["loss_shaping"])


def test_advantage_grad_differentiates_v_through_the_q_network_like_the_reference() -> None:
    """With ``advantage_grad`` the actor losses carry d/dQ of ``A = r + gamma V' - V``, ``V = pi . Q``."""
    batch = episode_batch()
    loss = make_loss(gamma=GAMMA, advantage_grad=True)
    out = loss(batch)
    bias = loss.qvalue_network.layers[-1].bias  # shifts every Q(s, .) by the same amount per action
    (grad,) = torch.autograd.grad(out["loss_actor"], bias, retain_graph=True)
    pi, _ = td_advantage(loss, batch)
    obs = torch.cat([batch["observation"], batch["next", "observation"][..., -1:, :]], dim=-2)
    with torch.no_grad():
        log_prob = torch.log_softmax(loss.actor_network(obs), -1)[..., :-1, :].gather(
            -1, batch["action"][..., None]).squeeze(-1)
    # dV_t / d bias = pi(. | s_t), so dA_t / d bias = gamma pi_{t+1} - pi_t
    expected = -(log_prob[..., None] * (GAMMA * pi[..., 1:, :] - pi[..., :-1, :])).mean((0, 1, 2))
    torch.testing.assert_close(grad[0], expected)
