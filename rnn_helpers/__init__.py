"""Reference implementations and utilities for the RNN course."""
