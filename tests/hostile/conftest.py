"""Fixtures of the hostile-input suite (see support.py for what each case is judged on)."""

from __future__ import annotations

import pytest

from tests.hostile.support import Judge


@pytest.fixture
def judge(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Judge:
    return Judge(request, caplog)
