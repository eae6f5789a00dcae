"""The switch riddle of Foerster et al. (2016), "Learning to Communicate with Deep Multi-Agent RL", Sec. 6.1.

``n`` prisoners, ``4n - 6`` days. Each day one prisoner, drawn uniformly and independently, is in
the interrogation room; only they may Tell ("everyone has been here"). The light switch is a 1-bit
channel: the prisoner in the room on day ``t`` receives the message sent by the prisoner who was in
the room on day ``t - 1``. Messages are an action (``("agents", "message")``) routed to an
observation (``("agents", "received_message")``) by a matrix product with
``("agents", "message_sources")``, so a DIAL learner can backpropagate through the channel.
"""

from __future__ import annotations

import math

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Binary, Bounded, Composite
from torchrl.envs import EnvBase

from oppshape.envs.specs import agents_action_spec, agents_reward_spec, done_spec, step_output

NONE, TELL = 0, 1
N_ACTIONS = 2


def switch_days(n_agents: int) -> int:
    """Episode length of the riddle with ``n_agents`` prisoners: ``4n - 6`` days (paper Sec. 6.1)."""
    return 4 * n_agents - 6


def oracle_reward(schedule: torch.Tensor, n_agents: int) -> torch.Tensor:
    """Return of an agent who knows the schedule: 1 if every prisoner visits at some day, else 0.

    Args:
        schedule: ``[B, days]`` index of the prisoner in the room each day.
        n_agents: number of prisoners.

    Returns:
        ``[B]`` float.
    """
    visited = torch.nn.functional.one_hot(schedule, n_agents).amax(dim=-2)  # [B, n]
    return visited.all(dim=-1).to(torch.float32)


def expected_oracle_reward(n_agents: int, days: int | None = None) -> float:
    """P(every prisoner is in the room at least once in ``days`` days), by inclusion-exclusion.

    ``sum_k (-1)^k C(n, k) ((n - k) / n)^days``: 540/729 = 0.7407 for n=3 (6 days), 0.7806 for n=4.
    """
    days = switch_days(n_agents) if days is None else days
    return sum(
        (-1) ** k * math.comb(n_agents, k) * ((n_agents - k) / n_agents) ** days for k in range(n_agents + 1)
    )


def last_day_rule_return(n_agents: int) -> float:
    """Expected return without communication of the Bayes-optimal last-day rule (a reference, not a proven
    optimum): nobody tells before the last day; the prisoner in the room then tells iff, given only how
    often they have been in the room, P(everyone has been) > 1/2.

    Given ``k`` own visits the other ``D - k`` days are uniform over the other ``n - 1`` prisoners, so
    P(all of them appear) is the inclusion-exclusion sum of :func:`expected_oracle_reward` over ``n - 1``
    prisoners and ``D - k`` days; telling is worth ``2 P - 1``. 0.527 for n=3 (0.711 of the oracle), 0.572 for n=4 (0.732).
    """
    days = switch_days(n_agents)
    total = 0.0
    for earlier in range(days):  # own visits before the last day, Binomial(days - 1, 1 / n)
        p_visits = math.comb(days - 1, earlier) * (1 / n_agents) ** earlier * (1 - 1 / n_agents) ** (days - 1 - earlier)
        others_days = days - 1 - earlier
        p_all = expected_oracle_reward(n_agents - 1, others_days) if others_days > 0 else 0.0
        total += p_visits * max(0.0, 2.0 * p_all - 1.0)
    return total


def normalized_return(returns: torch.Tensor, oracle: torch.Tensor) -> torch.Tensor:
    """Mean return over mean oracle return on the same schedules, the reference's test metric.

    1 when the two means are equal (including a batch where both are 0), 0 when the oracle's mean is
    0 but the return's is not, else their ratio.
    """
    mean_return, mean_oracle = returns.mean(), oracle.mean()
    ratio = mean_return / mean_oracle.clamp_min(torch.finfo(mean_oracle.dtype).tiny)
    ratio = torch.where(mean_oracle == 0, torch.zeros_like(ratio), ratio)
    return torch.where(mean_return == mean_oracle, torch.ones_like(ratio), ratio)


