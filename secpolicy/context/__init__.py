"""Build contexts: .dockerignore semantics and the files the builder receives."""
