r"""The batched descent loop of :mod:`landscape.descent` compiled with JAX (XLA, float64; CPU or GPU).

Same iteration as the NumPy loop, row for row: at iteration i every active row evaluates
:math:`f` and :math:`\nabla f = J^\top B^\top (B x_d - A y)`; in a run to convergence a row leaves when
:math:`\|\nabla f\| \le` tol, or, at every ``i = w, 2w, ...`` for a stall window w, when its best f improved
by at most stall_tol·|f| since the previous check; active rows then take one gradient or Adam step.
Rows that leave are masked inside a compiled ``lax.while_loop`` of at most ``CHUNK`` iterations; between
chunks the rows still active are gathered into a smaller batch once they fill at most half of it, so the
work follows the rows' own step counts rather than the slowest row's. Imported only when this engine runs.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from . import _conv_jax
from .objective import residual_map

CHUNK = 512
"""Iterations per compiled loop between compactions."""


def ladder(n: int) -> int:
    """The batch size a compacted batch of n rows is padded to: 8, 12, 16, 24, 32, 48, ... (at most 1/3 padding)."""
    size = 8
    while size < n:
        size = size * 3 // 2 if (size & (size - 1)) == 0 else size * 4 // 3
    return size


def layer_kind(layer) -> tuple:
    """A layer's static description for the compiled loop: ``("dense",)``, or the convolution's kind, input shape,
    stride and padding (and output padding)."""
    name = type(layer).__name__
    if name == "Dense":
        return ("dense",)
    if name == "ConvTranspose2d":
        return ("conv_transpose", layer.in_shape, layer.stride, layer.padding, layer.output_padding)
    if name == "Conv2d":
        return ("conv", layer.in_shape, layer.stride, layer.padding)
    raise ValueError(f"the compiled loop runs Dense, ConvTranspose2d and Conv2d layers; got {name}")


def _linear(kind: tuple, parameter, x):
    r""":math:`W x` for the rows of x, W a dense matrix or a convolution's kernel (PyTorch's layouts, as
    :mod:`landscape.layers`)."""
    if kind[0] == "dense":
        return x @ parameter.T
    images = x.reshape(x.shape[0], *kind[1])
    if kind[0] == "conv":
        out = _conv_jax.conv(images, parameter, kind[2], kind[3])
    else:
        out = _conv_jax.conv_transpose(images, parameter, kind[2], kind[3], kind[4])
    return out.reshape(x.shape[0], -1)


def _transpose(kind: tuple, parameter, g, in_dim: int):
    r""":math:`W^\top g` for the rows of g: the exact adjoint of :func:`_linear`."""
    if kind[0] == "dense":
        return g @ parameter
    adjoint = jax.linear_transpose(lambda x: _linear(kind, parameter, x), jnp.zeros((g.shape[0], in_dim), g.dtype))
    return adjoint(g)[0]


def value_and_grad(weights, biases, B, Ay, X, kinds=None):
    r""":math:`f` and :math:`\nabla f` per row, with the residual :math:`r = B x_d - A y` as in :class:`Objective`.

    ``kinds`` None: dense weights and B a matrix (or None). Otherwise ``(layer kinds, readout kind)``
    (:func:`layer_kind`), ``weights`` the layers' matrices or kernels and B the pair (the readout's matrix or kernel
    or None, A or None)."""
    if kinds is None:
        outputs = [X]
        for W, b in zip(weights, biases):
            outputs.append(jnp.maximum(outputs[-1] @ W.T + b, 0.0))
        r = (outputs[-1] if B is None else outputs[-1] @ B.T) - Ay
        g = r if B is None else r @ B
        for i in range(len(weights), 0, -1):
            g = jnp.where(outputs[i] > 0, g, 0.0) @ weights[i - 1]
        return 0.5 * jnp.sum(r * r, axis=1), g
    layer_kinds, readout_kind = kinds
    readout, A = B
    outputs = [X]
    for kind, W, b in zip(layer_kinds, weights, biases):
        outputs.append(jnp.maximum(_linear(kind, W, outputs[-1]) + b, 0.0))
    measured = outputs[-1] if readout_kind is None else _linear(readout_kind, readout, outputs[-1])
    r = (measured if A is None else measured @ A.T) - Ay
    g = r if A is None else r @ A
    if readout_kind is not None:
        g = _transpose(readout_kind, readout, g, outputs[-1].shape[1])
    for i in range(len(weights), 0, -1):
        g = _transpose(layer_kinds[i - 1], weights[i - 1], jnp.where(outputs[i] > 0, g, 0.0), outputs[i - 1].shape[1])
    return 0.5 * jnp.sum(r * r, axis=1), g


def _loop(weights, biases, B, Ay, state, constants, adam: bool, fixed: bool, stall: bool, track: bool, kinds=None):
    """Iterations ``state["i"]`` … ``stop − 1`` (fewer once no row is active) of the descent."""
    lr, beta1, beta2, eps, tol, stall_tol, window, radius, stop = constants

    def evaluate(X):
        return value_and_grad(weights, biases, B, Ay, X, kinds)

    def body(s):
        values, g = evaluate(s["X"])
        active = s["active"]
        if not fixed:
            moving = active & (jnp.linalg.norm(g, axis=1) > tol)
            if stall:
                best = jnp.where(active, jnp.minimum(s["best"], values), s["best"])
                check = (s["i"] > 0) & (s["i"] % window == 0)
                still = check & (s["best_before"] - best <= stall_tol * jnp.abs(best))
                s = s | {"stalled": s["stalled"] | (active & still & moving), "best": best,
                         "best_before": jnp.where(check & active, best, s["best_before"])}
                moving = moving & ~still
            active = moving
        column = active[:, None]
        if adam:
            t = jnp.where(active, s["t"] + 1, s["t"])
            m = jnp.where(column, beta1 * s["m"] + (1 - beta1) * g, s["m"])
            v = jnp.where(column, beta2 * s["v"] + (1 - beta2) * g * g, s["v"])
            power = jnp.maximum(t, 1).astype(g.dtype)[:, None]
            step = lr * (m / (1 - beta1**power)) / (jnp.sqrt(v / (1 - beta2**power)) + eps)
            s = s | {"t": t, "m": m, "v": v}
        else:
            step = lr * g
        X = jnp.where(column, s["X"] - step, s["X"])
        ran = active.astype(s["taken"].dtype)
        s = s | {"X": X, "active": active, "taken": s["taken"] + ran, "total": s["total"] + ran, "i": s["i"] + 1}
        if track:
            arrived = (s["hit"] < 0) & active & (jnp.linalg.norm(X - s["x_star"], axis=1) < radius)
            s = s | {"hit": jnp.where(arrived, s["total"], s["hit"])}
        return s

    return jax.lax.while_loop(lambda s: (s["i"] < stop) & jnp.any(s["active"]), body, state)


@functools.partial(jax.jit, static_argnames=("adam", "fixed", "stall", "track", "kinds"))
def _chunk(weights, biases, B, Ay, state, constants, *, adam: bool, fixed: bool, stall: bool, track: bool, kinds=None):
    r"""One compiled chunk of iterations, and :math:`\|\nabla f\|` at every row's point after it."""
    state = _loop(weights, biases, B, Ay, state, constants, adam, fixed, stall, track, kinds)
    gradient = value_and_grad(weights, biases, B, Ay, state["X"], kinds)[1]
    return state | {"gradient_norm": jnp.linalg.norm(gradient, axis=1)}


