"""A library the examples use but do not own: its functions are patched, not decorated."""
