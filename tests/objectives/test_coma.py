"""COMALoss: the counterfactual baseline against brute force over all actions, masking, targets, recurrence."""

import itertools

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.objectives import HardUpdate, SoftUpdate, ValueEstimators

from oppshape.modules.coma_actor import epsilon_head, make_coma_actor
from oppshape.modules.coma_critic import make_coma_critic
from oppshape.objectives.coma import COMALoss

N_AGENTS, N_ACTIONS, OBS = 3, 3, 4


class JointTableCritic(nn.Module):
    """Q_a(u) read from a table over the joint action: a critic whose answer we can enumerate by hand."""

    def __init__(self, table: torch.Tensor) -> None:  # table [n, A, A, A]
        super().__init__()
        self.table = nn.Parameter(table)

    def forward(self, observation: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        out = []
        for agent in range(N_AGENTS):
            rows = []
            for own in range(N_ACTIONS):
                joint = action.clone()
                joint[..., agent] = own
                rows.append(self.table[agent][joint[..., 0], joint[..., 1], joint[..., 2]])
            out.append(torch.stack(rows, -1))
        return torch.stack(out, -2)


def make_batch(n_envs: int = 2, steps: int = 4, mask: torch.Tensor | None = None) -> TensorDict:
    def agents(**leaves):
        return TensorDict(leaves, batch_size=[n_envs, steps, N_AGENTS])

    action = torch.randint(N_ACTIONS, (n_envs, steps, N_AGENTS))
    if mask is not None:
        action = mask.float().argmax(-1)  # always an available action
    root, following = agents(observation=torch.randn(n_envs, steps, N_AGENTS, OBS), action=action), agents(
        observation=torch.randn(n_envs, steps, N_AGENTS, OBS), reward=torch.randn(n_envs, steps, N_AGENTS, 1)
    )
    if mask is not None:
        root.set("mask", mask)
        following.set("mask", mask)
    return TensorDict(
        {
            "agents": root,
            "is_init": torch.zeros(n_envs, steps, 1, dtype=torch.bool),
            "next": TensorDict(
                {
                    "agents": following,
                    "done": torch.zeros(n_envs, steps, 1, dtype=torch.bool),
                    "terminated": torch.zeros(n_envs, steps, 1, dtype=torch.bool),
                },
                batch_size=[n_envs, steps],
            ),
        },
        batch_size=[n_envs, steps],
    )


def table_loss(
    table: torch.Tensor, advantage_source: str = "q", logit_penalty: float = 0.0, **actor_kwargs,
) -> COMALoss:
    critic = TensorDictModule(
        JointTableCritic(table), in_keys=[("agents", "observation"), ("agents", "action")],
        out_keys=[("agents", "action_value")],
    )
    actor = make_coma_actor(n_agents=N_AGENTS, observation_dim=OBS, n_actions=N_ACTIONS, **actor_kwargs)
    return COMALoss(actor, critic, advantage_source=advantage_source, logit_penalty=logit_penalty)


pytestmark = pytest.mark.filterwarnings("ignore:No target network updater")


def brute_force_advantage(table: torch.Tensor, probs: torch.Tensor, action: torch.Tensor, mask=None) -> torch.Tensor:
    """Q_a(u) - sum over every available u' of pi_a(u') Q_a(u^{-a}, u'), one batch element at a time."""
    advantage = torch.zeros(*action.shape, 1)
    for index in itertools.product(*(range(s) for s in action.shape[:-1])):
        joint = action[index].tolist()
        for agent in range(N_AGENTS):
            baseline = 0.0
            for own in range(N_ACTIONS):
                if mask is not None and not mask[index][agent, own]:
                    continue
                counterfactual = list(joint)
                counterfactual[agent] = own
                baseline += probs[index][agent, own] * table[agent][tuple(counterfactual)]
            advantage[index][agent] = table[agent][tuple(joint)] - baseline
    return advantage


def test_counterfactual_advantage_matches_brute_force() -> None:
    table = torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS)
    loss = table_loss(table)
    batch = make_batch()
    out = loss(batch)
    probs = loss.policy_probs(batch).detach()
    expected = brute_force_advantage(table, probs, batch["agents", "action"])
    torch.testing.assert_close(batch["agents", "advantage"], expected)
    log_pi = probs.gather(-1, batch["agents", "action"].unsqueeze(-1)).log()
    torch.testing.assert_close(out["loss_actor"], -(expected * log_pi).mean())
    entropy = -(probs * probs.log()).sum(-1).mean()
    torch.testing.assert_close(out["loss_entropy"], -0.01 * entropy)


def test_returns_advantage_is_the_critic_target_minus_the_same_baseline() -> None:
    table = torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS)
    loss = table_loss(table, advantage_source="returns")
    batch = make_batch()
    loss(batch)
    probs = loss.policy_probs(batch).detach()
    action = batch["agents", "action"]
    q_taken = torch.stack([table[a][action[..., 0], action[..., 1], action[..., 2]] for a in range(N_AGENTS)], -1)
    baseline = q_taken.unsqueeze(-1) - brute_force_advantage(table, probs, action)
    torch.testing.assert_close(batch["agents", "advantage"], batch["agents", "value_target"] - baseline)
    with pytest.raises(ValueError, match="advantage_source='gae'; valid choices: q, returns"):
        table_loss(table, advantage_source="gae")


