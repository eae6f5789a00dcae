"""The COMA family end to end: configs validate, every algorithm builds, steps, evaluates and resumes
mid-episode exactly, and COMA finds the known optimum of a cooperative coordination game."""

import csv

import pytest
import torch
from omegaconf import OmegaConf

from oppshape.cli import compose, execute, resumed_config
from oppshape.config import ConfigError, validate
from oppshape.config.coma import COMAConfig, PPOConfig
from oppshape.config.envs import MatrixGameEnvConfig, SwitchEnvConfig, VmasEnvConfig
from oppshape.experiments.coma import build as build_run


def build(cfg, device):
    """The family's ``build`` on a composed config, validated as the CLI does."""
    return build_run(validate(cfg), device)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ALGOS = ("coma", "mappo", "ippo")


def tiny(algo: str, env: str, **algo_overrides) -> OmegaConf:
    overrides = [f"algo={algo}", f"env={env}", "seed=3", "algo.frames_per_batch=40"]
    overrides += ["algo.num_envs=4", "algo.eval_envs=3"]
    overrides += ["env.max_steps=6"] if env == "vmas" else ["env.payoff=coordination", "env.episode_length=3"]
    overrides += ["algo.minibatch_size=20"] if algo != "coma" else []
    overrides += [f"algo.{key}={value}" for key, value in algo_overrides.items()]
    cfg = compose(overrides)
    validate(cfg)
    return cfg


def continuous(algo: str) -> OmegaConf:
    """``tiny`` on VMAS transport (4 agents) with VMAS's continuous force actions."""
    cfg = tiny(algo, "vmas")
    cfg.env.scenario = "transport"
    cfg.env.continuous_actions = True
    return cfg


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("env", ["vmas", "iterated_matrix_game"])
def test_every_algorithm_collects_updates_and_evaluates(algo: str, env: str) -> None:
    experiment = build(tiny(algo, env), torch.device("cpu"))
    batch = experiment.collect()
    assert batch.batch_size == (4, 10)
    metrics = experiment.learner.update(batch)
    assert all(torch.isfinite(torch.tensor(v)) for k, v in metrics.items() if k.startswith("loss"))
    assert metrics["frames"] == 40
    evaluation = experiment.evaluate()
    assert {"eval_return", "random_return"} <= set(evaluation)
    if env == "iterated_matrix_game":
        assert 0 <= evaluation["optimal_joint_rate"] <= 1


@pytest.mark.parametrize("algo", ["mappo", "ippo"])
def test_ppo_baselines_take_continuous_vmas_forces(algo: str) -> None:
    experiment = build(continuous(algo), torch.device("cpu"))
    batch = experiment.collect()
    actions = batch["agents", "action"]
    assert actions.shape == (4, 10, 4, 2) and actions.is_floating_point()
    assert actions.abs().max() <= 1.0 and actions.std() > 0.1  # transport's force box, sampled inside it
    assert batch["agents", "action_log_prob"].shape == (4, 10, 4)  # one joint density per agent
    before = [p.detach().clone() for p in experiment.learner.actor_params]
    metrics = experiment.learner.update(batch)
    assert all(torch.isfinite(torch.tensor(v)) for k, v in metrics.items() if k.startswith("loss"))
    assert any(not torch.equal(a, b) for a, b in zip(before, experiment.learner.actor_params))
    assert {"eval_return", "eval_return_sampled", "random_return"} <= set(experiment.evaluate())


def test_coma_refuses_continuous_actions_before_building_anything() -> None:
    with pytest.raises(ConfigError, match=r"env.continuous_actions=true needs algo=mappo or algo=ippo.*valid algos"):
        build(continuous("coma"), torch.device("cpu"))


def test_recurrent_coma_runs_with_hidden_state_in_the_batch() -> None:
    experiment = build(tiny("coma", "vmas", recurrent=True, minibatches=2), torch.device("cpu"))
    batch = experiment.collect()
    assert batch["agents", "rnn_hidden"].shape[:3] == (4, 10, batch["agents", "observation"].shape[2])
    experiment.learner.update(batch)
    experiment.evaluate()


@pytest.mark.parametrize("algo", ALGOS)
def test_learner_state_restores_the_policy_that_collects(algo: str) -> None:
    cfg = tiny(algo, "iterated_matrix_game")
    trained = build(cfg, torch.device("cpu"))
    trained.learner.update(trained.collect())
    fresh = build(cfg, torch.device("cpu"))
    fresh.learner.load_state_dict(trained.learner.state_dict())
    for name, value in trained.learner.loss.state_dict().items():
        torch.testing.assert_close(fresh.learner.loss.state_dict()[name], value, msg=name)
    probe = fresh.collect()  # collected by the restored policy: the same logits as the trained one
    torch.testing.assert_close(
        fresh.learner.loss.actor_network(probe.clone())["agents", "logits"],
        trained.learner.loss.actor_network(probe.clone())["agents", "logits"],
    )


