"""The production's domain model: enums and workflow rules (light), ORM tables (``orm``),
and the typed shapes two parts share inside JSON columns: a derived take's operations
(``operations``), finding payloads and unreadable takes (``findings``).

Importing this package imports no database library; ``setpiece.model.orm`` does.
"""
