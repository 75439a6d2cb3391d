"""Plugin behaviour, tested by running pytest inside pytest."""
