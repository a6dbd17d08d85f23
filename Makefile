# Two commands do all set-up on a fresh machine with only Python 3.10+:
#   make reproduce   install into .venv, then run the main job (figures + REPORT.md, quick scale)
#   make test        install into .venv, then run the default test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Numba's on-disk cache lives in the checkout, so it is writable from a fresh clone and in CI.
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
# JAX keeps compiled training steps on disk too, so a second process does not compile them again.
export JAX_COMPILATION_CACHE_DIR := $(CURDIR)/.cache/jax
# Every compiled program, however small: a random draw for one parameter shape compiles in about 0.7 s on CPU, and
# later processes (a figure's workers, a resumed run, the next command) would otherwise compile it again.
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES := 0
export MPLBACKEND := Agg

.PHONY: reproduce test bench install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

reproduce: $(BIN)/.installed
	$(BIN)/python -m figures --quick

# Two test processes, one BLAS thread each (two cores); a test file runs in one process, so its shared fixtures are built once.
test: $(BIN)/.installed
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_kernels.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_qp.py
	$(BIN)/python benchmarks/bench_regions.py
	$(BIN)/python benchmarks/bench_surfing.py
	$(BIN)/python benchmarks/bench_projected_surf.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_inversion.py
	$(BIN)/python benchmarks/bench_methods.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_minima2d.py
	$(BIN)/python benchmarks/bench_slices.py
	$(BIN)/python benchmarks/bench_branch_and_bound.py
	$(BIN)/python benchmarks/bench_ccnn.py
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_regions2d.py

clean:
	rm -rf $(VENV) .cache figures/out benchmarks/out .pytest_cache .hypothesis
