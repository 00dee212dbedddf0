# Every target bootstraps .venv on first use (stamp file), so a fresh clone needs
# nothing but Python 3.11.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# LANG is also the locale variable: take it only from the command line
# (make corpus LANG=ja), and run Python under a UTF-8 locale whatever it says.
L      := $(if $(filter command line,$(origin LANG)),$(LANG),ko)
RUN    := env LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONUTF8=1 $(PY)
INPUT  ?= data/sample/$(L).jsonl.gz
OUT    ?= out/corpus/$(L)
SIZE   ?= tiny
DATA   ?= out/corpus/$(L)
STEPS  ?= 200
TRAIN_OUT ?= out/train/$(SIZE)
TRAIN_ARGS ?=
VOCAB  ?= 30000
TOKENIZER ?= out/tokenizer/$(L)
TOKENS ?= out/tokens/$(L)
ARGS   ?=
LANGS  ?=
WEIGHTS ?=
ALPHA  ?=
SOURCES ?=
comma  := ,
space  := $(subst ,, )
MIX_NAME := $(subst $(comma),-,$(LANGS))
MIX_LANGS := $(subst $(comma),$(space),$(LANGS))
MIX    ?= out/mix/$(MIX_NAME)
# without SOURCES, a mixture's sources are out/tokens/MIX_NAME/LANG, all made with one
# tokenizer trained on every language's corpus (each made first where missing)
MIX_TOKENIZER ?= out/tokenizer/$(MIX_NAME)
MIX_SOURCES = $(or $(SOURCES),$(subst $(space),$(comma),$(foreach l,$(MIX_LANGS),out/tokens/$(MIX_NAME)/$(l))))
CKPT   ?=
# make ablate: recipes A and B on INPUT (one or more JSON Lines files), SEEDS runs each;
# REFERENCE: clean text also evaluated (e.g. ../shared/corpora/ko-wiki-korquad.jsonl.gz)
A      ?=
B      ?=
SEEDS  ?= 3
REFERENCE ?=
ABLATE_STEPS ?= 200
ABLATE_OUT ?= out/ablate/$(basename $(notdir $(A)))-vs-$(basename $(notdir $(B)))
# make e2e: the whole chain on the bundled samples, from scratch, into E2E
E2E    ?= out/e2e
E2E_STEPS ?= 40
E2E_VOCAB ?= 8000
E2E_THREADS ?= 1

.PHONY: venv lock corpus report tokenizer tokens mix train eval ablate e2e lint test clean

venv: $(STAMP)

# requirements.lock pins every package (exact versions, made by pip-tools from setup.cfg's
# ranges); `make lock` refreshes it. setup.cfg keeps the ranges for people who install the
# package into an environment of their own.
$(STAMP): setup.cfg pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	# fasttext (full build, for `curate train-quality`) and fasttext-predict both ship a
	# `fasttext` module; installing the full build last makes training and prediction work.
	$(PY) -m pip install --quiet --force-reinstall --no-deps fasttext==0.9.3
	touch $(STAMP)

lock:  ## pin new or changed requirements of setup.cfg in requirements.lock (UPGRADE=1: re-resolve all)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip-tools
	$(PY) -m piptools compile --quiet $(if $(UPGRADE),--upgrade) --extra test --extra quality-model --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	  --output-file requirements.lock setup.cfg

corpus: $(STAMP)  ## curate INPUT (default: the bundled sample) into OUT
	$(RUN) -m curate.cli corpus --lang $(L) --input $(INPUT) --output $(OUT) $(ARGS)

report: $(STAMP)  ## rebuild OUT/report.html and OUT/report.json
	$(RUN) -m curate.cli report $(OUT)

tokenizer: $(STAMP)  ## morpheme-aware byte-level BPE trained on the curated shards in DATA
	$(RUN) -m train.tokenizer $(if $(LANGS),--langs $(LANGS),--lang $(L)) $(if $(WEIGHTS),--weights $(WEIGHTS)) --data $(DATA) --vocab $(VOCAB) --out $(TOKENIZER) $(ARGS)

tokens: $(STAMP)  ## curated shards in DATA -> token shards in TOKENS (the trainer's input)
	$(RUN) -m train.token_shards --data $(DATA) --tokenizer $(TOKENIZER) --out $(TOKENS) $(ARGS)

mix: $(STAMP)  ## a training mixture of LANGS (or the token shards SOURCES) by WEIGHTS or ALPHA, with held-out slices, into MIX
	@test -n "$(LANGS)" || { echo "make mix: name the languages, e.g. LANGS=ko,ja" >&2; exit 2; }
ifeq ($(SOURCES),)
	@for l in $(MIX_LANGS); do test -f out/corpus/$$l/manifest.json || \
	  $(MAKE) --no-print-directory corpus LANG=$$l OUT=out/corpus/$$l ARGS= || exit 1; done
	@test -f $(MIX_TOKENIZER)/tokenizer.json || $(MAKE) --no-print-directory tokenizer LANGS=$(LANGS) \
	  DATA=$(subst $(space),$(comma),$(foreach l,$(MIX_LANGS),out/corpus/$(l))) TOKENIZER=$(MIX_TOKENIZER) ARGS=
	@for l in $(MIX_LANGS); do test -f out/tokens/$(MIX_NAME)/$$l/manifest.json || \
	  $(MAKE) --no-print-directory tokens LANG=$$l DATA=out/corpus/$$l TOKENIZER=$(MIX_TOKENIZER) \
	  TOKENS=out/tokens/$(MIX_NAME)/$$l ARGS= || exit 1; done
endif
	$(RUN) -m train.mix --langs $(LANGS) --sources $(MIX_SOURCES) $(if $(WEIGHTS),--weights $(WEIGHTS),$(if $(ALPHA),--alpha $(ALPHA))) --out $(MIX) $(ARGS)

