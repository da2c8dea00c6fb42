"""Guided video diffusion renderer: conditions, the (2+1)D U-Net, rectified flow, weights, training data."""
