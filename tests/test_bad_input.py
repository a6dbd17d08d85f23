"""Every bad input named in the core issue raises ValueError naming the argument."""

import numpy as np
import pytest

from landscape import (
    ActivationPattern,
    Objective,
    ReLUNet,
    activation_pattern,
    affine_map,
    gaussian_measurements,
    local_affine,
    near_zero_mask,
    near_zero_set,
)

NET = ReLUNet.random([2, 4, 3], out_dim=5, rng=0)
F = Objective(NET, np.ones(5))
W1, W2 = np.ones((4, 2)), np.ones((3, 4))

CASES = {
    "no layers": (lambda: ReLUNet([]), "weights"),
    "weights not a sequence": (lambda: ReLUNet(np.ones((2, 2))), "weights"),
    "1-D weight": (lambda: ReLUNet([np.ones(3)]), "W1"),
    "mismatched layer": (lambda: ReLUNet([W1, np.ones((3, 5))]), r"W2.*\(\?, 4\)"),
    "empty layer": (lambda: ReLUNet([np.ones((0, 2))]), "W1.*empty"),
    "NaN weight": (lambda: ReLUNet([np.array([[np.nan, 1.0]])]), "W1.*finite"),
    "inf weight": (lambda: ReLUNet([W1, np.full((3, 4), np.inf)]), "W2.*finite"),
    "complex weight": (lambda: ReLUNet([np.ones((2, 2)) * 1j]), "real"),
    "bias count": (lambda: ReLUNet([W1, W2], biases=[np.ones(4)]), "biases"),
    "bias length": (lambda: ReLUNet([W1, W2], biases=[np.ones(4), np.ones(4)]), r"b2.*\(3,\)"),
    "NaN bias": (lambda: ReLUNet([W1], biases=[np.array([0, 0, np.nan, 0])]), "b1.*finite"),
    "readout columns": (lambda: ReLUNet([W1, W2], readout=np.ones((5, 4))), r"readout.*\(\?, 3\)"),
    "inf readout": (lambda: ReLUNet([W1], readout=np.full((2, 4), -np.inf)), "readout.*finite"),
    "random widths short": (lambda: ReLUNet.random([3]), "widths"),
    "random zero width": (lambda: ReLUNet.random([3, 0]), r"widths\[1\]"),
    "random float width": (lambda: ReLUNet.random([3, 2.5]), r"widths\[1\]"),
    "random out_dim": (lambda: ReLUNet.random([3, 4], out_dim=0), "out_dim"),
    "forward wrong k": (lambda: NET.forward(np.ones(3)), r"X.*\(2,\).*\(N, 2\)"),
    "forward 3-D": (lambda: NET.forward(np.ones((2, 2, 2))), "X"),
    "forward NaN": (lambda: NET.forward([np.nan, 0.0]), "X.*finite"),
    "pattern wrong k": (lambda: activation_pattern(NET, np.ones((5, 3))), r"X.*\(N, 2\)"),
    "pattern inf": (lambda: activation_pattern(NET, [[0.0, np.inf]]), "X.*finite"),
    "negative tau": (lambda: near_zero_set(NET, [0.0, 0.0], -0.1), "tau.*>= 0"),
    "NaN tau": (lambda: near_zero_mask(NET, [0.0, 0.0], np.nan), "tau"),
    "tau not a number": (lambda: near_zero_mask(NET, [0.0, 0.0], "0.1"), "tau"),
    "near-zero set of a batch": (lambda: near_zero_set(NET, np.ones((3, 2)), 0.1), "x.*one point"),
    "local_affine wrong k": (lambda: local_affine(NET, [1.0]), "X"),
    "affine_map not a pattern": (lambda: affine_map(NET, np.ones(7)), "pattern"),
    "affine_map other widths": (
        lambda: affine_map(NET, ActivationPattern.from_masks([np.ones(2, bool)])),
        "pattern.*widths",
    ),
    "y wrong length": (lambda: Objective(NET, np.ones(4)), r"y.*\(5,\)"),
    "y NaN": (lambda: Objective(NET, [1, 1, np.nan, 1, 1]), "y.*finite"),
    "A columns": (lambda: Objective(NET, np.ones(5), np.ones((3, 4))), r"A.*\(\?, 5\)"),
    "A no rows": (lambda: Objective(NET, np.ones(5), np.ones((0, 5))), "A.*empty"),
    "A inf": (lambda: Objective(NET, np.ones(5), np.full((2, 5), np.inf)), "A.*finite"),
    "net not a network": (lambda: Objective("net", np.ones(5)), "net"),
    "value wrong k": (lambda: F.value(np.ones((4, 3))), "X"),
    "grad NaN": (lambda: F.grad([0.0, np.nan]), "X.*finite"),
    "direction shape": (lambda: F.directional_derivative(np.ones((3, 2)), np.ones(2)), r"D.*same shape"),
    "direction NaN": (lambda: F.directional_derivative(np.ones(2), [np.nan, 0.0]), "D.*finite"),
    "negative rtol": (lambda: F.directional_derivative(np.ones(2), np.ones(2), rtol=-1.0), "rtol"),
    "m < 1": (lambda: gaussian_measurements(0, 5), "m"),
    "pattern bits length": (lambda: ActivationPattern(b"\x00\x00", (3,)), "bits"),
    "pattern layer range": (lambda: activation_pattern(NET, [0.0, 0.0]).layer(0), "layer"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_raises_value_error_naming_the_argument(name):
    call, message = CASES[name]
    with pytest.raises(ValueError, match=message):
        call()


def test_load_refuses_incomplete_or_foreign_files(tmp_path):
    np.savez(tmp_path / "nothing.npz", V=np.ones((2, 2)))
    with pytest.raises(ValueError, match="W1"):
        ReLUNet.load(tmp_path / "nothing.npz")
    np.savez(tmp_path / "partial.npz", W1=W1, W2=W2, b1=np.ones(4))
    with pytest.raises(ValueError, match="biases"):
        ReLUNet.load(tmp_path / "partial.npz")
    np.savez(tmp_path / "extra.npz", W1=W1, extra=np.ones(2))
    with pytest.raises(ValueError, match="unexpected keys.*extra"):
        ReLUNet.load(tmp_path / "extra.npz")
    np.savez(tmp_path / "mismatch.npz", W1=W1, W2=np.ones((3, 3)))
    with pytest.raises(ValueError, match="W2"):
        ReLUNet.load(tmp_path / "mismatch.npz")


def test_tolerances_are_validated_and_unconverged_projected_gradient_is_flagged():
    from landscape import NetworkFlow, pieces, projected_surf, region_of

    net = ReLUNet.random([2, 4, 6], rng=0)
    with pytest.raises(ValueError, match="interior_tol must be a finite real number >= 0; got -1"):
        pieces(net, [0.1, 0.2], 0.1, interior_tol=-1)
    region = region_of(net, [0.1, 0.2])
    with pytest.raises(ValueError, match="atol must be a finite real number >= 0; got nan"):
        region.contains([0.1, 0.2], atol=float("nan"))
    flow = NetworkFlow.smooth_random([2, 4, 6], T=2, amplitude=0.05, start_distance=0.1, rng=3)
    y = flow[2].forward([0.3, -0.2])
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1; got 0"):
        projected_surf(flow, y, 0.1, bounds=(-2, 2), method="projected_gradient", max_steps=0)
    with pytest.raises(ValueError, match="tol must be a finite real number >= 0; got nan"):
        projected_surf(flow, y, 0.1, bounds=(-2, 2), method="projected_gradient", tol=float("nan"))
    cut = projected_surf(flow, y, 0.1, bounds=(-2, 2), method="projected_gradient", max_steps=1, lr=1e-6)
    assert cut.converged.shape == (2,) and not cut.converged.any()
    assert projected_surf(flow, y, 0.1, bounds=(-2, 2)).converged.all()


def test_obscure_errors_now_name_the_argument(tmp_path):
    from landscape import NetworkFlow, enumerate_regions, projected_surf, regular_descent

    with pytest.raises(ValueError, match="betas must be two numbers"):
        regular_descent(NET, np.ones(5), betas=(0.9, 1.5))
    with pytest.raises(ValueError, match=r"eps \(Adam.s ε\) must be a finite real number > 0; got 0.0"):
        regular_descent(NET, np.ones(5), eps=0.0)
    flow = NetworkFlow.smooth_random([2, 4, 6], T=2, rng=3)
    with pytest.raises(ValueError, match=r"y must have shape \(6,\)"):
        projected_surf(flow, np.ones((1, 6)), 0.1, bounds=(-2, 2))
    with pytest.raises(ValueError, match="rng must be None, an integer >= 0"):
        ReLUNet.random([2, 3], rng=True)
    with pytest.raises(ValueError, match="rng must be None, an integer >= 0"):
        gaussian_measurements(2, 3, rng="seed")
    with pytest.raises(ValueError, match="bias must be True or False; got 'no'"):
        ReLUNet.random([2, 3], bias="no")
    with pytest.raises(ValueError, match="net must be a ReLUNet; got NoneType"):
        activation_pattern(None, [0.0, 0.0])
    with pytest.raises(ValueError, match="progress_every must be an integer >= 1; got 0"):
        enumerate_regions(NET, bounds=(-1, 1), progress=lambda *a: None, progress_every=0)
    with pytest.raises(ValueError, match="progress must be True or False; got 'yes'"):
        enumerate_regions(NET, bounds=(-1, 1), progress="yes")
    with pytest.raises(ValueError, match="X must be an array of real numbers; got booleans"):
        NET.forward(np.array([True, False]))
    with pytest.raises(ValueError, match="got strings"):
        NET.forward(np.array(["1.0", "2.0"]))
    with pytest.raises(ValueError, match="X must be an array of real numbers: setting an array element"):
        NET.forward([[1.0, 2.0], [3.0]])
    NET.save(tmp_path / "model")
    assert ReLUNet.load(tmp_path / "model") == NET  # no ".npz" appended behind the user's back
    (tmp_path / "cut.npz").write_bytes((tmp_path / "model").read_bytes()[:100])
    with pytest.raises(ValueError, match="cut.npz' is not a readable .npz network file"):
        ReLUNet.load(tmp_path / "cut.npz")


def test_descent_refuses_targets_that_are_not_real_numbers():
    from landscape import NetworkFlow, regular_descent, surf

    flow = NetworkFlow.smooth_random([2, 4, 6], T=2, rng=3)
    for method, subject in ((regular_descent, flow[2]), (surf, flow)):
        with pytest.raises(ValueError, match="y must be an array of real numbers; got booleans"):
            method(subject, np.ones(6) > 0)
        with pytest.raises(ValueError, match="y must be real-valued; got a complex array"):
            method(subject, np.ones(6) + 1j)
        with pytest.raises(ValueError, match="y must hold at least one target"):
            method(subject, np.ones((0, 6)))
        with pytest.raises(ValueError, match="y must be finite"):
            method(subject, np.full(6, np.nan))


def test_corrupt_files_and_malformed_arguments_are_named(tmp_path):
    import struct

    from landscape import NetworkFlow, minimizer_path
    from landscape.importing import BatchNorm, read_state_dict
    from landscape.training.models import GeneratorSpec

    with pytest.raises(ValueError, match="snapshots must be a sequence of at least 2 ReLUNets; got NoneType"):
        NetworkFlow(None)
    with pytest.raises(ValueError, match="got ReLUNet"):
        NetworkFlow(NET)
    with pytest.raises(ValueError, match="start must be a ReLUNet; got str"):
        NetworkFlow.linear("a", NET, 3)
    flow = NetworkFlow([NET, NET])
    with pytest.raises(ValueError, match="bounds must satisfy lo < hi in every coordinate, by more than"):
        minimizer_path(flow, np.zeros(NET.output_dim), bounds=(-1e-12, 1e-12))
    with pytest.raises(ValueError, match="bounds\\[0\\] \\(lo\\) must be an array of real numbers; got strings"):
        minimizer_path(flow, np.zeros(NET.output_dim), bounds=("a", "b"))
    with pytest.raises(ValueError, match=r"eps of BatchNorm\('bn'\) must be a finite real number > 0; got -1"):
        BatchNorm("bn", eps=-1)
    with pytest.raises(ValueError, match="hidden must be a tuple of hidden sizes"):
        GeneratorSpec("mlp", 2, (8, 8), 5)
    with pytest.raises(ValueError, match="hidden sizes must be integers >= 1"):
        GeneratorSpec("mlp", 2, (8, 8), ("a",))
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.npz' is not a readable .npz file"):
        read_state_dict(empty)
    single = tmp_path / "single.npz"
    with open(single, "wb") as handle:
        np.save(handle, np.ones(3))
    with pytest.raises(ValueError, match="holds a single array, not an .npz archive"):
        read_state_dict(single)
    noise = tmp_path / "noise.npz"
    noise.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(ValueError, match="noise.npz' is not a readable .npz flow file"):
        NetworkFlow.load(noise)
    tensors = tmp_path / "t.safetensors"
    for header, message in ((b'[1, 2]', "a JSON list, not an object"),
                            (b'{"a": {"shape": [2], "data_offsets": [0, 16]}}', "entry for tensor 'a'"),
                            (b'{"a": {"dtype": "F64", "shape": [2], "data_offsets": [0]}}', "entry for tensor 'a'"),
                            (b'{"a": "x"}', "entry for tensor 'a' is 'x'"),
                            (b'{"a": {"dtype": "F64", "shape": [-2], "data_offsets": [0, 16]}}', "integers >= 0")):
        tensors.write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))
        with pytest.raises(ValueError, match=message):
            read_state_dict(tensors)