class SwitchGame(EnvBase):
    """Batched switch riddle with a differentiable 1-bit (or ``message_size``-dim) channel.

    Args:
        n_agents: number of prisoners, at least 2; the episode lasts ``4 * n_agents - 6`` days.
        num_envs: games stepped together (the batch size ``B``).
        message_size: width ``M`` of a message (1 for DIAL's bit; RIAL sends a one-hot of 2).
        communication: ``False`` removes the channel (the riddle without communication, for COMA):
            no message keys; each prisoner observes ``[in_room, one_hot(day)]`` ``[B, n, 1 + D]``
            (the paper's agents also see the day) and a global ``"state"`` ``[B, 3n + D]`` =
            ``[visited so far, visits so far / D, in_room, one_hot(day)]`` is exposed for a centralised
            critic (the visit counts are what the prisoners' own histories tell them).
        device: where the schedules live.

    Keys (``n = n_agents``, ``D = days``):
        ``("agents", "observation")`` ``[B, n, 1]``: 1 for the prisoner in the room today.
        ``("agents", "received_message")`` ``[B, n, M]``: yesterday's sender's message for today's
        prisoner (zeros for everyone else and on day 0).
        ``("agents", "message_sources")`` ``[B, n, n]``: row ``i`` one-hot on the agent whose message
        agent ``i`` received today (zeros if none); ``received = message_sources @ message``.
        ``("agents", "action_mask")`` ``[B, n, 2]``: None is always allowed, Tell only in the room.
        ``("agents", "action")`` ``[B, n]`` (0 = None, 1 = Tell; only the room's prisoner's counts),
        ``("agents", "message")`` ``[B, n, M]`` in ``[0, 1]`` (only the room's prisoner's is sent),
        ``("agents", "reward")`` ``[B, n, 1]`` (shared), ``"schedule"`` ``[B, D]``, ``"day"``
        ``[B, 1]``, root ``done`` / ``terminated`` / ``truncated`` ``[B, 1]``.

    Tell ends the game with +1 if every prisoner has been in the room on some day up to and including
    today, else -1; without a Tell the game ends after the last day with 0. The last day is a true end
    of the game (``terminated``), not a truncation: there is nothing to bootstrap from.
    ``reset(td)`` with ``"schedule"`` in ``td`` plays that schedule instead of drawing one.
    """

    batch_locked = True

    def __init__(
        self,
        n_agents: int = 3,
        num_envs: int = 1,
        message_size: int = 1,
        communication: bool = True,
        device: torch.device | str = "cpu",
    ) -> None:
        if n_agents < 2:
            raise ValueError(f"n_agents={n_agents} must be >= 2")
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs} must be >= 1")
        if message_size < 1:
            raise ValueError(f"message_size={message_size} must be >= 1")
        super().__init__(device=device, batch_size=torch.Size([num_envs]))
        self.n_agents = n_agents
        self.days = switch_days(n_agents)
        self.message_size = message_size
        self.communication = communication
        self._generator: torch.Generator | None = None
        self._make_specs()

    def _make_specs(self) -> None:
        batch, n, device = self.batch_size, self.n_agents, self.device
        agents_shape = (*batch, n)
        schedule = Bounded(0, n - 1, shape=(*batch, self.days), dtype=torch.int64, device=device)
        day = Bounded(0, self.days, shape=(*batch, 1), dtype=torch.int64, device=device)
        agents = {"action_mask": Binary(N_ACTIONS, shape=(*agents_shape, N_ACTIONS), dtype=torch.bool, device=device)}
        root, actions = {"schedule": schedule, "day": day}, {}
        if self.communication:
            agents["observation"] = Bounded(0, 1, shape=(*agents_shape, 1), device=device)
            agents["received_message"] = Bounded(0, 1, shape=(*agents_shape, self.message_size), device=device)
            agents["message_sources"] = Bounded(0, 1, shape=(*agents_shape, n), device=device)
            actions["message"] = Bounded(0, 1, shape=(*agents_shape, self.message_size), device=device)
        else:
            agents["observation"] = Bounded(0, 1, shape=(*agents_shape, 1 + self.days), device=device)
            root["state"] = Bounded(0, 1, shape=(*batch, 3 * n + self.days), device=device)
        self.full_observation_spec = Composite(
            agents=Composite(**agents, shape=agents_shape, device=device), **root, shape=batch, device=device
        )
        self.full_state_spec = Composite(schedule=schedule.clone(), day=day.clone(), shape=batch, device=device)
        self.full_action_spec = agents_action_spec(batch, n, N_ACTIONS, device, **actions)
        self.full_reward_spec = agents_reward_spec(batch, n, device)
        self.full_done_spec = done_spec(batch, device)

    def _in_room(self, schedule: torch.Tensor, day: torch.Tensor) -> torch.Tensor:
        """``[B, n]`` one-hot of the prisoner in the room on ``day`` (``[B, 1]``, clamped to the last day)."""
        today = schedule.gather(-1, day.clamp(max=self.days - 1)).squeeze(-1)
        return torch.nn.functional.one_hot(today, self.n_agents)

    def _visits(self, schedule: torch.Tensor, day: torch.Tensor) -> torch.Tensor:
        """``[B, n]`` int: how often each prisoner has been in the room up to and including ``day``."""
        past = torch.arange(self.days, device=self.device) <= day  # [B, D]
        return (torch.nn.functional.one_hot(schedule, self.n_agents) * past.unsqueeze(-1)).sum(dim=-2)

    def _output(
        self,
        schedule: torch.Tensor,
        day: torch.Tensor,
        message_sources: torch.Tensor | None,
        received: torch.Tensor | None,
        reward: torch.Tensor | None,
        terminated: torch.Tensor,
    ) -> TensorDict:
        in_room = self._in_room(schedule, day)
        action_mask = torch.stack([torch.ones_like(in_room, dtype=torch.bool), in_room.bool()], dim=-1)
        agents = {"action_mask": action_mask}
        root = {"schedule": schedule, "day": day}
        if self.communication:
            agents.update(observation=in_room.unsqueeze(-1).to(torch.float32), received_message=received,
                          message_sources=message_sources)
        else:
            today = torch.nn.functional.one_hot(day.squeeze(-1).clamp(max=self.days - 1), self.days)
            agents["observation"] = torch.cat(
                [in_room.unsqueeze(-1), today.unsqueeze(-2).expand(*in_room.shape, self.days)], dim=-1
            ).to(torch.float32)
            visits = self._visits(schedule, day)
            root["state"] = torch.cat([visits > 0, visits / self.days, in_room, today], dim=-1).to(torch.float32)
        if reward is not None:
            agents["reward"] = reward
        return step_output(self, self.n_agents, agents, root, terminated=terminated)

    def sample_schedule(self) -> torch.Tensor:
        """``[B, days]`` prisoner in the room each day, uniform and independent (paper Sec. 6.1)."""
        return torch.randint(
            self.n_agents, (*self.batch_size, self.days), generator=self._generator, device=self.device
        )

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDict:
        given = tensordict is not None and "schedule" in tensordict.keys()
        schedule = tensordict["schedule"].to(self.device, torch.int64) if given else self.sample_schedule()
        if schedule.shape != (*self.batch_size, self.days):
            raise ValueError(f"schedule has shape {tuple(schedule.shape)}; expected {(*self.batch_size, self.days)}")
        if given and (schedule.min() < 0 or schedule.max() >= self.n_agents):
            raise ValueError(f"schedule entries must be agent indices in [0, {self.n_agents - 1}]")
        day = torch.zeros((*self.batch_size, 1), dtype=torch.int64, device=self.device)
        terminated = torch.zeros((*self.batch_size, 1), dtype=torch.bool, device=self.device)
        if tensordict is not None and "_reset" in tensordict.keys() and "day" in tensordict.keys():
            keep = ~tensordict["_reset"].reshape(*self.batch_size, 1)
            if not given:
                schedule = torch.where(keep, tensordict["schedule"], schedule)
            day = torch.where(keep, tensordict["day"], day)
        n, m = self.n_agents, self.message_size
        sources = torch.zeros((*self.batch_size, n, n), device=self.device) if self.communication else None
        received = torch.zeros((*self.batch_size, n, m), device=self.device) if self.communication else None
        return self._output(schedule, day, sources, received, reward=None, terminated=terminated)

    def _step(self, tensordict: TensorDictBase) -> TensorDict:
        schedule, day = tensordict["schedule"], tensordict["day"]
        in_room_today = self._in_room(schedule, day)  # [B, n]
        tells = (tensordict["agents", "action"].long() == TELL) & in_room_today.bool()
        told = tells.any(dim=-1, keepdim=True)  # [B, 1]
        everyone_visited = (self._visits(schedule, day) > 0).all(dim=-1, keepdim=True)  # [B, 1]
        team_reward = told.to(torch.float32) * (2.0 * everyone_visited.to(torch.float32) - 1.0)
        reward = team_reward.unsqueeze(-1).expand(*self.batch_size, self.n_agents, 1)
        terminated = told | (day >= self.days - 1)
        next_day = day + 1
        if not self.communication:
            return self._output(schedule, next_day, None, None, reward, terminated)
        in_room_next = self._in_room(schedule, next_day)
        # row i: today's sender (one-hot) if i is in the room tomorrow; gather/mask only, so DIAL's
        # gradient flows from received_message back into message
        sources = (in_room_next.unsqueeze(-1) * in_room_today.unsqueeze(-2)).to(torch.float32)
        received = sources @ tensordict["agents", "message"].to(torch.float32)
        return self._output(schedule, next_day, sources, received, reward, terminated)

    def _set_seed(self, seed: int | None) -> None:
        """Schedules come from a private generator when seeded, else from torch's global RNG."""
        if seed is None:
            self._generator = None
            return
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(seed)
