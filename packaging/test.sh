#!/usr/bin/env bash
# Packaging test: build the .deb, lint it, install it on this machine, check what
# it installed, run the installed binary as the otsd user exactly as the unit's
# ExecStart would (systemd is not PID 1 here), share -> reveal through it, add an
# account as root, upgrade by reinstalling, check that the secret and the account
# survived, then remove and purge. Needs root and Debian's dpkg, lintian, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
check() { if eval "$1"; then printf 'ok: %s\n' "$2"; else fail "$2"; fi; }

[ "$(id -u)" = 0 ] || fail "the packaging test installs a package: run it as root"
for tool in dpkg lintian curl systemd-analyze setpriv; do
    command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install -y lintian curl)"
done
if dpkg -s otsd >/dev/null 2>&1; then
    fail "otsd is already installed on this machine; this test would replace it"
fi
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked

server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -n "$server_pid" ]; then
        local status=0
        wait "$server_pid" || status=$?
        server_pid=""
        return "$status"
    fi
}
cleanup() {
    stop_server || true
    dpkg -P otsd >/dev/null 2>&1 || true
}
trap cleanup EXIT

URL=http://127.0.0.1:7143
start_server() {
    # What the unit runs: the otsd user, no capabilities, umask 0077, ExecStart.
    (umask 0077 && exec setpriv --reuid=otsd --regid=otsd --clear-groups --inh-caps=-all \
        /usr/bin/otsd --config /etc/otsd/otsd.toml) 2>>"$log" &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$URL/api/v1/status" >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || fail "the installed server exited: $(tail -5 "$log")"
        sleep 0.1
    done
    fail "the installed server did not answer within 10 s"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

log=$(mktemp)
say "build"
packaging/build-deb.sh
deb=$(ls -t target/debian/otsd_*.deb | head -1)
echo "$deb"

say "lintian"
# Warnings fail the test too; the package's own overrides (each with its
# reason) are read from the .deb's /usr/share/lintian/overrides/otsd.
lintian --fail-on error,warning --suppress-tags statically-linked-binary "$deb" | tee "$log.lintian" \
    || fail "lintian reported errors or warnings"
check 'dpkg-deb -c "$deb" | grep " ./usr/share/lintian/overrides/otsd$" >/dev/null' "the package carries its lintian overrides"

say "install"
dpkg -i "$deb"
check 'getent passwd otsd >/dev/null' "the otsd system user exists"
check '[ "$(stat -c %U:%G:%a /usr/bin/otsd)" = root:root:755 ]' "/usr/bin/otsd root:root 0755"
check '[ "$(stat -c %U:%G:%a /etc/otsd/otsd.toml)" = root:otsd:640 ]' "/etc/otsd/otsd.toml root:otsd 0640"
check '[ "$(stat -c %U:%G:%a /var/lib/otsd)" = otsd:otsd:700 ]' "/var/lib/otsd otsd:otsd 0700"
check 'dpkg-query -W -f="\${Conffiles}" otsd | grep -q /etc/otsd/otsd.toml' "the config is a conffile"
unit=$(dpkg -L otsd | grep '/otsd.service$')
check '[ -f "$unit" ]' "the unit is installed at $unit"
check '[ -f /usr/lib/sysusers.d/otsd.conf ]' "the sysusers entry is installed"

say "manual page, completions, config check"
check 'dpkg -L otsd | grep -q "^/usr/share/man/man1/otsd.1.gz$"' "the package installs the manual page"
check 'zcat /usr/share/man/man1/otsd.1.gz | grep -q backup' "the manual page documents backup"
check '[ -s /usr/share/bash-completion/completions/otsd ] && [ -s /usr/share/zsh/vendor-completions/_otsd ] && [ -s /usr/share/fish/vendor_completions.d/otsd.fish ]' \
    "the package installs bash, zsh and fish completions"
check 'otsd check' "'otsd check' accepts the packaged configuration"
doc=$(grep -o '/usr/share/doc/otsd/[^ )]*' /etc/otsd/otsd.toml | head -1)
check '[ -n "$doc" ] && [ -f "$doc" ]' "the file the config's comment points to ($doc) is installed"

say "systemd-analyze"
verify=$(systemd-analyze verify "$unit" 2>&1 || true)
check '[ -z "$verify" ]' "systemd-analyze verify is clean${verify:+: $verify}"
nofile=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$unit")
check '[ "${nofile:-0}" -ge 4096 ]' "the unit raises the descriptor limit (LimitNOFILE=${nofile:-unset})"
exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for otsd.service: \([0-9.]*\).*/\1/p')
echo "exposure: $exposure"
check 'python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)" "${exposure:-99}"' "exposure $exposure <= 2.0"

say "run as the unit would, share -> reveal"
start_server
meta=$(curl -fsS -X POST "$URL/api/v1/share" -d secret=packaged-secret -d ttl=3600)
key=$(echo "$meta" | json secret_key)
value=$(curl -fsS -X POST "$URL/api/v1/secret/$key" | json value)
check '[ "$value" = packaged-secret ]' "a secret shared through the installed server is revealed"
# /proc of a process that is not dumpable belongs to root, whoever runs it.
check '[ "$(stat -c %U "/proc/$server_pid/status")" = root ]' "the server, run as otsd, is not dumpable (no core dump of secrets)"
check '[ -f /var/lib/otsd/master.key ] && [ "$(stat -c %U:%a /var/lib/otsd/master.key)" = otsd:600 ]' \
    "the master key was created on first start, otsd 0600"

say "accounts as root, with the server running and without it"
token=$(otsd user add alice)
check 'curl -fsS -u "alice:$token" "$URL/api/v1/authcheck" | grep -q nominal' "root's 'otsd user add' works through the running service"
kept=$(curl -fsS -u "alice:$token" -X POST "$URL/api/v1/share" -d secret=survives-upgrade | json secret_key)

say "backup as root while the service runs, and a restore of it"
saved=$(mktemp -d)
otsd backup "$saved/otsd.backup"
check '[ "$(stat -c %U:%a "$saved/otsd.backup")" = root:600 ]' "root's 'otsd backup' writes a root-owned 0600 file through the running service"
check 'otsd restore "$saved/otsd.backup" --data-dir "$saved/restored" 2>&1 | grep -q "restored 2 secrets (1 still to be revealed) and 1 account"' \
    "'otsd restore' fills an empty directory from it"
check '! otsd restore "$saved/otsd.backup" --data-dir /var/lib/otsd 2>/dev/null' "'otsd restore' refuses the live data directory"
rm -rf "$saved"
stop_server || fail "the installed server did not exit 0 on SIGTERM"
otsd user add bob >/dev/null
check '[ -z "$(find /var/lib/otsd -not -user otsd)" ]' "no file in /var/lib/otsd is owned by anyone but otsd"
check 'otsd user list | grep -q "^bob"' "'otsd user add' works with the service stopped"

say "upgrade (reinstall)"
dpkg -i "$deb"
start_server
check 'curl -fsS -u "alice:$token" "$URL/api/v1/authcheck" | grep -q nominal' "the account survived the upgrade"
value=$(curl -fsS -X POST "$URL/api/v1/secret/$kept" | json value)
check '[ "$value" = survives-upgrade ]' "the secret survived the upgrade"
stop_server || fail "the installed server did not exit 0 on SIGTERM"

say "remove keeps data; purge removes it"
dpkg -r otsd
check '[ -d /var/lib/otsd ] && getent passwd otsd >/dev/null' "remove keeps /var/lib/otsd and the otsd user"
check '[ ! -e /usr/bin/otsd ]' "remove removes the binary"
dpkg -P otsd
check '[ ! -e /var/lib/otsd ]' "purge removes /var/lib/otsd"
check '! getent passwd otsd >/dev/null' "purge removes the otsd user"
check '[ ! -e /etc/otsd/otsd.toml ]' "purge removes the config"

printf '\npackaging: all checks passed\n'
