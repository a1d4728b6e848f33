# awsenv for fish: awsenv init fish | source, at the end of ~/.config/fish/config.fish.
#
# The functions run the binary only when credentials must change, and source what it prints on
# stdout: `set` lines for each variable awsenv owns that does not already hold its value here
# (--only-changes), or nothing at all when it fails, so a failed command leaves the shell's
# variables as they were. Messages and questions go to stderr and the terminal. fish 3.6 has no
# clock builtin: on Linux the time is the boot time plus the uptime, both read with builtins, so the
# prompt segment and the aws wrapper's freshness check start no process; elsewhere they run `date`.
# Names starting with __awsenv_ are internal. `awsenv init` drops the sections between
# ">>> awsenv:NAME" and "<<< awsenv:NAME" markers that its options turn off.

set -g __awsenv_bin '::AWSENV_BIN::'

# Read once: the boot time changes only when the clock is set.
if test -r /proc/stat
    set -g __awsenv_boot_time (string match -rg '^btime (\d+)' </proc/stat)
end

# Seconds since the epoch, give or take one.
function __awsenv_now
    if set -q __awsenv_boot_time[1]; and read -l uptime rest </proc/uptime
        math --scale=0 "floor($__awsenv_boot_time + $uptime)"
    else
        date +%s
    end
end

# True while the shell's keys are the ones awsenv set: the user may have exported others since.
function __awsenv_owned
    set -q AWSENV_ACCOUNT[1] AWS_ACCESS_KEY_ID[1] AWSENV_KEY_ID[1]
    and test "$AWSENV_KEY_ID" = "$AWS_ACCESS_KEY_ID"
end

function ec2switch --description 'Use an account\'s cached MFA session, else its long-term keys'
    command $__awsenv_bin switch --shell fish --only-changes -- $argv | source
    return $pipestatus[1]
end

function ec2mfa --description 'Make or reuse an MFA session for the current account'
    # The code travels in the environment, never in a process's arguments.
    set -l args
    set -l code $AWSENV_MFA_CODE
    while set -q argv[1]
        switch $argv[1]
            case -d --duration --session-duration
                set -a args $argv[1] $argv[2]
                set -e argv[1]
            case '-*'
                set -a args $argv[1]
            case '*'
                set code $argv[1]
        end
        set -e argv[1]
    end
    AWSENV_MFA_CODE="$code" command $__awsenv_bin mfa --shell fish --only-changes $args | source
    return $pipestatus[1]
end

function ec2role --description 'Switch to a role of an account, assumed with its cached MFA session'
    if test (count $argv) -lt 2
        echo 'usage: ec2role ACCOUNT ROLE [--duration SECONDS] [--external-id ID] [--session-name NAME]' >&2
        return 2
    end
    command $__awsenv_bin assume --format fish --only-changes --account $argv[1] --role $argv[2] $argv[3..] | source
    return $pipestatus[1]
end

function ec2now --description 'Show the credentials, region and session lifetime of this shell'
    command $__awsenv_bin now
end

# awsenv ARGS...: the binary. `awsenv doctor` also checks this shell, with code the binary prints
# then (what only the shell can see: what aws runs, the prompt hook, completion).
function awsenv --description 'awsenv; awsenv doctor also checks this shell'
    if test "$argv[1]" = doctor
        command $__awsenv_bin doctor --shell-probe fish | source
        test $pipestatus[1] -eq 0; and __awsenv_doctor $argv[2..]
    else
        command $__awsenv_bin $argv
    end
end

# >>> awsenv:wrapper
# (__awsenv_wrapper tells awsenv doctor that init defined the wrapper.)
set -g __awsenv_wrapper 1
function aws --wraps aws --description 'The aws CLI, after renewing awsenv credentials that are about to run out'
    if string match -qr '^[0-9]+$' -- "$AWSENV_EXPIRES"; and __awsenv_owned
        set -l window @REFRESH_WINDOW@
        if string match -qr '^[0-9]+$' -- "$AWSENV_REFRESH_WINDOW"
            set window $AWSENV_REFRESH_WINDOW
        end
        set -l left (math $AWSENV_EXPIRES - (__awsenv_now))
        if test $left -le $window
            command $__awsenv_bin refresh --shell fish --only-changes | source
            if test $pipestatus[1] -ne 0
                if test $left -gt 0
                    printf 'awsenv: could not renew the session of %s; running aws on the current one (%ss left)\n' $AWSENV_ACCOUNT $left >&2
                else
                    printf 'awsenv: the session of %s has expired and could not be renewed; not running aws\n' $AWSENV_ACCOUNT >&2
                    return 1
                end
            end
        end
    end
    command aws $argv
