"""Weight storage of the CNNs: int8 kernels with per-channel scales, float16, float32 (no Keras needed)."""

import numpy as np
import pytest

from fer_classic.cnn.storage import (INT8_MIN_SIZE, decode_weights, dequantize_int8, encode_weights, quantize_int8,
                                     round_trip)


@pytest.fixture
def weights():
    """Weights shaped like a CNN's: stem conv, bias, depthwise conv, a large conv, BN statistics, dense."""
    generator = np.random.default_rng(0)
    shapes = [(3, 3, 1, 64), (64,), (3, 3, 64, 1), (3, 3, 64, 128), (128,), (128,), (128, 7), (7,)]
    return [generator.normal(0, 0.1, shape).astype(np.float32) for shape in shapes]


def test_int8_quantisation_is_per_output_channel_and_within_half_a_step():
    kernel = np.random.default_rng(1).normal(0, 1, (3, 3, 4, 5)).astype(np.float32)
    kernel[..., 2] *= 100  # one loud channel must not coarsen the others
    kernel[..., 4] = 0
    values, scales = quantize_int8(kernel)
    assert values.dtype == np.int8 and values.shape == kernel.shape and np.abs(values).max() == 127
    assert scales.dtype == np.float32 and scales.shape == (5,)
    np.testing.assert_allclose(scales[:4], np.abs(kernel[..., :4]).max(axis=(0, 1, 2)) / 127, rtol=1e-6)
    error = np.abs(dequantize_int8(values, scales) - kernel)
    assert np.all(error <= scales / 2 + 1e-7)
    assert not dequantize_int8(values, scales)[..., 4].any()


def test_depthwise_kernels_get_one_scale_per_input_channel():
    kernel = np.random.default_rng(2).uniform(-1, 1, (3, 3, 6, 1)).astype(np.float32)
    kernel[0, 0, :, 0] = np.arange(2, 8)  # channel c's largest magnitude is c + 2
    values, scales = quantize_int8(kernel)
    assert scales.shape == (6,)
    np.testing.assert_allclose(scales, np.arange(2, 8) / 127, rtol=1e-6)
    with pytest.raises(ValueError, match="only kernels"):
        quantize_int8(np.ones(4))


def test_int8_storage_quantises_only_the_large_kernels(weights):
    arrays = encode_weights(weights, "int8")
    assert [str(arrays[f"w{i:03d}"].dtype) for i in range(len(weights))] == \
        ["float16", "float16", "float16", "int8", "float16", "float16", "float16", "float16"]
    assert [key for key in arrays if key[0] == "s"] == ["s003"] and weights[3].size >= INT8_MIN_SIZE
    assert {str(a.dtype) for key, a in encode_weights(weights, "float32").items()} == {"float32"}
    with pytest.raises(ValueError, match="storage must be one of"):
        encode_weights(weights, "int4")


@pytest.mark.parametrize("storage", ["int8", "float16", "float32"])
def test_decoding_gives_float32_weights_and_storing_them_again_changes_nothing(weights, storage):
    decoded = round_trip(weights, storage)
    assert [w.dtype for w in decoded] == [np.float32] * len(weights)
    assert [w.shape for w in decoded] == [w.shape for w in weights]
    again = encode_weights(decoded, storage)
    for key, array in encode_weights(weights, storage).items():
        np.testing.assert_array_equal(again[key], array, err_msg=key)
    assert max(np.abs(d - w).max() for d, w in zip(decoded, weights)) < (0.01 if storage == "int8" else 1e-3)
    np.testing.assert_array_equal(decode_weights(encode_weights(weights, "float32"))[3], weights[3])
