"""COMA family: COMA against MAPPO and IPPO on VMAS tasks and on matrix games with a known optimum, and COMA
alone on the switch riddle without communication (masked actions, GRU actors, a known reference policy).

``build`` makes the env, the actor and critic of ``algo.name``, its loss and learner, a TorchRL
collector (whose running episodes go into checkpoints, so a resume is exact), and a greedy evaluation that
also reports a uniformly random policy's return on the same task.
The three algorithms share env, batch size, actor architecture and frame budget, so curves are comparable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule
from torch import nn
from torch.distributions import Categorical
from torchrl.collectors import Collector
from torchrl.envs import Compose, EnvBase, InitTracker, RewardSum, TransformedEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.data import Bounded
from torchrl.data import Categorical as CategoricalSpec
from torchrl.modules import MultiAgentMLP, NormalParamExtractor, ProbabilisticActor, TanhNormal
from torchrl.objectives.multiagent import IPPOLoss, MAPPOLoss

from oppshape.config import ConfigError, RunConfig
from oppshape.envs.iterated_matrix_game import IteratedMatrixGame
from oppshape.envs.switch_game import SwitchGame, expected_oracle_reward, last_day_rule_return, switch_days
from oppshape.envs.transport_start import start_share
from oppshape.envs.vmas_factory import make_vmas_env
from oppshape.experiments.base import Experiment, MetricsHistory
from oppshape.experiments.collector_state import CollectorState
from oppshape.experiments.coma_schemas import ALGO_SCHEMAS, COMA_ONLY_ENVS, ENV_SCHEMAS, COMAConfig, PPOConfig
from oppshape.learners.coma import COMALearner
from oppshape.learners.mappo import PPOLearner
from oppshape.modules.coma_actor import actor_body, epsilon_head, make_coma_actor
from oppshape.modules.coma_critic import make_coma_critic
from oppshape.objectives.coma import COMALoss

__all__ = ["ALGO_SCHEMAS", "ENV_SCHEMAS", "build"]

OBSERVATION = ("agents", "observation")
ACTION = ("agents", "action")
ACTION_MASK = ("agents", "action_mask")


def make_env(
    env_cfg: Any, num_envs: int, device: torch.device, seed: int | None, *, training: bool = False
) -> EnvBase:
    """The training or evaluation env of ``env_cfg`` with ``num_envs`` parallel copies (a start curriculum
    changes only the training env's starts; evaluation runs the unchanged task)."""
    if env_cfg.name == "vmas":
        curriculum = training and env_cfg.start_curriculum_frames > 0
        env = make_vmas_env(
            env_cfg.scenario, num_envs=num_envs, max_steps=env_cfg.max_steps, device=device, seed=seed,
            continuous_actions=env_cfg.continuous_actions, near_package_starts=curriculum,
            **env_cfg.scenario_kwargs,
        )
        if curriculum:
            env.base_env.scenario.near_radius = env_cfg.start_radius
        return env
    if env_cfg.name == "switch_nocomm":
        game: EnvBase = SwitchGame(env_cfg.n_agents, num_envs=num_envs, communication=False, device=device)
        if seed is not None:
            game.set_seed(seed)
    else:
        game = IteratedMatrixGame(
            num_envs=num_envs, payoff=env_cfg.payoff, cf=env_cfg.cf, episode_length=env_cfg.episode_length,
            device=device,
        )
    return TransformedEnv(
        game, Compose(InitTracker(), RewardSum(in_keys=[("agents", "reward")], out_keys=[("agents", "episode_reward")]))
    )


def episode_length(env_cfg: Any) -> int:
    if env_cfg.name == "switch_nocomm":
        return switch_days(env_cfg.n_agents)
    return env_cfg.max_steps if env_cfg.name == "vmas" else env_cfg.episode_length


def first_episode_return(rollout: TensorDictBase) -> torch.Tensor:
    """Per-env, per-agent return of the first episode of a ``[envs, T]`` rollout: ``[envs, n, 1]``."""
    done = rollout["next", "done"].float()  # [E, T, 1]
    in_first = ((done.cumsum(1) - done) == 0).unsqueeze(-1)  # steps up to and including the first end
    return (rollout["next", "agents", "reward"] * in_first).sum(1)


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
        share_params=algo.share_params, depth=2, num_cells=algo.actor_hidden, activation_class=nn.ReLU, device=device,
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
        share_params=algo.share_params, depth=2, num_cells=algo.critic_hidden, activation_class=nn.ReLU, device=device,
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
        share_params=algo.share_params, hidden_size=algo.actor_hidden, eps_init=algo.eps_init, eps_end=algo.eps_end,
        annealing_frames=algo.eps_anneal_frames, action_mask_key=mask_key, device=device,
    )
    critic = make_coma_critic(
        n_agents=n_agents, n_actions=n_actions, observation_dim=obs_dim, state_dim=state_dim,
        num_cells=(algo.critic_hidden, algo.critic_hidden), device=device,
    )
    loss = COMALoss(
        actor, critic, entropy_coeff=algo.entropy_coeff, normalize_advantage=algo.normalize_advantage,
        team_reward=algo.team_reward, advantage_source=algo.advantage_source, logit_penalty=algo.logit_penalty,
        reward_scale=algo.reward_scale, clip_epsilon=algo.clip_epsilon or None,
    )
    if masked:
        loss.set_keys(action_mask=ACTION_MASK)
    if algo.critic_target == "td_lambda":
        loss.make_value_estimator("td_lambda", gamma=algo.gamma, lmbda=algo.td_lambda)
    else:
        loss.make_value_estimator("n_step", gamma=algo.gamma, n_steps=algo.n_steps)
    learner = COMALearner(
        loss, epsilon_head(actor), actor_lr=algo.actor_lr, critic_lr=algo.critic_lr, max_grad_norm=algo.max_grad_norm,
        target_update=algo.target_update, tau=algo.tau, hard_update_interval=algo.hard_update_interval,
        critic_steps=algo.critic_steps, minibatches=algo.minibatches, epochs=algo.epochs,
    )
    return actor, learner


