"""faces package."""
