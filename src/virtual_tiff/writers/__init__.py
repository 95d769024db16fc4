"""Writers that persist virtual datasets in formats other tools read."""
