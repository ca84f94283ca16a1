"""Data sets and tasks: what the course's models read and are scored on.

Each module makes one task's data with a fixed seed (no downloads): characters and a corpus
of first names, binary addition, the adding problem, long-range agreement, a tagging task
that needs the future, handwritten digits row by row, and date normalisation.
"""