# One process per GPU under torchrun, or one plain CPU process when there is none.
# Trains on token shards when TOKENS holds them (make tokens), else tokenizes DATA on the fly;
# makes the corpus first when DATA has none.
train: $(STAMP)  ## train GPT-NeoX SIZE (tiny, 1.3b, 3.8b, 5.8b, 12.8b) on DATA
	@test -f $(DATA)/manifest.json || $(MAKE) corpus LANG=$(L) OUT=$(DATA)
	@ngpu=$$($(PY) -c 'import torch; print(torch.cuda.device_count())'); \
	if [ "$$ngpu" -gt 0 ]; then launch="$(VENV)/bin/torchrun --standalone --nproc_per_node $$ngpu -m"; \
	else launch="$(PY) -m"; fi; \
	env LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONUTF8=1 $$launch train.train --size $(SIZE) --data $(DATA) \
	  --steps $(STEPS) --out $(TRAIN_OUT) $(if $(wildcard $(TOKENS)/manifest.json),--tokens $(TOKENS)) $(TRAIN_ARGS)

eval: $(STAMP)  ## held-out bits per character of checkpoint CKPT on its mixture's slices: CKPT/eval.json, CKPT/eval.png
	@test -n "$(CKPT)" || { echo "make eval: name a checkpoint, e.g. CKPT=out/train/tiny/checkpoints/step-0000200" >&2; exit 2; }
	$(RUN) -m train.evaluate --ckpt $(CKPT) $(ARGS)

.PHONY: score
score: $(STAMP)  ## perplexity and bits per character of each document of DATA under CKPT (a checkpoint, run or HF folder): OUT (default out/score/LANG)
	@test -n "$(CKPT)" || { echo "make score: name a model, e.g. CKPT=out/train/tiny" >&2; exit 2; }
	$(RUN) -m curate.cli score --model $(CKPT) --input $(DATA) \
	  --output $(if $(filter command line,$(origin OUT)),$(OUT),out/score/$(L)) $(ARGS)

ablate: $(STAMP)  ## INPUT curated by recipes A and B, tiny model x SEEDS on each, held-out bits per character: ABLATE_OUT/ablate.json, .md, .png
	@test -n "$(A)" -a -n "$(B)" || { echo "make ablate: name two recipes, e.g. A=pipelines/recipes/ablations/ko-raw.yaml B=pipelines/recipes/ko.yaml" >&2; exit 2; }
	$(RUN) -m train.ablate --a $(A) --b $(B) --lang $(L) --input $(INPUT) $(if $(REFERENCE),--reference $(REFERENCE)) \
	  --seeds $(SEEDS) --steps $(ABLATE_STEPS) --out $(ABLATE_OUT) $(ARGS)

# Each step is its own make target, run in order on the bundled samples; nothing is reused
# from an earlier e2e run (E2E is emptied first), so the wall time is the whole chain's.
# The tokenizer counts in-process (a Ray start-up costs more than the sample's counting),
# and the tiny model trains on E2E_THREADS torch threads: on two busy cores, two OpenMP
# threads spinning against each other made training several times slower.
e2e: $(STAMP)  ## corpus (ko, ja samples) -> tokenizer -> tokens -> mix -> train tiny -> eval -> score, from scratch into E2E
	rm -rf $(E2E)
	$(MAKE) --no-print-directory corpus LANG=ko OUT=$(E2E)/corpus/ko INPUT=data/sample/ko.jsonl.gz ARGS=--no-progress
	$(MAKE) --no-print-directory corpus LANG=ja OUT=$(E2E)/corpus/ja INPUT=data/sample/ja.jsonl.gz ARGS=--no-progress
	$(MAKE) --no-print-directory tokenizer LANGS=ko,ja DATA=$(E2E)/corpus/ko,$(E2E)/corpus/ja VOCAB=$(E2E_VOCAB) \
	  TOKENIZER=$(E2E)/tokenizer ARGS="--workers 1"
	for l in ko ja; do $(MAKE) --no-print-directory tokens DATA=$(E2E)/corpus/$$l TOKENIZER=$(E2E)/tokenizer \
	  TOKENS=$(E2E)/tokens/$$l ARGS= || exit 1; done
	$(MAKE) --no-print-directory mix LANGS=ko,ja SOURCES=$(E2E)/tokens/ko,$(E2E)/tokens/ja MIX=$(E2E)/mix ARGS=
	OMP_NUM_THREADS=$(E2E_THREADS) $(MAKE) --no-print-directory train SIZE=tiny DATA=$(E2E)/corpus/ko TOKENS=$(E2E)/mix \
	  STEPS=$(E2E_STEPS) TRAIN_OUT=$(E2E)/train \
	  TRAIN_ARGS="--global-batch-tokens 1024 --eval-every 0 --ckpt-every $(E2E_STEPS)"
	OMP_NUM_THREADS=$(E2E_THREADS) $(MAKE) --no-print-directory eval \
	  CKPT=$(E2E)/train/checkpoints/step-$(shell printf '%07d' $(E2E_STEPS)) ARGS=
	for l in ko ja; do $(MAKE) --no-print-directory score CKPT=$(E2E)/train DATA=$(E2E)/corpus/$$l \
	  OUT=$(E2E)/score/$$l ARGS= || exit 1; done

lint: $(STAMP)  ## ruff: the linter and the formatter's check (pyproject.toml holds their settings)
	$(RUN) -m ruff check .
	$(RUN) -m ruff format --check .

test: lint  ## the linter, then the whole test suite
	$(RUN) -m pytest -q tests

clean:
	rm -rf out .pytest_cache
