"""Run directories written before the one-house redesign (commit d854ee6 and earlier) resume unchanged.

Their ``config.yaml`` names keys and envs that were since renamed or moved; the learners' checkpoints did not
change. :func:`migrate` rewrites such a saved config into today's names. A retired knob is dropped when it
holds the value that made it inert; any other value means the run used code that no longer exists, and
resuming it is refused naming the knob and the commit where it last ran.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from oppshape.config import ConfigError

LAST_COMMIT = "d854ee6"

#: algo key renames, per algo name.
ALGO_RENAMES: dict[tuple[str, ...], dict[str, str]] = {
    ("naive", "lola", "pola"): {"lr_in": "inner_lr", "lr_out": "outer_lr"},
    ("lola_dice", "pola_dice", "pola_om"): {
        "batch_size": "num_envs", "eval_batch_size": "eval_envs", "gae_lambda": "lmbda", "value_lr": "critic_lr",
        "om_policy_lr": "om_actor_lr", "om_value_lr": "om_critic_lr"},
    ("loqa",): {"batch_size": "num_envs", "grad_clip_norm": "max_grad_norm", "dice_discount": "lmbda"},
    ("dial", "rial"): {"grad_clip": "max_grad_norm"},
    ("coma", "mappo", "ippo"): {"td_lambda": "lmbda", "actor_hidden": "actor_hidden_size",
                                "critic_hidden": "critic_hidden_size"},
    ("stackelberg",): {"ppo_clip": "ppo_clip_epsilon"},
}

#: retired knobs, per algo name, and the value (or the governing knob's value) that made them inert.
RETIRED: dict[str, dict[str, Any]] = {
    "coma": {"reward_scale": 1.0, "clip_epsilon": 0.0, "epochs": 1, "critic_target": "td_lambda",
             "target_update": "soft"},
    "loqa": {"target_mode": "taken", "opponent_temperature": 1.0, "shaping_coeff": 1.0,
             "actor_layers_before_gru": 2, "qvalue_layers_before_gru": 2},
    "stackelberg": {"tie_break": "leader_favourable"},
}
#: knobs whose value only mattered under another retired knob's non-default value, per algo name.
SUBORDINATE = {"coma": ("n_steps", "hard_update_interval")}

#: old env name -> (today's name, fields to set, fields that move to the algo group: old name -> new name).
ENV_RENAMES: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    "ipd_history": ("iterated_matrix_game", {}, {}),
    "loqa_ipd": ("iterated_matrix_game", {"cf": None}, {}),
    "loqa_coin": ("coin_game", {"egocentric": True}, {}),
    "coma_matrix": ("iterated_matrix_game", {}, {"num_envs": "num_envs", "eval_envs": "eval_envs"}),
    "switch_nocomm": ("switch", {"communication": False}, {"num_envs": "num_envs", "eval_envs": "eval_envs"}),
}
#: fields of today's envs that moved to the algo group.
ENV_TO_ALGO = {"vmas": {"num_envs": "num_envs", "eval_envs": "eval_envs"},
               "switch": {"batch_size": "num_envs", "test_batch_size": "eval_envs"}}
RETIRED_ENV = {"vmas": {"start_curriculum_frames": 0, "start_radius": None}}  # None: inert whatever its value


def _drop_retired(section: dict[str, Any], retired: dict[str, Any], path: str) -> None:
    for key, inert in retired.items():
        if key in section:
            value = section.pop(key)
            if inert is not None and value != inert:
                raise ConfigError(f"this run was made with {path}.{key}={value!r}, a knob retired after commit "
                                  f"{LAST_COMMIT}; resume it from a checkout of that commit")


def migrate(saved: DictConfig) -> DictConfig:
    """``saved`` in today's key and env names (unchanged if it already uses them)."""
    cfg: dict[str, Any] = OmegaConf.to_container(saved, resolve=False)  # type: ignore[assignment]
    algo, env = cfg.get("algo", {}), cfg.get("env", {})
    algo_name = str(algo.get("name"))
    for names, renames in ALGO_RENAMES.items():
        if algo_name in names:
            for old, new in renames.items():
                if old in algo:
                    algo[new] = algo.pop(old)
    _drop_retired(algo, RETIRED.get(algo_name, {}), "algo")
    for key in SUBORDINATE.get(algo_name, ()):
        algo.pop(key, None)
    moved: dict[str, str] = {}
    if env.get("name") in ENV_RENAMES:
        new_name, fields, moved = ENV_RENAMES[env["name"]]
        env["name"] = new_name
        for key, value in fields.items():
            env.setdefault(key, value)
    moved = {**moved, **ENV_TO_ALGO.get(env.get("name"), {})}
    for old, new in moved.items():
        if old in env:
            algo[new] = env.pop(old)
    _drop_retired(env, RETIRED_ENV.get(env.get("name"), {}), "env")
    return OmegaConf.create(cfg)
