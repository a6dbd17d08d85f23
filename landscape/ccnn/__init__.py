r"""Convexified convolutional networks (Zhang, Liang & Wainwright, arXiv 1609.01000; the lecture notes, seed 003).

A two-layer CNN :math:`H(x)_k = \sum_{j=1}^r \sum_{p=1}^P \alpha_{k,j,p}\,\sigma(w_j^\top z_p(x))` over the patches
:math:`z_p(x)` of an image is non-convex in (w, α). Moving the filters' nonlinearity into a kernel's feature map
φ (so that :math:`\sigma(w^\top z) \approx \langle \bar w, \varphi(z)\rangle`) writes it as
:math:`H(x)_k = \operatorname{tr}(Z(x) A_k)`, Z(x) the P × m matrix of the patches' features and
:math:`A_k = \sum_j \bar w_j \alpha_{k,j}^\top` (m × P), so that :math:`A = [A_1, \ldots, A_K]` has rank r.
Relaxing rank r to the nuclear-norm ball :math:`\|A\|_* \le R` makes training with a convex loss a convex
problem: every start reaches the same optimum, certified by a duality gap.

- :mod:`~landscape.ccnn.patches`: the patches z_p(x) and average pooling over their grid;
- :mod:`~landscape.ccnn.features`: random Fourier features of the Gaussian kernel
  :math:`k(z, z') = \exp(-\gamma\|z - z'\|^2)`;
- :mod:`~landscape.ccnn.convex`: the nuclear-norm-constrained multinomial logistic problem, solved by projected
  gradient (full batch, accelerated, or the paper's stochastic form) or by cvxpy, with its Frank–Wolfe duality gap;
- :mod:`~landscape.ccnn.model`: the multi-layer CCNN, one convex layer at a time;
- :mod:`~landscape.ccnn.cnn`: the non-convex CNN-1 / CNN-2 baselines with ReLU, in JAX (imported on first use);
- :mod:`~landscape.ccnn.variants`: the MNIST variations (rand, rot, img, img+rot) made offline.
"""

from .cnn import TrainedCNN, train_cnn
from .convex import (ConvexFit, class_labels, fit_cvxpy, fit_projected_gradient, logits, loss_and_gradient,
                     nuclear_gap, project_nuclear_ball)
from .features import RandomFourierFeatures
from .model import CCNN, LayerSpec, TrainedLayer, layer_specs
from .patches import average_pool, image_batch, patch_grid, patches
from .variants import VARIANTS, variant

__all__ = ["CCNN", "VARIANTS", "ConvexFit", "LayerSpec", "RandomFourierFeatures", "TrainedCNN", "TrainedLayer",
           "average_pool", "class_labels", "fit_cvxpy", "fit_projected_gradient", "image_batch", "layer_specs", "logits",
           "loss_and_gradient", "nuclear_gap", "patch_grid", "patches", "project_nuclear_ball", "train_cnn", "variant"]
