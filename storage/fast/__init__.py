"""Storage code that reaches into library internals for speed. Each module's docstring names the private
APIs it uses and the versions they were checked against; tests/test_library_internals.py checks each exists."""
