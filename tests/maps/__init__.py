"""Tests for maps."""
