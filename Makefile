# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export HF_HUB_OFFLINE := 1

.PHONY: run test typecheck pytest ingest eval calibrate sweep bench lint venv dev chromium nginx clean screenshots

# llama.cpp is compiled on install: for any x86-64 with AVX2, not for this CPU's newest extensions (its AMX
# kernels crash in sandboxes that do not grant AMX state).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

# pip compiles every package's bytecode at install. Left out (--no-compile), setup took 2.5 min less, but this
# machine sets PYTHONDONTWRITEBYTECODE=1, so every process compiled what it imported, every time: the fresh-clone
# test run took 49 CPU minutes instead of 35.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

dev: $(VENV)/.dev-installed

ingest: venv
	$(PY) -m rag ingest

run: ingest
	$(PY) app.py

# Browser tests need Debian's Chromium, the Chroma server tests nginx (the token gate in deploy/); where they cannot
# be installed those tests are skipped and say so.
chromium:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
	  || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1) \
	  || echo "Chromium could not be installed here: the browser tests will be skipped"

nginx:
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null 2>&1 || apt-get install -y -q nginx >/dev/null 2>&1 \
	  || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q nginx >/dev/null 2>&1) \
	  || echo "nginx could not be installed here: the Chroma server tests will be skipped"

# The type check (57 s on a fresh clone, one core) runs beside the tests, whose first minute waits on servers.
test: dev chromium nginx
	$(PY) -m ruff check .
	@$(MAKE) --no-print-directory -j2 typecheck pytest

typecheck: dev
	$(PY) -m mypy rag bench eval tests

# Two workers: most tests wait on servers they start, so two cores overlap the waits (864 s in one process here,
# 662 s in two). A file stays in one worker, and the files sharing the app servers run together, handed out longest
# first (tests/conftest.py), so the workers end close together.
pytest: dev chromium nginx
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# The README's screenshots (docs/chat.png, docs/widget.png), taken by the browser tests; `make test` leaves them be.
screenshots: dev chromium
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser.py -k "cited_answer or another_site_answers"

lint: dev typecheck
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The blind question sets' test split (never tuned on), the three systems side by side; then the second corpus.
# It writes eval/RESULTS.latest.md; eval/RESULTS.md is the curated record of every landing, which a run must not wipe.
eval: ingest
	cp eval/RESULTS.header.md eval/RESULTS.latest.md
	$(PY) -m rag eval eval/questions --split test --out eval/results.jsonl --system all --report eval/RESULTS.latest.md
	RAG_CORPUS_DIR=eval/second-corpus/docs RAG_INDEX_DIR=.index-second $(PY) -m rag ingest --quiet
	RAG_CORPUS_DIR=eval/second-corpus/docs RAG_INDEX_DIR=.index-second \
	  $(PY) -m rag eval eval/second-corpus/qa.jsonl --system product --report eval/RESULTS.latest.md

# Refit the answerability gate on the dev split; copy what it prints into rag/policy.py.
calibrate: ingest
	$(PY) eval/calibrate.py eval/questions

sweep: ingest
	$(PY) eval/sweep.py eval/qa.jsonl

clean:
	rm -rf .index .data

# Speed, memory, concurrency and scale-out figures (about 15 minutes); writes bench/RESULTS.md.
bench: dev nginx ingest
	$(PY) -m bench.run
