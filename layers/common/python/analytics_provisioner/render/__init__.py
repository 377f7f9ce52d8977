"""The secure-repo files, each rendered by its own module from a ``RenderContext``.

``render_files(ctx)`` returns {path in the secure repo: text}; the manifest is rendered last, by
the phase, once the S3 versions of the others are known.

The renderers (``files``) load on first use: Validate imports ``render.releases`` only, and
importing a package's module runs its ``__init__``, which would otherwise load every writer and
PyYAML into Validate's cold start.
"""

LAZY = ("FILES", "PIPELINE_CREDS", "render_files")


def __getattr__(name: str):
    if name in LAZY:
        from . import files

        return getattr(files, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
