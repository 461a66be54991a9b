from __future__ import annotations

import pytest

from tests.conftest import World
from tests.transitions.messages import hospital_knows


@pytest.fixture
def feed(world: World) -> World:
    return hospital_knows(world)
