"""Tests that run the live benches in their short form."""
