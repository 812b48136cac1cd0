"""Built-in generator backends, each imported only when used (see ``generate.registry``)."""
