"""Liaison's benchmark suite: every figure is measured next to a raw baseline in the same run (`make bench`)."""
