"""Tests for projects."""