@pytest.mark.slow
def test_coma_reaches_the_optimal_joint_action_of_a_coordination_game() -> None:
    cfg = compose(["experiment=coma_matrix_sanity", "trainer.iterations=30", "seed=0"])
    validate(cfg)
    experiment = build(cfg, torch.device("cpu"))
    for _ in range(cfg.trainer.iterations):
        experiment.learner.update(experiment.collect())
    result = experiment.evaluate()
    assert result["optimal_joint_rate"] == 1.0
    assert result["eval_return"] == pytest.approx(40.0)  # (C, C) pays 4 per step for 10 steps
    assert result["random_return"] < 30.0


RESUME_CASES = {
    "coma on vmas": ["algo=coma", "env=vmas", "algo.num_envs=4", "env.max_steps=6", "algo.frames_per_batch=40"],
    "mappo on vmas": ["algo=mappo", "env=vmas", "algo.num_envs=4", "env.max_steps=6", "algo.frames_per_batch=40",
                      "algo.minibatch_size=20"],
    "mappo on vmas, continuous forces": ["algo=mappo", "env=vmas", "algo.num_envs=4", "env.max_steps=6",
                                         "env.continuous_actions=true", "algo.frames_per_batch=40",
                                         "algo.minibatch_size=20"],
    "recurrent coma on the switch": ["experiment=coma_switch_3", "algo.num_envs=8", "algo.frames_per_batch=32"],
}


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_resume_mid_episode_equals_the_uninterrupted_run(tmp_path, case: str) -> None:
    """Episodes (6 VMAS steps, up to 6 switch days) run across the checkpoint, so the simulator state, the
    collector's running episodes, recurrent states and VMAS's private RNG must all come back."""
    common = RESUME_CASES[case] + ["seed=5", "algo.eval_envs=3", "trainer.eval_every=1", "trainer.checkpoint_every=1",
                                   "trainer.progress=false", "logger.wandb=disabled"]
    straight = execute(compose(common + ["trainer.iterations=3"]), tmp_path / "straight")
    execute(compose(common + ["trainer.iterations=1"]), tmp_path / "split")
    resumed = execute(resumed_config(tmp_path / "split", ["trainer.iterations=3"]), tmp_path / "split")
    assert resumed["iterations"] == 3
    final = {key: value for key, value in resumed["final"].items() if key != "wall_time_s"}
    assert final == {key: value for key, value in straight["final"].items() if key != "wall_time_s"}


def test_isolated_evaluation_on_vmas_leaves_training_as_it_was(tmp_path) -> None:
    """VMAS's private RNG is class-wide, so the evaluation env's resets draw from the training env's stream:
    evaluating every iteration instead of only at the end changes training unless the evaluation is isolated."""
    common = RESUME_CASES["coma on vmas"] + ["seed=5", "algo.eval_envs=3", "trainer.iterations=3",
                                             "trainer.progress=false", "logger.wandb=disabled"]

    def training(isolate: bool, eval_every: int) -> list[tuple[str, str]]:
        run_dir = tmp_path / f"{isolate}-{eval_every}"
        execute(compose(common + [f"trainer.isolate_eval={isolate}", f"trainer.eval_every={eval_every}"]), run_dir)
        with open(run_dir / "metrics.csv") as handle:
            return [(row["loss_critic"], row["train_return"]) for row in csv.DictReader(handle)]

    assert training(True, 1) == training(True, 0)
    assert training(False, 1) != training(False, 0)


def test_switch_without_communication_runs_masked_recurrent_coma_with_a_state_critic() -> None:
    cfg = compose(["experiment=coma_switch_3", "seed=1", "algo.num_envs=8", "algo.eval_envs=16",
                   "algo.frames_per_batch=48"])
    validate(cfg)
    experiment = build(cfg, torch.device("cpu"))
    batch = experiment.collect()
    assert batch["state"].shape == (8, 6, 3 * 3 + 6)
    assert (batch["agents", "action"][~batch["agents", "action_mask"][..., 1]] == 0).all()  # Tell only in the room
    assert batch["next", "done"].any()  # games end on different days inside the batch
    metrics = experiment.learner.update(batch)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    evaluation = experiment.evaluate()
    assert evaluation["reference_return"] == pytest.approx(0.5267, abs=1e-4)
    assert evaluation["eval_normalized"] == pytest.approx(evaluation["eval_return"] / evaluation["oracle_return"])


