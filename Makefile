# oppshape: `make demo` and `make test` work on a fresh clone; everything else is a thin call of the CLI.
#
# Torch comes from TORCH_SPEC (default: the local CPU wheel, so CI never downloads CUDA builds).
# GPU users pick theirs, e.g.:
#   make install TORCH_SPEC=torch==2.5.1 TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.oppshape-installed
CLI := $(PY) -m oppshape
# extra Hydra overrides for any experiment target, e.g. `make pola-ipd-exact ARGS="device=cuda"`
ARGS ?=

.PHONY: install demo test bench gpu-check clean-venv FORCE \
	pola-ipd-exact stackelberg-allgames-ppo stackelberg-allgames-pg stackelberg-queries \
	stackelberg-leader-memory stackelberg-table loqa-ipd loqa-coin loqa-coin-scaling \
	coma-matrix-sanity coma-vmas coma-navigation coma-balance coma-transport coma-transport-recipe coma-transport-recipe-coma coma-simple-spread coma-give-way coma-give-way-200 coma-switch \
	dial-switch-3 dial-switch-4 rial-switch-3 rial-switch-4 comm-switch dial-switch rial-switch \
	pola-dice-ipd pola-om-ipd lola-dice-ipd pola-dice-coin pola-om-coin lola-dice-coin dice-small dice-small-ipd

install: $(STAMP)

# Rewritten only when TORCH_SPEC changes, so a new spec triggers a reinstall and an old one does not.
$(VENV)/.torch-spec: FORCE
	@mkdir -p $(VENV)
	@echo '$(TORCH_SPEC) $(TORCH_INDEX_URL)' | cmp -s - $@ || echo '$(TORCH_SPEC) $(TORCH_INDEX_URL)' > $@

$(STAMP): pyproject.toml $(VENV)/.torch-spec
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PY) -m pip install -q -e ".[dev,sweep]"
	@touch $@

demo: $(STAMP)
	$(PY) scripts/demo.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest tests

bench: $(STAMP)
	$(PY) scripts/bench.py $(ARGS)

# CUDA tests, a short CUDA run of each family and the GPU bench into docs/BENCHMARKS.md (< 8 min); "no GPU" without one
gpu-check: $(STAMP)
	$(PY) scripts/gpu_check.py $(ARGS)

# --- paper experiments (README: experiments table) ---------------------------------------------------

# POLA Fig. 3: the 30 cells configs/experiment/pola_fig3_*.yaml, one Hydra multirun into runs/pola_ipd_exact/, then the table
pola-ipd-exact: $(STAMP)
	nice -n 10 $(CLI) -m hydra/launcher=joblib hydra.launcher.n_jobs=2 'experiment=glob(pola_fig3_*)' seed=1 $(ARGS)
	$(PY) -m oppshape.report pola-fig3 runs/pola_ipd_exact

stackelberg-allgames-ppo: $(STAMP)
	$(CLI) experiment=stackelberg_allgames_ppo $(ARGS)

stackelberg-allgames-pg: $(STAMP)
	$(CLI) experiment=stackelberg_allgames_pg $(ARGS)

stackelberg-queries: $(STAMP)
	$(CLI) experiment=stackelberg_observed_queries_pg $(ARGS)
	$(CLI) experiment=stackelberg_hidden_queries_pg $(ARGS)
	$(CLI) experiment=stackelberg_observed_queries_dqn $(ARGS)
	$(CLI) experiment=stackelberg_hidden_queries_dqn $(ARGS)

stackelberg-leader-memory: $(STAMP)
	$(CLI) experiment=stackelberg_no_leader_memory_pg $(ARGS)
	$(CLI) experiment=stackelberg_leader_memory_pg $(ARGS)

stackelberg-table: $(STAMP)
	$(PY) -m oppshape.report stackelberg-table runs/stackelberg_*

loqa-ipd: $(STAMP)
	$(CLI) experiment=loqa_ipd $(ARGS)

loqa-coin: $(STAMP)
	$(CLI) experiment=loqa_coin $(ARGS)

