"""Benchmarks of arrayloss against PyTorch's native kernels (run each as a module)."""