@functools.partial(jax.jit, static_argnames=("adam", "track", "reset"))
def _schedule(weights, biases, V, c, A, Y, steps, state, constants, *, adam: bool, track: bool, reset: bool):
    """Fixed step counts on a stack of snapshots (leading axis t), in one compiled scan: the iterates
    after each snapshot and the state after the last. Each snapshot's residual map is
    :func:`landscape.objective.residual_map`: :math:`B = A V`, :math:`b = A(y - c)`."""

    def snapshot(s, inputs):
        w, b, V_t, c_t, n = inputs
        B, Ay = residual_map(V_t, c_t, A, Y)
        if reset and adam:
            s = s | {"m": jnp.zeros_like(s["m"]), "v": jnp.zeros_like(s["v"]), "t": jnp.zeros_like(s["t"])}
        s = _loop(w, b, B, Ay, s | {"i": jnp.zeros_like(s["i"])}, (*constants, n), adam, True, False, track)
        return s, s["X"]

    return jax.lax.scan(snapshot, state, (weights, biases, V, c, steps))


_STACKED: list = []
"""The last flow stacked for :func:`run_schedule`: (its networks, their parameters on the device)."""


def _stacked(nets) -> tuple:
    """Weights, biases, readouts and readout biases of ``nets`` stacked along a leading axis, on the device;
    the last flow's are kept, since surfing inverts many batches over one flow."""
    if _STACKED and len(_STACKED[0]) == len(nets) and all(a is b for a, b in zip(_STACKED[0], nets)):
        return _STACKED[1]
    depth = len(nets[0].weights)

    def stack(arrays):
        return None if arrays[0] is None else jnp.stack(arrays)

    parameters = (tuple(stack([net.weights[layer] for net in nets]) for layer in range(depth)),
                  tuple(stack([net.effective_biases[layer] for net in nets]) for layer in range(depth)),
                  stack([net.readout for net in nets]), stack([net.readout_bias for net in nets]))
    _STACKED[:] = [tuple(nets), parameters]
    return parameters


def parameters(net, B) -> tuple:
    """``(weights, biases, B)`` on the device, as :func:`value_and_grad` takes them (B: the objective's residual
    map A V, or None)."""
    return (tuple(jnp.asarray(w) for w in net.weights), tuple(jnp.asarray(b) for b in net.effective_biases),
            None if B is None else jnp.asarray(B))


