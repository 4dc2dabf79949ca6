"""An MLP in flax with a jitted training step."""
import jax
import jax.numpy as jnp
import flax.linen as nn
from jax import random

jax.config.update("jax_enable_x64", True)


class MLP(nn.Module):
    features: int = 32

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(self.features, kernel_init=nn.initializers.zeros)(x)
        return nn.relu(x)


@jax.jit
def loss_fn(params, x, y):
    pred = MLP().apply(params, x)
    return jnp.mean((pred - y) ** 2)


def init(seed: int = 0):
    import random  # the standard library's, shadowing jax.random inside this function
    key = random.random()
    params = jax.tree.map(jnp.array, {"w": [1.0, 2.0]})
    gpus = jax.devices("gpu")
    return key, params, gpus, jnp.linalg.norm(jnp.ones(3))


def sample(n: int):
    return random.normal(random.PRNGKey(0), (n,))
