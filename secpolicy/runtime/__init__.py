"""``secpolicy run``: start a container with exactly the resolved user and capabilities, or refuse.

Linux only, and never imported by ``lint``.
"""
