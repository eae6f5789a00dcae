"""A learned best response: recurrent PPO trained against a frozen entrant (exploitability where no exact one exists).

The responder is POLA's GRU network (:class:`oppshape.modules.gru_policy.GRUNet`: dense, ReLU, GRU,
head) with one head for the action logits and the state value (a shared trunk halves the cost), reading its seat's observation (the IPD's one-hot memory-1 state or
the Coin Game's egocentric planes) and the one-hot step index, plus a learned bias per step added to
its logits and value: an optimal responder to a fixed policy over a finite episode is non-stationary
(against tit-for-tat it defects at the last step only), so it must know the time (Pardo et al. 2018,
time-aware agents), and a per-step bias learns "defect at the end" from the few samples of that step
where a time input shared with the GRU does not (measured: without it PPO cooperates throughout
against tit-for-tat); the GRU carries the history a non-Markov entrant needs. Training is PPO (Schulman et al. 2017, eq. 7, clip 0.2) on whole episodes, with GAE
(TorchRL's ``generalized_advantage_estimate``, undiscounted: the league scores the mean reward per step)
and a linearly decaying entropy bonus.

All responders train at once: for each of the entrant's ``S`` seeds, ``seeds`` responders with
independent initializations are stacked on the networks' leading dimension (``M = S * seeds``), every
loss is a sum over members of per-member means and Adam is elementwise, so each member follows exactly
its own PPO run. The best member per entrant seed (by its evaluation) is reported, greedy or sampled,
whichever scores higher.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchrl.objectives.value.functional import generalized_advantage_estimate

from oppshape.eval.league.games import SeatView
from oppshape.eval.league.policy import LeaguePolicy, sample
from oppshape.modules.gru_policy import GRUNet, gru_net_step, unroll


@dataclass(frozen=True)
class LearnedResponseSettings:
    """The responder's budget and PPO hyperparameters."""

    frames: int = 1_000_000  # environment steps per responder (its training budget)
    seeds: int = 4  # independent responders per entrant seed; the best is reported
    episodes: int = 64  # episodes per PPO batch and responder
    hidden_size: int = 32  # width of the dense layer and the GRU
    lr: float = 0.01  # Adam step of the policy and value nets
    epochs: int = 4  # PPO passes over each batch
    clip: float = 0.2  # PPO ratio clip
    lmbda: float = 0.95  # GAE lambda
    entropy_coeff: float = 0.05  # entropy bonus at the start, decayed linearly to 0
    eval_episodes: int = 1000  # episodes per responder in the final evaluation


@dataclass
class LearnedBestResponse:
    """Per entrant seed: the best responder's rewards, which member it was, and how it acted.

    Attributes:
        responder_reward, entrant_reward: ``[S]`` mean rewards per step of the best responder and the entrant.
        best_member: ``[S]`` the chosen responder seed (``0 .. seeds - 1``).
        greedy: ``[S]`` bool, whether the greedy (argmax) or the sampled responder scored higher.
        member_rewards: ``[S, seeds]`` every responder's best evaluated reward.
    """

    responder_reward: torch.Tensor
    entrant_reward: torch.Tensor
    best_member: torch.Tensor
    greedy: torch.Tensor
    member_rewards: torch.Tensor


