"""API test fixtures: the route table's world of real rows (users per role, each county's project, lead, items)."""
from __future__ import annotations

from tests.test_route_policy import prepared_world, world  # noqa: F401  (the fixtures, shared with the page tables)
