"""Data sets and tasks: what the course's models read and are scored on.

Each module makes one task's data with a fixed seed and no download: characters and a corpus
of first names (``text``), the standard library's source as real text (``corpus``), folk tunes
in ABC notation from music21's corpus (``folk_tunes``), binary addition, the adding problem,
long-range agreement, a tagging task that needs the future, handwritten digits row by row,
and date normalisation.
"""
