"""``djInsight``, the specification's spelling of ``djinsight`` (see ``djinsight.spelling``)."""

from djinsight import *  # noqa: F403
from djinsight import __version__  # noqa: F401
from djinsight.spelling import install_import_alias

__path__: list[str] = []  # a package, so that djInsight.<submodule> can be imported

install_import_alias()
