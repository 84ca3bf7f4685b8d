#!/usr/bin/env bash
# Starts the reference server with demo timings, serving www/ and pkg/, in the foreground until
# Ctrl-C. `make demo` builds pkg/ first. Override any timing with the server's environment
# variables (AUTHPULSE_ACCESS_TOKEN_SECS, ...; see server/README.md), the port with PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# Short enough to watch a whole session in minutes: tokens renew about every 45 s while the page
# is used, the idle warning comes after 2.5 quiet minutes, the sign-out after 3.
export AUTHPULSE_ACCESS_TOKEN_SECS="${AUTHPULSE_ACCESS_TOKEN_SECS:-60}"
export AUTHPULSE_IDLE_TIMEOUT_SECS="${AUTHPULSE_IDLE_TIMEOUT_SECS:-180}"
export AUTHPULSE_SESSION_LIFETIME_SECS="${AUTHPULSE_SESSION_LIFETIME_SECS:-3600}"
export AUTHPULSE_REFRESH_TOKEN_SECS="${AUTHPULSE_REFRESH_TOKEN_SECS:-3600}"
# alice administers the demo server (POST /admin/users/{username}/reauth); bob cannot.
export AUTHPULSE_ADMINS="${AUTHPULSE_ADMINS-alice}"
export AUTHPULSE_PORT="${PORT:-${AUTHPULSE_PORT:-8080}}"
export AUTHPULSE_WWW="$PWD/www"
export AUTHPULSE_PKG="$PWD/pkg"
export AUTHPULSE_DB="${AUTHPULSE_DB:-$PWD/target/authpulse-demo.sqlite}"
# The dev profile builds in a fraction of the time and is plenty for one visitor;
# SERVER_PROFILE=server-release builds an optimised server.
profile="${SERVER_PROFILE:-dev}"

if [ ! -f pkg/index.js ]; then
  echo "demo: pkg/ is not built yet; the page will say so (run 'make demo' to build it)" >&2
fi
echo "demo: building the server (cargo profile $profile)" >&2
cargo build --quiet -p authpulse-server --profile "$profile"
dir=$profile; [ "$profile" = dev ] && dir=debug
binary="${CARGO_TARGET_DIR:-target}/$dir/authpulse-server"
mkdir -p "$(dirname "$AUTHPULSE_DB")"

cat >&2 <<TIMINGS
demo: timings (the real defaults in parentheses, see server/README.md)
  access token lifetime     ${AUTHPULSE_ACCESS_TOKEN_SECS} s   (300 s)
  idle timeout              ${AUTHPULSE_IDLE_TIMEOUT_SECS} s   (900 s)
  absolute session lifetime ${AUTHPULSE_SESSION_LIFETIME_SECS} s  (28800 s)
  refresh token lifetime    ${AUTHPULSE_REFRESH_TOKEN_SECS} s  (28800 s)
demo: sign in as alice/alice (full access) or bob/bob (restricted); Ctrl-C stops the server
TIMINGS
# The server prints "listening on http://127.0.0.1:PORT" once it is ready.
exec "$binary"
