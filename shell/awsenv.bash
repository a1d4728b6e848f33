# shellcheck shell=bash
#
# awsenv for bash: eval "$(awsenv init bash)" at the end of ~/.bashrc.
#
# The functions run the binary only when credentials must change, and evaluate what it prints on
# stdout: exports for each variable awsenv owns that does not already hold its value here
# (--only-changes), or nothing at all when it fails, so a failed command leaves the shell's
# variables as they were. Messages and questions go to stderr and the terminal. The prompt segment
# and the aws wrapper's freshness check are shell arithmetic on AWSENV_EXPIRES and start no process.
# Names starting with __awsenv_ are internal. `awsenv init` drops the sections between
# ">>> awsenv:NAME" and "<<< awsenv:NAME" markers that its options turn off.

# =============================================================================
# Internals
#

__awsenv_bin='::AWSENV_BIN::'
# The prompt's thresholds in seconds (src/shared.rs): hours from, minutes from, yellow and red below.
__awsenv_hours_from=@HOURS_FROM@ __awsenv_minutes_from=@MINUTES_FROM@
__awsenv_warn_below=@WARN_BELOW@ __awsenv_alert_below=@ALERT_BELOW@
# A prompt segment that no clock can change (no session, no expiry, expired) stands this long.
__awsenv_forever=$((1 << 40))
# The seconds in which the last segment made stands (none yet); see __awsenv_prompt_hook.
__awsenv_prompt_since=0 __awsenv_prompt_until=0
# The variables the last segment was made of, joined; the same with PS1 as the hook left it (none
# yet); the hook's own status (see __awsenv_prompt_hook).
__awsenv_prompt_inputs='' __awsenv_prompt_left='' __awsenv_status=0
# The clock the prompt's window is read from, by name in arithmetic (an unset EPOCHSECONDS there
# would fail under set -u): 0 before bash 5, which makes the window empty.
__awsenv_clock=EPOCHSECONDS
[[ -n ${EPOCHSECONDS-} ]] || __awsenv_clock=0

# __awsenv_run BIN ARGS...: runs awsenv and evaluates the exports it prints, with Ctrl-C ignored
# meanwhile so that a set is applied whole or not at all; then the shell's own INT trap is put
# back. The subshell that execs awsenv first runs `trap -p INT`, which shows this shell's trap
# there (so that costs no process) and prints nothing when there is none, the usual case; then
# `trap - INT` is all it takes. Nothing else runs in the subshell: each write into the pipe wakes
# this shell, and printing the restoring code around the trap cost ec2switch about 6% of its time.
# `trap -p` ends with " SIGINT" and a newline; the last such line ends the trap, for no line of
# awsenv's exports ends so (each ends in a quote or a variable's name).
__awsenv_run() {
    local __awsenv_out __awsenv_int=''
    __awsenv_out=$(
        \builtin trap -p INT
        \builtin exec "$@"
    ) || \builtin return
    if [[ ${__awsenv_out} == 'trap -- '* ]]; then
        local __awsenv_rest=${__awsenv_out##*' SIGINT'$'\n'}
        __awsenv_int=${__awsenv_out%"${__awsenv_rest}"}
        __awsenv_out=${__awsenv_rest}
    fi
    \builtin trap '' INT
    \builtin eval -- "${__awsenv_out}"
    if [[ -z ${__awsenv_int} ]]; then
        \builtin trap - INT
    else
        \builtin eval -- "${__awsenv_int}"
    fi
}

# Seconds since the epoch in __awsenv_time, without a process: bash 5 has EPOCHSECONDS, bash 4.2
# printf's %(%s)T.
__awsenv_now() {
    if [[ -n ${EPOCHSECONDS-} ]]; then
        __awsenv_time=${EPOCHSECONDS}
    else
        \builtin printf -v __awsenv_time '%(%s)T' -1
    fi
}

# True while the shell's keys are the ones awsenv set: the user may have exported others since.
__awsenv_owned() {
    [[ -n ${AWSENV_ACCOUNT-} && -n ${AWS_ACCESS_KEY_ID-} && ${AWSENV_KEY_ID-} == "${AWS_ACCESS_KEY_ID}" ]]
}

# =============================================================================
# Commands
#

# ec2switch [ACCOUNT]: use the account's cached MFA session, else its long-term keys.
# Without an account, list them.
ec2switch() {
    __awsenv_run "${__awsenv_bin}" switch --shell bash --only-changes -- "$@"
}

# ec2mfa [--duration SECONDS] [CODE]: make or reuse an MFA session for the current account.
# The code travels in the environment, never in a process's arguments.
ec2mfa() {
    local __awsenv_code=${AWSENV_MFA_CODE-}
    local -a __awsenv_args=()
    while (($# > 0)); do
        case $1 in
        -d | --duration | --session-duration)
            __awsenv_args+=("$1" "${2-}")
            \builtin shift
            ;;
        -*) __awsenv_args+=("$1") ;;
        *) __awsenv_code=$1 ;;
        esac
        \builtin shift
    done
    AWSENV_MFA_CODE=${__awsenv_code} __awsenv_run "${__awsenv_bin}" mfa --shell bash --only-changes "${__awsenv_args[@]}"
}

