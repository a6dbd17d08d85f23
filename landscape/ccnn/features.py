r"""Random Fourier features of the Gaussian kernel :math:`k(z, z') = \exp(-\gamma\|z - z'\|^2)` (Rahimi & Recht 2007).

:math:`\varphi(z) = \sqrt{2/m}\,\cos(\Omega z + \beta)` with the m rows of Ω drawn from :math:`N(0, 2\gamma I)` and β
uniform on [0, 2π): :math:`E[\varphi(z)^\top \varphi(z')] = k(z, z')`, with an error of order :math:`m^{-1/2}`.
The CCNN paper factorises the kernel matrix of all patches; random features give the same factorisation
:math:`K \approx Q Q^\top` without forming K, and apply to new images unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate


@dataclass(frozen=True)
class RandomFourierFeatures:
    """The map φ: R^d → R^m above; build with :meth:`draw`."""

    omega: np.ndarray
    phase: np.ndarray
    gamma: float

    @classmethod
    def draw(cls, input_dim: int, dim: int, gamma: float, rng=None) -> RandomFourierFeatures:
        """m = ``dim`` features of the Gaussian kernel of width γ = ``gamma`` on R^``input_dim``."""
        input_dim, dim = validate.positive_int(input_dim, "input_dim"), validate.positive_int(dim, "dim")
        gamma = validate.positive_scalar(gamma, "gamma")
        rng = validate.rng(rng)
        return cls(rng.normal(0.0, np.sqrt(2 * gamma), (dim, input_dim)), rng.uniform(0, 2 * np.pi, dim), gamma)

    @property
    def input_dim(self) -> int:
        return self.omega.shape[1]

    @property
    def dim(self) -> int:
        return self.omega.shape[0]

    def __call__(self, Z) -> np.ndarray:
        """φ of every vector along the last axis of Z (…, d) → (…, m)."""
        Z = np.asarray(Z, dtype=float)
        if Z.shape[-1] != self.input_dim:
            raise ValueError(f"Z must hold vectors of length {self.input_dim} along its last axis; got shape {Z.shape}")
        return np.sqrt(2.0 / self.dim) * np.cos(Z @ self.omega.T + self.phase)
