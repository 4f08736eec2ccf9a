"""Tests for parks."""
