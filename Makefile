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

.PHONY: install demo test bench clean-venv FORCE \
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

# --- paper experiments (README: experiments table) ---------------------------------------------------

pola-ipd-exact: $(STAMP)
	nice -n 10 $(PY) scripts/pola_ipd_exact.py --out runs/pola_ipd_exact/table.md $(ARGS)

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
	$(PY) scripts/stackelberg_table.py runs/stackelberg_*

loqa-ipd: $(STAMP)
	$(CLI) experiment=loqa_ipd $(ARGS)

loqa-coin: $(STAMP)
	$(CLI) experiment=loqa_coin $(ARGS)

loqa-coin-scaling: $(STAMP)
	$(PY) scripts/loqa_coin_scaling.py $(ARGS)

coma-matrix-sanity: $(STAMP)
	$(CLI) experiment=coma_matrix_sanity $(ARGS)

# COMA on the switch riddle without communication, 3 and 4 prisoners x 3 seeds, next to the last-day rule
coma-switch: $(STAMP)
	$(PY) scripts/coma_switch.py --agents 3 4 --seeds 0 1 2 --jobs 2 --output docs/results/coma_switch.md $(ARGS)

coma-vmas: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --output docs/results/coma_vmas.md $(ARGS)

# one task of coma-vmas: COMA / MAPPO / IPPO x 3 seeds, runs shared with coma-vmas (runs/coma_vmas),
# table printed, plot in runs/coma_vmas/returns_<task>.png
coma-navigation: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --tasks navigation $(ARGS)

coma-balance: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --tasks balance $(ARGS)

coma-transport: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --tasks transport $(ARGS)

# MAPPO on transport with BenchMARL's VMAS recipe, 24M frames, seed 0 (~75 min on one CPU core);
# checkpoints every 10 iterations, so `python -m oppshape resume=<run dir>` continues a stopped run
coma-transport-recipe: $(STAMP)
	$(CLI) experiment=coma_transport algo=mappo_benchmarl seed=0 trainer.iterations=400 trainer.checkpoint_every=10 $(ARGS)

# COMA on transport with the nearest analogue of that recipe (configs/algo/coma_benchmarl.yaml), seed 0,
# 100M frames (~4 h on one CPU core; its rise starts after ~50M frames, docs/RESULTS.md); resumable the same way
coma-transport-recipe-coma: $(STAMP)
	$(CLI) experiment=coma_transport algo=coma_benchmarl seed=0 trainer.iterations=1700 trainer.checkpoint_every=10 $(ARGS)

coma-simple-spread: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --tasks simple_spread $(ARGS)

coma-give-way: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --tasks give_way $(ARGS)

# give_way with 200-step episodes: in the task's 100 steps no agent reaches the passing place in time
# (scripts/give_way_heuristic.py), so only here does giving way pay; 3 algorithms x 3 seeds x 2.4M frames
coma-give-way-200: $(STAMP)
	$(PY) scripts/coma_vmas.py --jobs 2 --tasks give_way --set env.max_steps=200 --iterations 400 --out runs/coma_give_way_200 $(ARGS)

dial-switch-3: $(STAMP)
	$(CLI) experiment=dial_switch_3 $(ARGS)

dial-switch-4: $(STAMP)
	$(CLI) experiment=dial_switch_4 $(ARGS)

rial-switch-3: $(STAMP)
	$(CLI) experiment=rial_switch_3 $(ARGS)

rial-switch-4: $(STAMP)
	$(CLI) experiment=rial_switch_4 $(ARGS)

# DIAL/RIAL Fig. 3: {DIAL, RIAL} x {3, 4} prisoners x seeds, curves + table in runs/comm_switch/
comm-switch: $(STAMP)
	$(PY) scripts/comm_switch.py --jobs 2 --segment 2500 --out runs/comm_switch $(ARGS)

