"""Renderers: findings and resolved contexts to text or JSON."""
