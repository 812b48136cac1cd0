"""The production's domain model: enums and workflow rules (light), ORM tables (``orm``).

Importing this package imports no database library; ``setpiece.model.orm`` does.
"""