# the issue's names: one algorithm, n = 3 and 4, several seeds, with the curve plot
dial-switch: $(STAMP)
	$(PY) scripts/comm_switch.py --algos dial --jobs 2 --segment 2500 --out runs/dial_switch $(ARGS)

rial-switch: $(STAMP)
	$(PY) scripts/comm_switch.py --algos rial --jobs 2 --segment 2500 --out runs/rial_switch $(ARGS)

# POLA paper Figs. 4-5 at the README's full scale (days on a CPU; use device=cuda), and the reduced CPU set
pola-dice-ipd pola-om-ipd lola-dice-ipd pola-dice-coin pola-om-coin lola-dice-coin: $(STAMP)
	$(CLI) experiment=$(subst -,_,$@) $(ARGS)

dice-small: $(STAMP)
	for e in pola_dice_ipd pola_om_ipd lola_dice_ipd pola_dice_coin pola_om_coin lola_dice_coin; do \
		$(CLI) experiment=$${e}_small $(ARGS) || exit 1; done

# the IPD half of dice-small: the paper's ordering POLA-DiCE ~ POLA-OM > LOLA-DiCE in ~15 min on one core
dice-small-ipd: $(STAMP)
	for e in pola_dice_ipd pola_om_ipd lola_dice_ipd; do \
		$(CLI) experiment=$${e}_small $(ARGS) || exit 1; done

clean-venv:
	rm -rf $(VENV)

FORCE:

# The league (issue #19, src/oppshape/eval/league/): every entrant against every other and a best response.
# league-fixed: the fixed strategies only (IPD with exact best responses; 3x3 Coin Game), under a minute on CPU.
.PHONY: league-fixed league-ipd league-coin
LEAGUE := $(PY) -m oppshape.league
league-fixed: $(STAMP)
	$(LEAGUE) game=ipd out_dir=runs/league/fixed_ipd $(ARGS)
	$(LEAGUE) game=coin_game best_response.method=exact out_dir=runs/league/fixed_coin3 $(ARGS)
# league-ipd / league-coin: one short CPU run of each IPD / Coin Game family (trained into runs/league/agents/,
# reused when its checkpoint exists), then the league of those runs and the fixed strategies, best responses
# included (exact for memory-1 entrants, learned otherwise). Lengthen a run by deleting it and raising its overrides.
LEAGUE_AGENTS := runs/league/agents
LEAGUE_TRAIN = test -f $(LEAGUE_AGENTS)/$(1)/checkpoints/last.pt || $(CLI) $(2) logger=quiet trainer.progress=false run_dir=$(LEAGUE_AGENTS)/$(1)
league-ipd: $(STAMP)
	$(call LEAGUE_TRAIN,ipd_pola_exact,experiment=pola_ipd_exact)
	$(call LEAGUE_TRAIN,ipd_pola_dice,experiment=pola_dice_ipd_small trainer.iterations=3)
	$(call LEAGUE_TRAIN,ipd_loqa,experiment=loqa_ipd trainer.iterations=300 trainer.eval_every=100)
	$(LEAGUE) game=ipd out_dir=runs/league/ipd \
		entrants=[allc,alld,tft,grim,random,$(LEAGUE_AGENTS)/ipd_pola_exact,$(LEAGUE_AGENTS)/ipd_pola_dice,$(LEAGUE_AGENTS)/ipd_loqa] $(ARGS)
league-coin: $(STAMP)
	$(call LEAGUE_TRAIN,coin_pola_dice,experiment=pola_dice_coin_small trainer.iterations=3)
	$(call LEAGUE_TRAIN,coin_loqa,experiment=loqa_coin trainer.iterations=40)
	$(LEAGUE) game=coin_game out_dir=runs/league/coin3 best_response.learned.frames=100000 \
		entrants=[allc,alld,random,$(LEAGUE_AGENTS)/coin_pola_dice,$(LEAGUE_AGENTS)/coin_loqa] $(ARGS)
