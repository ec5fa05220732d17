"""Pure analysis over atlas entities (no I/O)."""
