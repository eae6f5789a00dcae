"""Whole batched episodes of the switch riddle played by the shared C-Net (RIAL / DIAL, Foerster et al. 2016).

Training episodes explore epsilon-greedily and keep the autograd graph (DIAL's gradients cross the
channel, Algorithm 1); test episodes are greedy. :func:`episode_stats` scores a played batch against the
oracle on the same schedules (the paper's normalised return, Fig. 3).
"""

from __future__ import annotations

import torch
from tensordict import TensorDict, TensorDictBase

from oppshape.envs.switch_game import TELL, SwitchGame, normalized_return, oracle_reward
from oppshape.modules.comm_net import CommNet
from oppshape.modules.dru import DRU
from oppshape.objectives.episode_td import alive_mask


def epsilon_greedy(values: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Arg-max of ``values`` ``[..., K]`` over allowed entries, replaced with probability ``epsilon`` by a
    uniformly random allowed entry (vectorised over all leading dims)."""
    greedy = values.masked_fill(~mask, float("-inf")).argmax(dim=-1)
    if epsilon == 0.0:
        return greedy
    random_choice = torch.rand(values.shape, device=values.device).masked_fill(~mask, -1.0).argmax(dim=-1)
    explore = torch.rand(greedy.shape, device=values.device) < epsilon
    return torch.where(explore, random_choice, greedy)


def play_episodes(
    network: CommNet, env: SwitchGame, *, explore: bool, epsilon: float = 0.0, dru: DRU | None = None
) -> TensorDict:
    """Play one batch of episodes; returns the ``[B, T]`` trajectory (TorchRL rollout layout).

    With ``explore`` (training) the unroll records the autograd graph and stores the Q-values under
    ``("agents", "action_value")`` (RIAL: also ``"message_value"``) for the loss, and env actions (RIAL:
    messages too) are epsilon-greedy; DIAL messages are ``dru(m)`` with the drawn noise kept under
    ``("agents", "message_noise")``, and the env routes them with differentiable ops, so the graph
    crosses the channel. Without ``explore``: greedy, no graph, and whatever channel mode ``dru`` is in.
    ``dru`` is DIAL's channel (``network.protocol == "dial"``); RIAL sends one-hot messages.
    """
    batch, n = env.batch_size[0], env.n_agents
    epsilon = epsilon if explore else 0.0
    with torch.set_grad_enabled(explore):
        td = env.reset()
        hidden = network.initial_hidden(batch)
        previous_action = torch.zeros(batch, n, dtype=torch.long, device=env.device)
        previous_message = torch.zeros_like(previous_action)
        steps = []
        for day in range(env.days):
            agents = td["agents"]
            q_u, message_out, hidden = network(
                agents["observation"], agents["received_message"], previous_action, hidden, previous_message, day
            )
            mask = agents["action_mask"]
            action = epsilon_greedy(q_u.detach(), mask, epsilon)
            if network.protocol == "dial":
                noise = dru.noise_like(message_out) if explore else None
                agents["message"] = dru(message_out, noise)
                if explore:
                    agents["message_noise"] = noise
            else:
                can_send = mask[..., TELL]  # the prisoner in the room: the one whose message is delivered
                everything = torch.ones_like(message_out, dtype=torch.bool)
                choice = epsilon_greedy(message_out.detach(), everything, epsilon)
                message = torch.nn.functional.one_hot(choice, network.message_size).to(message_out.dtype)
                agents["message"] = message * can_send.unsqueeze(-1)
                previous_message = torch.where(can_send, choice + 1, torch.zeros_like(choice))
                if explore:
                    agents["message_value"] = message_out
            if explore:
                agents["action_value"] = q_u
            agents["action"] = action
            previous_action = action + 1
            td = env.step(td)
            steps.append(td)
            if td["next", "done"].all():
                break
            td = td["next"].exclude(("agents", "reward"))
        return torch.stack(steps, dim=1)


def episode_stats(trajectory: TensorDictBase, n_agents: int) -> dict[str, float]:
    """Mean return, oracle return, normalised return (reference formula) and mean episode length."""
    alive = alive_mask(trajectory["next", "done"]).squeeze(-1)  # [B, T]
    returns = (trajectory["next", "agents", "reward"][..., 0, 0] * alive).sum(dim=1)
    oracle = oracle_reward(trajectory["schedule"][:, 0], n_agents)
    return {
        "reward": returns.mean().item(),
        "oracle_reward": oracle.mean().item(),
        "reward_normalized": normalized_return(returns, oracle).item(),
        "episode_days": alive.sum(dim=1).mean().item(),
    }
