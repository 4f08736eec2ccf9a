"""Tests for projects.leads."""
