"""The `setpiece` command line: thin edges over the services."""
