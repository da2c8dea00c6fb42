"""The ``worldsim`` command line (entry point ``worldsim.cli.main:main``)."""
