"""The bottom layer: configuration, environments, run types and shared facts. Imports nothing else of playground."""
