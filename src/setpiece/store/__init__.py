"""Storage: the database, its migrations, the content-addressed media store and media probing."""
