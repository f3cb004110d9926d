"""Word lists shipped with the scanner."""
