"""Parks test fixtures: role log-ins."""
from __future__ import annotations

import pytest

from core.auth.models import Role
from tests.factories import make_user


@pytest.fixture
def login_as(auth):
    """Create a user of the given role and log the test client in as that user."""

    def login(role: Role | str, **overrides):
        user = make_user(role, **overrides)
        response = auth.login(user)
        assert response.status_code == 302, "login failed"
        return user

    return login

