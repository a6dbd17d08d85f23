r"""Network flows: the snapshots :math:`\theta_0, \ldots, \theta_T` of one architecture saved along training.

§3 of the paper models training as a continuous flow :math:`\theta(s)`, :math:`s \in [0, S]`, sampled at
:math:`s_t = \delta t`. A :class:`NetworkFlow` holds the sampled networks with their times.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import validate
from .network import ReLUNet, checked_network


def _architecture(net: ReLUNet) -> tuple:
    """What snapshots of one flow share: widths, bias and readout bias present or not, and every layer's kind and
    shapes (a dense readout's shape)."""
    readout = net.readout_layer
    return (net.widths, net.biases is not None, net.readout_bias is not None,
            tuple((type(layer).__name__, layer.in_shape, layer.out_shape) for layer in net.layers),
            None if readout is None else (type(readout).__name__, readout.in_shape, readout.out_shape))


def _combine(nets: Sequence[ReLUNet], coefficients: Sequence[float]) -> ReLUNet:
    """The network whose every parameter array is sum_i c_i * (that array of nets[i])."""
    first = nets[0]
    if first.structured:
        raise ValueError("linear combinations of networks are built for dense networks; densify them first "
                         "(ReLUNet.densified)")
    weights = [sum(c * n.weights[i] for c, n in zip(coefficients, nets)) for i in range(first.depth)]
    biases = None if first.biases is None else [
        sum(c * n.biases[i] for c, n in zip(coefficients, nets)) for i in range(first.depth)]
    readout = None if first.readout is None else sum(c * n.readout for c, n in zip(coefficients, nets))
    readout_bias = None if first.readout_bias is None else sum(
        c * n.readout_bias for c, n in zip(coefficients, nets))
    return ReLUNet(weights, biases, readout, readout_bias)


class LazySnapshots(Sequence):
    """Snapshots loaded on first access by ``load(t)``, at most ``keep`` of them held at once (the least recently used
    is dropped): a flow of large networks holds a few in memory, not all of them. Slices are views sharing the
    loader and the cache; every loaded snapshot must have the architecture of the first."""

    def __init__(self, load: Callable[[int], ReLUNet], count: int, keep: int = 4, _shared=None, _indices=None):
        self._shared = _shared if _shared is not None else {"load": load, "keep": validate.positive_int(keep, "keep"),
                                                          "held": OrderedDict(), "architecture": None}
        self._indices = tuple(range(count)) if _indices is None else tuple(_indices)

    def __len__(self) -> int:
        return len(self._indices)

    def take(self, positions) -> LazySnapshots:
        """A view of the snapshots at these positions (of this sequence), sharing the loader and the cache."""
        return LazySnapshots(None, 0, _shared=self._shared, _indices=[self._indices[p] for p in positions])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.take(range(len(self))[index])
        t = self._indices[index]
        held = self._shared["held"]
        if t in held:
            held.move_to_end(t)
            return held[t]
        net = self._shared["load"](t)
        if not isinstance(net, ReLUNet):
            raise ValueError(f"snapshot {t} loaded as {type(net).__name__}, not a ReLUNet")
        architecture = _architecture(net)
        if self._shared["architecture"] is None:
            self._shared["architecture"] = architecture
        elif architecture != self._shared["architecture"]:
            raise ValueError(f"snapshot {t} has architecture {architecture}; the flow's is {self._shared['architecture']}")
        held[t] = net
        while len(held) > self._shared["keep"]:
            held.popitem(last=False)
        return net


class NetworkFlow:
    r"""Snapshots :math:`\theta_0, \ldots, \theta_T` (T >= 1) of one architecture at times :math:`s_0 < \cdots < s_T`.

    Parameters
    ----------
    snapshots : sequence of ReLUNet
        Same widths, same presence of biases, same readout shape, same presence of a readout bias.
    times : array_like of shape (T + 1,), optional
        Strictly increasing; defaults to ``0, 1, ..., T`` (δ = 1).

    Examples
    --------
    >>> a, b = ReLUNet.random([2, 8, 16], rng=0), ReLUNet.random([2, 8, 16], rng=1)
    >>> flow = NetworkFlow.linear(a, b, T=10)
    >>> flow.T, flow[0] == a, flow[10] == b
    (10, True, True)
    """

    def __init__(self, snapshots: Sequence[ReLUNet], times=None):
        if isinstance(snapshots, LazySnapshots):
            self._init_lazy(snapshots, times)
            return
        if isinstance(snapshots, (ReLUNet, str, bytes)) or not isinstance(snapshots, Sequence):
            raise ValueError(f"snapshots must be a sequence of at least 2 ReLUNets; got {type(snapshots).__name__}")
        snapshots = list(snapshots)
        if len(snapshots) < 2:
            raise ValueError(f"snapshots must hold at least 2 networks (T >= 1); got {len(snapshots)}")
        for t, net in enumerate(snapshots):
            if not isinstance(net, ReLUNet):
                raise ValueError(f"snapshots[{t}] must be a ReLUNet; got {type(net).__name__}")
            if _architecture(net) != _architecture(snapshots[0]):
                raise ValueError(
                    f"snapshots[{t}] has architecture (widths, bias, readout shape, readout bias) {_architecture(net)}; "
                    f"snapshots[0] has {_architecture(snapshots[0])}")
        self._snapshots = tuple(snapshots)
        if times is None:
            times = np.arange(len(snapshots), dtype=float)
        times = validate.vector(times, "times", len(snapshots))
        if np.any(np.diff(times) <= 0):
            raise ValueError(f"times must be strictly increasing; got {times}")
        self._times = validate.frozen(times)

    def _init_lazy(self, snapshots: LazySnapshots, times) -> None:
        if len(snapshots) < 2:
            raise ValueError(f"snapshots must hold at least 2 networks (T >= 1); got {len(snapshots)}")
        snapshots[0], snapshots[len(snapshots) - 1]  # the ends are checked now, the others as they load
        self._snapshots = snapshots
        times = np.arange(len(snapshots), dtype=float) if times is None else times
        times = validate.vector(times, "times", len(snapshots))
        if np.any(np.diff(times) <= 0):
            raise ValueError(f"times must be strictly increasing; got {times}")
        self._times = validate.frozen(times)

    @classmethod
    def lazy(cls, load: Callable[[int], ReLUNet], count: int, times=None, keep: int = 4) -> NetworkFlow:
        """A flow of ``count`` snapshots loaded on access by ``load(t)``, at most ``keep`` held in memory
        (:class:`LazySnapshots`)."""
        return cls(LazySnapshots(load, validate.positive_int(count, "count"), keep), times)

    # ------------------------------------------------------------------ synthetic flows
    @classmethod
    def linear(cls, start: ReLUNet, end: ReLUNet, T: int) -> NetworkFlow:
        r""":math:`\theta(s) = (1 - s)\,\theta_{\mathrm{start}} + s\,\theta_{\mathrm{end}}` sampled at :math:`s = t/T`."""
        T = validate.positive_int(T, "T")
        for name, net in (("start", start), ("end", end)):
            checked_network(net, name)
        if _architecture(start) != _architecture(end):
            raise ValueError(f"end has architecture {_architecture(end)}; start has {_architecture(start)}")
        s = np.arange(T + 1) / T
        return cls([_combine([start, end], [1 - si, si]) for si in s], s)

    @classmethod
    def smooth_random(cls, widths: Sequence[int], T: int, out_dim: int | None = None, bias: bool = True,
                      amplitude: float = 0.3, modes: int = 3, start_distance: float = 1.0, rng=None,
                      readout_bias: bool = False) -> NetworkFlow:
        r"""A smooth random path ending at a random network :math:`\theta_b`, sampled at :math:`s = t/T`:

        .. math:: \theta(s) = \theta_b + (1 - s)\, c\, (\theta_a - \theta_b) + \mathrm{amplitude}
           \sum_{j=1}^{\mathrm{modes}} \frac{\sin(\pi j s)}{j} Z_j,

        with :math:`\theta_a, \theta_b, Z_j` independent draws of :meth:`ReLUNet.random` and
        c = ``start_distance``. Every parameter is an infinitely differentiable, bounded function of s. With
        c = 1 the path starts at :math:`\theta_a`, a network initialised as in Theorem 3.1; with c < 1 it starts
        that fraction of the way from :math:`\theta_b` towards :math:`\theta_a` (late training, where the
        minimiser moves little). ``readout_bias`` gives every network a readout bias c.
        """
        T = validate.positive_int(T, "T")
        modes = validate.positive_int(modes, "modes")
        amplitude = validate.nonnegative_scalar(amplitude, "amplitude")
        c = validate.nonnegative_scalar(start_distance, "start_distance")
        rng = validate.rng(rng)
        start, end = (ReLUNet.random(widths, out_dim, bias, rng, readout_bias) for _ in range(2))
        bumps = [ReLUNet.random(widths, out_dim, bias, rng, readout_bias) for _ in range(modes)]
        s = np.arange(T + 1) / T
        snapshots = [
            _combine([start, end, *bumps],
                     [c * (1 - si), si + (1 - c) * (1 - si),
                      *(amplitude * np.sin(np.pi * j * si) / j for j in range(1, modes + 1))])
            for si in s
        ]
        return cls(snapshots, s)

    # ------------------------------------------------------------------ access
    @property
    def T(self) -> int:
        return len(self._snapshots) - 1

    @property
    def times(self) -> np.ndarray:
        """``(s_0, ..., s_T)``, read-only."""
        return self._times

    @property
    def snapshots(self) -> tuple[ReLUNet, ...]:
        return self._snapshots

    def __len__(self) -> int:
        return len(self._snapshots)

    def __getitem__(self, index):
        """An int gives that snapshot; a slice gives a NetworkFlow of the selected snapshots and times."""
        if isinstance(index, slice):
            return NetworkFlow(self._snapshots[index], self._times[index])
        return self._snapshots[index]

    def every(self, step: int) -> NetworkFlow:
        """Every ``step``-th snapshot from θ_0, always ending with the final network θ_T."""
        step = validate.positive_int(step, "step")
        kept = list(range(0, self.T + 1, step))
        if kept[-1] != self.T:
            kept.append(self.T)
        if isinstance(self._snapshots, LazySnapshots):
            return NetworkFlow(self._snapshots.take(kept), self._times[kept])
        return NetworkFlow([self._snapshots[t] for t in kept], self._times[kept])

    def weight_norms(self) -> np.ndarray:
        r""":math:`\|W_i(\theta_t)\|_2` (largest singular value) as an array of shape (T + 1, d); its row maxima
        are M(t), its maximum Assumption 3.2's M."""
        return np.array([[layer.spectral_norm() for layer in net.layers] for net in self._snapshots])

    def max_weight_norm(self) -> float:
        r"""Assumption 3.2's :math:`M = \max_{i, t} \|W_i(\theta_t)\|_2` (largest singular value)."""
        return float(self.weight_norms().max())

    def step_norms(self) -> np.ndarray:
        r""":math:`\|\theta_t - \theta_{t-1}\|` for t = 1..T: the Euclidean norm over every parameter of the
        network (all :math:`W_i, b_i`, V and c), shape (T,)."""
        def flat(net):
            return np.concatenate([a.ravel() for a in net.to_arrays().values()])

        return np.array([np.linalg.norm(flat(b) - flat(a)) for a, b in zip(self._snapshots, self._snapshots[1:])])

    # ------------------------------------------------------------------ persistence
    def save(self, path, compress: bool = False) -> None:
        """One ``.npz`` (a path, or an open binary file): ``times``, and for snapshot t the keys
        ``t/W1 ... t/Wd, t/b1 ... t/bd, t/V, t/c``. ``compress`` deflates each array at level 1 (trained
        float32 weights held as float64 shrink to about 45 %; higher levels gain ~3 % for 1.5× the time)."""
        arrays = {"times": self._times}
        for t, net in enumerate(self._snapshots):
            arrays.update({f"{t}/{key}": value for key, value in net.to_arrays().items()})
        if not compress:
            np.savez(path, **arrays)
            return
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for key, value in arrays.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NetworkFlow:
        """Read a flow written by :meth:`save`, or a directory of one ``ReLUNet`` ``.npz`` per snapshot named
        by its index t (``0.npz``, ``1.npz``, … or zero-padded; taken in numeric order, times 0..T)."""
        path = Path(path)
        where = f"path {str(path)!r}"
        if path.is_dir():
            files = list(path.glob("*.npz"))
            if not files:
                raise ValueError(f"{where} is a directory without .npz snapshots")
            names = {f: re.fullmatch(r"(.*?)(\d+)", f.stem) for f in files}
            bad = sorted(f.name for f, match in names.items() if match is None)
            stems = {match.group(1) for match in names.values() if match is not None}
            if bad or len(stems) > 1:
                raise ValueError(f"{where}: snapshot files must share one name ending in their index t "
                                 f"(0.npz, 1.npz, ... or theta_000.npz, ...); got {sorted(f.name for f in files)[:6]}")
            by_index = {int(match.group(2)): f for f, match in names.items()}
            if sorted(by_index) != list(range(len(files))):
                indices = sorted(int(match.group(2)) for match in names.values())
                raise ValueError(f"{where}: snapshot indices must be 0..{len(files) - 1} without gaps or repeats; "
                                 f"got {indices[:10]}{'...' if len(indices) > 10 else ''}")
            return cls([ReLUNet.load(by_index[t]) for t in range(len(files))])
        try:
            with np.load(path, allow_pickle=False) as data:
                if "times" not in data.files:
                    raise ValueError(f"{where} holds no 'times'; expected a file written by NetworkFlow.save")
                times = data["times"]
                if times.ndim != 1:
                    raise ValueError(f"{where}: 'times' must be 1-D; got shape {times.shape}")
                prefixes = {f"{t}/" for t in range(len(times))}
                unknown = sorted(k for k in data.files if k != "times" and k[:k.find("/") + 1] not in prefixes)
                if unknown:
                    raise ValueError(f"{where} holds keys outside snapshots 0..{len(times) - 1}: {unknown[:5]}")
                snapshots = [
                    ReLUNet.from_arrays({k.split("/", 1)[1]: data[k] for k in data.files if k.startswith(f"{t}/")},
                                        f"{where}, snapshot {t}")
                    for t in range(len(times))
                ]
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where} is not a readable .npz flow file: {exc}") from None
        except ValueError as exc:
            if "pickled" in str(exc) or "allow_pickle" in str(exc):
                raise ValueError(f"{where} is not a readable .npz flow file (neither an .npz archive nor a numpy "
                                 "array)") from None
            raise
        return cls(snapshots, times)

    def __repr__(self) -> str:
        return f"NetworkFlow(T={self.T}, widths={list(self._snapshots[0].widths)}, s=[{self._times[0]:g}, {self._times[-1]:g}])"
