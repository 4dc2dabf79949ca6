# The two commands of the README. Both install what they need first (scripts/install.sh).
.PHONY: study test install

study:  ## the default study on this machine's devices -> portabench.sqlite, portabench-report.md, report/index.html
	scripts/install.sh
	python3 -m portabench study --html report

test:   ## the lint and type gates, then the whole test suite (unit + end-to-end on real frameworks + headless browser)
	scripts/install.sh --test
	ruff check src tests   # rules in pyproject.toml: pycodestyle, pyflakes, import order, bugbear, pyupgrade, unused noqa, complexity
	mypy                   # src/, configured in pyproject.toml
	python3 -m pytest -q -p no:cacheprovider

install:
	scripts/install.sh
