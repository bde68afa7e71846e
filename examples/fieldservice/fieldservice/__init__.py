"""The field-service example app: the Python its ``pyproject.toml`` refers to."""
