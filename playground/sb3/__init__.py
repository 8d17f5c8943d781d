"""Stable-Baselines3: the DQN adapter, the reference-vs-SB3 comparison and the hyperparameter notes."""
