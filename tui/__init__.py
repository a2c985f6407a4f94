"""Liaison's faces: the Textual app and the command line. Presents and asks; `store/` decides."""
