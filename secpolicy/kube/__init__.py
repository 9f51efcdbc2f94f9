"""Kubernetes manifests: loading with positions, workloads to pod templates, typed pod specs."""
