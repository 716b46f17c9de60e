"""Packaging beyond setup.cfg: the ``.pth`` file that makes the FiftyOne-compatible imports
available in every Python process (see ``_fiftyone_plugins_hook.py``).

A ``.pth`` file must sit at the top of ``site-packages``; setuptools has no option for that,
so the commands that build wheels put it there: ``build_py`` for regular wheels, and
``editable_wheel`` for ``pip install -e .`` (whose wheel holds links, not the build tree).
"""

from __future__ import annotations

import os

from setuptools import setup
from setuptools.command.build_py import build_py

PTH_NAME = "fiftyone_plugins_compat.pth"
PTH_LINE = "import _fiftyone_plugins_hook\n"


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        target = os.path.join(self.build_lib, PTH_NAME)
        with open(target, "w") as f:
            f.write(PTH_LINE)

    def get_outputs(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return [*super().get_outputs(*args, **kwargs), os.path.join(self.build_lib, PTH_NAME)]


cmdclass: dict[str, type] = {"build_py": BuildPyWithPth}

try:
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # setuptools < 64 has no PEP 660 editable installs
    pass
else:

    class EditableWheelWithPth(editable_wheel):
        def _create_wheel_file(self, bdist_wheel):  # type: ignore[no-untyped-def]
            wheel_path = super()._create_wheel_file(bdist_wheel)
            from zipfile import ZIP_DEFLATED, ZipFile

            with ZipFile(wheel_path, "a", compression=ZIP_DEFLATED) as wheel:
                if PTH_NAME not in wheel.namelist():
                    wheel.writestr(PTH_NAME, PTH_LINE)
            _rewrite_record(wheel_path)
            return wheel_path

    cmdclass["editable_wheel"] = EditableWheelWithPth


def _rewrite_record(wheel_path: str) -> None:
    """Adds the ``.pth`` file to the wheel's RECORD, so pip installs and uninstalls it."""
    import base64
    import hashlib
    import shutil
    import tempfile
    from zipfile import ZIP_DEFLATED, ZipFile

    digest = base64.urlsafe_b64encode(hashlib.sha256(PTH_LINE.encode()).digest()).rstrip(b"=")
    line = f"{PTH_NAME},sha256={digest.decode()},{len(PTH_LINE.encode())}\n"
    fd, tmp = tempfile.mkstemp(suffix=".whl")
    os.close(fd)
    with ZipFile(wheel_path) as src, ZipFile(tmp, "w", compression=ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith(".dist-info/RECORD") and PTH_NAME.encode() not in data:
                data = data + line.encode()
            dst.writestr(item, data)
    shutil.move(tmp, wheel_path)


setup(cmdclass=cmdclass)
