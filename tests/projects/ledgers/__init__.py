"""Tests for projects.ledgers."""