class Responder:
    """The stacked responders (``M`` members) and one episode batch's rollout against the entrant."""

    def __init__(self, game, members: int, hidden_size: int, device: torch.device | str) -> None:
        self.game = game
        obs_dim = 5 if game.n_actions == 2 else 4 * game.n_cells
        self.input_dim = obs_dim + game.episode_length
        self.net = GRUNet(self.input_dim, game.n_actions + 1, hidden_size, members).to(device)  # logits, value
        self.step_bias = torch.zeros(game.episode_length, members, 1, game.n_actions + 1, device=device,
                                     requires_grad=True)  # [T, M, 1, A + 1]
        self.members = members

    def parameters(self) -> list[torch.Tensor]:
        return [*self.net.parameters(), self.step_bias]

    def features(self, view: SeatView) -> torch.Tensor:
        """``[N, input_dim]``: the seat's observation and the one-hot step."""
        obs = view.one_hot_state() if self.game.n_actions == 2 else view.coin_planes()
        clock = F.one_hot(torch.full((obs.shape[0],), view.step, device=obs.device), self.game.episode_length)
        return torch.cat((obs, clock.to(obs)), dim=-1)

    @torch.no_grad()
    def rollout(self, entrant: LeaguePolicy, episodes: int, generator: torch.Generator, greedy: bool = False
                ) -> dict[str, torch.Tensor]:
        """``episodes`` games per member, entrant in seat 0; time-major ``[T, M, E, ...]`` records."""
        game, members = self.game, self.members
        n = members * episodes
        per_entrant_seed = members // entrant.num_seeds
        entrant.reset(torch.arange(n, device=game.device) // (per_entrant_seed * episodes))
        state = game.initial_state(n)
        hidden = self.net.initial_hidden(episodes)
        record: dict[str, list[torch.Tensor]] = {"features": [], "action": [], "log_prob": [], "value": [], "reward": []}
        for step in range(game.episode_length):
            features = self.features(SeatView(game, state, 1, step))
            output, hidden = gru_net_step(self.net.params(), features.reshape(members, episodes, -1), hidden)
            output = output + self.step_bias[step]
            probs = torch.softmax(output[..., :-1].reshape(n, -1), dim=-1)
            action = probs.argmax(dim=-1) if greedy else sample(probs, generator)
            joint = torch.stack((entrant.act(SeatView(game, state, 0, step), generator), action), dim=-1)
            outcome = game.transition(state, joint)
            state = outcome.state
            record["features"].append(features.reshape(members, episodes, -1))
            record["action"].append(action.reshape(members, episodes))
            record["log_prob"].append(probs.gather(1, action[:, None]).log().reshape(members, episodes))
            record["value"].append(output[..., -1:])
            record["reward"].append(outcome.reward.reshape(members, episodes, 2))
        return {key: torch.stack(values) for key, values in record.items()}

    def ppo_step(self, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                 settings: LearnedResponseSettings, entropy_coeff: float) -> None:
        """``settings.epochs`` PPO passes over one batch (whole episodes, recurrent state from zero)."""
        with torch.no_grad():
            value = batch["value"]  # [T, M, E, 1]
            reward = batch["reward"][..., 1:]
            next_value = torch.cat((value[1:], torch.zeros_like(value[:1])))
            done = torch.zeros_like(reward, dtype=torch.bool)
            done[-1] = True
            # GAE wants time at dim -2: [M, E, T, 1]
            advantage, target = generalized_advantage_estimate(
                1.0, settings.lmbda, *(x.permute(1, 2, 0, 3) for x in (value, next_value, reward, done)))
            advantage, target = advantage.permute(2, 0, 1, 3).squeeze(-1), target.permute(2, 0, 1, 3).squeeze(-1)
            # scaled, not centred: with a near-deterministic policy, centring hands the common action a
            # positive advantage that PPO's clip never stops (its ratio cannot reach 1 + clip), which
            # drowns the rare better action at the last step
            advantage = advantage / advantage.std(dim=(0, 2), keepdim=True).clamp_min(1e-6)
        for _ in range(settings.epochs):
            output = unroll(self.net.params(), batch["features"]) + self.step_bias
            log_probs = torch.log_softmax(output[..., :-1], dim=-1)
            log_prob = log_probs.gather(-1, batch["action"][..., None]).squeeze(-1)
            ratio = torch.exp(log_prob - batch["log_prob"])
            clipped = torch.clamp(ratio, 1 - settings.clip, 1 + settings.clip)
            policy_loss = -torch.minimum(ratio * advantage, clipped * advantage)
            entropy = -(log_probs.exp() * log_probs).sum(-1)
            value_loss = (output[..., -1] - target).pow(2)
            per_member = (policy_loss - entropy_coeff * entropy + 0.5 * value_loss).mean(dim=(0, 2))
            optimizer.zero_grad()
            per_member.sum().backward()
            optimizer.step()


def learned_best_response(game, entrant: LeaguePolicy, settings: LearnedResponseSettings, seed: int
                          ) -> LearnedBestResponse:
    """Train ``settings.seeds`` PPO responders per entrant seed (seat 1) and report the best of each."""
    generator = torch.Generator(device=game.device)
    generator.manual_seed(seed)
    game.set_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the responders' initial weights
        responder = Responder(game, entrant.num_seeds * settings.seeds, settings.hidden_size, game.device)
    optimizer = torch.optim.Adam(responder.parameters(), lr=settings.lr)
    iterations = max(1, settings.frames // (settings.episodes * game.episode_length))
    for iteration in range(iterations):
        batch = responder.rollout(entrant, settings.episodes, generator)
        responder.ppo_step(batch, optimizer, settings, settings.entropy_coeff * (1 - iteration / iterations))
    scores = []
    for greedy in (True, False):
        reward = responder.rollout(entrant, settings.eval_episodes, generator, greedy)["reward"].mean(dim=(0, 2))
        scores.append(reward.reshape(entrant.num_seeds, settings.seeds, 2))  # [S, seeds, 2]
    stacked = torch.stack(scores)  # [mode, S, seeds, 2]: mode 0 greedy, 1 sampled
    best_mode = stacked[..., 1].argmax(dim=0)  # [S, seeds]
    member = stacked.gather(0, best_mode[None, ..., None].expand(1, *best_mode.shape, 2)).squeeze(0)
    best = member[..., 1].argmax(dim=-1)  # [S]
    chosen = member.gather(1, best[:, None, None].expand(-1, 1, 2)).squeeze(1)
    greedy = best_mode.gather(1, best[:, None]).squeeze(1) == 0
    return LearnedBestResponse(chosen[:, 1], chosen[:, 0], best, greedy, member[..., 1])
