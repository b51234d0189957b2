#!/bin/sh
# Installs the Debian packages djinsight's tests need, when missing and when we can.
set -e
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
[ -x /usr/bin/wrk ] || need="$need wrk"
# the demo's screenshots show emoji (make screenshots)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need="$need fonts-noto-color-emoji"
[ -e /usr/include/mariadb/mysql.h ] || [ -e /usr/include/mysql/mysql.h ] || need="$need libmariadb-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
# tests/fsync_log.c: the Redis power-loss simulation (tests/redis_crash.py)
command -v cc >/dev/null 2>&1 || need="$need gcc"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$need"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
  echo "warning: missing Debian packages:$need (install them with apt-get as root)" >&2
fi