# one Hydra multirun over the board sizes, sequential (the measurement is wall-clock), then the table
LOQA_SCALING_SIZES ?= 3,4,5,6,7
LOQA_SCALING_DIR ?= runs/loqa_coin_scaling
loqa-coin-scaling: $(STAMP)
	$(CLI) -m experiment=loqa_coin_scaling env.height=$(LOQA_SCALING_SIZES) hydra.sweep.dir=$(LOQA_SCALING_DIR) $(ARGS)
	$(PY) -m oppshape.report loqa-scaling $(LOQA_SCALING_DIR)

coma-matrix-sanity: $(STAMP)
	$(CLI) experiment=coma_matrix_sanity $(ARGS)

# COMA on the switch riddle without communication, 3 and 4 prisoners x 3 seeds (a Hydra multirun, 2 at a time,
# into runs/coma_switch/n<prisoners>/seed<s>), then the table next to the last-day rule
coma-switch: $(STAMP)
	$(COMA_SWEEP) hydra.sweep.dir=runs/coma_switch 'hydra.sweep.subdir=n$${env.n_agents}/seed$${seed}' experiment=coma_switch_3,coma_switch_4 $(ARGS)
	$(PY) -m oppshape.report coma-switch --runs runs/coma_switch --output docs/results/coma_switch.md

# COMA / MAPPO / IPPO x 3 seeds on every VMAS task: Hydra multiruns (2 at a time) into
# runs/coma_vmas/<task>/<algo>/seed<s> (COMA with each experiment's own COMA option, then the two baselines),
# then the table and plot (docs/results/coma_vmas.md / .png)
COMA_SWEEP := $(CLI) -m hydra/launcher=joblib hydra.launcher.n_jobs=2 seed=0,1,2 trainer.progress=false logger=quiet
COMA_VMAS := hydra.sweep.dir=runs/coma_vmas 'hydra.sweep.subdir=$${env.scenario}/$${algo.name}/seed$${seed}'
COMA_TASKS := coma_navigation,coma_balance,coma_transport,coma_simple_spread,coma_give_way

coma-vmas: $(STAMP)
	$(COMA_SWEEP) $(COMA_VMAS) experiment=$(COMA_TASKS) $(ARGS)
	$(COMA_SWEEP) $(COMA_VMAS) experiment=$(COMA_TASKS) algo=mappo,ippo $(ARGS)
	$(PY) -m oppshape.report coma-vmas --runs runs/coma_vmas --output docs/results/coma_vmas.md

# one task of coma-vmas: COMA / MAPPO / IPPO x 3 seeds, runs shared with coma-vmas (runs/coma_vmas),
# table printed, plot in runs/coma_vmas/returns_<task>.png
coma-navigation coma-balance coma-transport coma-simple-spread coma-give-way: coma-%: $(STAMP)
	$(COMA_SWEEP) $(COMA_VMAS) experiment=coma_$(subst -,_,$*) $(ARGS)
	$(COMA_SWEEP) $(COMA_VMAS) experiment=coma_$(subst -,_,$*) algo=mappo,ippo $(ARGS)
	$(PY) -m oppshape.report coma-vmas --runs runs/coma_vmas --tasks $(subst -,_,$*)

# MAPPO on transport with BenchMARL's VMAS recipe, 24M frames, seed 0 (~75 min on one CPU core);
# checkpoints every 10 iterations, so `python -m oppshape resume=<run dir>` continues a stopped run
coma-transport-recipe: $(STAMP)
	$(CLI) experiment=coma_transport algo=mappo_benchmarl seed=0 trainer.iterations=400 trainer.checkpoint_every=10 $(ARGS)

# COMA on transport with the nearest analogue of that recipe (configs/algo/coma_benchmarl.yaml), seed 0,
# 100M frames (~4 h on one CPU core; its rise starts after ~50M frames, docs/RESULTS.md); resumable the same way
coma-transport-recipe-coma: $(STAMP)
	$(CLI) experiment=coma_transport algo=coma_benchmarl seed=0 trainer.iterations=1700 trainer.checkpoint_every=10 $(ARGS)

