"""A tiny experiment family for testing the Trainer, config validation and resume in isolation.

Its learner does noisy Adam steps, so an exact resume must restore parameters, optimizer state and
the RNG; a wrong restore of any of them changes the final numbers.
"""

from __future__ import annotations

import sys
import time
import types
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf

from oppshape.config import run as config_run
from oppshape.experiments.base import Experiment


@dataclass
class ToyAlgo:
    name: str = "toy"
    lr: float = 0.1  # Adam step size
    blow_up_at: int = 0  # make something NaN at this iteration (0: never)
    blow_up: str = "loss"  # what goes NaN: loss | parameter | sampling (torch refuses to sample from NaN probabilities)
    sleep: float = 0.0  # seconds each update sleeps (a run slow enough to interrupt from a test)

    def __post_init__(self) -> None:
        if self.lr <= 0:
            raise ValueError(f"algo.lr={self.lr} must be > 0")


@dataclass
class ToyEnv:
    name: str = "toy_env"
    noise: float = 0.1  # scale of the gradient noise
    eval_noise: float = 0.0  # > 0: evaluation draws random numbers too, like a sampled policy on a random env


class ToyLearner:
    def __init__(self, lr: float, noise: float, blow_up_at: int, blow_up: str = "loss", sleep: float = 0.0) -> None:
        self.theta = torch.zeros(3, requires_grad=True)
        self.optimizer = torch.optim.Adam([self.theta], lr=lr)
        self.noise, self.blow_up_at, self.blow_up, self.sleep, self.steps = noise, blow_up_at, blow_up, sleep, 0

    def update(self, batch):
        self.steps += 1
        time.sleep(self.sleep)
        target = 1 + self.noise * torch.randn(3)
        loss = ((self.theta - target) ** 2).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        blowing_up = self.steps == self.blow_up_at
        if blowing_up and self.blow_up == "parameter":
            with torch.no_grad():
                self.theta[1] = float("inf")
        if blowing_up and self.blow_up == "sampling":
            torch.distributions.Categorical(probs=torch.tensor([float("nan"), 1.0])).sample()
        bad = float("nan") if blowing_up and self.blow_up == "loss" else 0.0
        return {"loss_toy": loss.item() + bad, "theta_0": self.theta[0].item()}

    def state_dict(self):
        return {"theta": self.theta.detach().clone(), "optimizer": self.optimizer.state_dict(), "steps": self.steps}

    def load_state_dict(self, state):
        with torch.no_grad():
            self.theta.copy_(state["theta"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = state["steps"]


def build(run, device):
    learner = ToyLearner(run.algo.lr, run.env.noise, run.algo.blow_up_at, run.algo.blow_up, run.algo.sleep)
    return Experiment(
        learner=learner,
        evaluate=lambda: {"eval_distance": float((learner.theta.detach() - 1 + run.env.eval_noise * torch.randn(3)).norm())},
        progress_keys=("loss_toy",),
    )


def metric_names(run) -> set[str]:
    """The metrics a toy run logs: the hook ``config/<family>.py`` declares so ``trainer.stop_when`` is checked
    before the run starts."""
    return {"loss_toy", "theta_0", "eval_distance"}


def schemas_module() -> types.ModuleType:
    """The toy family's ``config/<family>.py``: its schemas and its metric names."""
    schemas = types.ModuleType("oppshape.config.toy")
    schemas.ALGO_SCHEMAS = {"toy": ToyAlgo}
    schemas.ENV_SCHEMAS = {"toy_env": ToyEnv}
    schemas.metric_names = metric_names
    return schemas


def experiments_module() -> types.ModuleType:
    module = types.ModuleType("oppshape.experiments.toy")
    module.build = build
    return module


def install(monkeypatch) -> None:
    """Register the toy family under algo name ``toy`` for one test."""
    monkeypatch.setitem(sys.modules, "oppshape.config.toy", schemas_module())
    monkeypatch.setitem(sys.modules, "oppshape.experiments.toy", experiments_module())
    monkeypatch.setitem(config_run.ALGORITHM_FAMILIES, "toy", "toy")


def toy_config(**trainer):
    return OmegaConf.create(
        {
            "seed": 3,
            "device": "cpu",
            "resume": None,
            "init_from": None,
            "run_dir": None,
            "name": "toy",
            "env": {"name": "toy_env", "noise": 0.1, "eval_noise": 0.0},
            "algo": {"name": "toy", "lr": 0.1, "blow_up_at": 0, "blow_up": "loss", "sleep": 0.0},
            "trainer": {"iterations": 10, "eval_every": 5, "checkpoint_every": 3, "log_every": 1,
                        "threads": 1, "progress": False, **trainer},
            "logger": {"wandb": "disabled", "project": "oppshape", "tensorboard": False},
        }
    )


def register() -> None:
    """Register the toy family for the rest of this process (a subprocess driven by a test)."""
    sys.modules["oppshape.config.toy"] = schemas_module()
    sys.modules["oppshape.experiments.toy"] = experiments_module()
    config_run.ALGORITHM_FAMILIES["toy"] = "toy"


def main(run_dir: str, *dotlist: str) -> None:
    """``python tests/toy_family.py <run_dir> [resume] key=value ...``: a toy run behind the CLI's error handling
    (one-line errors, exit codes, Ctrl-C), for tests that interrupt or break a run from outside."""
    from pathlib import Path

    from oppshape.cli import execute, resumed_config
    from oppshape.cli.entry import guarded

    register()
    if dotlist[:1] == ("resume",):
        guarded(lambda: execute(resumed_config(Path(run_dir), list(dotlist[1:])), Path(run_dir)))
        return
    cfg = toy_config()
    cfg.merge_with_dotlist(list(dotlist))
    guarded(lambda: execute(cfg, Path(run_dir)))


if __name__ == "__main__":
    main(*sys.argv[1:])
