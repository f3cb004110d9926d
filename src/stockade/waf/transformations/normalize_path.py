"""The ``normalizePath`` transformation (also spelled ``normalisePath``)."""

from __future__ import annotations

from stockade.waf.transformations._registry import register

_SLASH = ord("/")
_DOT = ord(".")


def _needs_normalizing(path: bytes) -> bool:
    """Tell whether ``path`` has anything the normalization would change."""
    return path.startswith(b".") or b"//" in path or b"/." in path or b".." in path


def normalize_slashes(path: bytes) -> bytes:
    """Resolve ``.``, ``..`` and repeated ``/`` in ``path`` as ModSecurity v3 does.

    A relative path keeps the ``..`` segments that climb above its start.
    An absolute path never climbs above ``/``. A trailing slash stays only
    if the input had one.
    """
    if not _needs_normalizing(path):
        return path
    buffer = bytearray(path)
    end = len(buffer) - 1
    source = target = 0
    hit_root = False
    done = False
    relative = buffer[0] != _SLASH
    trailing = buffer[end] == _SLASH
    while not done and source <= end and target <= end:
        at_segment_end = True
        if source == end:
            done = True
        elif buffer[source + 1] != _SLASH:
            at_segment_end = False
        if at_segment_end and not (source != end and buffer[source] == _SLASH):
            if buffer[source] == _DOT:
                if target > 0 and buffer[target - 1] == _DOT:
                    # A ".." segment, unless it leads a relative path.
                    if relative and (hit_root or target - 2 <= 0):
                        hit_root = True
                    else:
                        target -= 3
                        while target > 0 and buffer[target] != _SLASH:
                            target -= 1
                        if target <= 0:
                            hit_root = True
                            target = 1 if not relative and source == end else 0
                        if done:
                            continue
                        source += 1
                elif target == 0:
                    # A "." that starts a relative path.
                    if done:
                        continue
                    source += 1
                elif buffer[target - 1] == _SLASH:
                    # A "." segment.
                    if done:
                        continue
                    target -= 1
                    source += 1
            elif target > 0:
                hit_root = False
        if buffer[source] == _SLASH:
            while source < end and buffer[source + 1] == _SLASH:
                source += 1
            if relative and target == 0:
                source += 1
                continue
        buffer[target] = buffer[source]
        target += 1
        source += 1
    if not trailing and target > 0 and buffer[target - 1] == _SLASH:
        target -= 1
    return bytes(buffer[:target])


@register("normalizePath", "normalisePath")
def normalize_path(value: bytes) -> bytes:
    """Remove ``./`` and ``//`` segments and resolve ``../`` in a ``/`` path.

    A segment that ends in ``..`` (such as ``a..``) counts as a back
    reference, as in ModSecurity v3. Backslashes are ordinary bytes here;
    ``t:normalizePathWin`` treats them as separators.

    Argument: none.
    Example: ``t:normalizePath`` turns ``/a/./b//c/../../etc/passwd`` into ``/a/etc/passwd``.
    """
    return normalize_slashes(value)