@pytest.mark.parametrize("baseline", ["mappo", "ippo"])
def test_switch_without_communication_refuses_the_memoryless_baselines(baseline: str) -> None:
    cfg = compose(["experiment=coma_switch_3", f"algo={baseline}"])
    with pytest.raises(ConfigError, match=f"env.name='switch' needs algo=coma .*the {baseline} baseline"):
        build(cfg, torch.device("cpu"))


def test_the_switch_with_its_channel_is_left_to_the_communication_family() -> None:
    cfg = compose(["experiment=coma_switch_3", "env.communication=true"])
    with pytest.raises(ConfigError, match="env.communication=true: the COMA family plays the switch riddle without"):
        validate(cfg)


def test_navigation_tunes_only_comas_actor_step_size() -> None:
    assert compose(["experiment=coma_navigation"]).algo.actor_lr == 2e-3  # configs/algo/coma_fast.yaml
    assert compose(["experiment=coma_navigation", "algo=coma"]).algo.actor_lr == compose(["algo=coma"]).algo.actor_lr
    for baseline in ("mappo", "ippo"):  # the algo group is replaced whole: nothing of coma_fast leaks
        cfg = compose(["experiment=coma_navigation", f"algo={baseline}"])
        validate(cfg)
        assert OmegaConf.to_container(cfg.algo) == OmegaConf.to_container(compose([f"algo={baseline}"]).algo)


@pytest.mark.parametrize("task", ["navigation", "balance", "transport", "simple_spread", "give_way"])
def test_vmas_experiments_give_every_algorithm_the_same_batch(task: str) -> None:
    """The comparison's fairness: the experiments leave the batch to the algo options, which all use 6,000."""
    for algo in ("coma", "mappo", "ippo"):
        assert compose([f"experiment=coma_{task}", f"algo={algo}"]).algo.frames_per_batch == 6000
    assert compose([f"experiment=coma_{task}"]).algo.frames_per_batch == 6000  # coma or coma_fast


RECIPE_OPTIONS = {
    "mappo_benchmarl": ("mappo", ["algo.frames_per_batch=60000", "algo.lr=0.00005", "algo.gamma=0.9",
                                  "algo.minibatch_size=4096", "algo.actor_hidden_size=256", "algo.critic_hidden_size=256"]),
    "coma_benchmarl": ("coma", ["algo.frames_per_batch=60000", "algo.gamma=0.9", "algo.actor_lr=0.0001",
                                "algo.critic_lr=0.0005", "algo.minibatches=30", "algo.actor_hidden_size=256",
                                "algo.critic_hidden_size=256", "algo.advantage_source=returns"]),
}


@pytest.mark.parametrize("option", RECIPE_OPTIONS)
def test_recipe_options_are_the_documented_transport_overrides(option: str) -> None:
    """docs/RESULTS.md ran the transport recipes (MAPPO's, COMA's long runs) as command-line overrides on the
    base algorithm; each option must equal them."""
    base, recipe = RECIPE_OPTIONS[option]
    by_option = compose(["experiment=coma_transport", f"algo={option}"])
    validate(by_option)
    by_overrides = compose(["experiment=coma_transport", f"algo={base}", *recipe])
    assert OmegaConf.to_container(by_option.algo) == OmegaConf.to_container(by_overrides.algo)
    assert by_option.algo.name == base


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: COMAConfig(eps_init=0.1, eps_end=0.5), "eps_end <= eps_init"),
        (lambda: COMAConfig(advantage_source="gae"), "algo.advantage_source='gae'; valid choices: q, returns"),
        (lambda: COMAConfig(tau=0.0), "algo.tau=0.0; expected a number in"),
        (lambda: PPOConfig(clip_epsilon=1.5), "algo.clip_epsilon"),
        (lambda: VmasEnvConfig(scenario="football"), "env.scenario='football'; valid choices: navigation"),
        (lambda: COMAConfig(num_envs=0), "algo.num_envs=0; expected an integer >= 1"),
        (lambda: PPOConfig(eval_envs=0), "algo.eval_envs=0; expected an integer >= 1"),
        (lambda: MatrixGameEnvConfig(payoff="ipd2"), "env.payoff='ipd2'"),
        (lambda: SwitchEnvConfig(n_agents=1), "env.n_agents=1; expected an integer >= 2"),
    ],
)
def test_bad_values_are_named_with_valid_choices(make, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


def test_config_typos_fail_before_any_work() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        validate(compose(["algo=coma", "env=vmas", "+algo.actor_learning_rate=0.1"]))
    with pytest.raises(ConfigError, match="algo.frames_per_batch=50; expected a multiple of algo.num_envs=4"):
        tiny("coma", "iterated_matrix_game", frames_per_batch=50)
