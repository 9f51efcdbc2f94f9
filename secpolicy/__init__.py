"""secpolicy: a security policy linter and enforcement engine for containers."""

__version__ = "0.1.0"
HOMEPAGE = "https://secpolicy.dev"
