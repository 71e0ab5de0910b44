"""gitml.yaml, the project file: its loader, strict schema, the one comment-preserving
editor, and the one reader of the params and metrics files it names.

Below every domain package (guards, meta, registry, pipelines, interop read it);
imports nothing above foundations. Cheap to import: no pyarrow, PyYAML only when a
file is parsed.
"""
