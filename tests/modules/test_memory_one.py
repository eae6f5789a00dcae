"""The three memory-one parameterizations map parameters to the right P(cooperate | state)."""

import math

import pytest
import torch

from oppshape.modules.memory_one import (
    OWN_VIEW_ONE_HOT,
    NeuralPolicy,
    PreconditionedTabularPolicy,
    TabularPolicy,
    make_memory_one_policy,
    preconditioning_matrix,
)


def test_tabular_is_sigmoid_of_its_logits() -> None:
    policy = TabularPolicy(num_seeds=2)
    with torch.no_grad():
        policy.theta.copy_(torch.tensor([[0.0, 1.0, -1.0, 2.0, -2.0], [3.0, 0.0, 0.0, 0.0, 0.0]]))
    expected = torch.tensor([[0.5, 1 / (1 + math.e**-1), 1 / (1 + math.e), 1 / (1 + math.e**-2), 1 / (1 + math.e**2)],
                             [1 / (1 + math.e**-3), 0.5, 0.5, 0.5, 0.5]])
    torch.testing.assert_close(policy(), expected)


def test_preconditioned_logits_subtract_twice_the_dd_parameter() -> None:
    policy = PreconditionedTabularPolicy(num_seeds=1)
    theta = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.5]])  # (start, CC, CD, DC, DD)
    with torch.no_grad():
        policy.theta.copy_(theta)
    # logit(s) = theta[s] - 2 theta[DD] for s != DD; logit(DD) = theta[DD]
    expected_logits = torch.tensor([[0.5 - 3.0, -1.0 - 3.0, 2.0 - 3.0, 0.0 - 3.0, 1.5]])
    torch.testing.assert_close(policy.logits(), expected_logits)
    torch.testing.assert_close(policy(), torch.sigmoid(expected_logits))


def test_preconditioned_step_on_dd_moves_every_other_state_the_other_way() -> None:
    policy = PreconditionedTabularPolicy(num_seeds=1, init_std=0.0)
    grad = torch.autograd.grad(policy.logits()[0, 0], policy.theta)[0]  # d logit(start) / d theta
    torch.testing.assert_close(grad, torch.tensor([[1.0, 0.0, 0.0, 0.0, -2.0]]))


def test_cd_preconditioning_leans_every_other_logit_on_the_own_cd_parameter() -> None:
    policy = PreconditionedTabularPolicy(num_seeds=1, state="cd")
    theta = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.5]])  # (start, CC, CD, DC, DD)
    with torch.no_grad():
        policy.theta.copy_(theta)
    # the reference's matrix before July 2022: logit(s) = theta[s] - 2 theta[CD] for s != CD
    torch.testing.assert_close(policy.logits(), torch.tensor([[0.5 - 4.0, -1.0 - 4.0, 2.0, 0.0 - 4.0, 1.5 - 4.0]]))
    assert not torch.equal(preconditioning_matrix("cd"), preconditioning_matrix("dd"))


def test_cd_preconditioning_is_the_reference_matrices_in_own_view() -> None:
    # the reference (LOLA_exact.py at 88fbfeb) orders states (DD, DC, CD, CC, start) with agent 1's action
    # first; agent 1's matrix leans on column CD, agent 2's on column DC, both "I cooperated, the other defected"
    reference_1 = torch.eye(5)
    reference_1[[0, 1, 3, 4], 2] = -2.0
    reference_2 = torch.eye(5)
    reference_2[[0, 2, 3, 4], 1] = -2.0
    to_own = {0: [4, 3, 2, 1, 0], 1: [4, 3, 1, 2, 0]}  # own-view (start, CC, CD, DC, DD) -> reference index
    theta_own = torch.randn(5)
    for agent, reference in enumerate((reference_1, reference_2)):
        theta_reference = torch.empty(5)
        theta_reference[to_own[agent]] = theta_own
        expected_own = (reference @ theta_reference)[to_own[agent]]
        torch.testing.assert_close(preconditioning_matrix("cd") @ theta_own, expected_own)


def test_own_view_inputs_encode_my_action_first() -> None:
    # columns: my D, my C, my start, other D, other C, other start
    cd_row = OWN_VIEW_ONE_HOT[2]  # CD: I cooperated, the other defected
    torch.testing.assert_close(cd_row, torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 0.0]))
    assert OWN_VIEW_ONE_HOT.sum(-1).tolist() == [2.0] * 5
    assert OWN_VIEW_ONE_HOT[0, 2] == OWN_VIEW_ONE_HOT[0, 5] == 1.0  # start state


def test_neural_policy_matches_per_seed_linear_layers() -> None:
    policy = NeuralPolicy(num_seeds=3, hidden_size=4)
    for seed in range(3):
        first = torch.nn.Linear(6, 4)
        second = torch.nn.Linear(4, 1)
        with torch.no_grad():
            first.weight.copy_(policy.w1[seed])
            first.bias.copy_(policy.b1[seed])
            second.weight.copy_(policy.w2[seed].unsqueeze(0))
            second.bias.copy_(policy.b2[seed])
        expected = torch.sigmoid(second(torch.tanh(first(OWN_VIEW_ONE_HOT)))).squeeze(-1)
        torch.testing.assert_close(policy()[seed], expected)


def test_neural_init_follows_linear_default_bounds() -> None:
    policy = NeuralPolicy(num_seeds=50, hidden_size=16)
    assert policy.w1.abs().max() <= 1 / math.sqrt(6) and policy.w2.abs().max() <= 1 / math.sqrt(16)
    assert not torch.equal(policy.w1[0], policy.w1[1])  # seeds are drawn independently


@pytest.mark.parametrize("parameterization", ["tabular", "nn", "preconditioned"])
def test_factory_shapes_dtype_and_every_parameter_has_the_seed_dimension(parameterization: str) -> None:
    policy = make_memory_one_policy(parameterization, 7, dtype=torch.float64)
    coop = policy()
    assert coop.shape == (7, 5) and coop.dtype == torch.float64
    assert ((coop > 0) & (coop < 1)).all()
    assert all(param.shape[0] == 7 for param in policy.parameters())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"parameterization": "lstm", "num_seeds": 2}, "unknown parameterization 'lstm'.*tabular, nn, preconditioned"),
        ({"parameterization": "preconditioned", "num_seeds": 2, "precondition_state": "cc"},
         "unknown precondition state 'cc'; valid choices: dd, cd"),
        ({"parameterization": "tabular", "num_seeds": 0}, "num_seeds=0"),
        ({"parameterization": "nn", "num_seeds": 2, "hidden_size": 0}, "hidden_size=0"),
        ({"parameterization": "tabular", "num_seeds": 2, "init_std": -1.0}, "init_std=-1.0"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_memory_one_policy(**kwargs)
