"""Names and paths of the code this recipe migrates (tt-metal's ttnn conv2d / sliding-window code)."""

import re

ESTIMATE = "estimate_halo_output_elems"
PRECISE = "calculate_precise_halo_output_elems"
CONFIG_TYPE = "SlidingWindowConfig"
PARALLEL_CONFIG_TYPE = "ParallelConfig"
SHARD_BOUNDARIES = "generate_shard_boundaries"
OP_TRACE = "generate_op_trace_metadata"
MAX_NSTICKS = "generate_max_out_nsticks_per_core"
NUM_CORES_NHW_HELPER = "get_num_cores_nhw_from_parallel_config"
SLIDING_WINDOW_NAMESPACE = "ttnn::operations::sliding_window"

SLIDING_WINDOW_HPP = "ttnn/cpp/ttnn/operations/sliding_window/sliding_window.hpp"
SLIDING_WINDOW_CPP = "ttnn/cpp/ttnn/operations/sliding_window/sliding_window.cpp"
SLIDING_WINDOW_INCLUDE = "ttnn/operations/sliding_window/sliding_window.hpp"

# What each estimate parameter means, by its declared name (the tree's own declaration is read;
# these are only the meanings). Position is the fallback when a checkout renamed a parameter.
ESTIMATE_ROLES = ("shard_shape", "batch_size", "input_height", "input_width", "kernel_size", "dilation", "padding")
ESTIMATE_PARAM_ALIASES = {
    "halo_input_shard_shape": "shard_shape",
    "shard_shape": "shard_shape",
    "batch_size": "batch_size",
    "input_height": "input_height",
    "input_width": "input_width",
    "kernel_size": "kernel_size",
    "dilation": "dilation",
    "padding": "padding",
}

# The value threaded into the enclosing function when a site has no stride in scope.
STRIDE = "stride"
# A parameter with one of these names and a two-integer type is the op's stride handed down.
STRIDE_NAME = re.compile(r"(?:conv_|orig_)?stride(?:_hw)?")
# Two scalar parameters with these names are the stride's height and width.
STRIDE_SCALAR_NAME = re.compile(r"stride_?(?:h|w|height|width|y|x)")
# A struct carrying the kernel or window beside a `stride` member describes the convolution.
WINDOW_FIELD_NAME = re.compile(r"kernel(?:_size|_hw)?|window(?:_hw|_size)?")
CONFIG_STRIDE_FIELD = "stride_hw"
CONFIG_STRIDE_TYPE = "uint32_pair_t"
# Type aliases of the sliding-window header the tool must see through to spell element access.
TYPE_ALIASES = {"uint32_pair_t": "std::pair<uint32_t, uint32_t>"}
THREAD_AFTER_ROLE = "kernel_size"
# A threaded name the function already uses gets this prefix: `conv_stride`, `conv_stride_2`, ...
THREAD_FRESH_PREFIX = "conv"

# Only a speed hint: looked up in the same pass as the estimate. Threading works for any function.
LIKELY_THREAD_TARGETS = ("determine_conv_config_for_auto_shard",)

# Looked up in one pass over the tree before anything is parsed.
PREFILTER = (ESTIMATE, NUM_CORES_NHW_HELPER, *LIKELY_THREAD_TARGETS)