def test_logit_penalty_is_the_centred_square_of_the_available_logits() -> None:
    mask = torch.tensor([[True, False, True], [True, True, True], [True, False, False]]).expand(2, 4, 3, 3).clone()
    loss = table_loss(torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS), logit_penalty=0.5,
                      action_mask_key=("agents", "mask"))
    loss.set_keys(action_mask=("agents", "mask"))
    batch = make_batch(mask=mask)
    out = loss(batch)
    logits = loss.actor_network(batch.clone())["agents", "logits"].detach()
    expected = []
    for row, row_mask in zip(logits.reshape(-1, N_ACTIONS), mask.reshape(-1, N_ACTIONS)):
        z = row[row_mask]
        expected.append(((z - z.mean()) ** 2).mean())
    torch.testing.assert_close(out["loss_logits"], 0.5 * torch.stack(expected).mean())
    assert "loss_logits" not in table_loss(torch.zeros(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS))(make_batch()).keys()
    with pytest.raises(ValueError, match="logit_penalty must be >= 0"):
        table_loss(torch.zeros(1), logit_penalty=-1.0)


def test_masked_actions_are_left_out_of_the_baseline() -> None:
    mask = torch.tensor([[True, False, True], [False, True, True], [True, True, True]]).expand(2, 4, 3, 3).clone()
    table = torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS)
    table[0, 1] = 1e6  # agent 0's unavailable action 1 has a huge value: it must not leak into the baseline
    loss = table_loss(table, action_mask_key=("agents", "mask"))
    loss.set_keys(action_mask=("agents", "mask"))
    batch = make_batch(mask=mask)
    loss(batch)
    probs = loss.policy_probs(batch).detach()
    assert (probs[~mask] == 0).all()
    expected = brute_force_advantage(table, probs, batch["agents", "action"], mask)
    torch.testing.assert_close(batch["agents", "advantage"], expected)
    assert batch["agents", "advantage"].abs().max() < 100


def test_masked_actions_give_finite_gradients() -> None:
    """Masked actions have probability exactly 0; the entropy bonus must not turn that into inf * 0 = NaN."""
    mask = torch.tensor([[True, False, False], [True, True, False], [True, True, True]]).expand(2, 4, 3, 3).clone()
    loss = table_loss(torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS), action_mask_key=("agents", "mask"))
    loss.set_keys(action_mask=("agents", "mask"))
    out = loss(make_batch(mask=mask))
    (out["loss_actor"] + out["loss_entropy"]).backward()
    grads = [p.grad for p in loss.actor_network_params.values(True, True) if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_targets_bootstrap_from_the_next_joint_action_and_stop_at_termination() -> None:
    table = torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS)
    loss = table_loss(table)
    loss.make_value_estimator(ValueEstimators.TD0, gamma=0.9)
    batch = make_batch(n_envs=1, steps=4)
    batch["next", "done"][0, 1] = batch["next", "terminated"][0, 1] = True
    loss(batch)
    target = batch["agents", "value_target"][0, :, :, 0]
    reward, action = batch["next", "agents", "reward"][0, :, :, 0], batch["agents", "action"][0]
    for t in (0, 2):  # the next joint action is the one taken at t + 1
        next_q = torch.stack([table[a][tuple(action[t + 1].tolist())] for a in range(N_AGENTS)])
        torch.testing.assert_close(target[t], reward[t] + 0.9 * next_q)
    torch.testing.assert_close(target[1], reward[1])  # terminated: no bootstrap


def test_recurrent_actor_is_unrolled_over_time_in_the_loss() -> None:
    actor = make_coma_actor(n_agents=N_AGENTS, observation_dim=OBS, n_actions=N_ACTIONS, recurrent=True, hidden_size=8)
    critic = make_coma_critic(n_agents=N_AGENTS, n_actions=N_ACTIONS, observation_dim=OBS)
    loss = COMALoss(actor, critic)
    batch = make_batch(n_envs=3, steps=5)
    batch["is_init"][0, 0] = batch["is_init"][1, 2] = batch["is_init"][2, 4] = True
    batch["agents", "rnn_hidden"] = torch.randn(3, 1, N_AGENTS, 8).expand(3, 5, N_AGENTS, 8)
    batch["next", "agents", "rnn_hidden"] = torch.randn(3, 5, N_AGENTS, 8)
    unrolled = loss.policy_probs(batch)
    hidden = batch["agents", "rnn_hidden"][:, 0]
    for t in range(5):  # the same policy stepped through time, all envs at once
        step = batch[:, t].select(("agents", "observation"), "is_init").set(("agents", "rnn_hidden"), hidden)
        step = actor(step)
        torch.testing.assert_close(unrolled[:, t], step["agents", "probs"])
        hidden = step["next", "agents", "rnn_hidden"]
    out = loss(batch)
    torch.autograd.backward([out["loss_actor"], out["loss_critic"]])
    assert all(p.grad is not None for p in loss.actor_network_params.values(True, True) if p.requires_grad)


