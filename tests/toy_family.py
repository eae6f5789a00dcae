"""A tiny experiment family for testing the Trainer, config validation and resume in isolation.

Its learner does noisy Adam steps, so an exact resume must restore parameters, optimizer state and
the RNG; a wrong restore of any of them changes the final numbers.
"""

from __future__ import annotations

import sys
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
    blow_up_at: int = 0  # make the loss NaN at this iteration (0: never)

    def __post_init__(self) -> None:
        if self.lr <= 0:
            raise ValueError(f"algo.lr={self.lr} must be > 0")


@dataclass
class ToyEnv:
    name: str = "toy_env"
    noise: float = 0.1  # scale of the gradient noise
    eval_noise: float = 0.0  # > 0: evaluation draws random numbers too, like a sampled policy on a random env


class ToyLearner:
    def __init__(self, lr: float, noise: float, blow_up_at: int) -> None:
        self.theta = torch.zeros(3, requires_grad=True)
        self.optimizer = torch.optim.Adam([self.theta], lr=lr)
        self.noise, self.blow_up_at, self.steps = noise, blow_up_at, 0

    def update(self, batch):
        self.steps += 1
        target = 1 + self.noise * torch.randn(3)
        loss = ((self.theta - target) ** 2).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        bad = float("nan") if self.steps == self.blow_up_at else 0.0
        return {"loss_toy": loss.item() + bad, "theta_0": self.theta[0].item()}

    def state_dict(self):
        return {"theta": self.theta.detach().clone(), "optimizer": self.optimizer.state_dict(), "steps": self.steps}

    def load_state_dict(self, state):
        with torch.no_grad():
            self.theta.copy_(state["theta"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = state["steps"]


def build(run, device):
    learner = ToyLearner(run.algo.lr, run.env.noise, run.algo.blow_up_at)
    return Experiment(
        learner=learner,
        evaluate=lambda: {"eval_distance": float((learner.theta.detach() - 1 + run.env.eval_noise * torch.randn(3)).norm())},
        progress_keys=("loss_toy",),
    )


def install(monkeypatch) -> None:
    """Register the toy family under algo name ``toy`` for one test."""
    schemas = types.ModuleType("oppshape.config.toy")
    schemas.ALGO_SCHEMAS = {"toy": ToyAlgo}
    schemas.ENV_SCHEMAS = {"toy_env": ToyEnv}
    module = types.ModuleType("oppshape.experiments.toy")
    module.build = build
    monkeypatch.setitem(sys.modules, "oppshape.config.toy", schemas)
    monkeypatch.setitem(sys.modules, "oppshape.experiments.toy", module)
    monkeypatch.setitem(config_run.ALGORITHM_FAMILIES, "toy", "toy")


def toy_config(**trainer):
    return OmegaConf.create(
        {
            "seed": 3,
            "device": "cpu",
            "resume": None,
            "run_dir": None,
            "name": "toy",
            "env": {"name": "toy_env", "noise": 0.1, "eval_noise": 0.0},
            "algo": {"name": "toy", "lr": 0.1, "blow_up_at": 0},
            "trainer": {"iterations": 10, "eval_every": 5, "checkpoint_every": 3, "log_every": 1,
                        "threads": 1, "progress": False, **trainer},
            "logger": {"wandb": "disabled", "project": "oppshape", "tensorboard": False},
        }
    )
