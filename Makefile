# Every target creates .venv itself, so each works on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-thorough fuzz bench lint samples clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml setup.py lossctl/readers/_scan.c lossctl/readers/console/_lines.c | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml setup.py lossctl/readers/_scan.c lossctl/readers/console/_lines.c | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

demo: $(STAMP)
	$(BIN)/lossctl analyze sample_logs/ --format html --output report.html || test $$? -eq 1  # exit 1 = findings, as intended
	@echo "HTML report of the sample runs: $(CURDIR)/report.html (open it in a browser)"

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

# The property tests (detectors, readers, followers) with random draws and 10x the examples
# (HYPOTHESIS_PROFILE=thorough; `make test` pins the draws so CI does not fail on the draw of
# the day). Not part of `make test`; run it after changing a detector or reader.
THOROUGH_TESTS := tests/test_detectors.py tests/test_detectors_overfitting_mismatch.py \
	tests/test_detectors_plateau_periodic.py tests/test_detectors_spike_noisy.py \
	tests/test_readers_properties.py tests/test_readers_incremental.py tests/test_watch_follow.py \
	tests/test_compare.py
test-thorough: $(DEV_STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest $(THOROUGH_TESTS) -p no:cacheprovider

# Long fuzz run of every reader (not part of `make test`): FUZZ_EXAMPLES random inputs per test
# (default 20,000: 160,000 inputs, about 12 minutes on 2 cores); prints how many inputs were tried.
fuzz: $(DEV_STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz -p no:cacheprovider

lint: $(DEV_STAMP)
	$(BIN)/ruff check lossctl tests scripts bench

samples: $(STAMP)
	$(BIN)/python scripts/make_sample_logs.py sample_logs

bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis tests/output report.html
