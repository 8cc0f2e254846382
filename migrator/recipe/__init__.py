"""The halo migration: what to find, how each field is bound, which templates render the result."""
