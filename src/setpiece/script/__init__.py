"""Screenplays in: Fountain and Final Draft parsing, breakdown, shot planning."""
