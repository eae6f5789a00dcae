"""COMA family: COMA against MAPPO and IPPO on VMAS tasks and on matrix games with a known optimum, and COMA
alone on the switch riddle without communication (masked actions, GRU actors, a known reference policy).

``build`` makes the env, the actor and critic of ``algo.name``, its loss and learner, a TorchRL
collector (whose running episodes go into checkpoints, so a resume is exact), and wires the evaluation of
``eval/coma.py`` (greedy and sampled returns next to a uniformly random policy's on the same task).
The three algorithms share env, batch size, actor architecture and frame budget, so curves are comparable.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule
from torch import nn
from torch.distributions import Categorical
from torchrl.collectors import Collector
from torchrl.envs import Compose, EnvBase, InitTracker, RewardSum, TransformedEnv
from torchrl.data import Bounded
from torchrl.data import Categorical as CategoricalSpec
from torchrl.modules import MultiAgentMLP, NormalParamExtractor, ProbabilisticActor, TanhNormal
from torchrl.objectives.multiagent import IPPOLoss, MAPPOLoss

from oppshape.config import ConfigError, RunConfig
from oppshape.config.coma import COMAConfig, PPOConfig
from oppshape.envs import make_env
from oppshape.eval.coma import make_evaluate, plot_returns, summarize, task_title
from oppshape.experiments.base import Experiment
from oppshape.learners.coma import COMALearner
from oppshape.learners.mappo import PPOLearner
from oppshape.modules.coma_actor import actor_body, epsilon_head, make_coma_actor
from oppshape.modules.coma_critic import make_coma_critic
from oppshape.objectives.coma import COMALoss
from oppshape.rollouts.collector_state import CollectorState

__all__ = ["build"]

OBSERVATION = ("agents", "observation")
ACTION = ("agents", "action")
ACTION_MASK = ("agents", "action_mask")


def make_task_env(env_cfg: Any, num_envs: int, device: torch.device, seed: int | None) -> EnvBase:
    """``num_envs`` parallel copies of the task, from the one registry. VMAS seeds its simulator as it is built
    and brings its own transforms; the other games are seeded after and get the episode-start flag and the
    running return (``is_init``, ``("agents", "episode_reward")``) here."""
    if env_cfg.name == "vmas":
        return make_env("vmas", num_envs=num_envs, device=device, seed=seed, **env_cfg.kwargs())
    game = make_env(env_cfg.name, num_envs=num_envs, device=device, **env_cfg.kwargs())
    if seed is not None:
        game.set_seed(seed)
    return TransformedEnv(
        game, Compose(InitTracker(), RewardSum(in_keys=[("agents", "reward")], out_keys=[("agents", "episode_reward")]))
    )


def policy_head(action_spec: Any) -> tuple[int, type, dict[str, Any]]:
    """Outputs per agent, distribution and its arguments for ``action_spec``: a categorical over integer actions,
    or, for bounded continuous actions, a tanh-squashed Gaussian onto the spec's box (TorchRL's and BenchMARL's
    choice for VMAS forces)."""
    if isinstance(action_spec, CategoricalSpec):
        return action_spec.space.n, Categorical, {"validate_args": False}
    if isinstance(action_spec, Bounded):
        bounds = {"low": action_spec.space.low, "high": action_spec.space.high}
        return 2 * action_spec.shape[-1], TanhNormal, bounds
    raise ConfigError(f"the PPO baselines take integer or bounded continuous actions, not {type(action_spec).__name__}")


def make_ppo_modules(algo: PPOConfig, n_agents: int, obs_dim: int, action_spec: Any, device: torch.device):
    """BenchMARL-style MAPPO / IPPO: per-agent MLP actor, centralised (MAPPO) or local (IPPO) value MLP."""
    n_outputs, distribution, distribution_kwargs = policy_head(action_spec)
    actor_net = MultiAgentMLP(
        n_agent_inputs=obs_dim, n_agent_outputs=n_outputs, n_agents=n_agents, centralized=False,
        share_params=algo.share_params, depth=2, num_cells=algo.actor_hidden_size, activation_class=nn.ReLU,
        device=device,
    )
    if distribution is TanhNormal:
        params = TensorDictModule(
            nn.Sequential(actor_net, NormalParamExtractor()), in_keys=[OBSERVATION],
            out_keys=[("agents", "loc"), ("agents", "scale")],
        )
        dist_keys = {"loc": ("agents", "loc"), "scale": ("agents", "scale")}
    else:
        params = TensorDictModule(actor_net, in_keys=[OBSERVATION], out_keys=[("agents", "logits")])
        dist_keys = {"logits": ("agents", "logits")}
    actor = ProbabilisticActor(
        params,
        in_keys=dist_keys,
        out_keys=[ACTION],
        distribution_class=distribution,
        distribution_kwargs=distribution_kwargs,
        return_log_prob=True,
        log_prob_key=("agents", "action_log_prob"),
    )
    critic_net = MultiAgentMLP(
        n_agent_inputs=obs_dim, n_agent_outputs=1, n_agents=n_agents, centralized=algo.name == "mappo",
        share_params=algo.share_params, depth=2, num_cells=algo.critic_hidden_size, activation_class=nn.ReLU,
        device=device,
    )
    critic = TensorDictModule(critic_net, in_keys=[OBSERVATION], out_keys=[("agents", "state_value")])
    return actor, critic


def build_ppo(algo: PPOConfig, n_agents: int, obs_dim: int, action_spec: Any, device: torch.device):
    actor, critic = make_ppo_modules(algo, n_agents, obs_dim, action_spec, device)
    loss_class = MAPPOLoss if algo.name == "mappo" else IPPOLoss
    loss = loss_class(
        actor, critic, clip_epsilon=algo.clip_epsilon, entropy_coeff=algo.entropy_coeff,
        normalize_advantage=algo.normalize_advantage,
    )
    loss.set_keys(
        reward=("agents", "reward"), action=ACTION, sample_log_prob=("agents", "action_log_prob"),
        value=("agents", "state_value"), done="done", terminated="terminated",
    )
    loss.make_value_estimator(gamma=algo.gamma, lmbda=algo.lmbda)
    learner = PPOLearner(
        loss, lr=algo.lr, num_epochs=algo.num_epochs, minibatch_size=algo.minibatch_size,
        max_grad_norm=algo.max_grad_norm,
    )
    return actor, learner


def build_coma(
    algo: COMAConfig, n_agents: int, obs_dim: int, n_actions: int, device: torch.device, *,
    state_dim: int | None = None, masked: bool = False,
):
    """COMA's actor and learner; ``state_dim`` feeds the env's ``"state"`` to the critic (else the concatenated
    observations), ``masked`` makes actor and loss respect ``("agents", "action_mask")``."""
    mask_key = ACTION_MASK if masked else None
    actor = make_coma_actor(
        n_agents=n_agents, observation_dim=obs_dim, n_actions=n_actions, recurrent=algo.recurrent,
        share_params=algo.share_params, hidden_size=algo.actor_hidden_size, eps_init=algo.eps_init,
        eps_end=algo.eps_end, annealing_frames=algo.eps_anneal_frames, action_mask_key=mask_key, device=device,
    )
    critic = make_coma_critic(
        n_agents=n_agents, n_actions=n_actions, observation_dim=obs_dim, state_dim=state_dim,
        num_cells=(algo.critic_hidden_size, algo.critic_hidden_size), device=device,
    )
    loss = COMALoss(
        actor, critic, entropy_coeff=algo.entropy_coeff, normalize_advantage=algo.normalize_advantage,
        team_reward=algo.team_reward, advantage_source=algo.advantage_source, logit_penalty=algo.logit_penalty,
    )
    if masked:
        loss.set_keys(action_mask=ACTION_MASK)
    loss.make_value_estimator("td_lambda", gamma=algo.gamma, lmbda=algo.lmbda)
    learner = COMALearner(
        loss, epsilon_head(actor), actor_lr=algo.actor_lr, critic_lr=algo.critic_lr, max_grad_norm=algo.max_grad_norm,
        tau=algo.tau, critic_steps=algo.critic_steps, minibatches=algo.minibatches,
    )
    return actor, learner


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The experiment of ``algo.name`` (coma, mappo, ippo) on ``env`` (vmas, the iterated matrix game, or, for
    COMA only, the switch riddle without communication); ``config.coma.check`` has joined the two already."""
    algo, env_cfg = run.algo, run.env
    env = make_task_env(env_cfg, algo.num_envs, device, seed=run.seed)
    eval_env = make_task_env(env_cfg, algo.eval_envs, device, seed=None)
    n_agents = env.full_observation_spec[OBSERVATION].shape[-2]
    obs_dim = env.full_observation_spec[OBSERVATION].shape[-1]
    action_spec = env.full_action_spec[ACTION]
    if isinstance(algo, COMAConfig):
        n_actions = action_spec.space.n
        # the switch riddle's critic needs its global state (who has visited); elsewhere the observations
        state_dim = env.full_observation_spec["state"].shape[-1] if env_cfg.name == "switch" else None
        actor, learner = build_coma(
            algo, n_agents, obs_dim, n_actions, device, state_dim=state_dim,
            masked=ACTION_MASK in env.full_observation_spec.keys(True),
        )
        if algo.recurrent:
            env = env.append_transform(actor_body(actor).make_tensordict_primer())
            eval_env = eval_env.append_transform(actor_body(actor).make_tensordict_primer())
    else:
        actor, learner = build_ppo(algo, n_agents, obs_dim, action_spec, device)
    collector = Collector(
        env, actor, frames_per_batch=algo.frames_per_batch, total_frames=-1, device=device,
        auto_register_policy_transforms=False,
    )
    batches = iter(collector)
    title = f"{algo.name} on {task_title(env_cfg)}"
    return Experiment(
        learner=learner,
        collect=lambda: next(batches),
        evaluate=make_evaluate(env_cfg, eval_env, actor),
        plot=lambda history, plots_dir: plot_returns(history, plots_dir, title),
        summarize=summarize,
        progress_keys=("train_return", "eval_return"),
        extra_state={"collector": CollectorState(collector)},
    )
