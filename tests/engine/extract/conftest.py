from __future__ import annotations

import pytest

from tasks_app.engine import parse_document
from tests.engine.conftest import options


@pytest.fixture
def parse():
    def run(path):
        return parse_document(path, options()).to_dict(lambda key: key)

    return run
