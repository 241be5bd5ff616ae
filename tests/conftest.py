"""Suite-wide fixtures live in shared/testing/plugin.py (loaded by pytest's addopts)."""
