"""Python reference model of tt-metal's sliding-window halo math (see config.py for the config type).

Public API (other parts of halo-migrate depend on these names):

- :class:`SlidingWindowConfig` -- tt-metal's config aggregate (field names and defaults kept).
- :func:`precise_halo_output_elems` -- ``calculate_precise_halo_output_elems(config, shard_shape)``
  (27f36345e8), computed with the O(num_cores) closed form.
- :func:`max_out_nsticks_per_core` -- ``generate_max_out_nsticks_per_core(generate_shard_boundaries(...))``,
  closed form.
- :func:`estimate_halo_output_elems` -- the pre-migration estimate, variants V1/V2/V3 (:data:`VARIANTS`).

The literal (slow, C++-shaped) port lives in :mod:`migrator.reference.sliding_window`, the C++
scalar helpers in :mod:`migrator.reference.uint32`.
"""

from migrator.reference import closed_form, estimate, sliding_window, uint32
from migrator.reference.closed_form import (
    max_out_nsticks_per_core,
    precise_halo_output_elems,
    shard_boundaries_closed_form,
)
from migrator.reference.config import SlidingWindowConfig
from migrator.reference.estimate import VARIANTS, estimate_halo_output_elems
from migrator.reference.sliding_window import (
    CEIL_PAD_RULES,
    Range,
    ShardBoundary,
    calculate_precise_halo_output_elems,
    generate_max_out_nsticks_per_core,
    generate_op_trace_metadata,
    generate_shard_boundaries,
)

__all__ = [
    "SlidingWindowConfig",
    "precise_halo_output_elems",
    "max_out_nsticks_per_core",
    "estimate_halo_output_elems",
    "VARIANTS",
    "CEIL_PAD_RULES",
    "shard_boundaries_closed_form",
    "Range",
    "ShardBoundary",
    "generate_op_trace_metadata",
    "generate_shard_boundaries",
    "generate_max_out_nsticks_per_core",
    "calculate_precise_halo_output_elems",
    "closed_form",
    "estimate",
    "sliding_window",
    "uint32",
]
