# Every target brings .venv up to date first; the stamp makes that a no-op when
# pyproject.toml has not changed.
PY := .venv/bin/python
STAMP := .venv/.installed

.PHONY: demo test check js bench clean eval fuzz

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	.venv/bin/netra demo

# Bytecode caches on (whatever PYTHONDONTWRITEBYTECODE says): the suite starts some hundred
# Python processes (workers, `netra` commands, servers) that would otherwise each compile the
# same modules, and pytest would rewrite its plugins' asserts again in every worker.
# Temporary files in memory where the machine allows (scripts/in_scratch.sh). Three workers: on
# 2 cores, back to back, -n 3 took 258.6 s, -n 4 287.1 s (less CPU lost to contention), -n 2 336.8 s.
test: $(STAMP) check js
	scripts/in_scratch.sh env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder

# the JS langgraph-sdk for tests/e2e/test_js_sdk.py (skipped without Node, outside CI)
js:
	if command -v node >/dev/null 2>&1; then cd tests/js && npm ci --no-audit --no-fund; fi

check: $(STAMP)
	$(PY) scripts/check_architecture_compliance.py --strict

bench: $(STAMP)
	$(PY) bench/bench_generate.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_aggregations.py
	$(PY) bench/bench_graph.py
	$(PY) bench/bench_cache.py
	$(PY) bench/bench_lru.py
	$(PY) bench/bench_joint.py
	$(PY) bench/bench_fair_queue.py
	$(PY) bench/bench_model_mode.py
	$(PY) bench/bench_cli.py

clean:
	rm -rf .venv .netra

eval: $(STAMP)
	.venv/bin/netra eval

# FUZZ_ARGS: e.g. "--max-examples 50 --seed 7", "--phases fuzzing", "--database-url ... --redis-url ..."
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py $(FUZZ_ARGS)
