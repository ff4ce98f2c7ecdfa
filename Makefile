# The two commands of the README. Both install whatever is missing first (infra/setup.sh).
.PHONY: demo test setup lint bench clean-demo

demo:
	@./infra/setup.sh
	.venv/bin/ecoute demo

test:
	@./infra/setup.sh --browser
	.venv/bin/pytest

setup:
	@./infra/setup.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

bench:
	@./infra/setup.sh
	for b in tests/benchmarks/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean-demo:
	-.venv/bin/ecoute stack down
	rm -rf .ecoute
