#!/bin/sh
# Prints a working Python 3.12+ interpreter, or nothing. pyenv shims for
# versions that are installed but not selected fail, so each one is tried.
for candidate in $(command -v python3.13 python3.12 2>/dev/null) "$HOME"/.pyenv/versions/3.1[23]*/bin/python3; do
  if [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
