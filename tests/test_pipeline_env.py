"""The environment the pipeline gives the kernels it starts, and gives back afterwards."""

from __future__ import annotations

import os

import pytest

from loyalty_lib import pipeline


@pytest.mark.parametrize("user_value", [None, "4"])
def test_kernel_environment_limits_blas_threads_unless_the_user_chose(monkeypatch, user_value):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if user_value is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", user_value)
    with pipeline._kernel_environment():
        assert os.environ["MPLBACKEND"] == pipeline.INLINE_BACKEND
        assert os.environ["OPENBLAS_NUM_THREADS"] == (user_value or "1")
    assert os.environ["MPLBACKEND"] == "Agg"
    assert os.environ.get("OPENBLAS_NUM_THREADS") == user_value