# ec2role ACCOUNT ROLE [awsenv assume options]: switch to a role of the account, assumed with its
# cached MFA session (one code a day for any number of roles).
ec2role() {
    if (($# < 2)); then
        \builtin printf 'usage: ec2role ACCOUNT ROLE [--duration SECONDS] [--external-id ID] [--session-name NAME]\n' >&2
        \builtin return 2
    fi
    __awsenv_run "${__awsenv_bin}" assume --format bash --only-changes --account "$1" --role "$2" "${@:3}"
}

# ec2now: which credentials this shell holds, the region, and how long a session has left.
ec2now() {
    \command "${__awsenv_bin}" now
}

# awsenv ARGS...: the binary. `awsenv doctor` also checks this shell, with code the binary prints
# then (what only the shell can see: what aws runs, the prompt hook, completion).
awsenv() {
    if [[ ${1-} == doctor ]]; then
        local __awsenv_probe
        __awsenv_probe=$(\command "${__awsenv_bin}" doctor --shell-probe bash) || \builtin return
        \builtin eval -- "${__awsenv_probe}"
        \builtin shift
        __awsenv_doctor "$@"
    else
        \command "${__awsenv_bin}" "$@"
    fi
}

# >>> awsenv:wrapper
# aws ARGS...: the aws CLI, after renewing awsenv's session when it has less than
# AWSENV_REFRESH_WINDOW seconds (default @REFRESH_WINDOW@) left. Returns aws's own status.
# (__awsenv_wrapper tells awsenv doctor that init defined it.)
__awsenv_wrapper=1
aws() {
    if [[ -n ${AWSENV_EXPIRES-} && ${AWSENV_EXPIRES} != *[!0-9]* ]] && __awsenv_owned; then
        local __awsenv_window=${AWSENV_REFRESH_WINDOW:-@REFRESH_WINDOW@} __awsenv_left
        [[ ${__awsenv_window} =~ ^[0-9]+$ ]] || __awsenv_window=@REFRESH_WINDOW@
        __awsenv_now
        __awsenv_left=$((AWSENV_EXPIRES - __awsenv_time))
        if ((__awsenv_left <= __awsenv_window)); then
            if __awsenv_run "${__awsenv_bin}" refresh --shell bash --only-changes; then
                \builtin true
            elif ((__awsenv_left > 0)); then
                \builtin printf 'awsenv: could not renew the session of %s; running aws on the current one (%ss left)\n' "${AWSENV_ACCOUNT}" "${__awsenv_left}" >&2
            else
                \builtin printf 'awsenv: the session of %s has expired and could not be renewed; not running aws\n' "${AWSENV_ACCOUNT}" >&2
                \builtin return 1
            fi
        fi
    fi
    \command aws "$@"
}
# <<< awsenv:wrapper

# =============================================================================
# Prompt
#

# Whether the segment may carry colour: NO_COLOR wins, then AWSENV_COLOR (or aws-session's
# AWS_SESSION_COLOR), else any terminal but a dumb one.
__awsenv_color() {
    [[ -z ${NO_COLOR-} ]] || return 1
    case ${AWSENV_COLOR:-${AWS_SESSION_COLOR-}} in
    0 | never | no | false | off) return 1 ;;
    1 | always | yes | true | on) return 0 ;;
    *) [[ -n ${TERM-} && ${TERM} != dumb ]] ;;
    esac
}

