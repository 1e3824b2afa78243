# Every target builds .venv from this project's own files, so a machine with only Python works.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/seqtool run sentiment demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

# Accuracy runs need ../shared/datasets (each skips with a message without it); about 2 hours here.
BENCHMARKS := encoder_speed trainer_overhead distributed_throughput threads sentiment protein behaviour finance forecast

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	for name in $(BENCHMARKS); do $(BIN)/python -m benchmarks.$$name || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
