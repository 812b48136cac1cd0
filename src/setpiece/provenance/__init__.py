"""Provenance: the invisible watermark, C2PA Content Credentials and the AI-use disclosure.

``deliver`` is the one door for files leaving the store (watermark, then signature);
``credentials`` signs and verifies with c2pa-python; ``keys`` makes development keys;
``disclosure`` reports AI use from the records. Heavy libraries load on first use.
"""

__all__: list[str] = []
