# What `awsenv doctor` asks of a fish where awsenv is loaded. The awsenv function that init
# defines sources this (printed by `awsenv doctor --shell-probe fish`) only when the user types
# `awsenv doctor`, so none of it costs a prompt anything. It hands the binary what only the shell
# can see, as `--shell-fact NAME=VALUE`: names, paths and yes/no, never the text of a function,
# which may hold anything.

# __awsenv_doctor ARGS...: gathers the facts, then runs `awsenv doctor` with them and ARGS.
function __awsenv_doctor
    set -l facts --from-shell fish --shell-fact "version=$version" --shell-fact "bin=$__awsenv_bin"

    # What `aws` is, in the order fish looks (function, builtin, file). An alias is a function.
    for kind in (type -a -t aws 2>/dev/null)
        set -a facts --shell-fact "aws=$kind"
    end
    set -q __awsenv_wrapper; and set -a facts --shell-fact wrapper=yes
    if functions -q aws
        if functions aws | string match -q '*__awsenv_owned*'
            set -a facts --shell-fact aws_function=awsenv
        else
            set -a facts --shell-fact aws_function=other
        end
    end
    abbr -q aws; and set -a facts --shell-fact aws_abbr=yes
    set -l file (command -s aws)
    set -q file[1]; and set -a facts --shell-fact "aws_file=$file[1]"

    # The prompt: init's fish_right_prompt, or a prompt of the user's that calls awsenv_prompt.
    if set -q __awsenv_right_prompt_wrapped
        set -a facts --shell-fact prompt=managed
        if functions fish_right_prompt 2>/dev/null | string match -q '*awsenv_prompt*'
            set -a facts --shell-fact prompt_hook=registered
        else
            set -a facts --shell-fact prompt_hook=missing
        end
    else
        set -a facts --shell-fact prompt=own
        if functions fish_prompt fish_right_prompt 2>/dev/null | string match -q '*awsenv_prompt*'
            set -a facts --shell-fact prompt_uses=yes
        else
            set -a facts --shell-fact prompt_uses=no
        end
    end

    if complete -c awsenv | string length -q; and complete -c ec2switch | string length -q
        set -a facts --shell-fact completion=loaded
    else
        set -a facts --shell-fact completion=missing
    end
    command $__awsenv_bin doctor $facts $argv
end
