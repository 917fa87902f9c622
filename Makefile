# Two commands do all the set-up on a fresh machine with Python 3.10+:
#   make run    train and evaluate the classical model (the main job)
#   make test   run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
METHOD ?= hog+lbp+landmarks/mlp

.PHONY: install run test benchmark clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.py setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: install
	$(BIN)/fer-classic train --method $(METHOD) --out models/classic.joblib
	$(BIN)/fer-classic evaluate --model classic --split PrivateTest

test: install
	$(BIN)/python -m pytest -q

benchmark: install
	$(BIN)/python benchmarks/classical.py

clean:
	rm -rf $(VENV) build *.egg-info
