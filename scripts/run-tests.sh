#!/bin/sh
# Runs the suite once per database in TEST_DATABASES (default: sqlite postgresql mysql).
# SQLite runs everything; the server databases skip what does not depend on the
# database (browser, demo, Celery process tests) and run in parallel with each other.
# Usage: scripts/run-tests.sh PYTHON [pytest args...]
set -u
PY=$1; shift
DATABASES=${TEST_DATABASES:-sqlite postgresql mysql}
LOGS=$(mktemp -d)
status=0

for db in $DATABASES; do
  if [ "$db" = sqlite ]; then
    echo "=== tests on sqlite ==="
    DJINSIGHT_TEST_DB=sqlite "$PY" -m pytest "$@" || status=1
  fi
done

case " $DATABASES " in *" mysql "*) sh "$(dirname "$0")/mysql-timezones.sh" ;; esac

pids=""
for db in $DATABASES; do
  [ "$db" = sqlite ] && continue
  DJINSIGHT_TEST_DB=$db "$PY" -m pytest "$@" -m "not browser and not demo and not celery" \
    >"$LOGS/$db.log" 2>&1 &
  pids="$pids $!:$db"
done
for entry in $pids; do
  pid=${entry%%:*}; db=${entry#*:}
  wait "$pid" || status=1
  echo "=== tests on $db ==="
  cat "$LOGS/$db.log"
done
rm -rf "$LOGS"
exit $status
