"""The opponent's differentiable look-ahead: LOLA gradients against brute-force finite differences,
the Taylor variant, and agreement of the vectorized and ``higher`` backends."""

import copy

import pytest
import torch

from oppshape.games.payoffs import payoff_table
from oppshape.objectives.exact_lookahead import lookahead_opponent, taylor_lookahead_value
from oppshape.objectives.exact_terms import agent_value, bernoulli_kl
from oppshape.modules.memory_one import make_memory_one_policy

GAMMA = 0.96
PAYOFF = payoff_table("ipd_cf", cf=1.33).double()


def _fd_grad(fn, x: torch.Tensor, h: float) -> torch.Tensor:
    """Central finite-difference gradient of a scalar function of a 1-d tensor."""
    grad = torch.zeros_like(x)
    for k in range(x.numel()):
        step = torch.zeros_like(x)
        step[k] = h
        grad[k] = (fn(x + step) - fn(x - step)) / (2 * h)
    return grad


def _brute_force_lookahead_value(theta_i, theta_j, agent, inner_lr, inner_steps, inner_beta):
    """V_i(theta_i, theta_j') with theta_j' from SGD steps whose gradients are finite differences."""
    start_j = torch.sigmoid(theta_j)

    def inner_loss(theta):
        coop_j = torch.sigmoid(theta)
        return -agent_value(coop_j, torch.sigmoid(theta_i), 1 - agent, PAYOFF, GAMMA) + inner_beta * bernoulli_kl(
            start_j, coop_j
        )

    theta = theta_j.clone()
    for _ in range(inner_steps):
        theta = theta - inner_lr * _fd_grad(inner_loss, theta, h=1e-4)
    return agent_value(torch.sigmoid(theta_i), torch.sigmoid(theta), agent, PAYOFF, GAMMA)


@pytest.mark.parametrize(("agent", "inner_steps", "inner_beta"), [(0, 1, 0.0), (1, 1, 0.0), (0, 3, 0.7)])
def test_exact_lola_gradient_matches_nested_finite_differences(agent: int, inner_steps: int, inner_beta: float) -> None:
    me = make_memory_one_policy("tabular", 1, init_std=1.0, dtype=torch.float64)
    opponent = make_memory_one_policy("tabular", 1, init_std=1.0, dtype=torch.float64)
    inner_lr = 2.0
    coop_other = lookahead_opponent(
        opponent, me(), agent, PAYOFF, GAMMA, inner_lr=inner_lr, inner_steps=inner_steps, inner_beta=inner_beta
    )
    value = agent_value(me(), coop_other, agent, PAYOFF, GAMMA)
    grad = torch.autograd.grad(value.sum(), me.theta)[0][0]
    theta_j = opponent.theta.detach()[0]
    expected = _fd_grad(
        lambda theta_i: _brute_force_lookahead_value(theta_i, theta_j, agent, inner_lr, inner_steps, inner_beta),
        me.theta.detach()[0],
        h=1e-3,
    )
    torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-6)
    # and the shaping term matters: the gradient differs from the naive one
    naive = torch.autograd.grad(agent_value(me(), opponent().detach(), agent, PAYOFF, GAMMA).sum(), me.theta)[0][0]
    assert (grad - naive).abs().max() > 1e-2


def test_taylor_lola_gradient_matches_finite_differences_of_the_first_order_objective() -> None:
    me = make_memory_one_policy("tabular", 1, init_std=1.0, dtype=torch.float64)
    opponent = make_memory_one_policy("tabular", 1, init_std=1.0, dtype=torch.float64)
    inner_lr = 0.7
    grad = torch.autograd.grad(taylor_lookahead_value(opponent, me(), 0, PAYOFF, GAMMA, inner_lr).sum(), me.theta)[0][0]
    theta_j = opponent.theta.detach()[0]

    def objective(theta_i):
        # V_1 + eta <grad_2 V_1, grad_2 V_2>, inner gradients by finite differences
        def value(agent):
            return lambda theta: agent_value(
                torch.sigmoid(theta_i) if agent == 0 else torch.sigmoid(theta),
                torch.sigmoid(theta) if agent == 0 else torch.sigmoid(theta_i),
                agent, PAYOFF, GAMMA,
            )

        grad_1 = _fd_grad(value(0), theta_j, h=1e-4)
        grad_2 = _fd_grad(value(1), theta_j, h=1e-4)
        return value(0)(theta_j) + inner_lr * (grad_1 * grad_2).sum()

    expected = _fd_grad(objective, me.theta.detach()[0], h=1e-3)
    torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-6)


