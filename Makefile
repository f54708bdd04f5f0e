# jepa_agent: the two commands a newcomer needs are `make demo` and `make test`.
# Both create and fill .venv on first use (`make setup`), so a fresh clone needs nothing else.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jepa-setup-stamp
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST

.PHONY: setup demo test lint unit colcon-check bench default-model closed-loop-bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-robot.txt requirements-training.txt constraints.txt setup.py setup.cfg package.xml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) scripts/install_ament_hook.py
	touch $(STAMP)

demo: setup
	$(VENV)/bin/jepa-agent demo

test: setup lint unit colcon-check

lint: setup
	$(VENV)/bin/ruff check .

unit: setup
	$(VENV)/bin/pytest

colcon-check: setup
	$(PY) scripts/check_colcon_layout.py

bench: setup
	$(PY) scripts/bench_all.py

closed-loop-bench: setup
	$(PY) scripts/bench_closed_loop.py --episodes 50

default-model: setup
	bash scripts/train_default_model.sh

clean:
	rm -rf build install log .colcon-check .pytest_cache .ruff_cache
