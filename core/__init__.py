"""Core package: application factory, configuration, database, auth and shared plumbing."""
