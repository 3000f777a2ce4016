"""Random walkers, kept beside experiment.py as the reference system's
templates keep helper modules (its 2d_diffusion has datasets.py)."""
import numpy as np


def simulate(num_walkers, num_steps, step_size, seed):
    rng = np.random.default_rng(seed)
    steps = rng.choice([-step_size, step_size], size=(num_walkers, num_steps))
    return np.cumsum(steps, axis=1)
