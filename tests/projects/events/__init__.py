"""Tests for projects.events."""
