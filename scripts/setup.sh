#!/usr/bin/env bash
# Installs whatever gameday needs that this machine lacks, skipping what is
# there and saying what it does: npm dependencies; Debian's mariadb-server,
# mariadb-backup (the lab builds replicas as physical clones with it),
# redis-server, haproxy, nftables and openssh-server; with --with-browser
# (npm test) chromium too, headless, to test that the game-day report
# renders; the vegeta load generator (built with go install into
# .gameday/bin when it is not on PATH); the lab's delay line for the latency
# fault (lab/linkdelay, built with go build into .gameday/bin). Packages come without their
# recommended ones: the lab needs none of them.
# When it cannot install (not root, no apt, no Go) it stops with the command
# to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
with_browser=0
[ "${1-}" = "--with-browser" ] && with_browser=1

VEGETA_MODULE="github.com/tsenart/vegeta/v12@v12.13.0"
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: cannot go on: %s\n' "$*" >&2; exit 1; }
# Sets go_bin to the Go toolchain, or stops naming what needed it and the command to run by hand.
find_go() {
  command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || die "$1 needs Go 1.22 or newer; install Go, then run: $2"
  go_bin=$(command -v go || echo /usr/local/go/bin/go)
}

# 1. Node and npm dependencies
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none)). Install it: apt-get install nodejs npm"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
else
  say "npm dependencies: present"
fi

# 1b. The compiled CLI (dist/): bin/gameday.js starts in ~0.1 s from it, and
# falls back to the TypeScript sources through tsx when a source is newer.
say "compiling the CLI (npm run build)"
npm run build --silent >&2 || die "the TypeScript build failed (npm run build); see the errors above"

# 2. Debian packages: the real servers the lab runs, and the browser the report test opens
declare -A package_of=( [mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server [mariadb-backup]=mariadb-backup [redis-server]=redis-server [haproxy]=haproxy [nft]=nftables [sshd]=openssh-server [chromium]=chromium )
missing=()
tools=(mariadbd mariadb-install-db mariadb-backup redis-server haproxy nft sshd)
[ "$with_browser" = 1 ] && tools+=(chromium)
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ] && [ ! -x "/usr/bin/$tool" ]; then
    pkg=${package_of[$tool]}
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "no apt-get here; install ${missing[*]} with your package manager"
  [ "$(id -u)" = 0 ] || die "installing ${missing[*]} needs root; run: sudo sh -c '$cmd'"
  say "installing Debian packages: ${missing[*]}"
  # The lab runs its own servers: keep the packages' system services from starting
  # (a system MariaDB, Redis or sshd would listen on the machine for nothing).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    say "(system services of these packages are not started: a temporary policy-rc.d is in place during the install)"
  fi
  sh -c "$cmd" >&2
else
  say "Debian packages (mariadb-server, mariadb-backup, redis-server, haproxy, nftables, openssh-server$([ "$with_browser" = 1 ] && echo ', chromium')): present"
fi

# 3. The load generator
if command -v vegeta >/dev/null 2>&1; then
  say "vegeta: on PATH"
elif [ -x "$root/.gameday/bin/vegeta" ]; then
  say "vegeta: present in .gameday/bin"
else
  find_go "building vegeta" "GOBIN=$root/.gameday/bin go install $VEGETA_MODULE"
  say "building vegeta: go install $VEGETA_MODULE (about a minute)"
  mkdir -p "$root/.gameday/bin"
  GOBIN="$root/.gameday/bin" "$go_bin" install "$VEGETA_MODULE" >&2
fi

# 4. The lab's delay line (the latency fault; this kernel may have no netem): rebuilt when its source is newer
linkdelay="$root/.gameday/bin/gameday-linkdelay"
if [ -x "$linkdelay" ] && [ "$linkdelay" -nt lab/linkdelay/main.go ]; then
  say "delay line (lab/linkdelay): built"
else
  find_go "building the lab's delay line" "cd lab/linkdelay && go build -o $linkdelay ."
  say "building the lab's delay line: go build lab/linkdelay"
  mkdir -p "$root/.gameday/bin"
  (cd lab/linkdelay && "$go_bin" build -o "$linkdelay" .) >&2
fi
say "ready"
