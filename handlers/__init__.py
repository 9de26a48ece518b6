"""Features; the foundation replaces this with the explicit FEATURES list."""
