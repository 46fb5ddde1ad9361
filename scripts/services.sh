#!/usr/bin/env bash
# Starts the databases the integration tests need: PostgreSQL 15, MariaDB and Redis on loopback.
# Idempotent: installs a missing server with apt, starts a stopped one, and is a fast no-op
# when everything already runs. Run as root (CI runs as root on a fresh clone).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need_apt_update=1
apt_install() {
  if [ "$need_apt_update" = 1 ]; then apt-get update -qq; need_apt_update=0; fi
  apt-get install -y -qq --no-install-recommends "$@"
}

command -v redis-server >/dev/null || apt_install redis-server
command -v mariadbd >/dev/null || apt_install mariadb-server mariadb-client
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_install postgresql

# Redis (loopback, no persistence)
if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

# MariaDB (root: unix-socket auth, or an empty password from 127.0.0.1)
if ! mariadb-admin ping --silent >/dev/null 2>&1; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi

# PostgreSQL (the first installed cluster version, cluster "main")
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
if [ -z "$pg_version" ]; then
  pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  pg_createcluster "$pg_version" main -- --auth-host=trust --auth-local=trust
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
fi

wait_for() {
  local what=$1; shift
  for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "services.sh: $what did not become ready" >&2
  return 1
}
wait_for Redis sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
wait_for MariaDB mariadb-admin ping --silent
wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432

# Admin access as the tests and load-test-data.sh expect it (already so on the project's
# machines; a fresh apt install needs it): PostgreSQL trusts loopback connections, and MariaDB's
# root may log in from 127.0.0.1 without a password. Test machines only.
if ! psql -h 127.0.0.1 -U postgres -d postgres -qtAc 'SELECT 1' >/dev/null 2>&1; then
  hba=$(runuser -u postgres -- psql -qtAc 'SHOW hba_file')
  sed -i -e '1i host all all 127.0.0.1/32 trust' -e '1i host all all ::1/128 trust' "$hba"
  runuser -u postgres -- psql -qc 'SELECT pg_reload_conf()' >/dev/null
fi
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='root'" | grep -q 1 ||
  runuser -u postgres -- psql -qc "CREATE ROLE root SUPERUSER LOGIN"
if ! mariadb -uroot -h127.0.0.1 --protocol=tcp -e 'SELECT 1' >/dev/null 2>&1; then
  mariadb -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
fi
echo "services.sh: PostgreSQL, MariaDB and Redis are up"