def optimal_joint_action(env_cfg: Any) -> torch.Tensor:
    """The joint action of a 2x2 game maximising the summed payoff (brute force over the four cells)."""
    from oppshape.games.payoffs import payoff_table

    totals = payoff_table(env_cfg.payoff, env_cfg.cf).sum(-1)  # [a1, a2]
    best = int(totals.argmax())
    return torch.tensor([best // 2, best % 2])


def make_evaluate(env_cfg: Any, eval_env: EnvBase, actor: nn.Module) -> Any:
    """Return of the greedy policy (``eval_return``) and of the sampled policy (``eval_return_sampled``) on
    ``eval_env``, one episode per env, next to a uniformly random policy's (``random_return``)."""
    steps = episode_length(env_cfg)
    with torch.no_grad():
        random_return = float(first_episode_return(eval_env.rollout(steps, break_when_any_done=False)).mean())
    optimum = optimal_joint_action(env_cfg).to(eval_env.device) if env_cfg.name == "coma_matrix" else None
    references = {}
    if env_cfg.name == "switch_nocomm":
        references = {"oracle_return": expected_oracle_reward(env_cfg.n_agents),
                      "reference_return": last_day_rule_return(env_cfg.n_agents)}

    def evaluate() -> dict[str, float]:
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
            sampled = eval_env.rollout(steps, actor, break_when_any_done=False)
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            rollout = eval_env.rollout(steps, actor, break_when_any_done=False)
        metrics = {
            "eval_return": float(first_episode_return(rollout).mean()),
            "eval_return_sampled": float(first_episode_return(sampled).mean()),
            "random_return": random_return,
        }
        metrics.update(references)
        if references:
            metrics["eval_normalized"] = metrics["eval_return"] / references["oracle_return"]
        if optimum is not None:
            metrics["optimal_joint_rate"] = float((rollout[ACTION] == optimum).all(-1).float().mean())
        return metrics

    return evaluate


def task_title(env_cfg: Any) -> str:
    if env_cfg.name == "vmas":
        return env_cfg.scenario
    if env_cfg.name == "coma_matrix":
        return env_cfg.payoff
    return f"the switch riddle without communication, n={env_cfg.n_agents}"


def plot_returns(history: MetricsHistory, plots_dir: Path, title: str) -> None:
    """Training and greedy-evaluation return against environment frames, with the random policy's level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    curves = (("train_return", "training (exploring)"), ("eval_return", "greedy evaluation"),
              ("eval_return_sampled", "sampled evaluation"))
    for key, label in curves:
        points = [(row["frames"], row[key]) for row in history if key in row and "frames" in row]
        if points:
            ax.plot(*zip(*points), label=label)
    randoms = [row["random_return"] for row in history if "random_return" in row]
    if randoms:
        ax.axhline(randoms[-1], color="grey", linestyle="--", label="random policy")
    ax.set(xlabel="environment frames", ylabel="episode return (per agent)", title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(plots_dir / "returns.png", dpi=120)
    plt.close(fig)


def summarize(history: MetricsHistory) -> dict[str, Any]:
    last = {key: value for row in history for key, value in row.items()}
    keys = ("frames", "train_return", "eval_return", "eval_return_sampled", "random_return", "optimal_joint_rate",
            "eval_normalized", "reference_return", "oracle_return", "wall_time_s")
    return {key: last[key] for key in keys if key in last}


def build(run: RunConfig, device: torch.device) -> Experiment:
    """The experiment of ``algo.name`` (coma, mappo, ippo) on ``env`` (vmas, a matrix game, or, for COMA
    only, the switch riddle without communication)."""
    algo, env_cfg = run.algo, run.env
    if env_cfg.name in COMA_ONLY_ENVS and not isinstance(algo, COMAConfig):
        raise ConfigError(
            f"env.name={env_cfg.name!r} needs algo=coma (its actions are masked and need memory; the {algo.name} "
            f"baseline here has neither); valid algos for it: coma"
        )
    if getattr(env_cfg, "continuous_actions", False) and isinstance(algo, COMAConfig):
        raise ConfigError(
            "env.continuous_actions=true needs algo=mappo or algo=ippo (COMA's counterfactual baseline sums over a "
            "discrete action set); valid algos for it: mappo, ippo"
        )
    if algo.frames_per_batch % env_cfg.num_envs:
        raise ValueError(
            f"algo.frames_per_batch={algo.frames_per_batch} must be a multiple of env.num_envs={env_cfg.num_envs}"
        )
    env = make_env(env_cfg, env_cfg.num_envs, device, seed=run.seed, training=True)
    eval_env = make_env(env_cfg, env_cfg.eval_envs, device, seed=None)
    n_agents = env.full_observation_spec[OBSERVATION].shape[-2]
    obs_dim = env.full_observation_spec[OBSERVATION].shape[-1]
    action_spec = env.full_action_spec[ACTION]
    if isinstance(algo, COMAConfig):
        n_actions = action_spec.space.n
        # the switch riddle's critic needs its global state (who has visited); elsewhere the observations
        state_dim = env.full_observation_spec["state"].shape[-1] if env_cfg.name == "switch_nocomm" else None
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
    curriculum_frames = getattr(env_cfg, "start_curriculum_frames", 0)
    scenario = env.base_env.scenario if curriculum_frames else None

    def collect() -> TensorDictBase:
        if scenario is not None:  # from the learner's frames, so a resumed run continues the same schedule
            scenario.near_share = start_share(learner.frames, curriculum_frames)
        return next(batches)

    task = task_title(env_cfg)
    return Experiment(
        learner=learner,
        collect=collect,
        evaluate=make_evaluate(env_cfg, eval_env, actor),
        plot=lambda history, plots_dir: plot_returns(history, plots_dir, f"{algo.name} on {task}"),
        summarize=summarize,
        progress_keys=("train_return", "eval_return"),
        extra_state={"collector": CollectorState(collector)},
    )
