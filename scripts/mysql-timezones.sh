#!/bin/sh
# Django's date lookups and truncation with USE_TZ need MySQL/MariaDB time zone
# tables (https://docs.djangoproject.com/en/stable/ref/databases/#time-zone-definitions).
# Loads them into the test server when they are empty. Host/port from DJINSIGHT_TEST_MYSQL.
ADDR=${DJINSIGHT_TEST_MYSQL:-127.0.0.1:3306}
HOST=${ADDR%%:*}; PORT=${ADDR##*:}
CLIENT=$(command -v mariadb || command -v mysql) || exit 0
TZINFO=$(command -v mariadb-tzinfo-to-sql || command -v mysql_tzinfo_to_sql) || exit 0
count=$("$CLIENT" -h "$HOST" -P "$PORT" -uroot -N -e 'SELECT COUNT(*) FROM mysql.time_zone_name' 2>/dev/null) || exit 0
[ "$count" != 0 ] && exit 0
echo "loading time zone tables into MySQL/MariaDB at $ADDR"
"$TZINFO" /usr/share/zoneinfo 2>/dev/null | "$CLIENT" -h "$HOST" -P "$PORT" -uroot mysql
