"""The numbers behind the conv_transpose2d caller's arguments, from the reference model: the halo the
transposed conv really runs (is_transpose) equals a regular stride-1, unpadded halo over the
zero-inserted full input on every shape, while the conv's own stride and padding (upstream #30446)
under-allocate on some shapes and stride 1 with the conv's padding still does on a few."""

import itertools

from migrator.reference import SlidingWindowConfig, precise_halo_output_elems


def _sizes(n, h, k, s, p, d, cores):
    real = SlidingWindowConfig(batch_size=n, input_hw=(h, h), window_hw=(k, k), stride_hw=(s, s),
                               padding=(p, p, p, p), dilation_hw=(d, d), num_cores_nhw=cores, snap_to_tile=True,
                               is_transpose=True)
    out = (h - 1) * s - 2 * p + d * (k - 1) + 1
    full = out + d * (k - 1)  # what conv_transpose2d passes to auto-shard as the input size

    def regular(stride, padding):
        return precise_halo_output_elems(SlidingWindowConfig(
            batch_size=n, input_hw=(full, full), window_hw=(k, k), stride_hw=(stride, stride),
            padding=(padding,) * 4, dilation_hw=(d, d), num_cores_nhw=cores, snap_to_tile=True), (1, 32))

    return precise_halo_output_elems(real, (1, 32)), regular(1, 0), regular(s, p), regular(1, p)


def test_stride_one_without_padding_is_exact_and_the_alternatives_are_not():
    exact = upstream_short = stride1_short = total = 0
    for n, h, k, s, p, d, cores in itertools.product([1, 2], [8, 32, 128], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2],
                                                     [1, 2], [1, 8, 64]):
        if p > d * (k - 1) // 2:
            continue
        real, ours, upstream, stride1 = _sizes(n, h, k, s, p, d, cores)
        total += 1
        exact += ours == real
        upstream_short += upstream < real
        stride1_short += stride1 < real
    assert exact == total
    assert upstream_short > 0 and stride1_short > 0  # the check can tell the bindings apart
    print(f"{total} transposed shapes: ours exact on all; conv's own stride+padding under-allocates on "
          f"{upstream_short}, stride 1 with the conv's padding on {stride1_short}")


def test_the_issues_example_h128_k2_s2_p0():
    real, ours, upstream, _ = _sizes(1, 128, 2, 2, 0, 1, 8)
    assert ours == real and upstream < real
