"""DiCE gradients on the sampled IPD against the closed-form values of oppshape.games.exact_values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from tensordict import TensorDict

from oppshape.games import exact_values, payoff_table
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.objectives.dice import DiCELoss, magic_box

GAMMA = 0.9
HORIZON = 70  # gamma^70 < 1e-3: the truncated sampled return matches the infinite exact value
PAYOFF = payoff_table("ipd_cf", cf=1.33)


def state_values(coop_1: torch.Tensor, coop_2: torch.Tensor) -> torch.Tensor:
    """Exact ``[5, 2]`` values of each joint state (agent 1's view) for memory-1 policies, for baselines."""
    swap = torch.tensor([0, 1, 3, 2, 4])
    p1, p2 = coop_1, coop_2[swap]  # both indexed by agent 1's view of the state
    joint = torch.stack([p1 * p2, p1 * (1 - p2), (1 - p1) * p2, (1 - p1) * (1 - p2)], dim=-1)  # [5, 4]
    transition = torch.zeros(5, 5)
    transition[:, 1:] = joint
    reward = joint @ PAYOFF.reshape(4, 2)  # [5, 2] expected immediate rewards
    return torch.linalg.solve(torch.eye(5) - GAMMA * transition, reward)


def sample(theta_1: torch.Tensor, theta_2: torch.Tensor, n: int) -> dict[str, torch.Tensor]:
    """Tabular memory-1 policies (logit of P(cooperate) per own-view state) playing ``n`` games."""
    game = IteratedMatrixGame(payoff_table=PAYOFF)
    state = game.initial_state(n)
    log_probs, rewards, states = [], [], [state]
    for _ in range(HORIZON):
        own_state = game.observe(state).argmax(-1)  # [n, 2]
        logits = torch.stack([theta_1[own_state[:, 0]], theta_2[own_state[:, 1]]], dim=-1)
        defect = (torch.rand(n, 2) >= torch.sigmoid(logits.detach())).long()
        log_probs.append(torch.where(defect == 0, F.logsigmoid(logits), F.logsigmoid(-logits)))
        step = game.transition(state, defect)
        state = step.state
        rewards.append(step.reward)
        states.append(state)
    return {"log_prob": torch.stack(log_probs, 1), "reward": torch.stack(rewards, 1), "state": torch.stack(states, 1)}


def dice_td(data: dict[str, torch.Tensor], agent: int, values: torch.Tensor | None) -> TensorDict:
    td = TensorDict(
        {"log_prob": data["log_prob"][..., agent], "other_log_prob": data["log_prob"][..., 1 - agent],
         "reward": data["reward"][..., agent]},
        batch_size=data["reward"].shape[:2],
    )
    if values is not None:
        per_step = values[data["state"], agent]  # [n, T + 1]
        td["state_value"], td["next", "state_value"] = per_step[:, :-1], per_step[:, 1:]
    return td


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return F.cosine_similarity(a.flatten(), b.flatten(), dim=0).item()


def test_magic_box_is_one_and_differentiates_to_its_argument() -> None:
    x = torch.tensor([0.3, -1.2], requires_grad=True)
    y = magic_box(x)
    assert torch.equal(y.detach(), torch.ones(2))
    (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    assert torch.allclose(grad, torch.ones(2))
    (second,) = torch.autograd.grad(grad.sum(), x)
    assert torch.allclose(second, torch.ones(2))  # box(x)'' = box(x)


@pytest.mark.parametrize("baseline,lmbda", [(False, 1.0), (True, 1.0), (True, 0.0)])
def test_first_order_gradient_matches_exact_ipd(baseline: bool, lmbda: float) -> None:
    theta_1 = (0.8 * torch.randn(5)).requires_grad_()
    theta_2 = 0.8 * torch.randn(5)
    coop_1, coop_2 = torch.sigmoid(theta_1), torch.sigmoid(theta_2)
    (exact,) = torch.autograd.grad(exact_values(coop_1, coop_2, PAYOFF, GAMMA)[0], theta_1)
    values = state_values(coop_1.detach(), coop_2) if baseline else None  # exact V: unbiased for any lambda
    data = sample(theta_1, theta_2, 5000)
    loss = DiCELoss(gamma=GAMMA, lmbda=lmbda)(dice_td(data, 0, values))
    (estimate,) = torch.autograd.grad(-loss["loss_objective"], theta_1)
    assert cosine(estimate, exact) > 0.99
    assert torch.allclose(estimate.norm(), exact.norm(), rtol=0.1)


def test_lola_second_order_gradient_matches_exact_ipd() -> None:
    """d/dtheta_1 V_1(theta_1, theta_2 + eta * grad_2 V_2): the look-ahead term DiCE exists for."""
    eta = 3.0
    theta_1 = (0.8 * torch.randn(5)).requires_grad_()
    theta_2 = (0.8 * torch.randn(5)).requires_grad_()

    def exact_lookahead_gradient(through_step: bool) -> torch.Tensor:
        values = exact_values(torch.sigmoid(theta_1), torch.sigmoid(theta_2), PAYOFF, GAMMA)
        (step,) = torch.autograd.grad(values[1], theta_2, create_graph=through_step)
        ahead = exact_values(torch.sigmoid(theta_1), torch.sigmoid(theta_2 + eta * step), PAYOFF, GAMMA)
        return torch.autograd.grad(ahead[0], theta_1)[0]

    loss = DiCELoss(gamma=GAMMA)
    inner = sample(theta_1, theta_2, 10000)
    baseline = state_values(torch.sigmoid(theta_1).detach(), torch.sigmoid(theta_2).detach())
    inner_loss = loss(dice_td(inner, 1, baseline))["loss_objective"]
    (step,) = torch.autograd.grad(-inner_loss, theta_2, create_graph=True)
    theta_2_ahead = theta_2 + eta * step
    outer = sample(theta_1, theta_2_ahead, 10000)
    baseline = state_values(torch.sigmoid(theta_1).detach(), torch.sigmoid(theta_2_ahead).detach())
    (estimate,) = torch.autograd.grad(-loss(dice_td(outer, 0, baseline))["loss_objective"], theta_1)
    exact, without_lookahead_term = exact_lookahead_gradient(True), exact_lookahead_gradient(False)
    assert cosine(estimate, exact) > 0.98
    # the estimate carries the shaping term: its error is far smaller than that term
    assert (estimate - exact).norm() < 0.3 * (exact - without_lookahead_term).norm()


def test_value_loss_is_bootstrapped_monte_carlo_return() -> None:
    reward = torch.tensor([[1.0, 2.0, 3.0]])
    value = torch.tensor([[0.5, 0.0, -1.0]])
    next_value = torch.tensor([[0.0, -1.0, 4.0]])
    td = TensorDict({"log_prob": torch.zeros(1, 3), "reward": reward, "state_value": value,
                     ("next", "state_value"): next_value}, batch_size=[1, 3])
    g = 0.5
    returns = torch.tensor([1 + g * 2 + g**2 * 3 + g**3 * 4, 2 + g * 3 + g**2 * 4, 3 + g * 4])
    expected = ((returns - value[0]) ** 2).sum()
    for lmbda in (1.0, 0.3):
        assert torch.allclose(DiCELoss(gamma=g, lmbda=lmbda)(td)["loss_value"], expected)


def test_bad_arguments_and_shapes_are_named() -> None:
    with pytest.raises(ValueError, match="gamma=1.5"):
        DiCELoss(gamma=1.5)
    with pytest.raises(ValueError, match="lmbda=-0.1"):
        DiCELoss(lmbda=-0.1)
    td = TensorDict({"log_prob": torch.zeros(2, 3), "reward": torch.zeros(2, 3, 2)}, batch_size=[2, 3])
    with pytest.raises(ValueError, match="reward"):
        DiCELoss()(td)


def test_keys_can_point_into_nested_agent_entries() -> None:
    loss = DiCELoss(gamma=0.9)
    loss.set_keys(log_prob=("agent", "log_prob"), reward=("agent", "reward"), value=("agent", "value"),
                  next_value=("next", "agent", "value"), other_log_prob="absent")
    logits = torch.zeros(2, requires_grad=True)
    td = TensorDict({("agent", "log_prob"): torch.log_softmax(logits, -1)[0].expand(3, 4),
                     ("agent", "reward"): torch.ones(3, 4, 1), ("agent", "value"): torch.zeros(3, 4, 1),
                     ("next", "agent", "value"): torch.zeros(3, 4, 1)}, batch_size=[3, 4])
    out = loss(td)
    assert set(out.keys()) == {"loss_objective", "loss_value"}
    assert torch.autograd.grad(out["loss_objective"], logits)[0].abs().sum() > 0
    with pytest.raises(ValueError, match="not an accepted tensordict key"):
        loss.set_keys(bootstrap="x")
