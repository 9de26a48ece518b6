"""Feature packages."""
