"""Helpers shared by the text-corpus loaders of :mod:`skff.datasets`."""


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