def operator_parameters(objective) -> tuple:
    """``(weights, biases, B, Ay, kinds)`` of an objective for :func:`value_and_grad`: dense matrices and B = A V
    for a dense network (kinds None); for a network of operators the layers' matrices or kernels, B the pair
    (readout's matrix or kernel, A) and their kinds."""
    net = objective.net
    if not net.structured:
        B, Ay = objective.residual_map
        return (*parameters(net, B), Ay, None)
    readout = net.readout_layer
    kinds = (tuple(layer_kind(layer) for layer in net.layers), None if readout is None else layer_kind(readout))

    def parameter(layer):
        return jnp.asarray(layer.W if layer_kind(layer) == ("dense",) else layer.kernel)

    weights = tuple(parameter(layer) for layer in net.layers)
    biases = tuple(jnp.asarray(b) for b in net.effective_biases)
    B = (None if readout is None else parameter(readout), None if objective.A is None else jnp.asarray(objective.A))
    return weights, biases, B, objective.residual_operator[2], kinds


def run(objective, X, m, v, t, total, hit, x_star, optimizer: str, lr: float, betas, eps: float,
        steps: int | None, tol: float, max_steps: int, stall_window: int | None, stall_tol: float,
        radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One run of :class:`landscape.descent.BatchedDescent` on one objective's network, updating X, m, v, t, total
    and hit in place; returns the steps each row took, whether it stopped by the stall rule, and
    :math:`\|\nabla f\|` at its final point."""
    limit = max_steps if steps is None else steps
    rows = len(X)
    flags = dict(adam=optimizer == "adam", fixed=steps is not None, stall=steps is None and stall_window is not None,
                 track=hit is not None)
    arrays = {"X": X, "total": total, "taken": np.zeros(rows, dtype=np.int64), "gradient_norm": np.full(rows, np.inf)}
    if flags["adam"]:
        arrays |= {"m": m, "v": v, "t": t}
    if flags["stall"]:
        arrays |= {"stalled": np.zeros(rows, dtype=bool), "best": np.full(rows, np.inf),
                   "best_before": np.full(rows, np.inf)}
    if flags["track"]:
        arrays |= {"hit": hit}
    active, i, size = np.arange(rows), 0, rows
    with jax.enable_x64(True):
        *params, Ay, kinds = operator_parameters(objective)
        Ay = np.broadcast_to(np.atleast_2d(Ay), (rows, np.shape(Ay)[-1]))
        while len(active) and i < limit:
            if len(active) <= size // 2:
                size = ladder(len(active))
            if len(active) == rows:  # no row has left yet: no gathering
                state, Ay_rows, x_star_rows = dict(arrays), Ay, x_star
            else:
                slots = np.concatenate([active, np.full(size - len(active), active[0])])
                state = {name: a[slots] for name, a in arrays.items()}
                Ay_rows, x_star_rows = Ay[slots], None if x_star is None else x_star[slots]
            state |= {"active": np.arange(size) < len(active), "i": i}
            if flags["track"]:
                state["x_star"] = x_star_rows
            constants = (lr, betas[0], betas[1], eps, tol, stall_tol, stall_window or 1, radius, min(i + CHUNK, limit))
            state = jax.device_get(_chunk(*params, Ay_rows, state, constants, **flags, kinds=kinds))
            for name, target in arrays.items():
                target[active] = state[name][: len(active)]
            i = int(state["i"])
            active = active[state["active"][: len(active)]]
    return arrays["taken"], arrays.get("stalled", np.zeros(rows, dtype=bool)), arrays["gradient_norm"]


def run_schedule(nets, Y, A, X, m, v, t, total, hit, x_star, optimizer: str, lr: float, betas, eps: float,
                 steps, reset_moments: bool, radius: float) -> np.ndarray:
    """Algorithm 1's fixed steps on θ_0 … θ_{T−1}: ``steps[t]`` iterations on ``nets[t]`` for every row, in one
    compiled call; updates X, m, v, t, total and hit in place and returns the iterates (T, B, k)."""
    rows = len(X)
    flags = dict(adam=optimizer == "adam", track=hit is not None, reset=reset_moments)
    state = {"X": X, "total": total, "taken": np.zeros(rows, dtype=np.int64), "active": np.ones(rows, dtype=bool),
             "i": 0}
    if flags["adam"]:
        state |= {"m": m, "v": v, "t": t}
    if flags["track"]:
        state |= {"hit": hit, "x_star": x_star}
    with jax.enable_x64(True):
        weights, biases, V, c = _stacked(nets)
        constants = (lr, betas[0], betas[1], eps, 0.0, 0.0, 1, radius)
        final, iterates = jax.device_get(_schedule(weights, biases, V, c, A, Y, jnp.asarray(steps), state, constants,
                                                   **flags))
    for name, target in (("X", X), ("total", total), ("m", m), ("v", v), ("t", t), ("hit", hit)):
        if name in final:
            target[...] = final[name]
    return iterates