# give_way with 200-step episodes: in the task's 100 steps no agent reaches the passing place in time
# (scripts/give_way_heuristic.py), so only here does giving way pay; 3 algorithms x 3 seeds x 2.4M frames
COMA_GIVE_WAY_200 := hydra.sweep.dir=runs/coma_give_way_200 'hydra.sweep.subdir=$${env.scenario}/$${algo.name}/seed$${seed}' experiment=coma_give_way env.max_steps=200 trainer.iterations=400
coma-give-way-200: $(STAMP)
	$(COMA_SWEEP) $(COMA_GIVE_WAY_200) $(ARGS)
	$(COMA_SWEEP) $(COMA_GIVE_WAY_200) algo=mappo,ippo $(ARGS)
	$(PY) -m oppshape.report coma-vmas --runs runs/coma_give_way_200 --tasks give_way

dial-switch-3: $(STAMP)
	$(CLI) experiment=dial_switch_3 $(ARGS)

dial-switch-4: $(STAMP)
	$(CLI) experiment=dial_switch_4 $(ARGS)

rial-switch-3: $(STAMP)
	$(CLI) experiment=rial_switch_3 $(ARGS)

rial-switch-4: $(STAMP)
	$(CLI) experiment=rial_switch_4 $(ARGS)

# DIAL/RIAL Fig. 3: {DIAL, RIAL} x {3, 4} prisoners x seeds COMM_SEEDS as Hydra multiruns (2 jobs at a time; n = 3 for
# 5,000 epochs, n = 4 for 20,000), then curves + table (comm_switch.png, summary.md) in runs/<target>/;
# a job is runs/<target>/<experiment>/seed<s>; continue one with `python -m oppshape resume=<that dir> trainer.iterations=N`.
# ARGS go to every job; an algo key needs ++ in a sweep over experiments (ARGS="++algo.eval_envs=512")
COMM_SEEDS ?= 0,1,2
COMM_SWEEP = $(CLI) -m hydra/launcher=joblib hydra.launcher.n_jobs=2 seed=$(COMM_SEEDS) logger=quiet trainer.progress=false \
	'hydra.sweep.subdir=$${name}/seed$${seed}'
comm-switch: $(STAMP)
	$(COMM_SWEEP) hydra.sweep.dir=runs/comm_switch experiment=dial_switch_3,rial_switch_3 $(ARGS)
	$(COMM_SWEEP) hydra.sweep.dir=runs/comm_switch experiment=dial_switch_4,rial_switch_4 trainer.iterations=20000 $(ARGS)
	$(PY) -m oppshape.report comm-switch runs/comm_switch

# the issue's names: one algorithm, n = 3 and 4, several seeds, with the curve plot
dial-switch rial-switch: $(STAMP)
	$(COMM_SWEEP) hydra.sweep.dir=runs/$(subst -,_,$@) experiment=$(@:-switch=)_switch_3 $(ARGS)
	$(COMM_SWEEP) hydra.sweep.dir=runs/$(subst -,_,$@) experiment=$(@:-switch=)_switch_4 trainer.iterations=20000 $(ARGS)
	$(PY) -m oppshape.report comm-switch runs/$(subst -,_,$@)

# POLA paper Figs. 4-5 at the README's full scale (days on a CPU; use device=cuda), and the reduced CPU set
pola-dice-ipd pola-om-ipd lola-dice-ipd pola-dice-coin pola-om-coin lola-dice-coin: $(STAMP)
	$(CLI) experiment=$(subst -,_,$@) $(ARGS)

# one Hydra multirun each (sequential; add hydra/launcher=joblib hydra.launcher.n_jobs=2 for parallel jobs),
# every run in runs/dice_small[_ipd]/<experiment name>
DICE_SMALL_IPD := pola_dice_ipd_small,pola_om_ipd_small,lola_dice_ipd_small
dice-small: $(STAMP)
	$(CLI) -m experiment=$(DICE_SMALL_IPD),pola_dice_coin_small,pola_om_coin_small,lola_dice_coin_small \
		hydra.sweep.dir=runs/dice_small 'hydra.sweep.subdir=$${name}' $(ARGS)

# the IPD half of dice-small: the paper's ordering POLA-DiCE ~ POLA-OM > LOLA-DiCE in ~15 min on one core
dice-small-ipd: $(STAMP)
	$(CLI) -m experiment=$(DICE_SMALL_IPD) hydra.sweep.dir=runs/dice_small_ipd 'hydra.sweep.subdir=$${name}' $(ARGS)