# The prompt hook. Sets AWSENV_PROMPT to the segment for this shell's credentials, in
# aws-session's notation: "(aws:prod+42m) ", "(aws:prod!exp) ", "(aws:prod) " for long-term keys,
# "" for none, with "*" after the time while the aws wrapper renews them with no question asked
# (AWSENV_RENEWABLE: an SSO sign-in that refreshes); and
# __awsenv_prompt_ps1 to the same with the time coloured (yellow under 5 minutes, red under 1).
# When init manages the prompt (__awsenv_ps1_managed), it also takes the segment it put in front
# of PS1 last time out and puts the current one in. It keeps $?. Every statement
# counts here, as it runs before each prompt: one function, no process, and the segment is made
# again only when what it shows can have changed.
__awsenv_prompt_hook() {
    # Globals, not locals: a function scope of its own costs the shell more than the rest.
    __awsenv_status=$?
    # Nothing to do while the variables the segment is made of (unset and empty read alike,
    # apart; the colour's aside, see __awsenv_prompt_segment) and PS1 are what the hook left, and
    # the clock is between the second the segment was made and the second it next changes (a
    # clock set back makes it again). One test of them all joined: a test costs the shell more
    # than the joining. They are joined with ':', which $'\x1f' would cost more than; of the
    # values only AWSENV_ROLE (an ARN) and PS1 hold one, so two sets of values join alike only
    # if a value is moved across one, by hand, between two prompts.
    if [[ ${AWSENV_KEY_ID-}:${AWS_ACCESS_KEY_ID-}:${AWSENV_ACCOUNT-}:${AWSENV_SESSION-}:${AWSENV_ROLE-}:${AWSENV_EXPIRES-}:${AWSENV_RENEWABLE-}:${PS1-} != "${__awsenv_prompt_left}" ]] ||
        ((__awsenv_clock >= __awsenv_prompt_until || __awsenv_clock < __awsenv_prompt_since)); then
        __awsenv_prompt_update
        if [[ -n ${__awsenv_ps1_managed-} ]]; then
            PS1=${PS1:+${PS1#"${__awsenv_ps1_prefix-}"}}
            __awsenv_ps1_prefix=${__awsenv_prompt_ps1}
            PS1=${__awsenv_ps1_prefix}${PS1-}
        fi
        __awsenv_prompt_left=${__awsenv_prompt_inputs}:${PS1-}
    fi
    # The status it came with: a function's is its last command's, so `return` (which costs the
    # shell as much as the test above) runs only when it is not 0.
    # shellcheck disable=SC2248
    ((!__awsenv_status)) || return ${__awsenv_status}
}

# __awsenv_prompt_segment: makes AWSENV_PROMPT and __awsenv_prompt_ps1, and the window of seconds
# [__awsenv_prompt_since, __awsenv_prompt_until) in which they stay as they are.
__awsenv_prompt_segment() {
    local label left now value sign=+ mark='' color=@WARN_COLOR@ step=0 threshold
    AWSENV_PROMPT='' __awsenv_prompt_ps1=''
    if [[ -n ${EPOCHSECONDS-} ]]; then
        now=${EPOCHSECONDS} step=${__awsenv_forever}
    else
        \builtin printf -v now '%(%s)T' -1
    fi
    if [[ ${AWSENV_KEY_ID-} == "${AWS_ACCESS_KEY_ID-}" && -n ${AWSENV_KEY_ID-} && -n ${AWSENV_ACCOUNT-} ]]; then
        label=${AWSENV_ACCOUNT}
        [[ ${AWSENV_SESSION-} != role || -z ${AWSENV_ROLE-} ]] || label+=/${AWSENV_ROLE##*/}
        # PS1 runs $(...) and backticks: whatever set these variables, only the characters of
        # valid names reach it, anything else shows as '?'.
        label=${label//[!A-Za-z0-9._@+=,\/-]/?}
        if [[ -z ${AWSENV_EXPIRES-} ]]; then
            value='' sign=''
        elif [[ ${AWSENV_EXPIRES} == *[!0-9]* ]]; then
            # Not a number: arithmetic on it could run code. Shown as expired.
            value=exp sign='!' left=0
        else
            # 10#: a leading zero is not octal (and 08 not an error).
            left=$((10#${AWSENV_EXPIRES} - now))
            [[ -z ${AWSENV_RENEWABLE-} || ${AWSENV_RENEWABLE} == *[!0-9]* ]] ||
                ((10#${AWSENV_RENEWABLE} <= now)) || mark='*'
            if ((left >= __awsenv_hours_from)); then
                value=$((left / 3600))h
            elif ((left >= __awsenv_minutes_from)); then
                value=$((left / 60))m
            elif ((left > 0)); then
                value=${left}s
            else
                value=exp sign='!'
            fi
            ((${#value} > 2)) || value=0${value}
            if ((step > 0 && left > 0)); then
                # Seconds until the shown value, its unit or its colour next changes: the next
                # whole hour or minute shown, or the next threshold crossed, whichever is first.
                ((step = left >= __awsenv_hours_from ? left % 3600 + 1 : left >= __awsenv_minutes_from ? left % 60 + 1 : 1))
                for threshold in "${__awsenv_hours_from}" "${__awsenv_minutes_from}" "${__awsenv_warn_below}" "${__awsenv_alert_below}"; do
                    ((left < threshold || left - threshold + 1 >= step)) || step=$((left - threshold + 1))
                done
            fi
            # The "*" goes when the sign-in can no longer be refreshed.
            [[ -z ${mark} ]] || ((10#${AWSENV_RENEWABLE} - now >= step)) || step=$((10#${AWSENV_RENEWABLE} - now))
        fi
        AWSENV_PROMPT="(aws:${label}${sign}${value}${mark}) " __awsenv_prompt_ps1=${AWSENV_PROMPT}
        if [[ -n ${value} ]] && ((left < __awsenv_warn_below)); then
            # The colour depends on variables the hook does not compare (NO_COLOR, AWSENV_COLOR,
            # AWS_SESSION_COLOR, TERM): in these last minutes the segment is made at every prompt.
            step=0
            if __awsenv_color; then
                ((left >= __awsenv_alert_below)) || color=@ALERT_COLOR@
                __awsenv_prompt_ps1="(aws:${label}${sign}\\[\\e[${color}m\\]${value}\\[\\e[39m\\]${mark}) "
            fi
        fi
    fi
    __awsenv_prompt_since=${now} __awsenv_prompt_until=$((now + step))
}

# __awsenv_prompt_update: set AWSENV_PROMPT (and __awsenv_prompt_ps1) without touching PS1, for a
# prompt of your own. The segment is made again only when one of the variables it is made of
# changed or the clock left the window in which it stands. Without EPOCHSECONDS
# (bash before 5) the window is empty.
__awsenv_prompt_update() {
    if [[ ${AWSENV_KEY_ID-}:${AWS_ACCESS_KEY_ID-}:${AWSENV_ACCOUNT-}:${AWSENV_SESSION-}:${AWSENV_ROLE-}:${AWSENV_EXPIRES-}:${AWSENV_RENEWABLE-} != "${__awsenv_prompt_inputs}" ]] ||
        ((__awsenv_clock >= __awsenv_prompt_until || __awsenv_clock < __awsenv_prompt_since)); then
        # The same variables as above, joined the same way (a unit test of src/shell.rs checks it).
        __awsenv_prompt_inputs=${AWSENV_KEY_ID-}:${AWS_ACCESS_KEY_ID-}:${AWSENV_ACCOUNT-}:${AWSENV_SESSION-}:${AWSENV_ROLE-}:${AWSENV_EXPIRES-}:${AWSENV_RENEWABLE-}
        # The hook puts the new segment into PS1 at its next call, even if it did not make it.
        __awsenv_prompt_left=''
        __awsenv_prompt_segment
    fi
}

# awsenv_prompt: print the segment, for a prompt of your own: PS1='$(awsenv_prompt)...'
# (or, without a subshell, call __awsenv_prompt_update from PROMPT_COMMAND and use $AWSENV_PROMPT).
awsenv_prompt() {
    __awsenv_prompt_update
    \builtin printf '%s' "${AWSENV_PROMPT}"
}

# >>> awsenv:prompt-hook
# init manages PS1: the hook puts the segment in front of it.
__awsenv_ps1_managed=1

# Last in PROMPT_COMMAND, so a prompt that rebuilds PS1 each time (starship, git prompts) keeps
# the segment; element 0 when PROMPT_COMMAND is an array (bash 5.1).
if [[ ${PROMPT_COMMAND[*]-} != *__awsenv_prompt_hook* ]]; then
    PROMPT_COMMAND="${PROMPT_COMMAND:+${PROMPT_COMMAND}$'\n'}__awsenv_prompt_hook"
fi
# <<< awsenv:prompt-hook

# =============================================================================
# Completion
#

# ec2switch and ec2role complete account names; awsenv's own completion (in the helpers that
# follow) is loaded on the first Tab.
__awsenv_complete_first_account() {
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        __awsenv_complete_accounts "${COMP_WORDS[1]-}"
    fi
}
\builtin complete -F __awsenv_complete_first_account ec2switch ec2role
