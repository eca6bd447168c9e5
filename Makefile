# The two commands a newcomer runs: `make demo` and `make test`. Both set up what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.czarr-installed
# real zarr-python 2.18, for the drop-in tests (tests/test_zarr2_compat.py), in its own venv
ZARR2 ?= .venv-zarr2

.PHONY: setup build demo demo-codecs test test-fast lint bench compare sdist clean

setup: $(STAMP) build $(ZARR2)/bin/python

$(ZARR2)/bin/python:
	python3 -m venv $(ZARR2)
	$(ZARR2)/bin/python -m pip install -q 'zarr>=2.18,<3'

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

demo-codecs: setup
	$(PY) examples/codec_demo.py

# head-to-head against zarr-python, tensorstore and h5py (installs the peers first)
compare: setup
	$(PY) -m pip install -q tensorstore h5py zarrs
	$(PY) benchmarks/compare.py --sharded

# asv history of the same workloads (asv machine info is written once, non-interactively)
bench: setup
	$(PY) -m pip install -q asv tensorstore h5py
	cd asv_bench && ../$(PY) -m asv machine --yes && ../$(PY) -m asv run --python=same --quick

sdist: setup
	$(PY) -m build --sdist --no-isolation

clean:
	rm -rf build dist *.egg-info czarr/_core/*.c czarr/_core/*.so czarr/capi.c czarr/capi*.so
