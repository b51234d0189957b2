import os

# {% load djInsight_tags %}: see djinsight.spelling for why the alias has its own folder.
__path__.append(os.path.join(os.path.dirname(__file__), "aliases"))  # noqa: F821
