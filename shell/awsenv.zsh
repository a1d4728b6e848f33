# shellcheck shell=bash
#
# awsenv for zsh: eval "$(awsenv init zsh)" at the end of ~/.zshrc, after compinit.
# (The shellcheck directive is for linting: shellcheck has no zsh mode, and this file keeps to the
# part of zsh that bash shares. Every function starts with `emulate -L zsh` so that the user's
# options, KSH_ARRAYS or SH_WORD_SPLIT say, do not change what it does.)
#
# The functions run the binary only when credentials must change, and evaluate what it prints on
# stdout: exports for each variable awsenv owns that does not already hold its value here
# (--only-changes), or nothing at all when it fails, so a failed command leaves the shell's
# variables as they were. Messages and questions go to stderr and the terminal. The prompt
# segment and the aws wrapper's freshness check are shell arithmetic on AWSENV_EXPIRES and start
# no process. Names starting with __awsenv_ are internal.
# `awsenv init` drops the sections between ">>> awsenv:NAME" and "<<< awsenv:NAME" markers that
# its options turn off.

# =============================================================================
# Internals
#

__awsenv_bin='::AWSENV_BIN::'
# The prompt's thresholds in seconds (src/shared.rs): hours from, minutes from, yellow and red below.
__awsenv_hours_from=@HOURS_FROM@ __awsenv_minutes_from=@MINUTES_FROM@
__awsenv_warn_below=@WARN_BELOW@ __awsenv_alert_below=@ALERT_BELOW@

# Ctrl-C is ignored while the exports are evaluated, so a set is applied whole or not at all.
__awsenv_apply() {
    \builtin emulate -L zsh
    [[ -n ${1-} ]] || return 0
    \builtin trap '' INT
    \builtin eval -- "$1"
    \builtin trap - INT
}

# Seconds since the epoch, without a process: EPOCHSECONDS, from the zsh/datetime module.
\builtin zmodload zsh/datetime
# The prompt's globals, declared here so that the hook needs no emulate (WARN_CREATE_GLOBAL).
\builtin typeset -g AWSENV_PROMPT='' __awsenv_prompt_ps1='' __awsenv_ps1_prefix='' __awsenv_prompt_inputs=''
\builtin typeset -g __awsenv_prompt_left='' __awsenv_status=0
\builtin typeset -gi __awsenv_prompt_since=0 __awsenv_prompt_until=0
# A prompt segment that no clock can change (no session, no expiry, expired) stands this long.
\builtin typeset -gi __awsenv_forever=$((1 << 40))
__awsenv_now() {
    __awsenv_time=${EPOCHSECONDS}
}

# True while the shell's keys are the ones awsenv set: the user may have exported others since.
__awsenv_owned() {
    \builtin emulate -L zsh
    [[ -n ${AWSENV_ACCOUNT-} && -n ${AWS_ACCESS_KEY_ID-} && ${AWSENV_KEY_ID-} == "${AWS_ACCESS_KEY_ID}" ]]
}

# =============================================================================
# Commands
#

# ec2switch [ACCOUNT]: use the account's cached MFA session, else its long-term keys.
# Without an account, list them.
ec2switch() {
    \builtin emulate -L zsh
    local __awsenv_out
    __awsenv_out=$(\command "${__awsenv_bin}" switch --shell zsh --only-changes -- "$@") || \builtin return
    __awsenv_apply "${__awsenv_out}"
}

# ec2mfa [--duration SECONDS] [CODE]: make or reuse an MFA session for the current account.
# The code travels in the environment, never in a process's arguments.
ec2mfa() {
    \builtin emulate -L zsh
    local __awsenv_out __awsenv_code=${AWSENV_MFA_CODE-}
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
    __awsenv_out=$(AWSENV_MFA_CODE=${__awsenv_code} \command "${__awsenv_bin}" mfa --shell zsh --only-changes "${__awsenv_args[@]}") || \builtin return
    __awsenv_apply "${__awsenv_out}"
}