end
# <<< awsenv:wrapper

# awsenv_prompt: print the segment for this shell's credentials, in aws-session's notation:
# "(aws:prod+42m) ", "(aws:prod!exp) ", "(aws:prod) " for long-term keys, nothing for none, with
# "*" after the time while the aws wrapper renews them with no question asked; the time yellow
# under 5 minutes and red under 1 where colour is wanted.
function awsenv_prompt --description 'Print the awsenv prompt segment'
    __awsenv_owned; or return 0
    set -l label $AWSENV_ACCOUNT
    if test "$AWSENV_SESSION" = role; and set -q AWSENV_ROLE[1]
        set label $label/(string split -r -m1 / -- $AWSENV_ROLE)[-1]
    end
    # Whatever set these variables, only the characters of valid names reach the terminal.
    set label (string replace -ra '[^A-Za-z0-9._@+=,/-]' '?' -- "$label")
    if not set -q AWSENV_EXPIRES[1]
        printf '(aws:%s) ' $label
        return 0
    end
    set -l left 0
    set -l mark
    if string match -qr '^[0-9]+$' -- "$AWSENV_EXPIRES"
        set -l now (__awsenv_now)
        set left (math $AWSENV_EXPIRES - $now)
        # Renewed by the aws wrapper with no question asked (AWSENV_RENEWABLE): marked '*'.
        if string match -qr '^[0-9]{1,18}$' -- "$AWSENV_RENEWABLE"; and test $AWSENV_RENEWABLE -gt $now
            set mark '*'
        end
    end
    set -l sign +
    set -l value exp
    if test $left -ge @HOURS_FROM@
        set value (math --scale=0 "floor($left / 3600)")h
    else if test $left -ge @MINUTES_FROM@
        set value (math --scale=0 "floor($left / 60)")m
    else if test $left -gt 0
        set value {$left}s
    else
        set sign '!'
    end
    test (string length -- $value) -ge 3; or set value 0$value
    set -l color
    if test $left -lt @WARN_BELOW@; and __awsenv_color
        set color yellow
        test $left -ge @ALERT_BELOW@; or set color red
    end
    if set -q color[1]
        printf '(aws:%s%s%s%s%s%s) ' $label $sign (set_color $color) $value (set_color normal) "$mark"
    else
        printf '(aws:%s%s%s%s) ' $label $sign $value "$mark"
    end
end

# Whether the segment may carry colour: NO_COLOR wins, then AWSENV_COLOR (or aws-session's
# AWS_SESSION_COLOR), else any terminal but a dumb one.
function __awsenv_color
    set -q NO_COLOR[1]; and test -n "$NO_COLOR"; and return 1
    set -l choice $AWSENV_COLOR
    set -q choice[1]; or set choice $AWS_SESSION_COLOR
    switch "$choice"
        case 0 never no false off
            return 1
        case 1 always yes true on
            return 0
    end
    set -q TERM[1]; and test "$TERM" != dumb
end

# >>> awsenv:prompt-hook
# The segment goes in front of the right prompt; one the user had is kept and shown after it.
if not set -q __awsenv_right_prompt_wrapped
    set -g __awsenv_right_prompt_wrapped 1
    if functions -q fish_right_prompt
        functions -c fish_right_prompt __awsenv_original_right_prompt
    end
end

function __awsenv_return --description 'Set $status'
    return $argv[1]
end

function fish_right_prompt --description 'awsenv segment, then the right prompt it replaced'
    set -l last_status $status
    awsenv_prompt
    if functions -q __awsenv_original_right_prompt
        __awsenv_return $last_status
        __awsenv_original_right_prompt
    end
end
# <<< awsenv:prompt-hook

# Account names come from __awsenv_accounts, in the completion helpers that follow.
complete -c ec2switch -f -n 'test (count (commandline -opc)) -eq 1' -a '(__awsenv_accounts)'
complete -c ec2role -f -n 'test (count (commandline -opc)) -eq 1' -a '(__awsenv_accounts)'

# awsenv's own completion (clap's) is loaded from the binary on the first Tab: parsing it at every
# start would cost more than the rest of init. The stub replaces itself, then answers this Tab.
function __awsenv_complete_lazy
    complete -e -c awsenv
    command $__awsenv_bin completions fish | source
    complete -C (commandline -cp)
end
complete -c awsenv -f -a '(__awsenv_complete_lazy)'
