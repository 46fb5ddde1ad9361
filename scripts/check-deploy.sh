#!/usr/bin/env bash
# Checks the deployment files of examples/deploy/ with the tools that read them:
#   promtool check rules / test rules / check config   (Prometheus alerts and scrape config)
#   nginx -t                                           (the TLS site, with a throwaway certificate)
#   systemd-analyze verify                             (the unit, when systemd-analyze exists)
# promtool and nginx come from Debian's packages, unpacked (not installed, nothing is started)
# into a cache folder when they are not on PATH. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEPLOY="$ROOT/examples/deploy"
TOOLS="${CBI_DEPLOY_TOOLS:-$HOME/.cache/heliosdb-cbi-deploy-tools}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

unpack() { # unpack PACKAGE...: Debian packages into $TOOLS/root
    mkdir -p "$TOOLS/debs" "$TOOLS/root"
    (cd "$TOOLS/debs" && apt-get download "$@" >/dev/null 2>&1) || {
        apt-get update -qq >/dev/null && (cd "$TOOLS/debs" && apt-get download "$@" >/dev/null)
    }
    for p in "$@"; do dpkg -x "$(ls "$TOOLS"/debs/"${p}"_*.deb | head -n1)" "$TOOLS/root"; done
}

PROMTOOL="$(command -v promtool || true)"
if [ -z "$PROMTOOL" ]; then
    [ -x "$TOOLS/root/usr/bin/promtool" ] || unpack prometheus
    PROMTOOL="$TOOLS/root/usr/bin/promtool"
fi
NGINX="$(command -v nginx || true)"
if [ -z "$NGINX" ]; then
    [ -x "$TOOLS/root/usr/sbin/nginx" ] || unpack nginx
    NGINX="$TOOLS/root/usr/sbin/nginx"
fi

echo "--- Prometheus rules and scrape configuration"
(cd "$DEPLOY/prometheus" && "$PROMTOOL" check rules alerts.yml && "$PROMTOOL" test rules alerts_test.yml \
    && "$PROMTOOL" check config prometheus.yml)

echo "--- nginx site"
mkdir -p "$WORK/nginx/snippets" "$WORK/nginx/logs"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=your-domain.com" \
    -keyout "$WORK/nginx/heliosdb.key" -out "$WORK/nginx/heliosdb.crt" 2>/dev/null
cp "$DEPLOY/nginx/heliosdb-proxy.conf" "$WORK/nginx/snippets/"
sed -e "s#/etc/ssl/certs/heliosdb.crt#$WORK/nginx/heliosdb.crt#" \
    -e "s#/etc/ssl/private/heliosdb.key#$WORK/nginx/heliosdb.key#" \
    -e "s#/etc/nginx/snippets/#$WORK/nginx/snippets/#" \
    "$DEPLOY/nginx/heliosdb-conversational-bi.conf" > "$WORK/nginx/site.conf"
cat > "$WORK/nginx/nginx.conf" <<CONF
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $WORK/nginx/logs;
    proxy_temp_path $WORK/nginx/logs;
    fastcgi_temp_path $WORK/nginx/logs;
    uwsgi_temp_path $WORK/nginx/logs;
    scgi_temp_path $WORK/nginx/logs;
    include $WORK/nginx/site.conf;
}
CONF
"$NGINX" -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log"
echo "nginx: the site's syntax is ok"

echo "--- systemd unit"
if command -v systemd-analyze >/dev/null; then
    # verify wants the program to exist: point ExecStart at a stand-in.
    mkdir -p "$WORK/unit"
    sed -e "s#/opt/heliosdb/bin/heliosdb-conversational-bi#/bin/true#" \
        "$DEPLOY/systemd/heliosdb-conversational-bi.service" > "$WORK/unit/heliosdb-conversational-bi.service"
    out="$(systemd-analyze verify --man=no "$WORK/unit/heliosdb-conversational-bi.service" 2>&1 || true)"
    if [ -n "$out" ]; then
        printf '%s\n' "$out"
        exit 1
    fi
    echo "systemd: the unit is valid"
else
    echo "systemd-analyze not found: unit not checked"
fi
echo "deploy files OK"
