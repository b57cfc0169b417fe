# bnnet: `make help` lists the targets.
PY     := .venv/bin/python
STAMP  := .venv/.setup-done
PYTEST_ARGS ?=

.PHONY: setup test lint data lab report verify docs study-pages bench profile clean clean-study help

help:
	@echo "make setup        create .venv, install requirements + bnnet, Jupyter kernel, TeX for the PDF"
	@echo "make test         lint and run the whole test suite (runs setup when needed)"
	@echo "make lint         ruff over src, tests, scripts, notebooks and docs"
	@echo "make data         download CIFAR-10 into data/ (md5-checked), unless BNNET_DATA_DIR is set"
	@echo "make lab          JupyterLab with the project kernel (open 00_explore for the live explorer)"
	@echo "make report       run the notebooks (papermill) and build report/report.pdf (nbconvert)"
	@echo "                  QUICK=1: small sizes in about 2 minutes, into report/quick/;"
	@echo "                  PARAMS=my.yaml: a copy of study.yaml with parameters changed,"
	@echo "                  into report/my/ (the title page lists the changes);"
	@echo "                  N_JOBS=2 worker processes; AUTHOR=\"Ada Lovelace\" TITLE=\"...\";"
	@echo "                  COURSE=\"...\" ASSIGNMENT=\"...\" on the title page; PAPER=letter (default a4);"
	@echo "                  DASK_SCHEDULER=tcp://host:8786 trains on a Dask cluster"
	@echo "make verify       re-train a sample of the committed report's runs and compare (no cache):"
	@echo "                  the best network's seed 0 and one run of each other section, then"
	@echo "                  random runs up to about 10 minutes of training; RUNS=N: those fixed"
	@echo "                  runs and N at random instead; RUNS=all: every run;"
	@echo "                  MANIFEST=report/quick/results/manifest.json checks a quick build"
	@echo "make docs         the documentation site, offline, into docs/_build/html (warnings are"
	@echo "                  errors); the study's pages come from the committed report/notebooks"
	@echo "make study-pages  report/notebooks/ (the study's pages, committed) from report/executed/"
	@echo "                  and figures/ of the last make report (which writes them itself);"
	@echo "                  QUICK=1: a quick build's, in report/quick/"
	@echo "make bench        time bnnet (fast, NumPy) against its floor, PyTorch and torch.compile -> report/results/bench.csv"
	@echo "make profile      where the best network's training time goes (augmentation, logging,"
	@echo "                  test-time flips), 3.5 minutes -> report/results/run_profile.csv"
	@echo "make clean        remove what is cheap to recreate: caches, executed notebooks,"
	@echo "                  scratch/, report/quick/ and the built docs (never the committed study)"
	@echo "make clean-study  remove the committed study (PDF, results, figures, pages): CONFIRM=yes"

$(STAMP): requirements.txt pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

setup:
	bash scripts/setup.sh

lint: $(STAMP)
	$(PY) -m ruff check src tests scripts notebooks docs

test: $(STAMP) lint
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

data: $(STAMP)
	$(PY) scripts/get_data.py

# Jupyter refuses to start as root without --allow-root; containers often run as root.
lab: $(STAMP)
	@if [ "$$(id -u)" = 0 ]; then \
		echo "make lab: running as root (as in many containers), so JupyterLab is started with --allow-root"; \
		.venv/bin/jupyter lab --allow-root notebooks/; \
	else \
		.venv/bin/jupyter lab notebooks/; \
	fi

clean:
	rm -rf .cache .pytest_cache .ruff_cache report/executed report/quick scratch build dist
	rm -rf docs/_build docs/study docs/_figures docs/api/generated
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

# The committed study costs a cold `make report` (the README gives its measured time) to recreate.
STUDY_OUTPUTS = report/report.pdf $(filter-out report/results/bench.csv report/results/run_profile.csv,$(wildcard report/results/*.csv)) $(wildcard figures/*.png) \
	$(wildcard report/notebooks/*.ipynb)
clean-study:
	@if [ "$(CONFIRM)" != yes ]; then \
		echo "make clean-study: this deletes the committed study (report/report.pdf, report/results/*.csv"; \
		echo "but bench.csv, figures/*.png, report/notebooks/*.ipynb); a cold make report (the"; \
		echo "README gives its measured time) recreates it."; \
		echo "Run make clean-study CONFIRM=yes to go ahead."; \
		exit 1; \
	fi
	rm -f $(STUDY_OUTPUTS)

# The PDF report. QUICK=1: small sizes, every page marked as a quick run.
N_JOBS ?= 2
report: $(STAMP)
	@$(PY) scripts/build_report.py $(if $(QUICK),--quick) --n-jobs $(N_JOBS) \
		$(if $(PARAMS),--params "$(PARAMS)") \
		$(if $(DATA_NOTE),--data-note "$(DATA_NOTE)") \
		$(if $(AUTHOR),--author "$(AUTHOR)") $(if $(TITLE),--title "$(TITLE)") \
		$(if $(COURSE),--course "$(COURSE)") $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") \
		$(if $(PAPER),--paper "$(PAPER)") \
		$(if $(DASK_SCHEDULER),--dask-scheduler "$(DASK_SCHEDULER)")

# A grader's check of the committed report (or MANIFEST=... another build's): data
# fingerprint, BLAS kernel, then re-trained runs.
verify: $(STAMP)
	@$(PY) scripts/verify_report.py $(if $(RUNS),--runs $(RUNS)) --n-jobs $(N_JOBS) \
		$(if $(MANIFEST),--manifest "$(MANIFEST)")

# The documentation site (Sphinx, MyST, the PyData theme): offline, warnings are errors.
# The study's pages come from the committed report/notebooks/ (nothing is run);
# BNNET_DOCS_NOTEBOOKS=report/quick/notebooks renders a quick build's instead.
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "make docs: open docs/_build/html/index.html"

# The study's pages (report/notebooks/, committed) from the executed notebooks of the last
# make report, which writes them itself: for a build made before it did.
study-pages: $(STAMP)
	@$(PY) scripts/study_pages.py $(if $(QUICK),--quick)

# bnnet vs PyTorch (CPU) and the matmul limit; installs torch==2.13.0 (CPU) first.
bench: $(STAMP)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	$(PY) scripts/bench.py

profile: $(STAMP)
	$(PY) scripts/profile_run.py
