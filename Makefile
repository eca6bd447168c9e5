# The two commands a newcomer runs: `make demo` and `make test`. Both set up what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.czarr-installed

.PHONY: setup build demo test test-fast lint bench compare sdist clean

setup: $(STAMP) build

$(STAMP): pyproject.toml setup.py .ci/sysdeps.sh
	./.ci/sysdeps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q 'setuptools>=64' 'Cython>=3.0' 'numpy>=1.25' wheel
	$(PY) -m pip install -q --no-build-isolation -e '.[test]'
	touch $(STAMP)

# rebuild the extensions whose .pyx/.pxd changed (a no-op when nothing did)
build: $(STAMP)
	$(PY) setup.py -q build_ext --inplace -j 2

demo: setup
	$(PY) examples/demo.py

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

lint: setup
	$(PY) -m ruff check czarr tests benchmarks asv_bench examples setup.py

bench: setup
	$(PY) -m pip install -q asv tensorstore h5py
	$(PY) benchmarks/compare.py

sdist: setup
	$(PY) -m build --sdist --no-isolation

clean:
	rm -rf build dist *.egg-info czarr/_core/*.c czarr/_core/*.so
