"""halo-migrate: replace tt-metal's estimate_halo_output_elems with the exact halo size."""

__version__ = "0.1.0"
PROG = "halo-migrate"  # the command's name: messages, temp and journal files, cache directories
