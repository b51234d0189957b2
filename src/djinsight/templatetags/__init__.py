import os

# The specification's capitalised library name, djInsight_tags, lives in a
# separate folder so it cannot collide with djinsight_tags.py on
# case-insensitive file systems.
__path__.append(os.path.join(os.path.dirname(__file__), "aliases"))  # noqa: F821