def test_taylor_objective_is_first_order_in_the_step_size() -> None:
    me = make_memory_one_policy("tabular", 3, init_std=1.0, dtype=torch.float64)
    opponent = make_memory_one_policy("tabular", 3, init_std=1.0, dtype=torch.float64)
    gaps = []
    for inner_lr in (1e-2, 5e-3):
        exact = agent_value(me(), lookahead_opponent(opponent, me(), 0, PAYOFF, GAMMA, inner_lr=inner_lr), 0, PAYOFF, GAMMA)
        gaps.append((exact - taylor_lookahead_value(opponent, me(), 0, PAYOFF, GAMMA, inner_lr)).abs().max())
    assert 3.0 < gaps[0] / gaps[1] < 5.0  # the remainder is O(eta^2): halving eta quarters it


@pytest.mark.parametrize("parameterization", ["tabular", "nn", "preconditioned"])
def test_higher_and_vectorized_backends_agree(parameterization: str) -> None:
    me = make_memory_one_policy(parameterization, 4, dtype=torch.float64)
    opponent = make_memory_one_policy(parameterization, 4, dtype=torch.float64)
    results = {}
    for backend in ("vectorized", "higher"):
        coop_other = lookahead_opponent(
            opponent, me(), 1, PAYOFF, GAMMA, inner_lr=0.4, inner_steps=3, inner_beta=0.5, backend=backend
        )
        value = agent_value(me(), coop_other, 1, PAYOFF, GAMMA)
        results[backend] = (coop_other.detach(), torch.autograd.grad(value.sum(), list(me.parameters())))
    torch.testing.assert_close(results["vectorized"][0], results["higher"][0])
    for vectorized, with_higher in zip(results["vectorized"][1], results["higher"][1]):
        torch.testing.assert_close(vectorized, with_higher)


def test_lookahead_leaves_the_opponent_unchanged_and_seeds_independent() -> None:
    me = make_memory_one_policy("nn", 3, dtype=torch.float64)
    opponent = make_memory_one_policy("nn", 3, dtype=torch.float64)
    before = copy.deepcopy(opponent.state_dict())
    coop_other = lookahead_opponent(opponent, me(), 0, PAYOFF, GAMMA, inner_lr=0.5)
    for key, value in opponent.state_dict().items():
        torch.testing.assert_close(value, before[key])
    grads = torch.autograd.grad(coop_other[1].sum(), list(me.parameters()))
    assert all(grad[[0, 2]].abs().max() == 0 for grad in grads)  # seed 1's look-ahead ignores seeds 0, 2


def test_higher_adam_first_step_is_sign_sgd_with_the_reference_betas() -> None:
    # betas (0, 0.99): m = g, v = 0.01 g^2, bias-corrected step = lr * g / (|g| + eps)
    me = make_memory_one_policy("tabular", 2, dtype=torch.float64)
    opponent = make_memory_one_policy("tabular", 2, dtype=torch.float64)
    inner_lr = 0.1
    coop_other = lookahead_opponent(
        opponent, me(), 0, PAYOFF, GAMMA, inner_lr=inner_lr, inner_optimizer="adam", backend="higher"
    )
    theta = opponent.theta.detach().requires_grad_()
    grad = torch.autograd.grad(-agent_value(torch.sigmoid(theta), me().detach(), 1, PAYOFF, GAMMA).sum(), theta)[0]
    expected = torch.sigmoid(theta.detach() - inner_lr * grad / (grad.abs() + 1e-8))
    torch.testing.assert_close(coop_other.detach(), expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backend": "jax"}, "unknown backend 'jax'; valid choices: vectorized, higher"),
        ({"inner_optimizer": "rmsprop"}, "unknown inner_optimizer 'rmsprop'; valid choices: sgd, adam"),
        ({"inner_optimizer": "adam"}, "needs backend='higher'"),
    ],
)
def test_bad_lookahead_arguments_raise(kwargs: dict, match: str) -> None:
    me = make_memory_one_policy("tabular", 1)
    with pytest.raises(ValueError, match=match):
        lookahead_opponent(me, me(), 0, PAYOFF.float(), GAMMA, inner_lr=1.0, **kwargs)
