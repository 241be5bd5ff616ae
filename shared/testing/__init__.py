"""Pytest plugin shared by every service's tests (loaded with `-p shared.testing.plugin`)."""
