r"""Training objectives and their update steps: VAE, GAN, DCGAN, WGAN and WGAN-GP.

One *generator update* is what each algorithm does per generator step (the lecture notes, seed 003):

- ``gan`` (Goodfellow et al. 2014, the notes' minibatch algorithm): ``n_critic`` (their k, default 1)
  discriminator steps ascending :math:`\frac1m\sum[\log D(x) + \log(1 - D(G(z)))]`, then one generator
  step descending :math:`\frac1m\sum\log(1 - D(G(z)))`; SGD with momentum (0.5), learning rate 0.01.
- ``dcgan`` (Radford et al. 2016): the same game with the non-saturating generator loss
  :math:`-\frac1m\sum\log D(G(z))`; Adam, α = 2e-4, β1 = 0.5, β2 = 0.999; one critic step.
- ``wgan`` (Arjovsky et al. 2017): critic loss :math:`\frac1m\sum[D(G(z)) - D(x)]`, its weights clipped to
  [−c, c] (c = 0.01) after each step, ``n_critic`` = 5; generator loss :math:`-\frac1m\sum D(G(z))`;
  RMSProp, α = 5e-5 (PyTorch's: decay 0.99, ε = 1e-8 outside the root).
- ``wgangp`` (Gulrajani et al. 2017, Algorithm 1 of the notes): critic loss
  :math:`\frac1m\sum[D(\tilde x) - D(x) + \lambda(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2]` with
  :math:`\hat x = \epsilon x + (1 - \epsilon)\tilde x`, ε ~ U[0, 1]; λ = 10, ``n_critic`` = 5,
  Adam α = 1e-4, β1 = 0, β2 = 0.9.
- ``vae`` (Kingma & Welling 2014): the negative ELBO
  :math:`\frac1m\sum[\|G(z) - x\|^2 / (2\sigma^2) + \mathrm{KL}(\mathcal N(\mu, \operatorname{diag} e^{s})\,\|\,\mathcal N(0, I))]`,
  :math:`z = \mu + e^{s/2}\varepsilon`, encoder and decoder trained jointly by Adam (α = 1e-3);
  σ² = ``decoder_variance`` (0.1).

The latent prior is :math:`\mathcal N(0, I_k)` for the VAE (its ELBO's prior) and uniform on
:math:`[-1, 1]^k` for the GANs (DCGAN's choice, and the paper's distribution of x*). Batch size m = 64.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from . import models
from .models import Architecture

MODELS = ("vae", "gan", "dcgan", "wgan", "wgangp")

_DEFAULTS = {
    "vae": dict(optimizer="adam", lr=1e-3, generator_loss="elbo", prior="normal"),
    "gan": dict(optimizer="sgd", lr=0.01, momentum=0.5, generator_loss="minimax"),
    "dcgan": dict(optimizer="adam", lr=2e-4, beta1=0.5, beta2=0.999, generator_loss="non_saturating"),
    "wgan": dict(optimizer="rmsprop", lr=5e-5, n_critic=5, clip=0.01, generator_loss="wasserstein"),
    "wgangp": dict(optimizer="adam", lr=1e-4, beta1=0.0, beta2=0.9, n_critic=5, gp_weight=10.0,
                   generator_loss="wasserstein"),
}


@dataclass(frozen=True)
class Hyperparameters:
    """Every training hyper-parameter of one model; :func:`hyperparameters` fills in the defaults."""

    model: str
    optimizer: str
    lr: float
    generator_loss: str
    beta1: float = 0.9
    beta2: float = 0.999
    momentum: float = 0.0
    n_critic: int = 1
    clip: float = 0.0
    gp_weight: float = 0.0
    decoder_variance: float = 0.1
    prior: str = "uniform"
    batch: int = 64

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def hyperparameters(model: str, **overrides) -> Hyperparameters:
    """The defaults of ``model`` (see the module notes) with ``overrides`` applied, validated."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    fields = {f.name for f in dataclasses.fields(Hyperparameters)} - {"model"}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"unknown hyper-parameters {sorted(unknown)}; known: {sorted(fields)}")
    values = {**_DEFAULTS[model], **{key: value for key, value in overrides.items() if value is not None}}
    hyper = Hyperparameters(model=model, **values)
    for name in ("lr", "decoder_variance"):
        value = getattr(hyper, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or value == float("inf"):
            raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    for name in ("beta1", "beta2", "momentum"):
        value = getattr(hyper, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    for name in ("clip", "gp_weight"):
        value = getattr(hyper, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < float("inf"):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    for name in ("n_critic", "batch"):
        value = getattr(hyper, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    if hyper.optimizer not in ("adam", "rmsprop", "sgd"):
        raise ValueError(f"optimizer must be 'adam', 'rmsprop' or 'sgd'; got {hyper.optimizer!r}")
    if hyper.prior not in ("normal", "uniform"):
        raise ValueError(f"prior must be 'normal' or 'uniform'; got {hyper.prior!r}")
    if model == "vae" and hyper.prior != "normal":
        raise ValueError("the VAE's ELBO assumes the prior N(0, I): prior must be 'normal'")
    return hyper


def _optimizer(hyper: Hyperparameters) -> optax.GradientTransformation:
    if hyper.optimizer == "adam":
        return optax.adam(hyper.lr, b1=hyper.beta1, b2=hyper.beta2)
    if hyper.optimizer == "rmsprop":
        return optax.rmsprop(hyper.lr, decay=0.99, eps=1e-8, eps_in_sqrt=False)
    return optax.sgd(hyper.lr, momentum=hyper.momentum or None)


def sample_latent(hyper: Hyperparameters, key, n: int, k: int, dtype=jnp.float32):
    """n draws of the latent prior."""
    if hyper.prior == "normal":
        return jax.random.normal(key, (n, k), dtype)
    return jax.random.uniform(key, (n, k), dtype, -1.0, 1.0)


def init_carry(hyper: Hyperparameters, generator: Architecture, partner: Architecture, key) -> dict:
    """The training state before the first update: generator parameters and BN statistics, the critic's
    (or the encoder's) parameters, and the optimiser states."""
    g_key, p_key = jax.random.split(key)
    g_params, g_state = models.init(generator, g_key)
    p_params, _ = models.init(partner, p_key)
    optimizer = _optimizer(hyper)
    if hyper.model == "vae":
        return {"g": g_params, "g_state": g_state, "e": p_params,
                "opt": optimizer.init({"g": g_params, "e": p_params})}
    return {"g": g_params, "g_state": g_state, "d": p_params,
            "g_opt": optimizer.init(g_params), "d_opt": optimizer.init(p_params)}


def partner_architecture(hyper: Hyperparameters, spec) -> Architecture:
    """The critic of a GAN, or the encoder of a VAE, for a generator spec."""
    if hyper.model == "vae":
        return models.encoder_architecture(spec.image_shape, spec.k)
    return models.critic_architecture(spec.layout, spec.image_shape)


def _batch(hyper, data, key):
    return data[jax.random.randint(key, (hyper.batch,), 0, data.shape[0])]


def vae_loss(hyper, generator, encoder, trainable, g_state, data, key):
    """The negative ELBO of one batch, with (new BN statistics, [reconstruction, KL]) as auxiliary output."""
    k = generator.in_shape[0]
    data_key, noise_key = jax.random.split(key)
    x = _batch(hyper, data, data_key)
    stats = models.apply(encoder, trainable["e"], {}, x, train=True)[0]
    mean, log_var = stats[:, :k], stats[:, k:]
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(noise_key, mean.shape, mean.dtype)
    recon, g_state = models.apply(generator, trainable["g"], g_state, z, train=True)
    reconstruction = jnp.sum((recon - x) ** 2, axis=1) / (2 * hyper.decoder_variance)
    kl = 0.5 * jnp.sum(mean**2 + jnp.exp(log_var) - 1.0 - log_var, axis=1)
    return jnp.mean(reconstruction + kl), (g_state, jnp.stack([jnp.mean(reconstruction), jnp.mean(kl)]))


def _vae_update(hyper, generator, encoder, optimizer, carry, data, key):
    trainable = {"g": carry["g"], "e": carry["e"]}
    (_, (g_state, losses)), grads = jax.value_and_grad(vae_loss, argnums=3, has_aux=True)(
        hyper, generator, encoder, trainable, carry["g_state"], data, key)
    updates, opt = optimizer.update(grads, carry["opt"], trainable)
    trainable = optax.apply_updates(trainable, updates)
    return {"g": trainable["g"], "g_state": g_state, "e": trainable["e"], "opt": opt}, losses


def critic_loss(hyper, generator, critic, d_params, g_params, g_state, key, data):
    data_key, z_key, eps_key = jax.random.split(key, 3)
    real = _batch(hyper, data, data_key)
    z = sample_latent(hyper, z_key, hyper.batch, generator.in_shape[0], real.dtype)
    fake = jax.lax.stop_gradient(models.apply(generator, g_params, g_state, z, train=True)[0])
    d_real = models.apply(critic, d_params, {}, real, train=False)[0][:, 0]
    d_fake = models.apply(critic, d_params, {}, fake, train=False)[0][:, 0]
    if hyper.generator_loss == "wasserstein":
        loss = jnp.mean(d_fake - d_real)
        if hyper.gp_weight > 0:
            eps = jax.random.uniform(eps_key, (hyper.batch, 1), real.dtype)
            mixed = eps * real + (1 - eps) * fake
            # The critic has no batch normalisation, so D(x̂_i) depends on x̂_i alone and the gradient of
            # the batch sum holds every per-sample gradient ∇_{x̂_i} D(x̂_i).
            total = lambda points: jnp.sum(models.apply(critic, d_params, {}, points, train=False)[0])  # noqa: E731
            gradients = jax.grad(total)(mixed)
            loss = loss + hyper.gp_weight * jnp.mean((jnp.linalg.norm(gradients, axis=1) - 1.0) ** 2)
        return loss
    # log D = -softplus(-logit), log(1 - D) = -softplus(logit); the critic ascends their sum.
    return jnp.mean(jax.nn.softplus(-d_real) + jax.nn.softplus(d_fake))


def generator_loss(hyper, generator, critic, g_params, g_state, d_params, key):
    z = sample_latent(hyper, key, hyper.batch, generator.in_shape[0])
    fake, new_state = models.apply(generator, g_params, g_state, z, train=True)
    logit = models.apply(critic, d_params, {}, fake, train=False)[0][:, 0]
    if hyper.generator_loss == "wasserstein":
        loss = -jnp.mean(logit)
    elif hyper.generator_loss == "non_saturating":
        loss = jnp.mean(jax.nn.softplus(-logit))
    else:
        loss = -jnp.mean(jax.nn.softplus(logit))
    return loss, new_state


def _gan_update(hyper, generator, critic, optimizer, carry, data, key):
    critic_key, gen_key = jax.random.split(key)

    def critic_step(state, index):
        d_params, d_opt = state
        value, grads = jax.value_and_grad(critic_loss, argnums=3)(
            hyper, generator, critic, d_params, carry["g"], carry["g_state"], jax.random.fold_in(critic_key, index), data)
        updates, d_opt = optimizer.update(grads, d_opt, d_params)
        d_params = optax.apply_updates(d_params, updates)
        if hyper.clip > 0:
            d_params = jax.tree_util.tree_map(lambda w: jnp.clip(w, -hyper.clip, hyper.clip), d_params)
        return (d_params, d_opt), value

    (d_params, d_opt), critic_losses = jax.lax.scan(critic_step, (carry["d"], carry["d_opt"]), jnp.arange(hyper.n_critic))
    (g_loss, g_state), grads = jax.value_and_grad(generator_loss, argnums=3, has_aux=True)(
        hyper, generator, critic, carry["g"], carry["g_state"], d_params, gen_key)
    updates, g_opt = optimizer.update(grads, carry["g_opt"], carry["g"])
    g_params = optax.apply_updates(carry["g"], updates)
    carry = {"g": g_params, "g_state": g_state, "d": d_params, "g_opt": g_opt, "d_opt": d_opt}
    return carry, jnp.stack([critic_losses[-1], g_loss])


@functools.lru_cache(maxsize=None)
def chunk_function(hyper: Hyperparameters, generator: Architecture, partner: Architecture, length: int):
    """A jitted ``run(carry, data, key, start) -> (carry, losses (length, 2))`` doing ``length`` generator
    updates numbered start, start + 1, …; update u draws its randomness from ``fold_in(key, u)``, so a
    run cut into chunks anywhere gives the same result. Cached per settings: flows of the same shape and
    hyper-parameters (other seeds or data) reuse one compiled program."""
    optimizer = _optimizer(hyper)
    step = _vae_update if hyper.model == "vae" else _gan_update

    def run(carry, data, key, start):
        def body(carry, u):
            return step(hyper, generator, partner, optimizer, carry, data, jax.random.fold_in(key, u))

        return jax.lax.scan(body, carry, start + jnp.arange(length))

    return jax.jit(run)


LOSS_NAMES = {"vae": ("reconstruction", "kl"), "gan": ("critic", "generator"), "dcgan": ("critic", "generator"),
              "wgan": ("critic", "generator"), "wgangp": ("critic", "generator")}
"""What the two columns of a chunk's losses are, per model."""
