#!/usr/bin/env bash
# A $BROWSER stand-in for the tests: it acts as the user's browser.
#
#   browser.sh URL
#
# Appends one line per launch to the file named by FAKE_BROWSER_LOG:
#   EPOCH_SECONDS PID MODE URL
# then, by FAKE_BROWSER_MODE:
#   follow      (default) fetch URL with curl; when it answers 302, fetch the
#               Location too (the loopback redirect_uri of an authorization code
#               sign-in), as a browser would; exit when both are answered.
#   background  the same, in the background; exit 0 at once, as xdg-open does.
#   ignore      do nothing more (a user who never signs in: timeouts).
# FAKE_BROWSER_DELAY waits that many seconds before fetching (default 0).
# FAKE_BROWSER_TAMPER plays an attacker's or a broken page's part:
#   challenge   the authorize URL is fetched with another code_challenge, so the
#               code that comes back does not match the client's PKCE verifier;
#   state       the redirect is delivered with another state than the client's.
#
# Only http URLs on 127.0.0.1, localhost or [::1] are fetched: the tests never
# reach beyond this machine. Exit codes: 2 usage or environment, 3 a URL off
# loopback, 4 an HTTP error page, else curl's own code.
set -euo pipefail

readonly LOOPBACK_URL='^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?([/?#]|$)'
readonly CHALLENGE_PARAM='^(.*[?&]code_challenge=)[^&]*(.*)$'
readonly STATE_PARAM='^(.*[?&]state=)([^&]*)(.*)$'

fail() {
    local code="$1"
    shift
    printf 'browser.sh: %s\n' "$*" >&2
    exit "${code}"
}

# Prints the Location of a 302, nothing for a 2xx; fails on anything else.
fetch() {
    local url="$1" answer status location
    [[ ${url} =~ ${LOOPBACK_URL} ]] || fail 3 "refusing a URL off loopback: ${url%%\?*}"
    answer="$(curl --silent --show-error --noproxy '*' --proto '=http' --max-time 20 \
        --output /dev/null --write-out '%{http_code} %{redirect_url}' -- "${url}")"
    status="${answer%% *}"
    location="${answer#* }"
    case "${status}" in
    2??) ;;
    30[1237]) printf '%s\n' "${location}" ;;
    *) fail 4 "HTTP ${status} from ${url%%\?*}" ;;
    esac
}

browse() {
    local url="$1" delay="$2" tamper="$3" next
    if [[ ${delay} != 0 ]]; then
        sleep "${delay}"
    fi
    if [[ ${tamper} == challenge && ${url} =~ ${CHALLENGE_PARAM} ]]; then
        # 43 base64url characters, as valid in form as the client's, but not its challenge.
        url="${BASH_REMATCH[1]}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA${BASH_REMATCH[2]}"
    fi
    next="$(fetch "${url}")"
    if [[ ${tamper} == state && ${next} =~ ${STATE_PARAM} ]]; then
        next="${BASH_REMATCH[1]}forged-${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
    fi
    if [[ -n ${next} ]]; then
        next="$(fetch "${next}")"
        [[ -z ${next} ]] || fail 4 "a second redirect, to ${next%%\?*}"
    fi
}

main() {
    [[ $# -eq 1 && -n $1 ]] || fail 2 "usage: browser.sh URL"
    local url="$1"
    local log="${FAKE_BROWSER_LOG:-}"
    local mode="${FAKE_BROWSER_MODE:-follow}"
    local delay="${FAKE_BROWSER_DELAY:-0}"
    local tamper="${FAKE_BROWSER_TAMPER:-}"
    [[ -n ${log} ]] || fail 2 "FAKE_BROWSER_LOG is not set"
    [[ ${delay} =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail 2 "FAKE_BROWSER_DELAY is not a number of seconds"
    case "${mode}" in
    follow | background | ignore) ;;
    *) fail 2 "unknown FAKE_BROWSER_MODE ${mode}" ;;
    esac
    case "${tamper}" in
    "" | challenge | state) ;;
    *) fail 2 "unknown FAKE_BROWSER_TAMPER ${tamper}" ;;
    esac

    printf '%s %s %s %s\n' "${EPOCHSECONDS}" "$$" "${mode}" "${url}" >>"${log}"

    case "${mode}" in
    follow) browse "${url}" "${delay}" "${tamper}" ;;
    background) browse "${url}" "${delay}" "${tamper}" </dev/null >/dev/null & ;;
    ignore) ;;
    *) fail 2 "unknown FAKE_BROWSER_MODE ${mode}" ;;
    esac
}

main "$@"
