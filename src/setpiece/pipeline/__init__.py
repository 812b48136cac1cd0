"""The whole journey in one command: `setpiece make` and `setpiece demo`."""