def test_loss_uses_the_actor_current_epsilon() -> None:
    loss = table_loss(torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS), eps_init=1.0, eps_end=0.0,
                      annealing_frames=10)
    batch = make_batch()
    torch.testing.assert_close(loss.policy_probs(batch), torch.full((2, 4, N_AGENTS, N_ACTIONS), 1 / 3))
    epsilon_head(loss.actor_network).step(10)
    assert loss.policy_probs(batch).max() > 0.34


def test_shared_and_team_rewards() -> None:
    table = torch.zeros(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS)
    loss = table_loss(table)
    loss.make_value_estimator("td_lambda", gamma=0.0)  # target = reward
    batch = make_batch()

    def targets() -> torch.Tensor:
        fresh = batch.exclude(("agents", "value_target"))
        loss(fresh)
        return fresh["agents", "value_target"]

    torch.testing.assert_close(targets(), batch["next", "agents", "reward"])
    loss.team_reward = True
    team = batch["next", "agents", "reward"].mean(-2, keepdim=True).expand(2, 4, N_AGENTS, 1)
    torch.testing.assert_close(targets(), team)
    loss.team_reward = False
    loss.set_keys(reward="reward")
    batch["next", "reward"] = torch.randn(2, 4, 1)
    torch.testing.assert_close(targets(), batch["next", "reward"].unsqueeze(-2).expand(2, 4, 3, 1))


def test_targets_are_computed_once_per_batch_and_critic_loss_matches_forward() -> None:
    loss = table_loss(torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS))
    batch = make_batch()
    first = loss(batch)["loss_critic"]
    stored = batch["agents", "value_target"].clone()
    torch.testing.assert_close(loss.loss_critic(batch), first)
    torch.testing.assert_close(batch["agents", "value_target"], stored)


def test_target_critic_follows_soft_and_hard_updates() -> None:
    def online_and_target(loss: COMALoss) -> tuple[torch.Tensor, torch.Tensor]:
        return loss.critic_network_params["module", "table"], loss.target_critic_network_params["module", "table"]

    loss = table_loss(torch.zeros(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS))
    online, target = online_and_target(loss)
    soft = SoftUpdate(loss, tau=0.25)
    with torch.no_grad():
        online.add_(4.0)
    soft.step()  # target <- 0.75 * 0 + 0.25 * 4
    torch.testing.assert_close(target, torch.ones_like(target))

    loss = table_loss(torch.zeros(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS))
    online, target = online_and_target(loss)
    hard = HardUpdate(loss, value_network_update_interval=2)
    with torch.no_grad():
        online.add_(4.0)
    for _ in range(2):
        hard.step()
        torch.testing.assert_close(target, torch.zeros_like(target))
    hard.step()  # TorchRL's HardUpdate copies once its counter has reached the interval
    torch.testing.assert_close(target, online.detach())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda loss: loss.make_value_estimator("gae"), "valid choices: td_lambda"),
        (lambda loss: loss.make_value_estimator("td_lambda", n_steps=5), "unknown hyperparameters"),
        (lambda loss: loss.make_value_estimator("td_lambda", gamma=1.5), "gamma"),
    ],
)
def test_bad_target_settings_are_named(call, message: str) -> None:
    loss = table_loss(torch.zeros(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS))
    with pytest.raises(ValueError, match=message):
        call(loss)


def test_bad_loss_settings_are_named() -> None:
    actor = make_coma_actor(n_agents=2, observation_dim=3, n_actions=4)
    critic = make_coma_critic(n_agents=2, observation_dim=3, n_actions=4)
    with pytest.raises(ValueError, match="loss_critic_type='huber'; valid choices: l2, l1, smooth_l1"):
        COMALoss(actor, critic, loss_critic_type="huber")
    with pytest.raises(ValueError, match="entropy_coeff"):
        COMALoss(actor, critic, entropy_coeff=-1.0)


def test_the_batch_keeps_the_raw_advantage_and_its_mean_is_logged() -> None:
    """The batch keeps the raw advantage (losses normalise what they read) and the log shows its mean, not ~0."""
    loss = table_loss(torch.randn(N_AGENTS, N_ACTIONS, N_ACTIONS, N_ACTIONS))
    loss.normalize_advantage = True
    batch = make_batch()
    first = loss(batch)
    raw = batch["agents", "advantage"].clone()
    assert raw.std() > 0.1 and abs(raw.mean()) > 1e-3  # a raw advantage, not a standardised one
    torch.testing.assert_close(first["advantage_mean"], raw.mean())
    again = loss(batch)
    torch.testing.assert_close(batch["agents", "advantage"], raw)
    torch.testing.assert_close(again["loss_actor"], first["loss_actor"])  # same pi, same normalised advantage