# ec2role ACCOUNT ROLE [awsenv assume options]: switch to a role of the account, assumed with its
# cached MFA session (one code a day for any number of roles).
ec2role() {
    \builtin emulate -L zsh
    if (($# < 2)); then
        \builtin printf 'usage: ec2role ACCOUNT ROLE [--duration SECONDS] [--external-id ID] [--session-name NAME]\n' >&2
        \builtin return 2
    fi
    local __awsenv_out
    __awsenv_out=$(\command "${__awsenv_bin}" assume --format zsh --only-changes --account "$1" --role "$2" "${@:3}") || \builtin return
    __awsenv_apply "${__awsenv_out}"
}

# ec2now: which credentials this shell holds, the region, and how long a session has left.
ec2now() {
    \builtin emulate -L zsh
    \command "${__awsenv_bin}" now
}

# awsenv ARGS...: the binary. `awsenv doctor` also checks this shell, with code the binary prints
# then (what only the shell can see: what aws runs, the prompt hook, completion).
awsenv() {
    \builtin emulate -L zsh
    if [[ ${1-} == doctor ]]; then
        local __awsenv_probe
        __awsenv_probe=$(\command "${__awsenv_bin}" doctor --shell-probe zsh) || \builtin return
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
    \builtin emulate -L zsh
    if [[ -n ${AWSENV_EXPIRES-} && ${AWSENV_EXPIRES} != *[!0-9]* ]] && __awsenv_owned; then
        local __awsenv_window=${AWSENV_REFRESH_WINDOW:-@REFRESH_WINDOW@} __awsenv_left __awsenv_out
        [[ ${__awsenv_window} =~ ^[0-9]+$ ]] || __awsenv_window=@REFRESH_WINDOW@
        __awsenv_now
        __awsenv_left=$((AWSENV_EXPIRES - __awsenv_time))
        if ((__awsenv_left <= __awsenv_window)); then
            if __awsenv_out=$(\command "${__awsenv_bin}" refresh --shell zsh --only-changes); then
                __awsenv_apply "${__awsenv_out}"
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
    \builtin emulate -L zsh
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
# again only when what it shows can have changed. No emulate here: it would cost as much as
# the rest, and init declares the globals, so no option changes what this does.
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
        ((EPOCHSECONDS >= __awsenv_prompt_until || EPOCHSECONDS < __awsenv_prompt_since)); then
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
    local label left now=${EPOCHSECONDS} value sign=+ mark='' color=@WARN_COLOR@ step=${__awsenv_forever} threshold
    AWSENV_PROMPT='' __awsenv_prompt_ps1=''
    if [[ ${AWSENV_KEY_ID-} == "${AWS_ACCESS_KEY_ID-}" && -n ${AWSENV_KEY_ID-} && -n ${AWSENV_ACCOUNT-} ]]; then
        label=${AWSENV_ACCOUNT}
        [[ ${AWSENV_SESSION-} != role || -z ${AWSENV_ROLE-} ]] || label+=/${AWSENV_ROLE##*/}
        # PS1 expands %-sequences (and $(...) under PROMPT_SUBST): whatever set these variables,
        # only the characters of valid names reach it, anything else shows as '?'.
        label=${label//[!A-Za-z0-9._@+=,\/-]/?}
        if [[ -z ${AWSENV_EXPIRES-} ]]; then
            value='' sign=''
        elif [[ ${AWSENV_EXPIRES} == *[!0-9]* ]]; then
            # Not a number: arithmetic on it could run code. Shown as expired.
            value=exp sign='!' left=0
        else
            left=$((AWSENV_EXPIRES - now))
            [[ -z ${AWSENV_RENEWABLE-} || ${AWSENV_RENEWABLE} == *[!0-9]* ]] ||
                ((AWSENV_RENEWABLE <= now)) || mark='*'
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
            if ((left > 0)); then
                # Seconds until the shown value, its unit or its colour next changes: the next
                # whole hour or minute shown, or the next threshold crossed, whichever is first.
                ((step = left >= __awsenv_hours_from ? left % 3600 + 1 : left >= __awsenv_minutes_from ? left % 60 + 1 : 1))
                for threshold in ${__awsenv_hours_from} ${__awsenv_minutes_from} ${__awsenv_warn_below} ${__awsenv_alert_below}; do
                    ((left < threshold || left - threshold + 1 >= step)) || step=$((left - threshold + 1))
                done
            fi
            # The "*" goes when the sign-in can no longer be refreshed.
            [[ -z ${mark} ]] || ((AWSENV_RENEWABLE - now >= step)) || step=$((AWSENV_RENEWABLE - now))
        fi
        AWSENV_PROMPT="(aws:${label}${sign}${value}${mark}) " __awsenv_prompt_ps1=${AWSENV_PROMPT}
        if [[ -n ${value} ]] && ((left < __awsenv_warn_below)); then
            # The colour depends on variables the hook does not compare (NO_COLOR, AWSENV_COLOR,
            # AWS_SESSION_COLOR, TERM): in these last minutes the segment is made at every prompt.
            step=0
            if __awsenv_color; then
                ((left >= __awsenv_alert_below)) || color=@ALERT_COLOR@
                __awsenv_prompt_ps1="(aws:${label}${sign}%{"$'\e'"[${color}m%}${value}%{"$'\e'"[39m%}${mark}) "
            fi
        fi
    fi
    __awsenv_prompt_since=${now} __awsenv_prompt_until=$((now + step))
}

# __awsenv_prompt_update: set AWSENV_PROMPT (and __awsenv_prompt_ps1) without touching PS1, for a
# prompt of your own. The segment is made again only when one of the variables it is made of
# changed or the clock left the window in which it stands.
__awsenv_prompt_update() {
    if [[ ${AWSENV_KEY_ID-}:${AWS_ACCESS_KEY_ID-}:${AWSENV_ACCOUNT-}:${AWSENV_SESSION-}:${AWSENV_ROLE-}:${AWSENV_EXPIRES-}:${AWSENV_RENEWABLE-} != "${__awsenv_prompt_inputs}" ]] ||
        ((EPOCHSECONDS >= __awsenv_prompt_until || EPOCHSECONDS < __awsenv_prompt_since)); then
        # The same variables as above, joined the same way (a unit test of src/shell.rs checks it).
        __awsenv_prompt_inputs=${AWSENV_KEY_ID-}:${AWS_ACCESS_KEY_ID-}:${AWSENV_ACCOUNT-}:${AWSENV_SESSION-}:${AWSENV_ROLE-}:${AWSENV_EXPIRES-}:${AWSENV_RENEWABLE-}
        # The hook puts the new segment into PS1 at its next call, even if it did not make it.
        __awsenv_prompt_left=''
        __awsenv_prompt_segment
    fi
}

# awsenv_prompt: print the segment, for a prompt of your own; without a subshell, call
# __awsenv_prompt_update from precmd and use $AWSENV_PROMPT (powerlevel10k: see the README).
awsenv_prompt() {
    \builtin emulate -L zsh
    __awsenv_prompt_update
    \builtin printf '%s' "${AWSENV_PROMPT}"
}

# >>> awsenv:prompt-hook
# init manages PS1: the hook puts the segment in front of it.
__awsenv_ps1_managed=1

# add-zsh-hook registers the hook once however often init runs.
\builtin autoload -Uz add-zsh-hook
add-zsh-hook precmd __awsenv_prompt_hook
# <<< awsenv:prompt-hook

# =============================================================================
# Completion
#

# Account names come from _awsenv_accounts, in the completion helpers that follow.
__awsenv_complete_ec2() {
    # shellcheck disable=SC2154 # CURRENT is set by zsh's completion system
    ((CURRENT == 2)) && _awsenv_accounts
}

# awsenv's own completion is loaded on first use. Completion functions keep the options the
# completion system sets (extended_glob and others): no `emulate -L zsh` here.
__awsenv_complete_lazy() {
    local script
    script=$(\command "${__awsenv_bin}" completions zsh) || return 0
    \builtin eval -- "${script}"
    _awsenv "$@"
}

# compdef exists once compinit has run; without it there is no completion to register with.
if \builtin whence -w compdef >/dev/null; then
    compdef __awsenv_complete_ec2 ec2switch ec2role
    compdef __awsenv_complete_lazy awsenv
else
    # For awsenv doctor: init ran before compinit (or with none), so nothing was registered.
    __awsenv_compinit_missing=1
fi
