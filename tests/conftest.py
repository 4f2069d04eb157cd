"""Settings for the whole test run: one BLAS thread per process.

The models fit small matrices (state-space filters of a few states, regressions on a few
columns), where OpenBLAS threads only add synchronisation. On a busy machine its spinning
threads compete with the other processes for the cores and a SARIMAX fit that takes 0.3 s
took over a minute (issue 34). The variables are set before numpy starts its thread pool
in the processes the tests start (servers, workers, scripts); ``threadpool_limits`` covers
this process, where a plugin may have imported numpy already. A value set in the environment
wins (``OPENBLAS_NUM_THREADS=2 pytest ...`` measures the difference).
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from threadpoolctl import threadpool_limits  # noqa: E402 (after the variables, on purpose)

threadpool_limits(limits=int(os.environ["OPENBLAS_NUM_THREADS"]))
