"""Training runtime: the optimizer and its schedule."""