clean-venv:
	rm -rf $(VENV)

FORCE:

# Advantage Alignment (Duque et al., ICLR 2025): IPD, 3x3 Coin Game, and LOQA's scaling measurement on 3x3..7x7
# (one size after the other: the measurement is wall-clock seconds); aa-coin runs the plain form (`ARGS="algo=paa"`:
# the proximal one), aa-coin-scaling the proximal form, its measured one (`ARGS="algo=aa"`: the plain one)
.PHONY: aa-ipd aa-coin aa-coin-scaling
aa-ipd aa-coin: $(STAMP)
	$(CLI) experiment=$(subst -,_,$@) $(ARGS)

AA_SCALING_SIZES ?= 3,4,5,6,7
AA_SCALING_DIR ?= runs/aa_coin_scaling
aa-coin-scaling: $(STAMP)
	$(CLI) -m experiment=aa_coin_scaling env.height=$(AA_SCALING_SIZES) trainer.max_seconds=3600 hydra.sweep.dir=$(AA_SCALING_DIR) $(ARGS)
	$(PY) -m oppshape.report loqa-scaling $(AA_SCALING_DIR)

# The league (issue #19, src/oppshape/eval/league/): every entrant against every other and a best response.
# league-fixed: the fixed strategies only (IPD with exact best responses; 3x3 Coin Game), under a minute on CPU.
.PHONY: league-fixed league-ipd league-coin
LEAGUE := $(PY) -m oppshape.league
league-fixed: $(STAMP)
	$(LEAGUE) game=ipd out_dir=runs/league/fixed_ipd $(ARGS)
	$(LEAGUE) game=coin_game best_response.method=exact out_dir=runs/league/fixed_coin3 $(ARGS)
# league-ipd / league-coin: one short CPU run of each IPD / Coin Game family (AA's Coin run: make aa-coin's, ~4 min;
# trained into runs/league/agents/, reused when its checkpoint exists), then the league of those runs and the fixed
# strategies, best responses included (exact for memory-1 entrants, learned otherwise). Lengthen a run by deleting it and raising its overrides.
LEAGUE_AGENTS := runs/league/agents
LEAGUE_TRAIN = test -f $(LEAGUE_AGENTS)/$(1)/checkpoints/last.pt || $(CLI) $(2) logger=quiet trainer.progress=false run_dir=$(LEAGUE_AGENTS)/$(1)
league-ipd: $(STAMP)
	$(call LEAGUE_TRAIN,ipd_pola_exact,experiment=pola_ipd_exact)
	$(call LEAGUE_TRAIN,ipd_pola_dice,experiment=pola_dice_ipd_small trainer.iterations=3)
	$(call LEAGUE_TRAIN,ipd_loqa,experiment=loqa_ipd trainer.iterations=300 trainer.eval_every=100)
	$(call LEAGUE_TRAIN,ipd_aa,experiment=aa_ipd trainer.iterations=150 trainer.eval_every=50)
	$(LEAGUE) game=ipd out_dir=runs/league/ipd \
		entrants=[allc,alld,tft,grim,random,$(LEAGUE_AGENTS)/ipd_pola_exact,$(LEAGUE_AGENTS)/ipd_pola_dice,$(LEAGUE_AGENTS)/ipd_loqa,$(LEAGUE_AGENTS)/ipd_aa] $(ARGS)
league-coin: $(STAMP)
	$(call LEAGUE_TRAIN,coin_pola_dice,experiment=pola_dice_coin_small trainer.iterations=3)
	$(call LEAGUE_TRAIN,coin_loqa,experiment=loqa_coin trainer.iterations=40)
	$(call LEAGUE_TRAIN,coin_aa,experiment=aa_coin)
	$(LEAGUE) game=coin_game out_dir=runs/league/coin3 best_response.learned.frames=100000 \
		entrants=[allc,alld,random,$(LEAGUE_AGENTS)/coin_pola_dice,$(LEAGUE_AGENTS)/coin_loqa,$(LEAGUE_AGENTS)/coin_aa] $(ARGS)
