"""The point of sale's way in: import runs, column mappings and API tokens."""
