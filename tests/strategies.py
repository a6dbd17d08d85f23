"""Hypothesis strategies: small finite networks and an integer seed for the points they are fed."""

from hypothesis import strategies as st

from landscape import ReLUNet

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def networks(draw, max_k=4, max_depth=3, max_width=12, bias=None, readout=None):
    """A ``ReLUNet.random`` network of random widths, with or without biases and readout."""
    k = draw(st.integers(1, max_k))
    depth = draw(st.integers(1, max_depth))
    hidden = draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth))
    use_bias = draw(st.booleans()) if bias is None else bias
    use_readout = draw(st.booleans()) if readout is None else readout
    out_dim = draw(st.integers(1, max_width)) if use_readout else None
    return ReLUNet.random([k, *hidden], out_dim=out_dim, bias=use_bias, rng=draw(seeds))
