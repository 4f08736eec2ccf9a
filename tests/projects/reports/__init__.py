"""Tests for projects.reports."""
